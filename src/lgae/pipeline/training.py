"""Training: Adam with early stopping, exact resume from per-epoch checkpoints, deterministic seeds.

One call of :func:`train` trains one (model, latent size, seed, training fraction) on the QCD background
(train split) with early stopping on the validation split. Every epoch ends with an atomic checkpoint
holding the model, the optimiser, every random state, the epoch, the best validation loss and model, and
the history. Calling :func:`train` again with the same settings resumes from it, so that a job killed by
a cluster's walltime continues where it stopped and ends with the same weights, bit for bit on a CPU, as
one that was never interrupted. The checkpoint carries a fingerprint of the settings *and of the data*
(the processed files' source, seed, split, jet counts and a hash of the jets themselves, but not where
they lie): a checkpoint made with other settings or other data is never resumed from (it is set aside,
with a warning), so that a rerun after the data changed cannot deliver the old data's model.

:func:`train` reads as its phases, each a short function over one :class:`TrainingRun`: prepare the
device and the model, load the data, start (or resume from the checkpoint, the stopping rule replayed
over its history), then the epochs (train, validate, book, checkpoint), and finish (the outputs). What
the stopping rule counts is a :class:`TrainingState`, which the checkpoint stores as a plain dict.

Everything a user can get wrong is checked before the first epoch: settings, hyperparameters (names and
values), the device, the output directory, and the data (present, non-empty, as many particles per jet as
the model expects). Checkpoints hold tensors and plain data only and are read with ``weights_only=True``.
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
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import torch
from tqdm.auto import tqdm

import lgae
from lgae.errors import ConfigError, DataError, LGAEError
from lgae.io import atomic_path, atomic_paths, write_json
from lgae.losses import reconstruction_loss
from lgae.models import build
from lgae.models.base import JetAutoencoder
from lgae.models.io import DTYPES, UnsafeFileError, load_model, load_plain, save_model
from lgae.models.registry import latent_argument
from lgae.names import STOPPED_BY_TIME_BUDGET
from lgae.pipeline.compiling import CompileReport, compile_model
from lgae.pipeline.data.preprocess import ProcessedJets, load_classes, read_attrs
from lgae.pipeline.seeding import derive_seed
from lgae.pipeline.settings import TrainSettings

log = logging.getLogger(__name__)


class TrainingError(LGAEError):
    """Training cannot go on (e.g. the loss became NaN); the last good checkpoint, if any, is kept."""


class CheckpointError(LGAEError):
    """A checkpoint holds something other than tensors and plain data: it is not loaded."""


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
    """CUDA when present (``auto``), else CPU; or exactly what is asked for, if this machine has it."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(
            f"device {device!r} unknown; use auto, cpu, cuda or cuda:<index> (training.device, --device)"
        ) from exc
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {device!r} requested but CUDA is not available on this machine")
        if chosen.index is not None and chosen.index >= torch.cuda.device_count():
            raise ConfigError(
                f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s), "
                f"cuda:0 … cuda:{torch.cuda.device_count() - 1}"
            )
    elif chosen.type != "cpu":
        raise ConfigError(f"device {device!r}: training runs on cpu or cuda (training.device, --device)")
    return chosen


def _check_writable(out_dir: Path) -> None:
    """Fail before any compute if the outputs cannot be written (not after the first epoch)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".write-test."):
            pass
    except OSError as exc:
        raise ConfigError(
            f"--out-dir {out_dir}: cannot write there ({exc.strerror or exc}); "
            "choose a writable directory or fix its permissions"
        ) from exc


def data_identity(
    data_dir: Path, classes: tuple[str, ...], train_jets: ProcessedJets, valid_jets: ProcessedJets
) -> dict[str, Any]:
    """What identifies the training data, wherever it lies: each file's provenance and a content hash.

    Part of the checkpoint's fingerprint, so that other data (another seed, source, split or number of
    jets, or other jets altogether) never resumes an old run; and recorded in ``meta.json``.
    """
    files = {}
    for split in ("train", "valid"):
        for jet_class in classes:
            attrs = read_attrs(data_dir / f"{jet_class}_{split}.h5")
            files[f"{jet_class}_{split}"] = {
                key: attrs.get(key) for key in ("source", "seed", "fractions", "raw_jets", "jet_class")
            }
    digest = hashlib.sha256()
    for jets in (train_jets, valid_jets):
        for array in (jets.p4, jets.mask):
            contiguous = np.ascontiguousarray(array)
            digest.update(str((contiguous.dtype.str, contiguous.shape)).encode())
            digest.update(memoryview(contiguous).cast("B"))
    return {
        "files": files,
        "train_jets": len(train_jets),
        "valid_jets": len(valid_jets),
        "sha256": digest.hexdigest(),
    }


def run_fingerprint(settings: TrainSettings, data: dict[str, Any]) -> str:
    """Hash of the settings that change the result and of the data's identity."""
    payload = {"settings": settings.fingerprint(), "data": data}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def training_subset(n_jets: int, fraction: float, seed: int) -> np.ndarray:
    """A seeded random subset (sorted indices) of the training split, at least one jet.

    The authors took the first slice of the unshuffled g+q concatenation, so that small fractions held
    gluons only; a random subset keeps the class mixture.
    """
    n_keep = max(1, round(fraction * n_jets))
    chosen = np.random.default_rng(derive_seed(seed, "train_fraction", f"{fraction:g}")).permutation(n_jets)
    return np.sort(chosen[:n_keep])


def model_options(settings: TrainSettings) -> dict[str, Any]:
    """The arguments of the run's model: its hyperparameters and its latent size."""
    options = dict(settings.hyperparameters)
    options[latent_argument(settings.model)] = settings.latent
    return options


def build_model(settings: TrainSettings) -> JetAutoencoder:
    """The model of a run, with its latent size and hyperparameters, initialised from the run's seed."""
    torch.manual_seed(derive_seed(settings.seed, "init", settings.model))
    return build(settings.model, **model_options(settings)).to(DTYPES[settings.dtype])


def check_model_runs(model: JetAutoencoder, settings: TrainSettings) -> None:
    """The training loss of ``model`` on two synthetic massless jets, without gradients: hyperparameters
    that build a model which cannot train (a value that breaks a layer, or makes every output NaN, e.g.
    ``input_scale: 0``) are refused here, before any data is read, and at parse time with the same call.
    The jets come from their own seeded generator: the global random state is left alone."""
    generator = np.random.default_rng(0)
    n_particles = model.num_particles
    if n_particles < 1:
        raise ConfigError(f"model {settings.model!r}: num_particles = {n_particles}, must be positive")
    real = np.arange(n_particles) < max(1, n_particles // 2)
    pt = generator.uniform(0.01, 0.1, (2, n_particles))
    eta, phi = generator.normal(0.0, 0.2, (2, 2, n_particles))
    p4 = np.stack([pt * np.cosh(eta), pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)], axis=-1)
    parameter = next(model.parameters())
    p4_t = torch.as_tensor(p4 * real[None, :, None], dtype=parameter.dtype, device=parameter.device)
    mask_t = torch.as_tensor(np.tile(real, (2, 1)), device=parameter.device)
    what = f"model {settings.model!r} (latent {settings.latent}, hyperparameters {settings.hyperparameters})"
    training = model.training
    try:
        model.eval()
        with torch.no_grad():
            value = float(_model_loss(model, settings.loss, p4_t, mask_t))
    except (RuntimeError, ValueError, ArithmeticError, IndexError) as exc:
        raise ConfigError(f"{what} fails on a test jet ({str(exc).splitlines()[0]}); change them") from exc
    finally:
        model.train(training)
    if not math.isfinite(value):
        raise ConfigError(
            f"{what} gives a {value} {settings.loss} loss on a test jet before any training; change them"
        )


def _tensors(
    jets: ProcessedJets, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.as_tensor(jets.p4, dtype=dtype, device=device), torch.as_tensor(jets.mask, device=device)


def _model_loss(model: JetAutoencoder, loss_name: str, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    output = model(p4, mask)
    return reconstruction_loss(loss_name, output, model.target(p4, mask), mask, model.output_space)


def _loss(model: JetAutoencoder, loss_name: str, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The training loss of a batch (the training loop's one call, which tests replace)."""
    return _model_loss(model, loss_name, p4, mask)


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


def _load_checkpoint(
    path: Path, fingerprint: str, settings: TrainSettings, data: dict[str, Any]
) -> dict[str, Any] | None:
    """The checkpoint's payload if it belongs to this run; one of other settings or data is set aside."""
    if not path.is_file():
        return None
    try:
        payload = load_plain(path)
    except UnsafeFileError as exc:
        raise CheckpointError(f"{exc} Delete it to train from scratch.") from exc
    except Exception as exc:  # a checkpoint that cannot be read is not fatal: start again
        log.warning("%s cannot be read (%s); starting from scratch", path, exc)
        path.rename(path.with_suffix(".unreadable"))
        return None
    if not isinstance(payload, dict) or payload.get("fingerprint") != fingerprint:
        old = payload if isinstance(payload, dict) else {}
        changed = []
        if old.get("settings_fingerprint") != settings.fingerprint():
            changed.append("settings")
        if old.get("data") != data:
            changed.append("data")
        aside = path.with_name(f"checkpoint.{old.get('fingerprint', 'unknown')}.pt")
        log.warning(
            "%s was made with other %s; moved to %s, starting from scratch",
            path,
            " and ".join(changed) or "settings",
            aside,
        )
        path.rename(aside)
        return None
    return payload


def _write_history(path: Path, history: list[EpochRow]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(EpochRow.__annotations__))
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
class EpochRow(TypedDict):
    """One epoch as ``history.csv`` and the checkpoint record it."""

    epoch: int
    train_loss: float
    valid_loss: float
    epoch_seconds: float
    best: int  # 1 where the epoch set a new best validation loss


@dataclass
class TrainingState:
    """Where a run stands after its epochs so far: all that the stopping rule counts.

    A checkpoint stores it as the plain dict of :meth:`as_dict` (the keys checkpoints have always had);
    a resumed run recounts it from the stored history under the current rule (:func:`replay_stopping_rule`).
    """

    epoch: int = 0
    best_valid: float = math.inf
    best_epoch: int = 0
    stale: int = 0  # epochs since the patience was last reset
    patience_reference: float = math.inf  # the validation loss of the last reset
    history: list[EpochRow] = field(default_factory=list)

    @property
    def seconds_training(self) -> float:
        """Seconds spent in epochs, summed over every call of :func:`train` so far."""
        return sum(row["epoch_seconds"] for row in self.history)

    def out_of_time(self, settings: TrainSettings) -> bool:
        """Whether the run's training time, over every call so far, has used up ``max_minutes``."""
        return settings.max_minutes is not None and self.seconds_training >= 60.0 * settings.max_minutes

    def goes_on(self, settings: TrainSettings) -> bool:
        """Whether the stopping rule lets another epoch start."""
        return (
            self.epoch < settings.max_epochs
            and self.stale <= settings.patience
            and not self.out_of_time(settings)
        )

    def count_epoch(self, settings: TrainSettings, valid_loss: float) -> bool:
        """Book one finished epoch's validation loss; whether it is a new best."""
        self.epoch += 1
        improved = valid_loss < self.best_valid
        if improved:
            self.best_valid, self.best_epoch = valid_loss, self.epoch
        if valid_loss < self.patience_reference * (1.0 - settings.min_improvement):
            self.stale, self.patience_reference = 0, valid_loss
        else:
            self.stale += 1
        return improved

    def stopped_by(self, settings: TrainSettings) -> str:
        """Which part of the stopping rule ended the run (for ``meta.json``)."""
        if self.stale > settings.patience:
            return "early stopping"
        if self.out_of_time(settings) and self.epoch < settings.max_epochs:
            return f"{STOPPED_BY_TIME_BUDGET} ({settings.max_minutes:g} min)"
        return "epoch limit"

    def as_dict(self) -> dict[str, Any]:
        """The checkpoint's ``state`` entry: plain data, so that it loads with ``weights_only=True``."""
        return {
            "epoch": self.epoch,
            "best_valid": self.best_valid,
            "best_epoch": self.best_epoch,
            "stale": self.stale,
            "patience_reference": self.patience_reference,
            "history": self.history,
        }


def replay_stopping_rule(settings: TrainSettings, history: list[EpochRow]) -> TrainingState | None:
    """The state a run with ``settings`` reaches over the epochs of ``history``, or None if its stopping
    rule would have stopped before the last of them.

    Which weights an epoch produces does not depend on the stopping rule, only whether it runs: so a
    checkpoint can continue under a changed rule exactly when the changed rule would have let every one
    of its epochs run, and the patience counter is then recounted under the changed rule, as a fresh
    run would have counted it. Otherwise the checkpoint holds weights these settings cannot produce.
    Only the history is read, so checkpoints from before a counter existed resume alike.
    """
    state = TrainingState()
    for row in history:
        if not state.goes_on(settings):
            return None
        state.count_epoch(settings, float(row["valid_loss"]))
        state.history.append(row)
    return state


@dataclass
class TrainingData:
    """The run's jets as tensors on its device (training subset taken) and what identifies them."""

    train_p4: torch.Tensor
    train_mask: torch.Tensor
    valid_p4: torch.Tensor
    valid_mask: torch.Tensor
    identity: dict[str, Any]  # data_identity(): part of the fingerprint and of meta.json


@dataclass
class TrainingRun:
    """What the phases of one call of :func:`train` share; ``state`` is what its checkpoints carry on."""

    settings: TrainSettings
    paths: TrainPaths
    device: torch.device
    model: JetAutoencoder
    compiled: CompileReport
    data: TrainingData
    optimizer: torch.optim.Optimizer
    shuffle: torch.Generator  # the order of the training jets, epoch after epoch
    fingerprint: str
    best_model: dict[str, torch.Tensor]
    state: TrainingState
    started: float  # time.time() at the start of this call
    resumed_from: int = 0  # epochs done before this call

    @property
    def epochs_this_call(self) -> int:
        return self.state.epoch - self.resumed_from


def train(
    settings: TrainSettings,
    paths: TrainPaths,
    device: str = "auto",
    threads: int | None = None,
    stop_after_epochs: int | None = None,
    progress: bool = True,
    model_builder: Callable[[TrainSettings], JetAutoencoder] | None = None,
    compile: bool = False,
) -> dict[str, Any]:
    """Train (or resume) one run and write ``model.pt``, ``history.csv`` and ``meta.json``.

    ``compile`` runs the model through ``torch.compile`` where it can (:mod:`lgae.pipeline.compiling`; eagerly,
    with the reason logged, where it cannot). Like the device, it is how a run is computed, not what
    it computes: the numbers agree with an eager run to rounding, and a run resumed in the mode it was
    interrupted in continues bit for bit. ``meta.json`` records the mode and the compile time.

    ``model_builder`` replaces :func:`build_model`, so that another implementation (the authors' LGAE in
    ``benchmarks/fidelity``) trains with this very loop, data, loss and stopping rule; ``meta.json``
    records its class.

    ``stop_after_epochs`` ends this call after that many epochs *of this call* with the checkpoint in
    place but no final outputs, as a walltime limit would (used to test resumption).
    Returns the metadata written to ``meta.json`` (or the state reached, if stopped early).
    """
    dev = _prepare_device(device, threads)
    started = time.time()
    model, compiled = _prepare_model(settings, dev, model_builder, compile)
    _check_writable(paths.out_dir)
    data = _load_data(settings, paths, model, dev)
    run = _start(settings, paths, dev, model, compiled, data, started)
    _resume_if_possible(run)
    _log_start(run)
    if not _run_epochs(run, stop_after_epochs, progress):
        return {
            "stopped_at_epoch": run.state.epoch,
            "resumed_from_epoch": run.resumed_from,
            **run.state.as_dict(),
        }
    return _finish(run)


def _prepare_device(device: str, threads: int | None) -> torch.device:
    """The CPU threads (if given) and the device, both checked before anything is built."""
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ConfigError(f"threads = {threads!r}: give a positive number of CPU threads (--threads)")
        torch.set_num_threads(threads)
    return choose_device(device)


def _prepare_model(
    settings: TrainSettings,
    dev: torch.device,
    model_builder: Callable[[TrainSettings], JetAutoencoder] | None,
    compile: bool,
) -> tuple[JetAutoencoder, CompileReport]:
    """The run's model on its device, run once on test jets (hyperparameters checked before the data)."""
    model = (model_builder or build_model)(settings).to(dev)
    check_model_runs(model, settings)
    return model, compile_model(model, compile)


def _load_data(
    settings: TrainSettings, paths: TrainPaths, model: JetAutoencoder, dev: torch.device
) -> TrainingData:
    """The background's train and valid splits, checked against the model, as tensors on ``dev``."""
    train_jets = load_classes(paths.data_dir, settings.background, "train")
    valid_jets = load_classes(paths.data_dir, settings.background, "valid")
    _check_data(paths, settings, model, train_jets, valid_jets)
    identity = data_identity(paths.data_dir, settings.background, train_jets, valid_jets)
    subset = training_subset(len(train_jets), settings.train_fraction, settings.seed)
    dtype = DTYPES[settings.dtype]
    train_p4, train_mask = _tensors(train_jets, dtype, dev)
    valid_p4, valid_mask = _tensors(valid_jets, dtype, dev)
    return TrainingData(train_p4[subset], train_mask[subset], valid_p4, valid_mask, identity)


def _start(
    settings: TrainSettings,
    paths: TrainPaths,
    dev: torch.device,
    model: JetAutoencoder,
    compiled: CompileReport,
    data: TrainingData,
    started: float,
) -> TrainingRun:
    """A run at epoch 0: a fresh optimiser, the seeded shuffle, the initial weights as the best so far."""
    return TrainingRun(
        settings=settings,
        paths=paths,
        device=dev,
        model=model,
        compiled=compiled,
        data=data,
        optimizer=torch.optim.Adam(
            model.parameters(), lr=settings.lr, betas=settings.betas, weight_decay=settings.weight_decay
        ),
        shuffle=torch.Generator().manual_seed(derive_seed(settings.seed, "shuffle")),
        fingerprint=run_fingerprint(settings, data.identity),
        best_model=_copy(model),
        state=TrainingState(),
        started=started,
    )


def _resume_if_possible(run: TrainingRun) -> None:
    """Continues from the run's checkpoint (weights, optimiser, random states, the state replayed under
    the current stopping rule) when these settings and data can; otherwise the run stays at epoch 0."""
    paths, settings = run.paths, run.settings
    checkpoint = _load_checkpoint(paths.checkpoint, run.fingerprint, settings, run.data.identity)
    if checkpoint is None:
        return
    state = replay_stopping_rule(settings, checkpoint["state"]["history"])
    if state is None:
        _set_aside_beyond_the_rule(paths.checkpoint, settings, checkpoint["state"]["epoch"])
        return
    run.model.load_state_dict(checkpoint["model"])
    run.optimizer.load_state_dict(checkpoint["optimizer"])
    run.best_model = checkpoint["best_model"]
    run.state, run.resumed_from = state, state.epoch
    _restore_rng(checkpoint["rng"], run.shuffle)
    log.info("resuming %s from epoch %d (best valid %.6g)", paths.out_dir, state.epoch, state.best_valid)


def _set_aside_beyond_the_rule(checkpoint: Path, settings: TrainSettings, epochs: int) -> None:
    """Moves away a checkpoint of more epochs than the stopping rule now allows: its weights are not the
    ones these settings produce, so the run starts from scratch."""
    aside = checkpoint.with_name(f"checkpoint.epoch{epochs}.pt")
    log.warning(
        "%s holds %d epochs, more than the stopping rule now allows (max_epochs %d, patience %d, "
        "min_improvement %g, max_minutes %s) would have run; moved to %s, training from scratch "
        "so that the model is the one these settings produce",
        checkpoint,
        epochs,
        settings.max_epochs,
        settings.patience,
        settings.min_improvement,
        settings.max_minutes,
        aside,
    )
    checkpoint.rename(aside)


def _log_start(run: TrainingRun) -> None:
    settings = run.settings
    log.info(
        "training %s latent=%d seed=%d fraction=%g on %d jets (valid %d), %s, %s, %d parameters",
        settings.model,
        settings.latent,
        settings.seed,
        settings.train_fraction,
        len(run.data.train_p4),
        len(run.data.valid_p4),
        run.device,
        settings.dtype,
        run.model.num_parameters(),
    )


def _run_epochs(run: TrainingRun, stop_after_epochs: int | None, progress: bool) -> bool:
    """Epochs, each ending with a checkpoint, until the stopping rule ends the run (True) or this call
    has run ``stop_after_epochs`` of them (False: the run goes on in a later call)."""
    while run.state.goes_on(run.settings):
        if stop_after_epochs is not None and run.epochs_this_call >= stop_after_epochs:
            return False
        epoch_start = time.time()
        train_loss = _train_epoch(run, progress)
        valid_loss = _validate(run)
        _book_epoch(run, train_loss, valid_loss, epoch_start)
        _save_checkpoint(run.paths.checkpoint, _checkpoint_payload(run))
    return True


def _train_epoch(run: TrainingRun, progress: bool) -> float:
    """One pass over the shuffled training jets, an optimiser step per batch; the mean training loss."""
    settings, data = run.settings, run.data
    run.model.train()
    order = torch.randperm(len(data.train_p4), generator=run.shuffle).to(run.device)
    n_batches = math.ceil(len(data.train_p4) / settings.batch_size)
    total = 0.0
    bar = tqdm(
        range(n_batches), desc=f"epoch {run.state.epoch + 1}", leave=False, disable=not progress, unit="batch"
    )
    for b in bar:
        index = order[b * settings.batch_size : (b + 1) * settings.batch_size]
        loss = _loss(run.model, settings.loss, data.train_p4[index], data.train_mask[index])
        value = loss.item()
        if not math.isfinite(value):
            raise _diverged(
                run, f"the training loss became {value} in epoch {run.state.epoch + 1}, batch {b + 1}"
            )
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        run.optimizer.step()
        total += value * len(index)
        bar.set_postfix(loss=f"{value:.4g}")
    return total / len(data.train_p4)


def _validate(run: TrainingRun) -> float:
    """The validation loss after an epoch; a non-finite one ends the run with the last good checkpoint."""
    data = run.data
    valid_loss = evaluate_loss(
        run.model, run.settings.loss, data.valid_p4, data.valid_mask, run.settings.batch_size
    )
    if not math.isfinite(valid_loss):
        raise _diverged(run, f"the validation loss became {valid_loss} in epoch {run.state.epoch + 1}")
    return valid_loss


def _book_epoch(run: TrainingRun, train_loss: float, valid_loss: float, epoch_start: float) -> None:
    """Counts the epoch for the stopping rule, keeps the model if it is the best, records the epoch."""
    state = run.state
    improved = state.count_epoch(run.settings, valid_loss)
    if improved:
        run.best_model = _copy(run.model)
    state.history.append(
        EpochRow(
            epoch=state.epoch,
            train_loss=train_loss,
            valid_loss=valid_loss,
            epoch_seconds=time.time() - epoch_start,
            best=int(improved),
        )
    )
    log.info(
        "epoch %d: train %.6g valid %.6g (best %.6g at %d, stale %d) %.1fs",
        state.epoch,
        train_loss,
        valid_loss,
        state.best_valid,
        state.best_epoch,
        state.stale,
        time.time() - epoch_start,
    )


def _checkpoint_payload(run: TrainingRun) -> dict[str, Any]:
    """Everything a later call needs to continue bit for bit, as tensors and plain data."""
    return {
        "fingerprint": run.fingerprint,
        "settings_fingerprint": run.settings.fingerprint(),
        "data": run.data.identity,
        "settings": asdict(run.settings),
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "best_model": run.best_model,
        "state": run.state.as_dict(),
        "rng": _rng_state(run.shuffle),
    }


def _copy(model: JetAutoencoder) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _diverged(run: TrainingRun, what: str) -> TrainingError:
    """The error for a non-finite loss: which run, which data, what is kept, what to change."""
    settings, paths = run.settings, run.paths
    return TrainingError(
        f"{paths.out_dir} ({settings.model} latent={settings.latent} seed={settings.seed}, data "
        f"{paths.data_dir}): {what}. {_kept(paths, run.state)}; lower the learning rate (training.lr) or "
        "check the data."
    )


def _kept(paths: TrainPaths, state: TrainingState) -> str:
    """What is left to resume from, truthfully: a checkpoint exists once an epoch has completed."""
    if state.epoch > 0 and paths.checkpoint.is_file():
        return f"The last good checkpoint ({paths.checkpoint}, epoch {state.epoch}) is kept"
    return "No checkpoint was written (no epoch completed), so the next run starts from scratch"


def _check_data(
    paths: TrainPaths,
    settings: TrainSettings,
    model: JetAutoencoder,
    train_jets: ProcessedJets,
    valid_jets: ProcessedJets,
) -> None:
    """Non-empty training and validation data with the model's number of particles, before any epoch."""
    for split, jets in (("train", train_jets), ("valid", valid_jets)):
        files = ", ".join(str(paths.data_dir / f"{c}_{split}.h5") for c in settings.background)
        if len(jets) == 0:
            raise DataError(
                f"{files}: the {split} split holds no jets; rerun `lgae preprocess` with more jets or a "
                f"larger {split} fraction (data.split)"
            )
        if jets.p4.shape[1] != model.num_particles:
            raise DataError(
                f"{files}: jets of {jets.p4.shape[1]} particles, but {settings.model} is built for "
                f"{model.num_particles} (hyperparameters.num_particles); make the two agree "
                "(data.num_particles)"
            )


def _finish(run: TrainingRun) -> dict[str, Any]:
    """The best epoch's model, the history and ``meta.json``, written together; returns the metadata."""
    run.model.load_state_dict(run.best_model)
    meta = _metadata(run)
    paths, state = run.paths, run.state
    # the three appear together: a run killed in between never leaves a model beside another's meta.json
    with atomic_paths([paths.model, paths.history, paths.meta]) as (model_tmp, history_tmp, meta_tmp):
        save_model(model_tmp, run.model, meta)
        _write_history(history_tmp, state.history)
        write_json(meta_tmp, meta)
    log.info("wrote %s (best epoch %d, valid loss %.6g)", paths.model, state.best_epoch, state.best_valid)
    return meta


def _metadata(run: TrainingRun) -> dict[str, Any]:
    """What ``meta.json`` says of a finished run: settings, outcome, data, machine, versions."""
    settings, model, state = run.settings, run.model, run.state
    return {
        "settings": asdict(settings),
        "fingerprint": run.fingerprint,
        "model_class": type(model).__name__,
        "parameters": model.num_parameters(),
        "latent_size": model.latent_size,
        "compression_rate": {
            "table": model.compression_rate("table"),
            "text": model.compression_rate("text"),
        },
        "epochs": state.epoch,
        "best_epoch": state.best_epoch,
        "best_valid_loss": state.best_valid,
        "stopped_by": state.stopped_by(settings),
        "resumed_from_epoch": run.resumed_from,
        "epochs_this_call": run.epochs_this_call,
        "train_jets": len(run.data.train_p4),
        "valid_jets": len(run.data.valid_p4),
        "data_dir": str(run.paths.data_dir),
        "data": run.data.identity,
        "device": str(run.device),
        "threads": torch.get_num_threads(),
        "compile": run.compiled.as_dict(),
        "seconds_this_call": time.time() - run.started,
        "seconds_training": state.seconds_training,
        "versions": {
            "lgae": lgae.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "git": _git_revision(),
        "host": platform.node(),
    }


def load_trained(path: str | os.PathLike[str], device: str = "cpu") -> JetAutoencoder:
    """A trained model from ``model.pt``, in the dtype it was trained in (see :mod:`lgae.models.io`)."""
    return load_model(path, device)[0]
