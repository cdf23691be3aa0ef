"""Training: exact resume after an interruption, determinism, NaN handling, subsets, outputs."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import lgae.train as train_module
from lgae.errors import ConfigError
from lgae.train import TrainingError, TrainPaths, TrainSettings, load_trained, train, training_subset

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
    return torch.load(path, weights_only=False)["state_dict"]


def _same_weights(a: Path, b: Path) -> bool:
    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.fixture(autouse=True)
def _single_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_resume_after_interruption_is_bit_exact(processed_jets_dir, tmp_path):
    straight = TrainPaths(processed_jets_dir, tmp_path / "straight")
    train(_settings(), straight, device="cpu", progress=False)
    interrupted = TrainPaths(processed_jets_dir, tmp_path / "interrupted")
    partial = train(_settings(), interrupted, device="cpu", stop_after_epochs=2, progress=False)
    assert partial["stopped_at_epoch"] == 2
    assert not interrupted.model.exists()  # no final output before the run is complete
    train(_settings(), interrupted, device="cpu", progress=False)  # resumes at epoch 3
    assert _same_weights(straight.model, interrupted.model)
    losses = [[row["train_loss"], row["valid_loss"]] for row in csv.DictReader(straight.history.open())]
    resumed = [[row["train_loss"], row["valid_loss"]] for row in csv.DictReader(interrupted.history.open())]
    assert losses == resumed
    assert len(losses) == 4


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
        "6",
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
    epochs_done = torch.load(checkpoint, weights_only=False)["state"]["epoch"]
    assert 1 <= epochs_done < 6
    result = subprocess.run(
        [*args, "--out-dir", str(killed_dir)], env=env, timeout=300, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert f"resuming {killed_dir} from epoch" in result.stderr
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
    good = torch.load(paths.checkpoint, weights_only=False)["model"]
    real_loss = train_module._loss
    monkeypatch.setattr(train_module, "_loss", lambda *a: real_loss(*a) * float("nan"))
    with pytest.raises(TrainingError, match="became nan in epoch 2"):
        train(_settings(max_epochs=3), paths, device="cpu", progress=False)
    kept = torch.load(paths.checkpoint, weights_only=False)
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


def test_changed_settings_start_afresh(processed_jets_dir, tmp_path):
    paths = TrainPaths(processed_jets_dir, tmp_path / "run")
    train(_settings(max_epochs=1), paths, device="cpu", progress=False)
    train(_settings(max_epochs=1, lr=5e-4), paths, device="cpu", progress=False)
    assert list(paths.out_dir.glob("checkpoint.*.pt"))  # the old checkpoint was set aside


def test_more_epochs_continue_a_finished_run(processed_jets_dir, tmp_path):
    paths = TrainPaths(processed_jets_dir, tmp_path / "run")
    train(_settings(max_epochs=2), paths, device="cpu", progress=False)
    meta = train(_settings(max_epochs=3), paths, device="cpu", progress=False)
    assert meta["epochs"] == 3


def test_training_subset_is_seeded_random_and_keeps_both_classes(processed_jets_dir):
    from lgae.data.preprocess import load_classes

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
