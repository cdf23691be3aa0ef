"""The metrics of every trained run, gathered for the tables, the claims and the figures across models.

A run is one (model, latent size, seed, training fraction); its metrics are the four JSON files of
``lgae evaluate``. Values over several seeds are summarised by their median and spread (half the range).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "RunMetrics",
    "SeedSummary",
    "anomaly_score_name",
    "over_seeds",
    "paper_protocol_best",
    "runs_of",
]

IMAGE_SCORE = "image_mse"


@dataclass
class RunMetrics:
    """The metrics of one trained run (``info`` is the prediction files' description of the model)."""

    model: str
    latent: int
    seed: int
    fraction: float
    info: dict[str, Any] = field(default_factory=dict)
    reconstruction: dict[str, Any] = field(default_factory=dict)
    anomaly: dict[str, Any] = field(default_factory=dict)
    latent_space: dict[str, Any] = field(default_factory=dict)
    equivariance: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_files(cls, payloads: dict[str, dict[str, Any]]) -> RunMetrics:
        """From the parsed ``{reconstruction, anomaly, latent, equivariance}.json`` of one run."""
        info = payloads["reconstruction"]["model"]
        return cls(
            model=info["model"],
            latent=int(info["latent"]),
            seed=int(info["seed"]),
            fraction=float(info["fraction"]),
            info=info,
            reconstruction=payloads.get("reconstruction", {}),
            anomaly=payloads.get("anomaly", {}),
            latent_space=payloads.get("latent", {}),
            equivariance=payloads.get("equivariance", {}),
        )


@dataclass(frozen=True)
class SeedSummary:
    """A value over seeds: the median, half the range, how many seeds."""

    median: float
    spread: float
    seeds: int

    def text(self, digits: int = 3) -> str:
        value = _number(self.median, digits)
        return value if self.seeds == 1 else f"{value} ± {_number(self.spread, digits)} ({self.seeds} seeds)"


def _number(value: float, digits: int) -> str:
    if not np.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}" if abs(value) >= 10 ** -(digits + 1) or value == 0 else f"{value:.1e}"


def runs_of(runs: Iterable[RunMetrics], model: str, latent: int, fraction: float = 1.0) -> list[RunMetrics]:
    """The runs (any seed) of one model and latent size at one training fraction."""
    return [r for r in runs if r.model == model and r.latent == latent and np.isclose(r.fraction, fraction)]


def over_seeds(runs: Sequence[RunMetrics], value: Callable[[RunMetrics], float | None]) -> SeedSummary | None:
    """``value`` of each run summarised over the runs' seeds (None when no run has it)."""
    values = [v for v in (value(r) for r in runs) if v is not None]
    if not values:
        return None
    array = np.asarray(values, dtype=np.float64)
    return SeedSummary(float(np.median(array)), float((array.max() - array.min()) / 2), len(values))


def anomaly_score_name(model: str, particle_score: str) -> str:
    """The score of a model's anomaly detection: the configured one, the image MSE for the CNNAE."""
    return IMAGE_SCORE if model == "cnnae" else particle_score


def paper_protocol_best(run: RunMetrics, group: str) -> dict[str, Any] | None:
    """The paper-protocol winner of a run for one signal (or "combined"): its score, AUC, whether it was
    flipped, ε_s and jets; None when the metrics predate the paper protocol or lack that signal."""
    return (run.anomaly.get("paper_protocol") or {}).get("best", {}).get(group)
