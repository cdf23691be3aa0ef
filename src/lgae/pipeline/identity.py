"""What a trained run is, carried by every file made from it and checked wherever one is read.

A model file holds its training settings (model, latent size, seed, training fraction, loss,
hyperparameters, dtype, optimiser, stopping rule, background classes) and the identity of its training
data (:func:`lgae.pipeline.training.data_identity`); prediction files copy them into their ``model`` record, and
metrics files copy that record. A step reads such a file under a path the workflow chose for one run,
so a file of another run (copied over it, left by a killed job, or trained under other settings) would
silently stand for the wrong model. Every reader therefore compares what the file says with what the
rule or the command expects (``--expect``) and refuses a mismatch, naming both and the fix.
"""

from __future__ import annotations

import json
import numbers
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from lgae.errors import DataError, LGAEError

__all__ = [
    "RUN_KEYS",
    "IdentityError",
    "OfRun",
    "Run",
    "check_expected",
    "describe",
    "parse_expected",
    "run_record",
    "same_model",
]


@dataclass(frozen=True)
class Run:
    """One trained run: a model with a latent size, a seed and a training fraction. It names every file
    made from that training (``results/<kind>/<model>/<latent>/seed<seed>/frac<fraction>``) and is
    written ``MODEL:LATENT:SEED:FRACTION`` on a command line (``--expect``)."""

    model: str
    latent: int
    seed: int
    fraction: float = 1.0

    #: where a run's files of one kind lie under the results root; the workflow's rules match these
    #: patterns (``frac`` is :attr:`fraction_label`)
    PATTERN: ClassVar[str] = "{root}/{kind}/{{model}}/{{latent}}/seed{{seed}}/frac{{frac}}"
    #: a run's name in a folder of every run's files of one kind (the workflow's logs and benchmarks)
    FLAT_PATTERN: ClassVar[str] = "{model}_{latent}_seed{seed}_frac{frac}"
    #: every text :attr:`fraction_label` can give (Snakemake's wildcard constraint of ``frac``)
    FRACTION_PATTERN: ClassVar[str] = r"[0-9.]+(e-?[0-9]+)?"
    #: how a run is written on a command line
    TEXT: ClassVar[str] = "MODEL:LATENT:SEED:FRACTION"

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model or ":" in self.model or "/" in self.model:
            raise LGAEError(f"run {self.model!r}: a model name (e.g. lgae-mix), without ':' or '/'")
        for name, least in (("latent", 1), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
                raise LGAEError(f"run of {self.model}: {name} {value!r} must be an integer >= {least}")
            object.__setattr__(self, name, int(value))
        fraction = self.fraction
        if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0.0 < fraction <= 1.0:
            raise LGAEError(f"run of {self.model}: fraction {fraction!r} must be a number in (0, 1]")
        object.__setattr__(self, "fraction", float(fraction))

    # ------------------------------------------------------------------ as text
    @classmethod
    def parse(cls, text: str, key: str = "--expect") -> Run:
        """``MODEL:LATENT:SEED:FRACTION`` (how the workflow names a run on a command line)."""
        example = "e.g. lgae-mix:9:1:1"
        parts = text.split(":")
        if len(parts) != 4:
            raise LGAEError(f"{key} {text!r}: expected {cls.TEXT} (4 parts, {len(parts)} given), {example}")
        model, latent, seed, fraction = parts
        try:
            values = int(latent), int(seed), float(fraction)
        except ValueError as exc:
            raise LGAEError(
                f"{key} {text!r}: expected {cls.TEXT} with whole numbers LATENT and SEED and a number "
                f"FRACTION, {example}"
            ) from exc
        try:
            return cls(model, *values)
        except LGAEError as exc:
            raise LGAEError(f"{key} {text!r}: {exc}") from exc

    def __str__(self) -> str:
        return f"{self.model}:{self.latent}:{self.seed}:{self.fraction_label}"

    @property
    def fraction_label(self) -> str:
        """The canonical text of the training fraction in paths and names (1.0 -> "1", 1e-4 -> "0.0001")."""
        return f"{self.fraction:g}"

    # ------------------------------------------------------------------ as records
    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Run:
        """The run a file's ``model`` record names (its ``model``, ``latent``, ``seed``, ``fraction``)."""
        return cls(
            str(record["model"]), int(record["latent"]), int(record["seed"]), float(record["fraction"])
        )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Run:
        """The run of training settings (as :class:`lgae.pipeline.settings.TrainSettings` names them)."""
        return cls.from_record({**settings, "fraction": settings["train_fraction"]})

    @classmethod
    def from_wildcards(cls, wildcards: Any) -> Run:
        """The run of a path that matched :meth:`pattern` (a Snakemake job's wildcards)."""
        return cls(wildcards.model, int(wildcards.latent), int(wildcards.seed), float(wildcards.frac))

    def record(self) -> dict[str, Any]:
        """The run as files record it (``model``, ``latent``, ``seed``, ``fraction``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def settings(self) -> dict[str, Any]:
        """The run as training settings name it (``train_fraction`` for the fraction)."""
        return {
            "model": self.model,
            "latent": self.latent,
            "seed": self.seed,
            "train_fraction": self.fraction,
        }

    # ------------------------------------------------------------------ paths
    @classmethod
    def pattern(cls, kind: str, root: str = "results") -> str:
        """The path of a run's ``kind`` directory (models, predictions, metrics) with the wildcards
        ``{model}``, ``{latent}``, ``{seed}``, ``{frac}``, as the workflow's rules match it."""
        if not re.fullmatch(r"[a-z_]+", kind):
            raise ValueError(f"kind {kind!r}: a directory name such as models, predictions, metrics")
        return cls.PATTERN.format(root=root, kind=kind)

    def directory(self, kind: str, root: str = "results") -> str:
        """This run's ``kind`` directory."""
        return self.pattern(kind, root).format(
            model=self.model, latent=self.latent, seed=self.seed, frac=self.fraction_label
        )

    def model_dir(self, root: str = "results") -> str:
        """Where `lgae train` writes this run (model.pt, history.csv, meta.json, checkpoint.pt)."""
        return self.directory("models", root)

    def model_file(self, root: str = "results") -> str:
        return f"{self.model_dir(root)}/model.pt"

    def predictions_dir(self, root: str = "results") -> str:
        """Where `lgae predict` writes this run's predictions (<class>.h5, equivariance.json)."""
        return self.directory("predictions", root)

    def metrics_dir(self, root: str = "results") -> str:
        """Where `lgae evaluate` writes this run's metrics files."""
        return self.directory("metrics", root)

    def metrics_file(self, name: str, root: str = "results") -> str:
        """This run's metrics file ``name`` (reconstruction, anomaly, latent, equivariance)."""
        return f"{self.metrics_dir(root)}/{name}.json"


class OfRun:
    """What carries a ``run`` (its metrics, a model a figure shows) reads its names as its own."""

    run: Run

    @property
    def model(self) -> str:
        return self.run.model

    @property
    def latent(self) -> int:
        return self.run.latent

    @property
    def seed(self) -> int:
        return self.run.seed

    @property
    def fraction(self) -> float:
        return self.run.fraction


#: what names a run in the workflow's paths: results/<kind>/<model>/<latent>/seed<seed>/frac<fraction>
RUN_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Run))
#: what, besides the settings, tells two models apart (the training data and the model file)
_MODEL_KEYS: tuple[str, ...] = ("fingerprint", "model_file")


class IdentityError(DataError):
    """A file belongs to another run than the one the step expects."""


def _plain(value: Any) -> Any:
    """``value`` as JSON would give it back (tuples become lists, numpy scalars numbers)."""
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


def run_record(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The run's name (model, latent, seed, fraction) from its training settings."""
    return Run.from_settings(settings).record()


def describe(record: Mapping[str, Any]) -> str:
    """``lgae-mix latent 9 seed 1 fraction 1`` (what is known of it)."""
    parts = [str(record.get("model", "?"))]
    for key in RUN_KEYS[1:]:
        if record.get(key) is not None:
            value = record[key]
            parts.append(f"{key} {value:g}" if isinstance(value, float) else f"{key} {value}")
    return " ".join(parts)


def parse_expected(text: str | None, key: str = "--expect") -> dict[str, Any] | None:
    """The expectation of a single-run step: a JSON object of training settings (``model``, ``latent``,
    ``seed``, ``train_fraction``, ... as :class:`lgae.pipeline.training.TrainSettings` names them), or
    ``MODEL:LATENT:SEED:FRACTION``."""
    if text is None:
        return None
    if not text.lstrip().startswith("{"):
        return Run.parse(text, key).settings()
    try:
        expected = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LGAEError(f"{key} is not valid JSON ({exc}): {text!r}") from exc
    if not isinstance(expected, dict):
        raise LGAEError(f"{key} must be a JSON object of training settings, e.g. '{{\"latent\": 9}}'")
    return expected


def _differences(found: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    out = []
    for key, value in expected.items():
        have = found.get(key, "<absent>")
        if _plain(have) != _plain(value):
            out.append(f"{key} {_plain(have)!r}, expected {_plain(value)!r}")
    return out


def check_expected(
    where: str | os.PathLike[str],
    settings: Mapping[str, Any] | None,
    expected: Mapping[str, Any] | None,
    fix: str,
) -> None:
    """Refuse a file whose training ``settings`` differ from ``expected`` in any key ``expected`` names."""
    if expected is None:
        return
    if not isinstance(settings, Mapping):
        raise IdentityError(
            f"{where}: it does not say which run made it (no training settings: written by an older "
            f"version); {fix}"
        )
    differences = _differences(settings, expected)
    if differences:
        raise IdentityError(
            f"{where}: made by another run than this step expects ({'; '.join(differences)}): it holds "
            f"{describe(run_record(settings)) if 'train_fraction' in settings else dict(settings)}; {fix}"
        )


def same_model(records: Mapping[str, Mapping[str, Any]], what: str, fix: str) -> None:
    """Refuse files (``records``: path -> the ``model`` record it carries) that come from different models."""
    if not records:
        return
    keys = (*RUN_KEYS, *_MODEL_KEYS, "settings")
    identities = {path: {k: _plain(r.get(k)) for k in keys} for path, r in records.items()}
    first_path, first = next(iter(identities.items()))
    for path, identity in identities.items():
        differences = [k for k in keys if identity[k] != first[k]]
        if differences:
            raise IdentityError(
                f"{path} and {first_path}: {what} of two different models ({describe(identity)} and "
                f"{describe(first)}; they differ in {', '.join(differences)}); {fix}"
            )


def check_runs(
    records: Sequence[tuple[str, Mapping[str, Any]]],
    expected: Sequence[Run] | None,
    fix: str,
) -> None:
    """Several runs read together (a table, the claims, a figure): each is a different run, and the
    ``i``-th is the ``i``-th expected one when an expectation is given."""
    if expected is not None and len(expected) != len(records):
        raise LGAEError(
            f"--expect names {len(expected)} runs for {len(records)} inputs; give one {Run.TEXT} "
            "per input, in the same order"
        )
    data = {json.dumps(_plain(r["data"]), sort_keys=True): w for w, r in records if r.get("data") is not None}
    if len(data) > 1:
        (first, a), (second, b) = list(data.items())[:2]
        raise IdentityError(
            f"{a} and {b}: runs evaluated on test jets of different preprocessings ({first} and {second}); "
            "predict and evaluate every run on the same processed data"
        )
    seen: dict[tuple[Any, ...], str] = {}
    for index, (where, record) in enumerate(records):
        if expected is not None:
            wanted = expected[index].record()
            differences = _differences(record, wanted)
            if differences:
                raise IdentityError(
                    f"{where}: holds {describe(record)}, but this step expects {describe(wanted)} "
                    f"there ({'; '.join(differences)}); {fix}"
                )
        key = tuple(_plain(record.get(k)) for k in RUN_KEYS)
        if key in seen:
            raise IdentityError(
                f"{where} and {seen[key]}: both hold {describe(record)}; one run given twice (or a file "
                f"copied over another run's) would count twice; {fix}"
            )
        seen[key] = str(where)
