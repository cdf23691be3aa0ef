"""Every file made from a trained run says which run it is, and every step that reads one checks it
against the run it expects: a model, prediction or metrics file of another run (copied over, left by a
killed job, trained under other settings) is refused with one line naming both, never used silently."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

from lgae import cli
from lgae.errors import LGAEError
from lgae.pipeline.data.preprocess import preprocess_class
from lgae.pipeline.identity import Run, parse_expected, run_record
from lgae.pipeline.training import TrainPaths, TrainSettings, train

SMALL = {"encoder_channels": [2, 2], "decoder_channels": [2, 2], "num_basis": 4}
CLASSES = ["g", "q", "t", "w", "z"]


def _settings(model: str = "lgae-mix", latent: int = 2, **overrides) -> TrainSettings:
    hyperparameters = SMALL if model.startswith("lgae") else {"channels": 4}
    base = dict(model=model, latent=latent, seed=3, train_fraction=0.2, hyperparameters=hyperparameters)
    return TrainSettings(**{**base, "batch_size": 64, "max_epochs": 1, **overrides})


def _name(settings: TrainSettings) -> str:
    return f"{settings.model}:{settings.latent}:{settings.seed}:{settings.train_fraction:g}"


def _cli(argv: list[str], capsys) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    return code, err[-1] if err else ""


@pytest.fixture(scope="module")
def runs(processed_jets_dir, tmp_path_factory):
    """Three small trained runs (LGAE-Mix τ=2 and τ=4, a CNNAE), each predicted and evaluated."""
    import torch

    root = tmp_path_factory.mktemp("runs")
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    out = {}
    for key, settings in {
        "mix2": _settings(latent=2),
        "mix4": _settings(latent=4),
        "cnnae": _settings("cnnae", 8),
    }.items():
        paths = TrainPaths(processed_jets_dir, root / "models" / key)
        train(settings, paths, device="cpu", progress=False)
        predictions, metrics = root / "predictions" / key, root / "metrics" / key
        predict = ["predict", "--model-file", paths.model, "--data-dir", processed_jets_dir]
        predict += ["--out-dir", predictions, "--device", "cpu", "--no-progress", "--no-emd"]
        assert cli.main([str(a) for a in [*predict, "--equivariance-jets", "10"]]) == 0
        assert cli.main(["evaluate", "--predictions-dir", str(predictions), "--out-dir", str(metrics)]) == 0
        out[key] = {
            "settings": settings,
            "model": paths.model,
            "predictions": predictions,
            "metrics": metrics,
        }
    torch.set_num_threads(previous)
    return out


def _predict(model: Path, data: Path, out: Path, expect: str) -> list:
    argv = ["predict", "--model-file", model, "--data-dir", data, "--out-dir", out, "--device", "cpu"]
    return [*argv, "--no-progress", "--no-emd", "--equivariance-jets", "10", "--expect", expect]


# ------------------------------------------------------------------------------------------- predict
def test_predict_refuses_a_model_file_copied_over_another_runs(runs, processed_jets_dir, tmp_path, capsys):
    """The issue's example: τ=2's model.pt copied over τ=9's used to give predictions saying latent 2
    under τ=9's path, Table 3 'τ=2, 2 seeds' and τ=9 'not trained'."""
    copied = tmp_path / "lgae-mix" / "4" / "model.pt"
    copied.parent.mkdir(parents=True)
    shutil.copy(runs["mix2"]["model"], copied)
    code, err = _cli(
        _predict(copied, processed_jets_dir, tmp_path / "out", _name(runs["mix4"]["settings"])), capsys
    )
    assert code == 2
    assert (
        f"lgae predict: error: {copied}: made by another run than this step expects (latent 2, expected 4)"
        in err
    )
    assert "delete it and rerun the train step" in err
    assert not (tmp_path / "out").exists()


def test_predict_refuses_a_model_trained_with_other_settings(runs, processed_jets_dir, tmp_path, capsys):
    """E.g. a model left from before the config's learning rate or epochs changed. Its own settings pass."""
    own = json.dumps(asdict(runs["mix2"]["settings"]))
    assert _cli(_predict(runs["mix2"]["model"], processed_jets_dir, tmp_path / "own", own), capsys)[0] == 0
    outputs = sorted(p.name for p in (tmp_path / "own").iterdir())
    assert outputs == sorted([*(f"{c}.h5" for c in CLASSES), "equivariance.json"])
    for change, difference in (
        ({"lr": 5e-4}, "lr 0.001, expected 0.0005"),
        ({"max_epochs": 3}, "max_epochs 1, expected 3"),
    ):
        expected = json.dumps(asdict(_settings(latent=2, **change)))
        code, err = _cli(
            _predict(runs["mix2"]["model"], processed_jets_dir, tmp_path / "out", expected), capsys
        )
        assert code == 2
        assert difference in err, err


def test_predict_refuses_test_data_of_another_preprocessing(runs, generated_raw_dir, tmp_path, capsys):
    """Test jets split with another seed are partly the model's training jets."""
    other = tmp_path / "other"
    for jet_class in CLASSES:
        preprocess_class(generated_raw_dir / f"{jet_class}.hdf5", other, jet_class, seed=7, source="pythia")
    code, err = _cli(
        _predict(runs["mix2"]["model"], other, tmp_path / "out", _name(runs["mix2"]["settings"])), capsys
    )
    assert code == 2
    assert "g_test.h5: not from the preprocessing" in err
    assert "seed 7 (trained on 42)" in err


def test_predict_takes_signal_classes_split_otherwise_but_not_a_trained_class(
    runs, generated_raw_dir, processed_jets_dir, tmp_path, capsys
):
    """Classes the model never trained on (t, W, Z) may be split otherwise, e.g. mostly for testing
    (benchmarks/anomaly); their source must still be the model's. A trained class may not."""
    data = tmp_path / "data"
    shutil.copytree(processed_jets_dir, data)
    for jet_class in ("t", "w", "z"):
        preprocess_class(
            generated_raw_dir / f"{jet_class}.hdf5",
            data,
            jet_class,
            seed=7,
            fractions=(0.1, 0.1, 0.8),
            source="pythia",
        )
    settings = _name(runs["mix2"]["settings"])
    assert _cli(_predict(runs["mix2"]["model"], data, tmp_path / "signals", settings), capsys)[0] == 0
    with h5py.File(data / "t_test.h5", "r+") as file:  # as if preprocessed from JetNet's t.hdf5
        file.attrs["source"] = "jetnet"
    code, err = _cli(_predict(runs["mix2"]["model"], data, tmp_path / "source", settings), capsys)
    assert code == 2
    assert "t_test.h5: not from the preprocessing" in err
    assert "source 'jetnet' (trained on 'pythia')" in err
    preprocess_class(
        generated_raw_dir / "g.hdf5", data, "g", seed=42, fractions=(0.1, 0.1, 0.8), source="pythia"
    )
    code, err = _cli(_predict(runs["mix2"]["model"], data, tmp_path / "trained", settings), capsys)
    assert code == 2
    assert "g_test.h5: not from the preprocessing" in err
    assert "fractions" in err


def test_a_failed_predict_leaves_no_class_file(runs, processed_jets_dir, tmp_path, capsys, monkeypatch):
    """A NaN test jet is refused before any compute; a failure in the last class leaves no class file
    of this model (it used to leave g.h5, q.h5 beside another model's t.h5, w.h5, z.h5)."""
    data = tmp_path / "data"
    shutil.copytree(processed_jets_dir, data)
    with h5py.File(data / "t_test.h5", "r+") as handle:
        handle["p4"][5, 0, 1] = np.nan
    out = tmp_path / "out"
    code, err = _cli(_predict(runs["mix2"]["model"], data, out, _name(runs["mix2"]["settings"])), capsys)
    assert code == 2
    assert f"{data / 't_test.h5'}: 1 entries break finite values of 'p4'" in err
    assert not out.exists() or not any(out.iterdir())
    from lgae.pipeline import inference as predict_module

    real = predict_module.predict_class

    def failing(model, jets, *args, **kwargs):
        if jets.jet_class == "z":
            raise OSError(28, "No space left on device")
        return real(model, jets, *args, **kwargs)

    monkeypatch.setattr(predict_module, "predict_class", failing)
    code, err = _cli(
        _predict(runs["mix2"]["model"], processed_jets_dir, out, _name(runs["mix2"]["settings"])), capsys
    )
    assert code == 2
    assert "No space left on device" in err
    assert str(out / "g.h5") in err  # the outputs it was writing
    assert not out.exists() or not [p for p in out.iterdir()]


# ------------------------------------------------------------------------------------------ evaluate
def test_evaluate_refuses_predictions_of_another_run(runs, tmp_path, capsys):
    argv = ["evaluate", "--predictions-dir", runs["mix2"]["predictions"], "--out-dir", tmp_path / "m"]
    assert _cli([*argv, "--expect", _name(runs["mix2"]["settings"])], capsys)[0] == 0
    shutil.rmtree(tmp_path / "m")
    code, err = _cli([*argv, "--expect", _name(runs["mix4"]["settings"])], capsys)
    assert code == 2
    assert "g.h5: made by another run than this step expects (latent 2, expected 4)" in err
    assert not (tmp_path / "m").exists()


def test_evaluate_refuses_class_files_of_two_models(runs, tmp_path, capsys):
    mixed = tmp_path / "mixed"
    shutil.copytree(runs["mix4"]["predictions"], mixed)
    shutil.copy(runs["mix2"]["predictions"] / "t.h5", mixed / "t.h5")  # left by a killed predict, say
    code, err = _cli(["evaluate", "--predictions-dir", mixed, "--out-dir", tmp_path / "m"], capsys)
    assert code == 2
    assert "prediction files of two different models (lgae-mix latent 2" in err
    assert "they differ in latent, fingerprint, model_file, settings" in err


def test_evaluate_refuses_a_class_file_renamed_or_mislabelled(runs, tmp_path, capsys):
    renamed = tmp_path / "renamed"
    shutil.copytree(runs["mix2"]["predictions"], renamed)
    shutil.copy(renamed / "w.h5", renamed / "z.h5")
    code, err = _cli(["evaluate", "--predictions-dir", renamed, "--out-dir", tmp_path / "m"], capsys)
    assert code == 2
    assert "z.h5: its attribute says class 'w', its name 'z'" in err
    labelled = tmp_path / "labelled"
    shutil.copytree(runs["mix2"]["predictions"], labelled)
    with h5py.File(labelled / "q.h5", "r+") as handle:
        handle["label"][:3] = 0
    code, err = _cli(["evaluate", "--predictions-dir", labelled, "--out-dir", tmp_path / "m"], capsys)
    assert code == 2
    assert "q.h5: holds class 'q' (label 1), but 3 of its labels say otherwise" in err


@pytest.mark.parametrize(("value", "kind"), [(np.inf, "inf"), (np.nan, "nan")])
def test_evaluate_names_a_non_finite_score(runs, tmp_path, capsys, value, kind):
    broken = tmp_path / "broken"
    shutil.copytree(runs["mix2"]["predictions"], broken)
    with h5py.File(broken / "t.h5", "r+") as handle:
        handle["scores/chamfer"][4] = value
    code, err = _cli(["evaluate", "--predictions-dir", broken, "--out-dir", tmp_path / "m"], capsys)
    assert code == 2, kind
    assert "t.h5: scores/chamfer holds 1 non-finite values (NaN or inf; first at jet 4)" in err


def test_a_prediction_file_without_a_score_is_refused(runs, tmp_path, capsys):
    """It used to give "n/a" in Table 4, without a word."""
    broken = tmp_path / "broken"
    shutil.copytree(runs["mix2"]["predictions"], broken)
    with h5py.File(broken / "g.h5", "r+") as handle:
        del handle["scores/chamfer"]
    code, err = _cli(["evaluate", "--predictions-dir", broken, "--out-dir", tmp_path / "m"], capsys)
    assert code == 2
    assert "g.h5: the score datasets ['scores/chamfer'] are missing" in err


# ------------------------------------------------------------------------- tables, claims, figures
def _table(inputs: list[Path], out: Path, expect: list[str] | None = None) -> list:
    return [
        "table",
        "table3",
        "--inputs",
        *inputs,
        "--out-prefix",
        out,
        *(["--expect", *expect] if expect else []),
    ]


def test_a_run_given_twice_is_refused(runs, tmp_path, capsys):
    """`lgae table … --inputs M M` used to report "2 seeds"."""
    metrics = runs["mix2"]["metrics"]
    code, err = _cli(_table([metrics, metrics], tmp_path / "t3"), capsys)
    assert code == 2
    assert "both hold lgae-mix latent 2 seed 3 fraction 0.2; one run given twice" in err
    copied = tmp_path / "copied"  # τ=2's metrics copied over τ=4's: two directories, one run
    shutil.copytree(metrics, copied)
    code, err = _cli(_table([metrics, copied], tmp_path / "t3"), capsys)
    assert code == 2
    assert "one run given twice" in err
    argv = ["claims", "--inputs", metrics, runs["mix4"]["metrics"], metrics, "--out-prefix", tmp_path / "c"]
    assert _cli(argv, capsys)[0] == 2
    assert not list(tmp_path.glob("t3.*"))
    assert not list(tmp_path.glob("c.*"))


def test_a_directory_holding_another_run_than_expected_is_refused(runs, tmp_path, capsys):
    inputs = [runs["mix2"]["metrics"], runs["mix4"]["metrics"]]
    names = [_name(runs["mix2"]["settings"]), "lgae-mix:9:3:0.2"]
    code, err = _cli(_table(inputs, tmp_path / "t3", names), capsys)
    assert code == 2
    assert (
        f"{inputs[1]}: holds lgae-mix latent 4 seed 3 fraction 0.2, but this step expects lgae-mix latent 9"
        in err
    )
    names = [_name(runs["mix2"]["settings"]), _name(runs["mix4"]["settings"])]
    assert _cli(_table(inputs, tmp_path / "t3", names), capsys)[0] == 0
    figure = ["figure", "fig5", "--inputs", runs["mix2"]["predictions"], "--out-prefix", tmp_path / "f5"]
    code, err = _cli([*figure, "--expect", _name(runs["mix4"]["settings"])], capsys)
    assert code == 2
    assert "but this step expects lgae-mix latent 4" in err


def _damage(metrics: Path, tmp_path: Path, name: str, edit) -> Path:
    broken = tmp_path / f"broken-{name}"
    shutil.copytree(metrics, broken)
    payload = json.loads((broken / f"{name}.json").read_text())
    (broken / f"{name}.json").write_text(json.dumps(edit(payload)))
    return broken


@pytest.mark.parametrize(
    ("name", "edit", "where"),
    [
        ("reconstruction", lambda _: [], "the top level: [] is not of type 'object'"),
        (
            "reconstruction",
            lambda p: {**p, "groups": {"qcd": {"jet": {"mass": {"median": 1}}}}},
            "groups.qcd",
        ),
        ("anomaly", lambda p: {**p, "scores": {"chamfer": {"signals": []}}}, "scores.chamfer"),
        (
            "latent",
            lambda p: {**p, "correlation_with_jet_momentum": {"imag": {}}},
            "correlation_with_jet_momentum",
        ),
        ("equivariance", lambda p: {**p, "summary": {"scanned": True}}, "summary"),
        ("reconstruction", lambda p: {**p, "model": {**p["model"], "latent": "two"}}, "model.latent"),
        (
            "reconstruction",
            lambda p: {**p, "groups": {"qcd": {**p["groups"]["qcd"], "jet": {}}}},
            "groups.qcd.jet",
        ),
        (
            "anomaly",
            lambda p: {
                **p,
                "scores": {
                    "chamfer": {
                        "background_jets": 1,
                        "signals": {"t": {"auc": 0.5, "jets": 1, "signal_efficiency": {}}},
                    }
                },
            },
            "scores.chamfer.signals.t.signal_efficiency",
        ),
    ],
)
def test_metrics_files_of_the_wrong_shape_are_one_line(runs, tmp_path, capsys, name, edit, where):
    broken = _damage(runs["mix2"]["metrics"], tmp_path, name, edit)
    message = f"{broken / (name + '.json')}: not a {name} metrics file of this version (at {where}"
    for argv in (
        _table([broken], tmp_path / "t3"),
        ["claims", "--inputs", broken, "--out-prefix", tmp_path / "c"],
        ["figure", "fig9", "--inputs", broken, "--out-prefix", tmp_path / "f9"],
    ):
        code, err = _cli(argv, capsys)
        assert code == 2, argv[0]
        assert message in err, (argv[0], err)


def test_metrics_files_of_two_runs_in_one_directory_are_refused(runs, tmp_path, capsys):
    mixed = tmp_path / "mixed"
    shutil.copytree(runs["mix2"]["metrics"], mixed)
    shutil.copy(runs["mix4"]["metrics"] / "anomaly.json", mixed / "anomaly.json")
    code, err = _cli(_table([mixed], tmp_path / "t4"), capsys)
    assert code == 2
    assert "metrics files of two different models" in err


def test_latent_figures_on_cnnae_predictions_are_one_line(runs, tmp_path, capsys):
    for figure in ("fig5", "fig6"):
        argv = ["figure", figure, "--inputs", runs["cnnae"]["predictions"], "--out-prefix", tmp_path / figure]
        code, err = _cli(argv, capsys)
        assert code == 2
        assert f"{figure} shows the Lorentz latent or equivariance of LGAE models only, not" in err
        assert "(cnnae)" in err
    argv = ["figure", "fig9", "--inputs", runs["cnnae"]["metrics"], "--out-prefix", tmp_path / "f9"]
    code, err = _cli(argv, capsys)
    assert code == 2
    assert "fig9 shows the Lorentz latent or equivariance of LGAE models only" in err


def test_predict_refuses_a_model_file_beside_another_runs_meta_json(
    runs, processed_jets_dir, tmp_path, capsys
):
    """Without --expect (a user's own command line), the meta.json `lgae train` wrote beside the model
    still tells a model.pt copied over another run's."""
    run = tmp_path / "run"
    shutil.copytree(runs["mix4"]["model"].parent, run)
    shutil.copy(runs["mix2"]["model"], run / "model.pt")
    argv = [
        "predict",
        "--model-file",
        run / "model.pt",
        "--data-dir",
        processed_jets_dir,
        "--out-dir",
        tmp_path / "o",
    ]
    code, err = _cli(
        [*argv, "--device", "cpu", "--no-progress", "--no-emd", "--equivariance-jets", "10"], capsys
    )
    assert code == 2
    assert f"{run / 'model.pt'} and {run / 'meta.json'}: of different runs" in err


def test_runs_evaluated_on_different_data_are_not_compared(runs, tmp_path, capsys):
    other = tmp_path / "other"
    shutil.copytree(runs["mix4"]["metrics"], other)
    for name in ("reconstruction", "anomaly", "latent", "equivariance"):
        payload = json.loads((other / f"{name}.json").read_text())
        payload["model"]["data"]["seed"] = 7
        (other / f"{name}.json").write_text(json.dumps(payload))
    code, err = _cli(_table([runs["mix2"]["metrics"], other], tmp_path / "t3"), capsys)
    assert code == 2
    assert "runs evaluated on test jets of different preprocessings" in err


def test_a_figure_refuses_predictions_of_different_test_jets(runs, tmp_path, capsys):
    other = tmp_path / "other"
    shutil.copytree(runs["mix4"]["predictions"], other)
    with h5py.File(other / "q.h5", "r+") as handle:
        handle["index"][0] = 10**6
    argv = ["figure", "fig3", "--inputs", runs["mix2"]["predictions"], other, "--out-prefix", tmp_path / "f3"]
    code, err = _cli(argv, capsys)
    assert code == 2
    assert (
        f"{other / 'q.h5'} and {runs['mix2']['predictions'] / 'q.h5'}: predictions of different test jets"
        in err
    )


def test_a_score_the_runs_lack_is_refused(runs, tmp_path, capsys):
    """--anomaly-score emd on runs predicted without it used to read "n/a" in Table 4 (and a KeyError in Fig. 4)."""
    metrics, predictions = runs["mix2"]["metrics"], runs["mix2"]["predictions"]
    code, err = _cli([*_table([metrics], tmp_path / "t4"), "--anomaly-score", "emd"], capsys)
    assert code == 2
    assert f"{metrics / 'anomaly.json'}: has no 'emd' scores (it has ['chamfer', 'hungarian', 'mse'])" in err
    code, err = _cli(
        ["claims", "--inputs", metrics, "--out-prefix", tmp_path / "c", "--anomaly-score", "emd"], capsys
    )
    assert code == 2
    assert "has no 'emd' scores" in err
    argv = [
        "figure",
        "fig4",
        "--inputs",
        predictions,
        "--out-prefix",
        tmp_path / "f4",
        "--anomaly-score",
        "emd",
    ]
    code, err = _cli(argv, capsys)
    assert code == 2
    assert f"{predictions / 'g.h5'}: has no 'emd' scores" in err


def test_a_metrics_file_that_misstates_the_latent_is_refused(runs, tmp_path, capsys):
    broken = _damage(
        runs["mix2"]["metrics"], tmp_path, "latent", lambda p: {"model": p["model"], "lorentz_latent": False}
    )
    code, err = _cli(_table([broken], tmp_path / "t3"), capsys)
    assert code == 2
    assert "latent.json: says lorentz_latent False for lgae-mix" in err


def test_a_prediction_file_with_non_finite_inputs_or_latents_is_refused(runs, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(runs["mix2"]["predictions"], broken)
    with h5py.File(broken / "w.h5", "r+") as handle:
        vectors = handle["latent/vectors"][...]
        vectors[2, 0, 0] = np.nan
        handle["latent/vectors"][...] = vectors
    code, err = _cli(["evaluate", "--predictions-dir", broken, "--out-dir", tmp_path / "m"], capsys)
    assert code == 2
    assert "w.h5: latent/vectors holds 1 non-finite values (first at jet 2)" in err


@pytest.mark.parametrize(
    "option",
    [["--image-npix", "0"], ["--image-max-r", "-1"], ["--sample-jets", "0"]],
    ids=["npix", "max_r", "sample"],
)
def test_figure_options_out_of_range_are_one_line(runs, tmp_path, capsys, option):
    """npix 0 ended in a ZeroDivisionError, no sample jet in a ValueError, a negative window went through."""
    argv = [
        "figure",
        "fig2",
        "--inputs",
        runs["mix2"]["predictions"],
        "--out-prefix",
        tmp_path / "f2",
        *option,
    ]
    code, err = _cli(argv, capsys)
    assert code == 2
    assert "Fig. 2 needs at least 4 pixels, a positive half-width and one jet" in err


# ------------------------------------------------------------------ Run: one name for a run
CONFIGS = [
    Path(__file__).resolve().parents[2] / "config" / name
    for name in ("config.yaml", "quick.yaml", "cpu.yaml")
]


def _planned_runs() -> list[Run]:
    from lgae.io import read_yaml
    from lgae.pipeline import config as lgae_config

    runs = []
    for path in CONFIGS:
        config = read_yaml(path)
        runs += lgae_config.main_runs(config) + lgae_config.scan_runs(config)
    return runs


def test_every_planned_run_reads_back_from_its_text_and_its_record():
    runs = _planned_runs()
    assert len(set(runs)) > 300  # the paper's 314 among them
    for run in runs:
        assert Run.parse(str(run)) == run
        assert Run.from_record(json.loads(json.dumps(run.record()))) == run
        assert Run.from_settings(run.settings()) == run
    assert str(Run("lgae-mix", 9, 1, 1e-4)) == "lgae-mix:9:1:0.0001"
    assert str(Run("cnnae", 55, 2, 1)) == "cnnae:55:2:1"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("lgae-mix:9:1", "4 parts, 3 given"),
        ("lgae-mix:9:1:1:1", "4 parts, 5 given"),
        ("lgae-mix:nine:1:1", "whole numbers LATENT and SEED"),
        ("lgae-mix:9:1.5:1", "whole numbers LATENT and SEED"),
        ("lgae-mix:9:1:all", "a number"),
        ("lgae-mix:0:1:1", "latent 0 must be an integer >= 1"),
        ("lgae-mix:9:-1:1", "seed -1 must be an integer >= 0"),
        ("lgae-mix:9:1:0", "fraction 0.0 must be a number in (0, 1]"),
        ("lgae-mix:9:1:1.5", "fraction 1.5 must be a number in (0, 1]"),
        ("lgae-mix:9:1:nan", "fraction nan must be a number in (0, 1]"),
        (":9:1:1", "a model name"),
    ],
)
def test_a_run_text_that_is_not_one_is_refused_naming_the_option_and_the_form(text, says):
    with pytest.raises(LGAEError) as error:
        Run.parse(text, "--scan-expect")
    message = str(error.value)
    assert message.startswith(f"--scan-expect {text!r}: ")
    assert says in message


def test_a_run_from_numbers_of_other_types_is_the_same_run():
    """A record read back from HDF5 attributes holds numpy numbers; the run is the same, its text too."""
    run = Run("lgae-min-max", np.int64(4), np.int32(1), np.float32(0.5))
    assert run == Run("lgae-min-max", 4, 1, 0.5)
    assert str(run) == "lgae-min-max:4:1:0.5"
    assert type(run.latent) is int
    assert type(run.fraction) is float
    with pytest.raises(LGAEError, match=r"latent 9\.5"):
        Run("lgae-mix", 9.5, 1)
    with pytest.raises(LGAEError, match="seed True"):
        Run("lgae-mix", 9, True)


def test_a_runs_paths_are_the_workflows_patterns_filled_in():
    """The paths of a run are the patterns the rules match, with its fraction label; a path read back
    through the rules' wildcard constraints gives the same run (none is lost to a label out of pattern)."""
    patterns = {kind: Run.pattern(kind) for kind in ("models", "predictions", "metrics")}
    assert patterns["models"] == "results/models/{model}/{latent}/seed{seed}/frac{frac}"
    constraints = {"model": r"[a-z-]+", "latent": r"\d+", "seed": r"\d+", "frac": Run.FRACTION_PATTERN}
    fractions = (1.0, 0.5, 0.1, 0.01, 1e-4, 2e-4, 0.0007, 1e-5, 3.5e-7)
    runs = [*_planned_runs(), *(Run("lgae-mix", 9, 3, f) for f in fractions)]
    for run in runs:
        paths = {
            "models": run.model_dir(),
            "predictions": run.predictions_dir(),
            "metrics": run.metrics_dir(),
        }
        for kind, pattern in patterns.items():
            assert paths[kind] == pattern.format(
                model=run.model, latent=run.latent, seed=run.seed, frac=run.fraction_label
            )
            regex = re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}")
            regex = regex.format(**{k: f"(?P<{k}>{v})" for k, v in constraints.items()})
            wildcards = re.fullmatch(regex, paths[kind])
            assert wildcards is not None, (paths[kind], pattern)
            assert Run.from_wildcards(SimpleNamespace(**wildcards.groupdict())) == run
    # the logs' and benchmarks' names tell every run apart by the same wildcards
    assert set(re.findall(r"{(\w+)}", Run.FLAT_PATTERN)) == set(constraints)
    run = Run("gnnae-jl", 55, 2, 0.001)
    assert run.model_file() == "results/models/gnnae-jl/55/seed2/frac0.001/model.pt"
    assert run.metrics_file("anomaly", root="out") == "out/metrics/gnnae-jl/55/seed2/frac0.001/anomaly.json"
    assert run.predictions_dir() == "results/predictions/gnnae-jl/55/seed2/frac0.001"


def test_training_settings_name_their_run_as_its_files_do():
    settings = _settings(latent=4, seed=3, train_fraction=0.25)
    assert settings.run == Run(settings.model, 4, 3, 0.25)
    assert settings.run == Run.from_settings(asdict(settings))
    assert run_record(asdict(settings)) == settings.run.record()
    assert parse_expected(str(settings.run)) == settings.run.settings()
