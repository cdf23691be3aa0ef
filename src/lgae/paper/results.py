"""The metrics of every trained run, gathered for the tables, the claims and the figures across models.

A run is one (model, latent size, seed, training fraction); its metrics are the four JSON files of
``lgae evaluate``. Values over several seeds are summarised by their median and spread (half the range).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lgae.pipeline.identity import OfRun, Run

__all__ = [
    "METRIC_SCHEMAS",
    "RunMetrics",
    "SeedSummary",
    "anomaly_score_name",
    "check_metrics",
    "over_seeds",
    "paper_protocol_best",
    "runs_of",
]

IMAGE_SCORE = "image_mse"

# ------------------------------------------------------------------- the shape of the metrics files
# What the tables, the claims and the figures read of each file (JSON Schema): a file of another shape
# is refused when read, with the file and the first place it departs from this, not by a KeyError deep
# in a table. Extra keys are allowed (the files hold more than is read).
_NUMBER = {"type": "number"}
_STATS = {
    "type": "object",
    "required": ["median", "iqr", "median_abs", "n", "non_finite"],
    "properties": {
        "median": _NUMBER,
        "iqr": _NUMBER,
        "median_abs": _NUMBER,
        "n": {"type": "integer", "minimum": 0},
        "non_finite": {"type": "integer", "minimum": 0},
    },
}
_JET_FEATURES = {"type": "object", "required": ["mass", "pt", "eta", "phi"], "additionalProperties": _STATS}
_PARTICLE_FEATURES = {
    "type": "object",
    "required": ["pt_rel", "eta_rel", "phi_rel"],
    "additionalProperties": _STATS,
}
_RUN = {
    "type": "object",
    "required": ["model", "latent", "seed", "fraction"],
    "properties": {
        "model": {"type": "string"},
        "latent": {"type": "integer", "minimum": 1},
        "seed": {"type": "integer", "minimum": 0},
        "fraction": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    },
}
_SIGNAL = {
    "type": "object",
    "required": ["auc", "signal_efficiency", "jets"],
    "properties": {
        "auc": _NUMBER,
        "signal_efficiency": {
            "type": "object",
            "required": ["0.1", "0.01", "0.001"],  # Table 4's background efficiencies
            "additionalProperties": _NUMBER,
        },
        "jets": {"type": "integer", "minimum": 0},
    },
}
_SCAN_POINTS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["parameter", "gamma", "paper", "strict"],
        "properties": {k: _NUMBER for k in ("parameter", "gamma", "paper", "strict")},
    },
}
METRIC_SCHEMAS: dict[str, dict[str, Any]] = {
    "reconstruction": {
        "type": "object",
        "required": ["model", "groups"],
        "properties": {
            "model": _RUN,
            "groups": {
                "type": "object",
                "required": ["qcd"],
                "additionalProperties": {
                    "type": "object",
                    "required": ["jet", "particle"],
                    "properties": {
                        "jet": _JET_FEATURES,
                        "particle": {"oneOf": [{"type": "null"}, _PARTICLE_FEATURES]},
                    },
                },
            },
        },
    },
    "anomaly": {
        "type": "object",
        "required": ["model", "scores"],
        "properties": {
            "model": _RUN,
            "scores": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["background_jets", "signals"],
                    "properties": {
                        "background_jets": {"type": "integer", "minimum": 0},
                        "signals": {"type": "object", "additionalProperties": _SIGNAL},
                    },
                },
            },
        },
    },
    "latent": {
        "type": "object",
        "required": ["model", "lorentz_latent"],
        "properties": {"model": _RUN, "lorentz_latent": {"type": "boolean"}},
        "if": {"properties": {"lorentz_latent": {"const": True}}},
        "then": {
            "required": ["correlation_with_jet_momentum"],
            "properties": {
                "correlation_with_jet_momentum": {
                    "type": "object",
                    "required": ["imag", "real"],
                    "additionalProperties": {
                        "type": "object",
                        "required": ["E", "px", "py", "pz"],
                        "additionalProperties": _NUMBER,
                    },
                }
            },
        },
    },
    "equivariance": {
        "type": "object",
        "required": ["model", "summary", "scans"],
        "properties": {
            "model": _RUN,
            "summary": {
                "type": "object",
                "required": ["scanned"],
                "properties": {"scanned": {"type": "boolean"}},
                "if": {"properties": {"scanned": {"const": True}}},
                "then": {
                    "required": [
                        f"{scan}_{measure}_max"
                        for scan in ("boost_z", "rotation_z")
                        for measure in ("paper", "strict")
                    ]
                },
            },
            "scans": {
                "type": "object",
                "if": {"properties": {"scanned": {"const": True}}, "required": ["scanned"]},
                "then": {
                    "required": ["jets", "boost_z", "rotation_z"],
                    "properties": {
                        "jets": {"type": "integer", "minimum": 1},
                        "boost_z": _SCAN_POINTS,
                        "rotation_z": _SCAN_POINTS,
                    },
                },
            },
        },
    },
}


def check_metrics(name: str, payload: Any, where: str) -> None:
    """Refuse a metrics file ``name`` (reconstruction, anomaly, latent, equivariance) that is not of the
    shape :data:`METRIC_SCHEMAS` describes, naming the file, the first place and the fix."""
    import jsonschema

    from lgae.errors import DataError

    validator = jsonschema.Draft202012Validator(METRIC_SCHEMAS[name])
    error = next(iter(sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        place = ".".join(str(p) for p in error.absolute_path) or "the top level"
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
        raise DataError(
            f"{where}: not a {name} metrics file of this version (at {place}: {message}); delete it "
            "and rerun `lgae evaluate` (or the Snakemake rule evaluate)"
        )


@dataclass
class RunMetrics(OfRun):
    """The metrics of one trained run (``info`` is the prediction files' description of the model)."""

    run: Run
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
            run=Run.from_record(info),
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
