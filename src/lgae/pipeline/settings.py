"""The settings of the pipeline's steps and their defaults, each defined once.

:class:`TrainSettings` is everything that determines a training run: ``lgae train`` makes its options
from the fields (name, default, help: :mod:`lgae.cli.train`), the workflow writes a run's options from
an instance, and the model file keeps it. This module imports no torch (the command line reads it to
build its options); the checks that need the model registry import it when they run.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from lgae.errors import ConfigError
from lgae.names import DTYPE_NAMES, LATENT_ARGUMENTS, MODEL_NAMES, MODEL_TRAINING_LOSSES, TRAINING_LOSSES
from lgae.pipeline.identity import Run

__all__ = ["INFERENCE_BATCH_SIZE", "TrainSettings"]

#: jets per inference batch (``lgae predict --batch-size``, evaluation.batch_size): the paper's
#: configuration's value, for a GPU; on a CPU 256 is faster (config/quick.yaml and cpu.yaml say so)
INFERENCE_BATCH_SIZE = 1024

# when to stop is not what is trained: a finished run continues when these change
_STOPPING_RULE = ("max_epochs", "patience", "min_improvement", "max_minutes")


#: a setting without a default: the command line requires it
_REQUIRED: Any = object()


def _setting(default: Any = _REQUIRED, *, help: str, **metadata: Any) -> Any:
    """A field with its help (and ``option``, ``choices``) for the command line."""
    metadata = {"help": help, **metadata}
    if default is _REQUIRED:
        return field(metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class TrainSettings:
    """Everything that determines a training run (its fingerprint decides whether to resume)."""

    model: str = _setting(help="the model to train", choices=MODEL_NAMES)
    latent: int = _setting(help="τ_(1/2,1/2) (LGAE), dim(L) (GNNAE-JL, CNNAE), d (GNNAE-PL)")
    seed: int = _setting(1, help="seed of the initialisation, the batches and the training subset")
    train_fraction: float = _setting(
        1.0, help="fraction of the training split to train on", option="--fraction"
    )
    loss: str | None = _setting(
        None, help="training loss (default: the paper's choice)", choices=TRAINING_LOSSES
    )
    hyperparameters: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "JSON object of extra model hyperparameters"}
    )
    lr: float = _setting(1e-3, help="Adam's learning rate")
    betas: tuple[float, float] = _setting((0.9, 0.999), help="Adam's β1 and β2")
    weight_decay: float = _setting(0.0, help="Adam's weight decay")
    batch_size: int = _setting(256, help="jets per training batch")
    max_epochs: int = _setting(20000, help="most epochs trained")
    patience: int = _setting(200, help="epochs without a new best validation loss before stopping")
    # a run that creeps down in the sixth digit (a diverged one, say) stops
    min_improvement: float = _setting(
        0.0,
        help="relative drop of the validation loss below that of the last reset that resets the patience "
        "(default 0: any new best)",
    )
    # machine-dependent, so not for the pipeline's configs: for studies that compare at equal time
    max_minutes: float | None = _setting(
        None,
        help="minutes of training (over every call) after which no epoch starts (default: no limit; "
        "depends on the machine, so a run with it is not reproducible elsewhere)",
    )
    dtype: str = _setting("float64", help="floating-point precision of the model", choices=DTYPE_NAMES)
    background: tuple[str, ...] = _setting(("g", "q"), help="classes to train on")

    def __post_init__(self) -> None:
        self.betas = tuple(self.betas)
        self.background = tuple(self.background)
        if self.model not in MODEL_NAMES:
            raise ConfigError(f"unknown model {self.model!r}; available models: {', '.join(MODEL_NAMES)}")
        if self.loss is None:
            from lgae.losses import paper_loss

            self.loss = paper_loss(self.model)
        if self.loss not in MODEL_TRAINING_LOSSES[self.model]:
            raise ConfigError(
                f"loss {self.loss!r}: {self.model} trains with {' or '.join(MODEL_TRAINING_LOSSES[self.model])}"
            )
        if self.dtype not in DTYPE_NAMES:
            raise ConfigError(f"dtype {self.dtype!r} unknown; use one of {sorted(DTYPE_NAMES)}")
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
        latent_key = LATENT_ARGUMENTS[self.model]
        if latent_key in self.hyperparameters:
            raise ConfigError(
                f"hyperparameters.{latent_key} = {self.hyperparameters[latent_key]!r} conflicts with the "
                f"latent size {self.latent} (--latent, models.{self.model}.latents): give it there only"
            )
        from lgae.models.registry import check_hyperparameters

        check_hyperparameters(self.model, self.hyperparameters)

    @property
    def run(self) -> Run:
        """Which run these settings train (the name of its files)."""
        return Run(self.model, self.latent, self.seed, self.train_fraction)

    def fingerprint(self) -> str:
        """Hash of the settings that change the result (not of the epoch budget, which may grow)."""
        relevant = {k: v for k, v in asdict(self).items() if k not in _STOPPING_RULE}
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]
