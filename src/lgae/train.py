"""Training: Adam with early stopping, exact resume from per-epoch checkpoints, deterministic seeds.

One call of :func:`train` trains one (model, latent size, seed, training fraction) on the QCD background
(train split) with early stopping on the validation split. Every epoch ends with an atomic checkpoint
holding the model, the optimiser, every random state, the epoch, the best validation loss and model, and
the history. Calling :func:`train` again with the same settings resumes from it, so that a job killed by
a cluster's walltime continues where it stopped and ends with the same weights, bit for bit on a CPU, as
one that was never interrupted. The checkpoint carries a fingerprint of the settings; a checkpoint made
with other settings is not resumed from (it is set aside, with a warning).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

import lgae
from lgae.data.preprocess import ProcessedJets, load_classes
from lgae.errors import ConfigError, LGAEError
from lgae.io import atomic_path, write_json
from lgae.losses import paper_loss, reconstruction_loss
from lgae.models import build
from lgae.models.base import JetAutoencoder
from lgae.models.io import DTYPES, load_model, save_model
from lgae.models.registry import latent_argument
from lgae.seeding import derive_seed

log = logging.getLogger(__name__)


class TrainingError(LGAEError):
    """Training cannot go on (e.g. the loss became NaN); the last good checkpoint is kept."""


@dataclass
class TrainSettings:
    """Everything that determines a training run (its fingerprint decides whether to resume)."""

    model: str
    latent: int
    seed: int = 1
    train_fraction: float = 1.0
    loss: str | None = None  # None: the paper's choice for the model
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.0
    batch_size: int = 256
    max_epochs: int = 20000
    patience: int = 200
    dtype: str = "float64"
    background: tuple[str, ...] = ("g", "q")

    def __post_init__(self) -> None:
        self.betas = tuple(self.betas)
        self.background = tuple(self.background)
        if self.loss is None:
            self.loss = paper_loss(self.model)
        if self.dtype not in DTYPES:
            raise ConfigError(f"dtype {self.dtype!r} unknown; use one of {sorted(DTYPES)}")
        if not 0.0 < self.train_fraction <= 1.0:
            raise ConfigError(f"train_fraction {self.train_fraction} must be in (0, 1]")
        for name in ("batch_size", "max_epochs", "latent"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.patience < 0:
            raise ConfigError(f"patience must be >= 0, got {self.patience}")

    def fingerprint(self) -> str:
        """Hash of the settings that change the result (not of the epoch budget, which may grow)."""
        relevant = {k: v for k, v in asdict(self).items() if k not in ("max_epochs", "patience")}
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class TrainPaths:
    """Where a run reads and writes."""

    data_dir: Path  # processed split files, <class>_<split>.h5
    out_dir: Path  # model.pt, history.csv, meta.json, checkpoint.pt

    @property
    def model(self) -> Path:
        return self.out_dir / "model.pt"

    @property
    def history(self) -> Path:
        return self.out_dir / "history.csv"

    @property
    def meta(self) -> Path:
        return self.out_dir / "meta.json"

    @property
    def checkpoint(self) -> Path:
        return self.out_dir / "checkpoint.pt"


# --------------------------------------------------------------------------------------------------
def choose_device(device: str = "auto") -> torch.device:
    """CUDA when present (``auto``), else CPU; or exactly what is asked for."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but CUDA is not available on this machine")
    return torch.device(device)


def training_subset(n_jets: int, fraction: float, seed: int) -> np.ndarray:
    """A seeded random subset (sorted indices) of the training split, at least one jet.

    The authors took the first slice of the unshuffled g+q concatenation, so that small fractions held
    gluons only; a random subset keeps the class mixture.
    """
    n_keep = max(1, round(fraction * n_jets))
    chosen = np.random.default_rng(derive_seed(seed, "train_fraction", f"{fraction:g}")).permutation(n_jets)
    return np.sort(chosen[:n_keep])


def build_model(settings: TrainSettings) -> JetAutoencoder:
    """The model of a run, with its latent size and hyperparameters, initialised from the run's seed."""
    torch.manual_seed(derive_seed(settings.seed, "init", settings.model))
    options = dict(settings.hyperparameters)
    options[latent_argument(settings.model)] = settings.latent
    return build(settings.model, **options).to(DTYPES[settings.dtype])


def _tensors(
    jets: ProcessedJets, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(jets.p4, dtype=dtype, device=device), torch.as_tensor(jets.mask, device=device)


def _loss(model: JetAutoencoder, loss_name: str, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    output = model(p4, mask)
    return reconstruction_loss(loss_name, output, model.target(p4, mask), mask, model.output_space)


@torch.no_grad()
def evaluate_loss(
    model: JetAutoencoder, loss_name: str, p4: torch.Tensor, mask: torch.Tensor, batch_size: int
) -> float:
    """Mean loss over a sample, batch by batch (weighted by batch size)."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(p4), batch_size):
        batch = slice(start, start + batch_size)
        n = len(p4[batch])
        total += float(_loss(model, loss_name, p4[batch], mask[batch])) * n
        count += n
    return total / max(count, 1)


def _rng_state(generator: torch.Generator) -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "shuffle": generator.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _restore_rng(state: dict[str, Any], generator: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    generator.set_state(state["shuffle"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def _load_checkpoint(path: Path, fingerprint: str) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # a checkpoint that cannot be read is not fatal: start again
        log.warning("%s cannot be read (%s); starting from scratch", path, exc)
        path.rename(path.with_suffix(".unreadable"))
        return None
    if payload.get("fingerprint") != fingerprint:
        aside = path.with_name(f"checkpoint.{payload.get('fingerprint', 'unknown')}.pt")
        log.warning("%s was made with other settings; moved to %s, starting from scratch", path, aside)
        path.rename(aside)
        return None
    return payload


def _write_history(path: Path, history: list[dict[str, float]]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["epoch", "train_loss", "valid_loss", "epoch_seconds", "best"]
        )
        writer.writeheader()
        writer.writerows(history)


def _git_revision() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return result.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# --------------------------------------------------------------------------------------------------
def train(
    settings: TrainSettings,
    paths: TrainPaths,
    device: str = "auto",
    threads: int | None = None,
    stop_after_epochs: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train (or resume) one run and write ``model.pt``, ``history.csv`` and ``meta.json``.

    ``stop_after_epochs`` ends this call after that many epochs *of this call* with the checkpoint in
    place but no final outputs, as a walltime limit would (used to test resumption).
    Returns the metadata written to ``meta.json`` (or the state reached, if stopped early).
    """
    if threads:
        torch.set_num_threads(threads)
    dev = choose_device(device)
    dtype = DTYPES[settings.dtype]
    started = time.time()
    train_jets = load_classes(paths.data_dir, settings.background, "train")
    valid_jets = load_classes(paths.data_dir, settings.background, "valid")
    subset = training_subset(len(train_jets), settings.train_fraction, settings.seed)
    train_p4, train_mask = _tensors(train_jets, dtype, dev)
    train_p4, train_mask = train_p4[subset], train_mask[subset]
    valid_p4, valid_mask = _tensors(valid_jets, dtype, dev)

    model = build_model(settings).to(dev)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=settings.lr, betas=settings.betas, weight_decay=settings.weight_decay
    )
    shuffle = torch.Generator().manual_seed(derive_seed(settings.seed, "shuffle"))
    fingerprint = settings.fingerprint()
    state = {"epoch": 0, "best_valid": math.inf, "best_epoch": 0, "stale": 0, "history": []}
    best_model = {k: v.detach().clone() for k, v in model.state_dict().items()}
    checkpoint = _load_checkpoint(paths.checkpoint, fingerprint)
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        best_model = checkpoint["best_model"]
        state = checkpoint["state"]
        _restore_rng(checkpoint["rng"], shuffle)
        log.info(
            "resuming %s from epoch %d (best valid %.6g)", paths.out_dir, state["epoch"], state["best_valid"]
        )
    log.info(
        "training %s latent=%d seed=%d fraction=%g on %d jets (valid %d), %s, %s, %d parameters",
        settings.model,
        settings.latent,
        settings.seed,
        settings.train_fraction,
        len(train_p4),
        len(valid_p4),
        dev,
        settings.dtype,
        model.num_parameters(),
    )
    n_batches = math.ceil(len(train_p4) / settings.batch_size)
    epochs_this_call = 0
    while state["epoch"] < settings.max_epochs and state["stale"] <= settings.patience:
        if stop_after_epochs is not None and epochs_this_call >= stop_after_epochs:
            return {"stopped_at_epoch": state["epoch"], **state}
        epoch_start = time.time()
        model.train()
        order = torch.randperm(len(train_p4), generator=shuffle).to(dev)
        total = 0.0
        bar = tqdm(
            range(n_batches),
            desc=f"epoch {state['epoch'] + 1}",
            leave=False,
            disable=not progress,
            unit="batch",
        )
        for b in bar:
            index = order[b * settings.batch_size : (b + 1) * settings.batch_size]
            loss = _loss(model, settings.loss, train_p4[index], train_mask[index])
            value = loss.item()
            if not math.isfinite(value):
                raise TrainingError(
                    f"{settings.model} latent={settings.latent} seed={settings.seed}: the training loss became "
                    f"{value} in epoch {state['epoch'] + 1}, batch {b + 1}. The last good checkpoint "
                    f"({paths.checkpoint}, epoch {state['epoch']}) is kept; lower the learning rate or check "
                    "the data."
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += value * len(index)
            bar.set_postfix(loss=f"{value:.4g}")
        train_loss = total / len(train_p4)
        valid_loss = evaluate_loss(model, settings.loss, valid_p4, valid_mask, settings.batch_size)
        if not math.isfinite(valid_loss):
            raise TrainingError(
                f"{settings.model}: the validation loss became {valid_loss} in epoch {state['epoch'] + 1}; "
                f"the last good checkpoint ({paths.checkpoint}) is kept."
            )
        state["epoch"] += 1
        improved = valid_loss < state["best_valid"]
        if improved:
            state["best_valid"], state["best_epoch"], state["stale"] = valid_loss, state["epoch"], 0
            best_model = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            state["stale"] += 1
        state["history"].append(
            {
                "epoch": state["epoch"],
                "train_loss": train_loss,
                "valid_loss": valid_loss,
                "epoch_seconds": time.time() - epoch_start,
                "best": int(improved),
            }
        )
        log.info(
            "epoch %d: train %.6g valid %.6g (best %.6g at %d, stale %d) %.1fs",
            state["epoch"],
            train_loss,
            valid_loss,
            state["best_valid"],
            state["best_epoch"],
            state["stale"],
            time.time() - epoch_start,
        )
        _save_checkpoint(
            paths.checkpoint,
            {
                "fingerprint": fingerprint,
                "settings": asdict(settings),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "best_model": best_model,
                "state": state,
                "rng": _rng_state(shuffle),
            },
        )
        epochs_this_call += 1
    return _finish(settings, paths, model, best_model, state, dev, started, len(train_p4), len(valid_p4))


def _finish(
    settings: TrainSettings,
    paths: TrainPaths,
    model: JetAutoencoder,
    best_model: dict[str, torch.Tensor],
    state: dict[str, Any],
    device: torch.device,
    started: float,
    n_train: int,
    n_valid: int,
) -> dict[str, Any]:
    model.load_state_dict(best_model)
    stopped = "early stopping" if state["stale"] > settings.patience else "epoch limit"
    meta = {
        "settings": asdict(settings),
        "fingerprint": settings.fingerprint(),
        "model_class": type(model).__name__,
        "parameters": model.num_parameters(),
        "latent_size": model.latent_size,
        "compression_rate": {
            "table": model.compression_rate("table"),
            "text": model.compression_rate("text"),
        },
        "epochs": state["epoch"],
        "best_epoch": state["best_epoch"],
        "best_valid_loss": state["best_valid"],
        "stopped_by": stopped,
        "train_jets": n_train,
        "valid_jets": n_valid,
        "data_dir": str(paths.data_dir),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "seconds_this_call": time.time() - started,
        "seconds_training": sum(h["epoch_seconds"] for h in state["history"]),
        "versions": {
            "lgae": lgae.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "git": _git_revision(),
        "host": platform.node(),
    }
    save_model(paths.model, model, meta)
    _write_history(paths.history, state["history"])
    write_json(paths.meta, meta)
    log.info(
        "wrote %s (best epoch %d, valid loss %.6g)", paths.model, state["best_epoch"], state["best_valid"]
    )
    return meta


def load_trained(path: str | os.PathLike[str], device: str = "cpu") -> JetAutoencoder:
    """A trained model from ``model.pt``, in the dtype it was trained in (see :mod:`lgae.models.io`)."""
    return load_model(path, device)[0]
