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
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

import lgae
from lgae.errors import ConfigError, DataError, LGAEError
from lgae.io import atomic_path, atomic_paths, write_json
from lgae.losses import paper_loss, reconstruction_loss
from lgae.models import build
from lgae.models.base import JetAutoencoder
from lgae.models.io import DTYPES, UnsafeFileError, load_model, load_plain, save_model
from lgae.models.registry import check_hyperparameters, latent_argument
from lgae.names import MODEL_NAMES, MODEL_TRAINING_LOSSES, STOPPED_BY_TIME_BUDGET
from lgae.pipeline.compiling import compile_model
from lgae.pipeline.data.preprocess import ProcessedJets, load_classes, read_attrs
from lgae.pipeline.seeding import derive_seed

log = logging.getLogger(__name__)


class TrainingError(LGAEError):
    """Training cannot go on (e.g. the loss became NaN); the last good checkpoint, if any, is kept."""


class CheckpointError(LGAEError):
    """A checkpoint holds something other than tensors and plain data: it is not loaded."""


# when to stop is not what is trained: a finished run continues when these change
_STOPPING_RULE = ("max_epochs", "patience", "min_improvement", "max_minutes")


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
    # a new best resets the patience only when it is this fraction below the loss of the last reset, so a
    # run that creeps down in the sixth digit (a diverged one, say) stops; 0 counts every new best
    min_improvement: float = 0.0
    # minutes of training (summed over every call) after which no new epoch starts; None: no limit.
    # Machine-dependent, so not for the pipeline's configs: for studies that compare at equal time
    max_minutes: float | None = None
    dtype: str = "float64"
    background: tuple[str, ...] = ("g", "q")

    def __post_init__(self) -> None:
        self.betas = tuple(self.betas)
        self.background = tuple(self.background)
        if self.model not in MODEL_NAMES:
            raise ConfigError(f"unknown model {self.model!r}; available models: {', '.join(MODEL_NAMES)}")
        if self.loss is None:
            self.loss = paper_loss(self.model)
        if self.loss not in MODEL_TRAINING_LOSSES[self.model]:
            raise ConfigError(
                f"loss {self.loss!r}: {self.model} trains with {' or '.join(MODEL_TRAINING_LOSSES[self.model])}"
            )
        if self.dtype not in DTYPES:
            raise ConfigError(f"dtype {self.dtype!r} unknown; use one of {sorted(DTYPES)}")
        if not 0.0 < self.train_fraction <= 1.0:
            raise ConfigError(f"train_fraction {self.train_fraction} must be in (0, 1]")
        for name in ("batch_size", "max_epochs", "latent"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.patience < 0:
            raise ConfigError(f"patience must be >= 0, got {self.patience}")
        if self.max_minutes is not None and not (math.isfinite(self.max_minutes) and self.max_minutes > 0):
            raise ConfigError(
                f"max_minutes = {self.max_minutes}: a number of minutes > 0, or None for no limit"
            )
        if not (math.isfinite(self.min_improvement) and 0.0 <= self.min_improvement < 1.0):
            raise ConfigError(
                f"min_improvement = {self.min_improvement}: a fraction in [0, 1) (training.min_improvement)"
            )
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"lr = {self.lr}: the learning rate must be a finite number > 0 (training.lr)")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ConfigError(
                f"betas = {list(self.betas)}: Adam needs two numbers in [0, 1) (training.betas)"
            )
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ConfigError(
                f"weight_decay = {self.weight_decay}: must be a finite number >= 0 (training.weight_decay)"
            )
        if not isinstance(self.hyperparameters, dict):
            raise ConfigError("hyperparameters must be a JSON object, e.g. '{\"num_basis\": 10}'")
        latent_key = latent_argument(self.model)
        if latent_key in self.hyperparameters:
            raise ConfigError(
                f"hyperparameters.{latent_key} = {self.hyperparameters[latent_key]!r} conflicts with the "
                f"latent size {self.latent} (--latent, models.{self.model}.latents): give it there only"
            )
        check_hyperparameters(self.model, self.hyperparameters)

    def fingerprint(self) -> str:
        """Hash of the settings that change the result (not of the epoch budget, which may grow)."""
        relevant = {k: v for k, v in asdict(self).items() if k not in _STOPPING_RULE}
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
def _out_of_time(settings: TrainSettings, state: dict[str, Any]) -> bool:
    """Whether the run's training time, over every call so far, has used up ``max_minutes``."""
    if settings.max_minutes is None:
        return False
    return sum(h["epoch_seconds"] for h in state["history"]) >= 60.0 * settings.max_minutes


def _goes_on(settings: TrainSettings, state: dict[str, Any]) -> bool:
    """Whether the stopping rule lets another epoch start."""
    return (
        state["epoch"] < settings.max_epochs
        and state["stale"] <= settings.patience
        and not _out_of_time(settings, state)
    )


def _count_epoch(settings: TrainSettings, state: dict[str, Any], valid_loss: float) -> bool:
    """Book one finished epoch's validation loss into ``state``; whether it is a new best."""
    state["epoch"] += 1
    # the loss of the last patience reset (a checkpoint from before min_improvement: the best so far)
    reference = state.get("patience_reference", state["best_valid"])
    improved = valid_loss < state["best_valid"]
    if improved:
        state["best_valid"], state["best_epoch"] = valid_loss, state["epoch"]
    if valid_loss < reference * (1.0 - settings.min_improvement):
        state["stale"], state["patience_reference"] = 0, valid_loss
    else:
        state["stale"] += 1
    return improved


def _fresh_state() -> dict[str, Any]:
    return {
        "epoch": 0,
        "best_valid": math.inf,
        "best_epoch": 0,
        "stale": 0,
        "patience_reference": math.inf,
        "history": [],
    }


def replay_stopping_rule(settings: TrainSettings, history: list[dict[str, float]]) -> dict[str, Any] | None:
    """The state a run with ``settings`` reaches over the epochs of ``history``, or None if its stopping
    rule would have stopped before the last of them.

    Which weights an epoch produces does not depend on the stopping rule, only whether it runs: so a
    checkpoint can continue under a changed rule exactly when the changed rule would have let every one
    of its epochs run, and the patience counter is then recounted under the changed rule, as a fresh
    run would have counted it. Otherwise the checkpoint holds weights these settings cannot produce.
    """
    state = _fresh_state()
    for row in history:
        if not _goes_on(settings, state):
            return None
        _count_epoch(settings, state, float(row["valid_loss"]))
        state["history"].append(row)
    return state


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
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ConfigError(f"threads = {threads!r}: give a positive number of CPU threads (--threads)")
        torch.set_num_threads(threads)
    dev = choose_device(device)
    dtype = DTYPES[settings.dtype]
    started = time.time()
    model = (model_builder or build_model)(settings).to(dev)  # hyperparameters checked here, before the data
    check_model_runs(model, settings)
    compiled = compile_model(model, compile)
    _check_writable(paths.out_dir)
    train_jets = load_classes(paths.data_dir, settings.background, "train")
    valid_jets = load_classes(paths.data_dir, settings.background, "valid")
    _check_data(paths, settings, model, train_jets, valid_jets)
    data = data_identity(paths.data_dir, settings.background, train_jets, valid_jets)
    subset = training_subset(len(train_jets), settings.train_fraction, settings.seed)
    train_p4, train_mask = _tensors(train_jets, dtype, dev)
    train_p4, train_mask = train_p4[subset], train_mask[subset]
    valid_p4, valid_mask = _tensors(valid_jets, dtype, dev)

    optimizer = torch.optim.Adam(
        model.parameters(), lr=settings.lr, betas=settings.betas, weight_decay=settings.weight_decay
    )
    shuffle = torch.Generator().manual_seed(derive_seed(settings.seed, "shuffle"))
    fingerprint = run_fingerprint(settings, data)
    state = _fresh_state()
    best_model = {k: v.detach().clone() for k, v in model.state_dict().items()}
    checkpoint = _load_checkpoint(paths.checkpoint, fingerprint, settings, data)
    if checkpoint is not None:
        replayed = replay_stopping_rule(settings, checkpoint["state"]["history"])
        if replayed is None:
            aside = paths.checkpoint.with_name(f"checkpoint.epoch{checkpoint['state']['epoch']}.pt")
            log.warning(
                "%s holds %d epochs, more than the stopping rule now allows (max_epochs %d, patience %d, "
                "min_improvement %g, max_minutes %s) would have run; moved to %s, training from scratch "
                "so that the model is the one these settings produce",
                paths.checkpoint,
                checkpoint["state"]["epoch"],
                settings.max_epochs,
                settings.patience,
                settings.min_improvement,
                settings.max_minutes,
                aside,
            )
            paths.checkpoint.rename(aside)
            checkpoint = None
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        best_model = checkpoint["best_model"]
        state = replayed
        _restore_rng(checkpoint["rng"], shuffle)
        log.info(
            "resuming %s from epoch %d (best valid %.6g)", paths.out_dir, state["epoch"], state["best_valid"]
        )
    resumed_from = state["epoch"]
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
    while _goes_on(settings, state):
        if stop_after_epochs is not None and epochs_this_call >= stop_after_epochs:
            return {"stopped_at_epoch": state["epoch"], "resumed_from_epoch": resumed_from, **state}
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
                    f"{paths.out_dir} ({settings.model} latent={settings.latent} seed={settings.seed}, data "
                    f"{paths.data_dir}): the training loss became {value} in epoch {state['epoch'] + 1}, "
                    f"batch {b + 1}. {_kept(paths, state)}; lower the learning rate (training.lr) or check "
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
                f"{paths.out_dir} ({settings.model} latent={settings.latent} seed={settings.seed}, data "
                f"{paths.data_dir}): the validation loss became {valid_loss} in epoch {state['epoch'] + 1}. "
                f"{_kept(paths, state)}; lower the learning rate (training.lr) or check the data."
            )
        improved = _count_epoch(settings, state, valid_loss)
        if improved:
            best_model = {k: v.detach().clone() for k, v in model.state_dict().items()}
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
                "settings_fingerprint": settings.fingerprint(),
                "data": data,
                "settings": asdict(settings),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "best_model": best_model,
                "state": state,
                "rng": _rng_state(shuffle),
            },
        )
        epochs_this_call += 1
    run = {
        "fingerprint": fingerprint,
        "data": data,
        "resumed_from_epoch": resumed_from,
        "epochs_this_call": epochs_this_call,
        "compile": compiled.as_dict(),
    }
    return _finish(settings, paths, model, best_model, state, dev, started, len(train_p4), len(valid_p4), run)


def _kept(paths: TrainPaths, state: dict[str, Any]) -> str:
    """What is left to resume from, truthfully: a checkpoint exists once an epoch has completed."""
    if state["epoch"] > 0 and paths.checkpoint.is_file():
        return f"The last good checkpoint ({paths.checkpoint}, epoch {state['epoch']}) is kept"
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
    run: dict[str, Any],
) -> dict[str, Any]:
    model.load_state_dict(best_model)
    if state["stale"] > settings.patience:
        stopped = "early stopping"
    elif _out_of_time(settings, state) and state["epoch"] < settings.max_epochs:
        stopped = f"{STOPPED_BY_TIME_BUDGET} ({settings.max_minutes:g} min)"
    else:
        stopped = "epoch limit"
    meta = {
        "settings": asdict(settings),
        "fingerprint": run["fingerprint"],
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
        "resumed_from_epoch": run["resumed_from_epoch"],
        "epochs_this_call": run["epochs_this_call"],
        "train_jets": n_train,
        "valid_jets": n_valid,
        "data_dir": str(paths.data_dir),
        "data": run["data"],
        "device": str(device),
        "threads": torch.get_num_threads(),
        "compile": run["compile"],
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
    # the three appear together: a run killed in between never leaves a model beside another's meta.json
    with atomic_paths([paths.model, paths.history, paths.meta]) as (model_tmp, history_tmp, meta_tmp):
        save_model(model_tmp, model, meta)
        _write_history(history_tmp, state["history"])
        write_json(meta_tmp, meta)
    log.info(
        "wrote %s (best epoch %d, valid loss %.6g)", paths.model, state["best_epoch"], state["best_valid"]
    )
    return meta


def load_trained(path: str | os.PathLike[str], device: str = "cpu") -> JetAutoencoder:
    """A trained model from ``model.pt``, in the dtype it was trained in (see :mod:`lgae.models.io`)."""
    return load_model(path, device)[0]
