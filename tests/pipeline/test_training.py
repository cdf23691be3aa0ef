"""Training: exact resume after an interruption, determinism, NaN handling, subsets, outputs."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

import lgae.pipeline.training as train_module
from lgae import cli
from lgae.errors import ConfigError, DataError
from lgae.pipeline.data.preprocess import load_processed, preprocess_class
from lgae.pipeline.training import (
    CheckpointError,
    TrainingError,
    TrainPaths,
    TrainSettings,
    load_trained,
    train,
    training_subset,
)

# a small LGAE so that an epoch takes a fraction of a second
SMALL = {"encoder_channels": [2, 2], "decoder_channels": [2, 2], "num_basis": 4}


def _settings(**overrides) -> TrainSettings:
    base = dict(
        model="lgae-mix",
        latent=2,
        seed=3,
        train_fraction=0.5,
        hyperparameters=SMALL,
        batch_size=64,
        max_epochs=4,
        patience=10,
    )
    return TrainSettings(**{**base, **overrides})


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["state_dict"]


def _checkpoint(path: Path) -> dict:
    return torch.load(path, weights_only=True)


_EVALUATE_LOSS = train_module.evaluate_loss


class _EpochCounter:
    """Counts the epochs a call of `train` really runs (one validation pass each), independently of
    the bookkeeping it writes; optionally replaces the validation losses by a script."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, script: list[float] | None = None) -> None:
        self.calls = 0
        self.script = script
        real = _EVALUATE_LOSS

        def counted(*args, **kwargs) -> float:
            value = real(*args, **kwargs)
            self.calls += 1
            return value if self.script is None else self.script[self.calls - 1]

        monkeypatch.setattr(train_module, "evaluate_loss", counted)


def _same_weights(a: Path, b: Path) -> bool:
    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.fixture(autouse=True)
def _single_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_resume_after_interruption_is_bit_exact(processed_jets_dir, tmp_path, monkeypatch):
    straight = TrainPaths(processed_jets_dir, tmp_path / "straight")
    train(_settings(), straight, device="cpu", progress=False)
    interrupted = TrainPaths(processed_jets_dir, tmp_path / "interrupted")
    partial = train(_settings(), interrupted, device="cpu", stop_after_epochs=2, progress=False)
    assert partial["stopped_at_epoch"] == 2
    assert not interrupted.model.exists()  # no final output before the run is complete
    counter = _EpochCounter(monkeypatch)
    meta = train(_settings(), interrupted, device="cpu", progress=False)  # resumes at epoch 3
    # it resumed: only the two remaining epochs ran (a restart from scratch would give the same weights)
    assert counter.calls == 2
    assert (meta["resumed_from_epoch"], meta["epochs_this_call"], meta["epochs"]) == (2, 2, 4)
    assert _same_weights(straight.model, interrupted.model)
    losses = [[row["train_loss"], row["valid_loss"]] for row in csv.DictReader(straight.history.open())]
    resumed = [[row["train_loss"], row["valid_loss"]] for row in csv.DictReader(interrupted.history.open())]
    assert losses == resumed
    assert len(losses) == 4


@pytest.mark.slow
def test_compiled_training_resumes_bit_exact(processed_jets_dir, tmp_path):
    """With torch.compile (lgae.pipeline.compiling), an interrupted and resumed run ends with the weights and
    losses of an uninterrupted one, bit for bit: every call compiles the same kernels again."""
    straight = TrainPaths(processed_jets_dir, tmp_path / "straight")
    meta = train(_settings(), straight, device="cpu", progress=False, compile=True)
    assert meta["compile"]["active"], meta["compile"]
    assert meta["compile"]["seconds"] > 0
    interrupted = TrainPaths(processed_jets_dir, tmp_path / "interrupted")
    train(_settings(), interrupted, device="cpu", stop_after_epochs=2, progress=False, compile=True)
    resumed = train(_settings(), interrupted, device="cpu", progress=False, compile=True)
    assert (resumed["resumed_from_epoch"], resumed["epochs"]) == (2, 4)
    assert _same_weights(straight.model, interrupted.model)
    rows = [[r["train_loss"], r["valid_loss"]] for r in csv.DictReader(straight.history.open())]
    assert rows == [[r["train_loss"], r["valid_loss"]] for r in csv.DictReader(interrupted.history.open())]
    # and the compiled numbers are the eager ones to rounding, not another training
    eager = TrainPaths(processed_jets_dir, tmp_path / "eager")
    train(_settings(), eager, device="cpu", progress=False)
    eager_rows = [[r["train_loss"], r["valid_loss"]] for r in csv.DictReader(eager.history.open())]
    assert np.allclose(np.array(rows, dtype=float), np.array(eager_rows, dtype=float), rtol=1e-9, atol=0)


def test_killed_process_resumes_to_the_same_weights(processed_jets_dir, tmp_path):
    """A `lgae train` killed with SIGKILL mid-run continues from its checkpoint when run again."""
    args = [
        sys.executable,
        "-m",
        "lgae",
        "train",
        "--model",
        "gnnae-pl",
        "--latent",
        "2",
        "--seed",
        "5",
        "--fraction",
        "0.5",
        "--data-dir",
        str(processed_jets_dir),
        "--batch-size",
        "32",
        "--max-epochs",
        "4",
        "--patience",
        "10",
        "--dtype",
        "float32",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--no-progress",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [*args, "--out-dir", str(tmp_path / "straight")],
        check=True,
        env=env,
        timeout=300,
        capture_output=True,
    )
    killed_dir = tmp_path / "killed"
    process = subprocess.Popen([*args, "--out-dir", str(killed_dir)], env=env, stderr=subprocess.PIPE)
    checkpoint = killed_dir / "checkpoint.pt"
    deadline = time.time() + 240
    while time.time() < deadline and not checkpoint.exists():
        time.sleep(0.05)
    time.sleep(0.3)  # somewhere in the next epoch
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert checkpoint.exists()
    assert not (killed_dir / "model.pt").exists()
    epochs_done = _checkpoint(checkpoint)["state"]["epoch"]
    assert 1 <= epochs_done < 4
    result = subprocess.run(
        [*args, "--out-dir", str(killed_dir)], env=env, timeout=300, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert f"resuming {killed_dir} from epoch {epochs_done}" in result.stderr
    meta = json.loads((killed_dir / "meta.json").read_text())
    assert (meta["resumed_from_epoch"], meta["epochs_this_call"]) == (epochs_done, 4 - epochs_done)
    assert _same_weights(tmp_path / "straight" / "model.pt", killed_dir / "model.pt")


def test_same_seed_same_weights_other_seed_other_weights(processed_jets_dir, tmp_path):
    runs = {}
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        paths = TrainPaths(processed_jets_dir, tmp_path / name)
        train(_settings(seed=seed, max_epochs=1), paths, device="cpu", progress=False)
        runs[name] = paths.model
    assert _same_weights(runs["a"], runs["b"])
    assert not _same_weights(runs["a"], runs["c"])


def test_nan_loss_stops_with_a_clear_error_and_keeps_the_checkpoint(
    processed_jets_dir, tmp_path, monkeypatch
):
    paths = TrainPaths(processed_jets_dir, tmp_path / "run")
    train(_settings(max_epochs=1), paths, device="cpu", progress=False)
    good = _checkpoint(paths.checkpoint)["model"]
    real_loss = train_module._loss
    monkeypatch.setattr(train_module, "_loss", lambda *a: real_loss(*a) * float("nan"))
    with pytest.raises(TrainingError, match="became nan in epoch 2") as error:
        train(_settings(max_epochs=3), paths, device="cpu", progress=False)
    assert f"The last good checkpoint ({paths.checkpoint}, epoch 1) is kept" in str(error.value)
    kept = _checkpoint(paths.checkpoint)
    assert kept["state"]["epoch"] == 1
    assert all(torch.equal(kept["model"][k], good[k]) for k in good)


def test_outputs_and_metadata(processed_jets_dir, tmp_path):
    paths = TrainPaths(processed_jets_dir, tmp_path / "run")
    meta = train(_settings(max_epochs=3, patience=0), paths, device="cpu", progress=False)
    saved = json.loads(paths.meta.read_text())
    assert saved["best_epoch"] == meta["best_epoch"]
    assert saved["settings"]["model"] == "lgae-mix"
    assert saved["settings"]["loss"] == "mse"  # the paper's loss for LGAE-Mix
    rows = list(csv.DictReader(paths.history.open()))
    assert len(rows) == saved["epochs"]
    assert float(rows[saved["best_epoch"] - 1]["valid_loss"]) == pytest.approx(saved["best_valid_loss"])
    model = load_trained(paths.model)
    assert model.latent_vectors == 2
    assert next(model.parameters()).dtype == torch.float64


def test_a_model_builder_trains_another_implementation_with_the_same_loop(processed_jets_dir, tmp_path):
    """The hook the side-by-side study uses: the given model is what trains, and meta.json says so."""
    from lgae.models import build
    from lgae.models.lgae import LGAE

    class Other(LGAE):
        pass

    built = []

    def builder(settings: TrainSettings) -> LGAE:
        torch.manual_seed(0)
        model = Other(aggregation="mix", latent_vectors=settings.latent, **SMALL).double()
        model.hyperparameters = build("lgae-mix", latent_vectors=2, **SMALL).hyperparameters
        built.append((model, {k: v.clone() for k, v in model.state_dict().items()}))
        return model

    paths = TrainPaths(processed_jets_dir, tmp_path / "run")
    meta = train(_settings(max_epochs=2), paths, device="cpu", progress=False, model_builder=builder)
    assert meta["model_class"] == "Other"
    assert len(built) == 1
    model, initial = built[0]
    saved = _weights(paths.model)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in saved.items())  # that very model
    assert any(not torch.equal(initial[k], v) for k, v in saved.items())  # and it was trained


def test_changed_settings_start_afresh(processed_jets_dir, tmp_path):
    paths = TrainPaths(processed_jets_dir, tmp_path / "run")
    train(_settings(max_epochs=1), paths, device="cpu", progress=False)
    train(_settings(max_epochs=1, lr=5e-4), paths, device="cpu", progress=False)
    assert list(paths.out_dir.glob("checkpoint.*.pt"))  # the old checkpoint was set aside


def test_more_epochs_continue_a_finished_run(processed_jets_dir, tmp_path, monkeypatch):
    paths = TrainPaths(processed_jets_dir, tmp_path / "run")
    train(_settings(max_epochs=2), paths, device="cpu", progress=False)
    before = list(csv.DictReader(paths.history.open()))
    counter = _EpochCounter(monkeypatch)
    meta = train(_settings(max_epochs=3), paths, device="cpu", progress=False)
    assert meta["epochs"] == 3
    assert counter.calls == 1  # the third epoch only, on top of the first two
    assert meta["resumed_from_epoch"] == 2
    after = list(csv.DictReader(paths.history.open()))
    assert [r["valid_loss"] for r in after[:2]] == [r["valid_loss"] for r in before]


def test_model_file_holds_the_best_epoch_not_the_last(processed_jets_dir, tmp_path, monkeypatch):
    """Validation losses scripted to 3, 1, 2: model.pt must hold the weights after epoch 2."""
    _EpochCounter(monkeypatch, script=[3.0, 1.0, 2.0])
    run = TrainPaths(processed_jets_dir, tmp_path / "run")
    meta = train(_settings(max_epochs=3), run, device="cpu", progress=False)
    assert (meta["best_epoch"], meta["best_valid_loss"], meta["epochs"]) == (2, 1.0, 3)
    _EpochCounter(monkeypatch, script=[3.0, 1.0])
    two = TrainPaths(processed_jets_dir, tmp_path / "two")
    train(_settings(max_epochs=2), two, device="cpu", progress=False)  # deterministic: epoch 2's weights
    after_epoch_2 = _checkpoint(two.checkpoint)["model"]
    after_epoch_3 = _checkpoint(run.checkpoint)["model"]
    saved = _weights(run.model)
    assert all(torch.equal(saved[k], after_epoch_2[k]) for k in saved)
    assert not all(torch.equal(saved[k], after_epoch_3[k]) for k in saved)


def test_a_loss_that_only_creeps_down_stops_with_a_minimum_improvement(
    processed_jets_dir, tmp_path, monkeypatch
):
    """Scripted losses 1, 0.5 and then 0.1 % lower each epoch: with a 1 % minimum the patience of 2 runs
    out after epoch 5; the model is still the lowest epoch's. Without the minimum it trains to the cap."""
    script = [1.0, 0.5] + [0.5 * 0.999**k for k in range(1, 9)]
    counter = _EpochCounter(monkeypatch, script=script)
    creeping = TrainPaths(processed_jets_dir, tmp_path / "creeping")
    meta = train(
        _settings(max_epochs=10, patience=2, min_improvement=0.01), creeping, device="cpu", progress=False
    )
    assert (counter.calls, meta["epochs"], meta["stopped_by"]) == (5, 5, "early stopping")
    assert (meta["best_epoch"], meta["best_valid_loss"]) == (5, pytest.approx(0.5 * 0.999**3))
    counter = _EpochCounter(monkeypatch, script=script)
    every = train(
        _settings(max_epochs=10, patience=2),
        TrainPaths(processed_jets_dir, tmp_path / "every"),
        device="cpu",
        progress=False,
    )
    assert (counter.calls, every["stopped_by"]) == (10, "epoch limit")


def test_a_time_budget_stops_between_epochs_and_counts_every_call(processed_jets_dir, tmp_path, monkeypatch):
    """A budget smaller than one epoch: one epoch runs, then none; lifting it continues the same run."""
    paths = TrainPaths(processed_jets_dir, tmp_path / "run")
    counter = _EpochCounter(monkeypatch)
    meta = train(_settings(max_epochs=4, max_minutes=1e-9), paths, device="cpu", progress=False)
    assert (counter.calls, meta["epochs"], meta["stopped_by"]) == (1, 1, "time budget (1e-09 min)")
    counter = _EpochCounter(monkeypatch)
    meta = train(_settings(max_epochs=4, max_minutes=1e-9), paths, device="cpu", progress=False)
    assert (counter.calls, meta["epochs"]) == (0, 1)  # the minutes of the first call count
    meta = train(_settings(max_epochs=4), paths, device="cpu", progress=False)
    assert (counter.calls, meta["epochs"], meta["stopped_by"]) == (3, 4, "epoch limit")


def test_the_stopping_rule_is_not_part_of_the_fingerprint():
    """A finished run continues, rather than starting over, when its stopping rule changes."""
    base = _settings().fingerprint()
    assert _settings(patience=3, max_epochs=9, min_improvement=0.05, max_minutes=2.0).fingerprint() == base
    assert _settings(lr=5e-4).fingerprint() != base


def test_training_subset_is_seeded_random_and_keeps_both_classes(processed_jets_dir):
    from lgae.pipeline.data.preprocess import load_classes

    qcd = load_classes(processed_jets_dir, ["g", "q"], "train")
    n_g = len(qcd) // 2  # the first half are gluons, the second quarks (equal class sizes here)
    subset = training_subset(len(qcd), 0.05, seed=1)
    assert len(subset) == round(0.05 * len(qcd))
    assert np.array_equal(subset, training_subset(len(qcd), 0.05, seed=1))
    assert not np.array_equal(subset, training_subset(len(qcd), 0.05, seed=2))
    assert (subset < n_g).any()
    assert (subset >= n_g).any()
    assert len(training_subset(100, 1e-4, seed=1)) == 1


@pytest.mark.parametrize("name", ["lgae-min-max", "lgae-mix", "gnnae-jl", "gnnae-pl", "cnnae"])
def test_every_model_trains_and_improves(processed_jets_dir, tmp_path, name):
    latent = {"lgae-min-max": 2, "lgae-mix": 4, "gnnae-jl": 10, "gnnae-pl": 2, "cnnae": 16}[name]
    hyper = SMALL if name.startswith("lgae") else {}
    settings = TrainSettings(
        model=name,
        latent=latent,
        seed=1,
        hyperparameters=hyper,
        batch_size=64,
        max_epochs=4,
        patience=10,
        dtype="float32",
        lr=3e-3,
    )
    paths = TrainPaths(processed_jets_dir, tmp_path / name)
    meta = train(settings, paths, device="cpu", progress=False)
    rows = list(csv.DictReader(paths.history.open()))
    assert meta["best_valid_loss"] < float(rows[0]["valid_loss"]) or meta["best_epoch"] == 1
    assert min(float(r["train_loss"]) for r in rows[1:]) < float(rows[0]["train_loss"])


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="train_fraction"):
        _settings(train_fraction=0.0)
    with pytest.raises(ConfigError, match="dtype"):
        _settings(dtype="float16")
    with pytest.raises(ConfigError, match="unknown model"):
        train_module.build_model(_settings(model="lgae-max"))


def test_other_data_starts_afresh_and_the_same_data_elsewhere_resumes(
    processed_jets_dir, generated_raw_dir, tmp_path, monkeypatch
):
    """The checkpoint's fingerprint covers the data: where it lies does not matter, what it is does."""
    out = tmp_path / "run"
    train(_settings(), TrainPaths(processed_jets_dir, out), device="cpu", stop_after_epochs=2, progress=False)
    moved = tmp_path / "moved"
    shutil.copytree(processed_jets_dir, moved)
    counter = _EpochCounter(monkeypatch)
    meta = train(_settings(), TrainPaths(moved, out), device="cpu", progress=False)
    assert (counter.calls, meta["resumed_from_epoch"]) == (2, 2)
    # other data: the split drawn with another seed (what changing data.seed does). The finished run's
    # checkpoint is set aside and all four epochs run on the new data.
    other = tmp_path / "other"
    for jet_class in ("g", "q"):
        preprocess_class(generated_raw_dir / f"{jet_class}.hdf5", other, jet_class, seed=7, source="pythia")
    counter = _EpochCounter(monkeypatch)
    meta = train(_settings(), TrainPaths(other, out), device="cpu", progress=False)
    assert (counter.calls, meta["resumed_from_epoch"], meta["epochs"]) == (4, 0, 4)
    assert len(list(out.glob("checkpoint.*.pt"))) == 1
    saved = json.loads((out / "meta.json").read_text())
    assert saved["data"]["files"]["g_train"]["seed"] == 7  # meta.json describes the data trained on
    assert saved["data"]["train_jets"] == meta["train_jets"] * 2  # fraction 0.5 of the split
    fresh = TrainPaths(other, tmp_path / "fresh")
    train(_settings(), fresh, device="cpu", progress=False)
    assert _same_weights(fresh.model, out / "model.pt")  # the new data's model, not the old one's
    # the same file names and attributes but other jets: a content change is caught as well
    edited = tmp_path / "edited"
    shutil.copytree(other, edited)
    with h5py.File(edited / "q_valid.h5", "r+") as handle:
        handle["p4"][0, 0] = handle["p4"][0, 0] * 1.001
    counter = _EpochCounter(monkeypatch)
    meta = train(_settings(), TrainPaths(edited, out), device="cpu", progress=False)
    assert (counter.calls, meta["resumed_from_epoch"]) == (4, 0)


class _Payload:
    """Unpickling this runs os.system: what a malicious checkpoint would do."""

    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_checkpoint_carrying_a_pickled_callable_is_refused(processed_jets_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = TrainPaths(processed_jets_dir, tmp_path / "run")
    paths.out_dir.mkdir()
    torch.save({"fingerprint": "0", "state": _Payload()}, paths.checkpoint)
    counter = _EpochCounter(monkeypatch)
    with pytest.raises(CheckpointError, match=r"checkpoint\.pt: refusing to load it"):
        train(_settings(), paths, device="cpu", progress=False)
    assert not (tmp_path / "pwned").exists()
    assert counter.calls == 0
    assert paths.checkpoint.exists()  # left for the user to inspect, not silently replaced


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"lr": 0.0}, "lr = 0.0: the learning rate must be a finite number > 0"),
        ({"lr": float("nan")}, "lr = nan"),
        ({"betas": (0.9, 1.0)}, r"betas = \[0.9, 1.0\]: Adam needs two numbers in \[0, 1\)"),
        ({"weight_decay": -1e-4}, "weight_decay = -0.0001: must be a finite number >= 0"),
        ({"min_improvement": 1.0}, r"min_improvement = 1.0: a fraction in \[0, 1\)"),
        ({"max_minutes": 0.0}, "max_minutes = 0.0: a number of minutes > 0, or None"),
        (
            {"hyperparameters": {**SMALL, "num_basis": "ten"}},
            "num_basis = 'ten': model 'lgae-mix' expects an integer",
        ),
        ({"hyperparameters": {"num_basi": 4}}, "no hyperparameter 'num_basi'; valid ones: .*num_basis"),
        (
            {"hyperparameters": {**SMALL, "latent_vectors": 7}},
            "latent_vectors = 7 conflicts with the latent size 2",
        ),
        (
            {"model": "cnnae", "loss": "chamfer", "hyperparameters": {}},
            "loss 'chamfer': cnnae trains with mse",
        ),
    ],
)
def test_bad_settings_are_refused_with_the_key_and_the_fix(overrides, message):
    with pytest.raises(ConfigError, match=message) as error:
        _settings(**overrides)
    assert "\n" not in str(error.value)


def _empty_valid_split(source: Path, out: Path) -> Path:
    """A copy of the processed g, q files whose validation splits hold no jets."""
    out.mkdir()
    for jet_class in ("g", "q"):
        shutil.copy(source / f"{jet_class}_train.h5", out)
        jets = load_processed(source / f"{jet_class}_valid.h5")
        with h5py.File(out / f"{jet_class}_valid.h5", "w") as handle:
            for key in ("p4", "mask", "particle_features", "jet_features", "jet_phi", "index"):
                handle.create_dataset(key, data=getattr(jets, key)[:0])
    return out


@pytest.mark.parametrize(
    "case",
    ["threads", "device", "out_dir", "particles", "empty_valid"],
)
def test_bad_inputs_stop_before_the_first_epoch(processed_jets_dir, tmp_path, monkeypatch, case):
    settings, paths, options = _settings(), TrainPaths(processed_jets_dir, tmp_path / "run"), {}
    if case == "threads":
        options, message, error = {"threads": 0}, "threads = 0: give a positive number", ConfigError
    elif case == "device":
        options, message, error = {"device": "gpu"}, "device 'gpu' unknown; use auto, cpu, cuda", ConfigError
    elif case == "out_dir":
        (tmp_path / "a_file").write_text("")
        paths = TrainPaths(processed_jets_dir, tmp_path / "a_file" / "run")
        message, error = "--out-dir .*a_file/run: cannot write there", ConfigError
    elif case == "particles":
        settings = _settings(hyperparameters={**SMALL, "num_particles": 20})
        message, error = "jets of 30 particles, but lgae-mix is built for 20", DataError
    else:
        paths = TrainPaths(_empty_valid_split(processed_jets_dir, tmp_path / "data"), tmp_path / "run")
        message, error = r"g_valid\.h5, .*q_valid\.h5: the valid split holds no jets", DataError
    counter = _EpochCounter(monkeypatch)
    with pytest.raises(error, match=message):
        train(settings, paths, **{"device": "cpu", **options}, progress=False)
    assert counter.calls == 0
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_nan_in_the_first_epoch_does_not_claim_a_checkpoint(processed_jets_dir, tmp_path, monkeypatch):
    paths = TrainPaths(processed_jets_dir, tmp_path / "run")
    real_loss = train_module._loss
    monkeypatch.setattr(train_module, "_loss", lambda *a: real_loss(*a) * float("nan"))
    with pytest.raises(TrainingError, match="became nan in epoch 1") as error:
        train(_settings(), paths, device="cpu", progress=False)
    assert "No checkpoint was written (no epoch completed)" in str(error.value)
    assert "is kept" not in str(error.value)
    assert not paths.checkpoint.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--latent", "4", "--hyperparameters", '{"latent_vectors": 7}'], "latent_vectors = 7 conflicts"),
        (["--latent", "2", "--hyperparameters", '{"num_basis": "ten"}'], "num_basis = 'ten'"),
        (["--latent", "2", "--lr", "-1"], "lr = -1.0"),
        (["--latent", "2", "--out-dir", "{file}/run"], "--out-dir .*: cannot write there"),
    ],
)
def test_train_command_answers_in_one_line(processed_jets_dir, tmp_path, capsys, argv, message):
    (tmp_path / "file").write_text("")
    argv = [a.replace("{file}", str(tmp_path / "file")) for a in argv]
    base = ["train", "--model", "lgae-mix", "--data-dir", str(processed_jets_dir), "--device", "cpu"]
    if "--out-dir" not in argv:
        base += ["--out-dir", str(tmp_path / "run")]
    assert cli.main([*base, *argv, "--max-epochs", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert re.match(f"lgae train: error: .*{message}", err[0]), err[0]


def test_os_errors_the_user_causes_are_one_line(generated_raw_dir, tmp_path, capsys):
    """A file where the output folder should be: the command says so, no traceback."""
    (tmp_path / "taken").write_text("")
    argv = ["preprocess", "--input", str(generated_raw_dir / "g.hdf5"), "--class", "g"]
    assert cli.main([*argv, "--out-dir", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"lgae preprocess: error: {tmp_path / 'taken'}")


# --- the stopping rule decides which weights are delivered: never weights the settings could not give
def test_a_lowered_epoch_limit_retrains_rather_than_delivering_the_longer_run(
    processed_jets_dir, tmp_path, monkeypatch
):
    """max_epochs 4, then 2: the delivered model is the one a fresh run with max_epochs 2 gives, and
    meta.json's settings and epochs agree (it used to say max_epochs 2, epochs 4, and hold epoch 4's)."""
    paths = TrainPaths(processed_jets_dir, tmp_path / "run")
    train(_settings(max_epochs=4), paths, device="cpu", progress=False)
    counter = _EpochCounter(monkeypatch)
    meta = train(_settings(max_epochs=2), paths, device="cpu", progress=False)
    assert counter.calls == 2  # trained again from scratch
    assert (meta["epochs"], meta["settings"]["max_epochs"], meta["resumed_from_epoch"]) == (2, 2, 0)
    saved = json.loads(paths.meta.read_text())
    assert saved["epochs"] <= saved["settings"]["max_epochs"]
    assert len(list(csv.DictReader(paths.history.open()))) == 2
    fresh = TrainPaths(processed_jets_dir, tmp_path / "fresh")
    train(_settings(max_epochs=2), fresh, device="cpu", progress=False)
    assert _same_weights(fresh.model, paths.model)
    assert (paths.out_dir / "checkpoint.epoch4.pt").is_file()  # the longer run, set aside


def test_a_lowered_patience_stops_where_a_fresh_run_stops(processed_jets_dir, tmp_path, monkeypatch):
    script = [3.0, 2.0, 1.0, 1.5, 1.6, 1.7]
    _EpochCounter(monkeypatch, script=script)
    paths = TrainPaths(processed_jets_dir, tmp_path / "run")
    train(_settings(max_epochs=6, patience=10), paths, device="cpu", progress=False)
    counter = _EpochCounter(monkeypatch, script=script)
    meta = train(_settings(max_epochs=6, patience=1), paths, device="cpu", progress=False)
    # patience 1 runs out after epoch 5 (epochs 4 and 5 do not improve): five epochs, from scratch
    assert (counter.calls, meta["epochs"], meta["stopped_by"], meta["best_epoch"]) == (
        5,
        5,
        "early stopping",
        3,
    )


def test_a_raised_patience_continues_as_a_fresh_run_would(processed_jets_dir, tmp_path, monkeypatch):
    script = [3.0, 2.0, 2.5, 2.6, 2.7, 2.8]
    _EpochCounter(monkeypatch, script=script)
    paths = TrainPaths(processed_jets_dir, tmp_path / "run")
    meta = train(_settings(max_epochs=10, patience=1), paths, device="cpu", progress=False)
    assert (meta["epochs"], meta["stopped_by"]) == (4, "early stopping")
    counter = _EpochCounter(monkeypatch, script=script[4:])
    meta = train(_settings(max_epochs=10, patience=3), paths, device="cpu", progress=False)
    assert (counter.calls, meta["resumed_from_epoch"], meta["epochs"]) == (2, 4, 6)
    _EpochCounter(monkeypatch, script=script)
    fresh = TrainPaths(processed_jets_dir, tmp_path / "fresh")
    assert train(_settings(max_epochs=10, patience=3), fresh, device="cpu", progress=False)["epochs"] == 6
    assert _same_weights(fresh.model, paths.model)


def test_a_nan_loss_names_the_run_and_its_data(processed_jets_dir, tmp_path, monkeypatch, capsys):
    real_loss = train_module._loss
    monkeypatch.setattr(train_module, "_loss", lambda *a: real_loss(*a) * float("nan"))
    out = tmp_path / "run"
    argv = ["train", "--model", "lgae-mix", "--latent", "2", "--hyperparameters", json.dumps(SMALL)]
    argv += ["--data-dir", str(processed_jets_dir), "--out-dir", str(out), "--device", "cpu", "--no-progress"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert f"lgae train: error: {out} (lgae-mix latent=2 seed=1, data {processed_jets_dir})" in err[0]
    assert "training loss became nan in epoch 1" in err[0]
    assert "lower the learning rate (training.lr)" in err[0]


def test_the_checkpoint_keeps_its_format_and_an_older_one_still_resumes(processed_jets_dir, tmp_path):
    """The typed training state becomes the checkpoint's plain dict only at the checkpoint boundary, with
    the keys checkpoints have always had; one from before the min_improvement counter (no
    ``patience_reference``) resumes to the weights of an uninterrupted run."""
    straight = TrainPaths(processed_jets_dir, tmp_path / "straight")
    train(_settings(max_epochs=3), straight, device="cpu", progress=False)
    older = TrainPaths(processed_jets_dir, tmp_path / "older")
    train(_settings(max_epochs=3), older, device="cpu", stop_after_epochs=2, progress=False)
    payload = _checkpoint(older.checkpoint)
    assert list(payload) == [
        "fingerprint",
        "settings_fingerprint",
        "data",
        "settings",
        "model",
        "optimizer",
        "best_model",
        "state",
        "rng",
    ]
    state = payload["state"]
    assert list(state) == ["epoch", "best_valid", "best_epoch", "stale", "patience_reference", "history"]
    assert [list(row) for row in state["history"]] == [
        ["epoch", "train_loss", "valid_loss", "epoch_seconds", "best"]
    ] * 2
    assert state["epoch"] == 2
    del state["patience_reference"]
    torch.save(payload, older.checkpoint)
    counter_free = train(_settings(max_epochs=3), older, device="cpu", progress=False)
    assert (counter_free["resumed_from_epoch"], counter_free["epochs"]) == (2, 3)
    assert _same_weights(straight.model, older.model)
