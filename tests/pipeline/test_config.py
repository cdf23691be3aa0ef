"""The configuration check at parse time refuses everything a job would refuse (so that Snakemake never
deletes a finished job's outputs before the job fails on its settings), reads files strictly, and says
which key to fix in one line."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from lgae import cli
from lgae.errors import ConfigError, LGAEError
from lgae.models.io import save_model
from lgae.models.registry import accepted_hyperparameters
from lgae.names import LATENT_ARGUMENTS
from lgae.pipeline import config as lgae_config
from lgae.pipeline.training import TrainSettings, build_model, check_model_runs

REPO = Path(__file__).resolve().parents[2]
QUICK = yaml.safe_load((REPO / "config" / "quick.yaml").read_text())


def _parse_rejects(config: dict) -> str | None:
    try:
        lgae_config.validate(config)
    except ConfigError as exc:
        return str(exc)
    return None


def _run_cli(argv: list[str], capsys) -> tuple[int, str]:
    """`lgae ...` in-process: its exit code and its one line of error (argparse's usage errors too)."""
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse refuses the arguments themselves
        code = exc.code
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    """A small LGAE-Mix (τ=2) as `lgae train` writes it (untrained: the checks run before any compute)."""
    settings = TrainSettings(
        model="lgae-mix",
        latent=2,
        hyperparameters={"encoder_channels": [2, 2], "decoder_channels": [2, 2], "num_basis": 4},
    )
    path = tmp_path_factory.mktemp("model") / "model.pt"
    from dataclasses import asdict

    save_model(path, build_model(settings), {"settings": asdict(settings)})
    return path


# --- the examples and their kin: each value through the parse-time check and the job's own check
def _train_job(model: str, latent: int, hyperparameters: dict) -> list[str]:
    return [
        "train",
        "--model",
        model,
        "--latent",
        str(latent),
        "--hyperparameters",
        json.dumps(hyperparameters),
    ]


CASES = {
    # key: (edit of the config, the argv of the job that would get the value, what the parse check says)
    "encoder_channels [3, -4, 4]": (
        lambda c: c["models"]["lgae-mix"]["hyperparameters"].update(encoder_channels=[3, -4, 4]),
        _train_job("lgae-mix", 9, {"encoder_channels": [3, -4, 4], "decoder_channels": [4, 3, 3]}),
        "models.lgae-mix (latent 2, seed 1, fraction 1): model 'lgae-mix'",
    ),
    "decoder_channels []": (
        lambda c: c["models"]["lgae-min-max"]["hyperparameters"].update(decoder_channels=[]),
        _train_job("lgae-min-max", 2, {"encoder_channels": [3, 4, 4], "decoder_channels": []}),
        "models.lgae-min-max (latent 2",
    ),
    "cnnae channels 0": (
        lambda c: c["models"]["cnnae"]["hyperparameters"].update(channels=0),
        _train_job("cnnae", 55, {"channels": 0}),
        "models.cnnae (latent 55",
    ),
    "data_efficiency.fractions []": (
        lambda c: c["data_efficiency"].update(fractions=[]),
        ["figure", "fig7", "--inputs"],  # the Fig. 7 job of an empty scan
        "data_efficiency.fractions",
    ),
    "data_efficiency.models {}": (
        lambda c: c["data_efficiency"].update(models={}),
        ["figure", "fig7", "--inputs"],
        "data_efficiency.models",
    ),
    "data_efficiency.seeds []": (
        lambda c: c["data_efficiency"].update(seeds=[]),
        ["figure", "fig7", "--inputs"],
        "data_efficiency.seeds",
    ),
    "data.signals []": (
        lambda c: c["data"].update(signals=[]),
        ["figure", "fig4", "--inputs", "x", "--signals"],
        "data.signals",
    ),
    "figures.fig3 {}": (
        lambda c: c["figures"].update(fig3={}),
        ["figure", "fig3", "--inputs"],
        "figures.fig3",
    ),
    "evaluation.equivariance_jets 1001": (
        lambda c: c["evaluation"].update(equivariance_jets=1001),  # quick: 2 × 500 QCD test jets
        ["predict", "--model-file", "{model}", "--data-dir", "{data}", "--equivariance-jets", "1001"],
        "evaluation.equivariance_jets = 1001: the QCD test split will hold 1000 jets (g + q)",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_value_a_job_refuses_is_refused_at_parse_time(
    case, processed_jets_dir, model_file, tmp_path, capsys
):
    edit, argv, message = CASES[case]
    config = copy.deepcopy(QUICK)
    edit(config)
    parse = _parse_rejects(config)
    assert parse is not None, f"{case}: the parse-time check accepts it"
    assert message in parse, parse
    argv = [a.replace("{model}", str(model_file)).replace("{data}", str(processed_jets_dir)) for a in argv]
    if argv[0] in ("train", "predict"):
        argv += ["--out-dir", str(tmp_path / "out"), "--device", "cpu"]
    if argv[0] == "figure":
        argv += ["--out-prefix", str(tmp_path / "fig")]
    if argv[0] == "train":
        argv += ["--data-dir", str(processed_jets_dir), "--no-progress"]
    code, err = _run_cli(argv, capsys)
    assert code == 2, f"{case}: the job accepts it ({err})"
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_shipped_configs_pass_both_checks():
    for name in ("config.yaml", "quick.yaml", "cpu.yaml"):
        config = lgae_config.load(REPO / "config" / name)
        for run in lgae_config.main_runs(config) + lgae_config.scan_runs(config):
            TrainSettings(**lgae_config.training_settings(config, run))


def _bad_values(hint) -> list:
    """Values of the wrong range (and some of the wrong type) for a hyperparameter's type hint."""
    text = str(hint)
    if "bool" in text and "Sequence" not in text:
        return ["yes"]
    if text.startswith("collections.abc.Sequence[int]"):
        return [[], [0], [3, -4, 4]]
    if text.startswith("collections.abc.Sequence[str]"):
        return [[], ["nonsense"]]
    if text.startswith("tuple[int, int]"):
        return [[0, 0], [-1, 1], [1]]
    if "Literal" in text or hint is str:
        return ["nonsense"]
    if "float" in text:
        return [0.0, -1.0]
    if "int" in text:
        return [0, -1]
    return []


@pytest.mark.slow
@pytest.mark.parametrize("model", ["lgae-mix", "gnnae-jl", "gnnae-pl", "cnnae"])
def test_every_hyperparameter_a_model_refuses_is_refused_at_parse_time(model):
    """Each hyperparameter of each model with values of the wrong range: whenever the training job's
    own check (its settings, then building the model) refuses one, the parse-time check refuses it too."""
    refused = 0
    latent = QUICK["models"][model]["latents"][0]
    for name, (hint, _) in accepted_hyperparameters(model).items():
        if name == LATENT_ARGUMENTS[model]:
            continue
        for value in _bad_values(hint):
            hyperparameters = {**QUICK["models"][model]["hyperparameters"], name: value}
            try:  # what `lgae train` does before it reads any data
                settings = TrainSettings(model=model, latent=latent, hyperparameters=hyperparameters)
                check_model_runs(build_model(settings), settings)
                job_refuses = False
            except LGAEError:
                job_refuses = True
            config = copy.deepcopy(QUICK)
            config["models"][model]["hyperparameters"] = hyperparameters
            parse = _parse_rejects(config)
            if job_refuses:
                refused += 1
                assert parse is not None, f"{model}.{name} = {value!r}: refused by the job only"
                assert f"models.{model}" in parse
    assert refused >= 3  # the sweep does reach values the models refuse


def test_hyperparameters_that_make_a_model_fail_or_give_nan_are_config_errors():
    """num_particles 0 used to end in a ZeroDivisionError, num_basis -1 in a RuntimeError, input_scale 0 in
    a NaN loss in the first epoch: all after Snakemake had deleted the finished outputs."""
    for values, message in (
        ({"num_particles": 0}, "model 'lgae-mix': float division by zero"),
        ({"num_basis": -1}, "model 'lgae-mix': number of steps must be non-negative"),
        ({"input_scale": 0.0}, "gives a nan mse loss on a test jet before any training"),
        ({"message_norm": 0.0}, "gives a nan mse loss on a test jet before any training"),
    ):
        hyperparameters = {**QUICK["models"]["lgae-mix"]["hyperparameters"], **values}
        with pytest.raises(ConfigError, match=re.escape(message)):  # noqa: PT012
            settings = TrainSettings(model="lgae-mix", latent=2, loss="mse", hyperparameters=hyperparameters)
            check_model_runs(build_model(settings), settings)
        config = copy.deepcopy(QUICK)
        config["models"]["lgae-mix"]["hyperparameters"] = hyperparameters
        assert _parse_rejects(config) is not None, values


# --- reading config files
def test_a_key_given_twice_is_refused(tmp_path):
    text = (REPO / "config" / "quick.yaml").read_text() + "\ntraining:\n  max_epochs: 3\n"
    path = tmp_path / "twice.yaml"
    path.write_text(text)
    with pytest.raises(
        ConfigError,
        match=r"twice\.yaml, line \d+, column 1: not valid YAML \(the key 'training' is given twice",
    ):
        lgae_config.load(path)
    with pytest.raises(ConfigError, match="the key 'training' is given twice"):
        lgae_config.check_files([path])


def test_a_non_utf8_or_missing_config_is_one_clear_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(
        (REPO / "config" / "quick.yaml")
        .read_text()
        .replace("Pythia", "Pythiä")
        .encode("latin-1", errors="replace")
    )
    with pytest.raises(ConfigError, match=r"latin1\.yaml: not UTF-8 text"):
        lgae_config.load(path)
    with pytest.raises(ConfigError, match=r"missing\.yaml: config file not found"):
        lgae_config.load(tmp_path / "missing.yaml")


def test_equivariance_jets_up_to_the_test_set_are_accepted_above_it_refused():
    """Above the QCD test set it used to be clipped to the test set without a word."""
    config = copy.deepcopy(QUICK)
    config["evaluation"]["equivariance_jets"] = 1000
    lgae_config.validate(config)
    config["data"]["source"] = "jetnet"  # JetNet's g + q test splits: 35,451 + 34,136 jets
    config["evaluation"]["equivariance_jets"] = 69587
    lgae_config.validate(config)
    config["evaluation"]["equivariance_jets"] = 69588
    assert re.search(r"will hold 69587 jets", _parse_rejects(config) or "")


def test_the_job_refuses_more_equivariance_jets_than_the_test_set(
    processed_jets_dir, model_file, tmp_path, capsys
):
    argv = ["predict", "--model-file", str(model_file), "--data-dir", str(processed_jets_dir)]
    argv += ["--out-dir", str(tmp_path / "out"), "--device", "cpu", "--equivariance-jets", "121"]
    code, err = _run_cli(argv, capsys)
    assert code == 2
    assert "--equivariance-jets 121 (evaluation.equivariance_jets): " in err
    assert "holds 120 QCD test jets (g+q)" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_generation_settings_the_generate_job_or_preprocessing_refuse_are_refused_at_parse_time(
    tmp_path, capsys
):
    """pthat_min 0 passed the schema, then the generate job refused it; a jet_eta_max beyond a detector's
    reach would make jets that preprocessing refuses."""
    config = copy.deepcopy(QUICK)
    config["data"]["pythia"]["pthat_min"] = 0.0
    assert "data.pythia: generation setting pthat_min = 0.0: must be positive" in (
        _parse_rejects(config) or ""
    )
    argv = [
        "generate",
        "--class",
        "g",
        "--n-jets",
        "10",
        "--out",
        str(tmp_path / "g.hdf5"),
        "--pthat-min",
        "0",
    ]
    code, err = _run_cli(argv, capsys)
    assert code == 2
    assert "pthat_min = 0.0: must be positive" in err
    config = copy.deepcopy(QUICK)
    config["data"]["pythia"]["jet_eta_max"] = 6.0
    assert "data.pythia.jet_eta_max = 6.0: preprocessing refuses jets" in (_parse_rejects(config) or "")
    from lgae.pipeline.data.jetnet_format import write_raw

    particles = np.zeros((10, 30, 4), np.float32)
    particles[:, :5] = [0.01, 0.02, 0.2, 1.0]
    jets = np.tile(np.array([1000.0, 5.5, 80.0, 5.0], np.float32), (10, 1))  # a jet at |η| = 5.5
    write_raw(tmp_path / "g.hdf5", particles, jets)
    argv = [
        "preprocess",
        "--input",
        str(tmp_path / "g.hdf5"),
        "--class",
        "g",
        "--out-dir",
        str(tmp_path / "p"),
    ]
    code, err = _run_cli(argv, capsys)
    assert code == 2
    assert "|jet η| <= 5.2" in err


def test_a_training_key_the_config_may_leave_out_defaults_to_the_training_settings():
    """The schema documents the default of each optional training key; it is TrainSettings' default, and
    a config without the key trains with it."""
    from dataclasses import fields

    defaults = {f.name: f.default for f in fields(TrainSettings)}
    training = lgae_config.schema()["properties"]["training"]
    optional = [k for k in training["properties"] if k not in training["required"]]
    documented = {k: training["properties"][k]["default"] for k in optional if k in defaults}
    assert documented == {"min_improvement": 0.0, "max_minutes": None}
    assert all(documented[k] == defaults[k] for k in documented)
    config = yaml.safe_load((REPO / "config" / "quick.yaml").read_text())
    for key in documented:
        del config["training"][key]
    (run,) = lgae_config.main_runs(config)[:1]
    settings = TrainSettings(**lgae_config.training_settings(config, run))
    assert {k: getattr(settings, k) for k in documented} == documented
