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
import os
from collections.abc import Mapping, Sequence
from typing import Any

from lgae.errors import DataError, LGAEError

__all__ = [
    "RUN_KEYS",
    "IdentityError",
    "check_expected",
    "describe",
    "parse_expected",
    "parse_run",
    "run_record",
    "same_model",
]

#: what names a run in the workflow's paths: results/<kind>/<model>/<latent>/seed<seed>/frac<fraction>
RUN_KEYS: tuple[str, ...] = ("model", "latent", "seed", "fraction")
#: what, besides the settings, tells two models apart (the training data and the model file)
_MODEL_KEYS: tuple[str, ...] = ("fingerprint", "model_file")


class IdentityError(DataError):
    """A file belongs to another run than the one the step expects."""


def _plain(value: Any) -> Any:
    """``value`` as JSON would give it back (tuples become lists, numpy scalars numbers)."""
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


def run_record(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The run's name (model, latent, seed, fraction) from its training settings."""
    return {
        "model": str(settings["model"]),
        "latent": int(settings["latent"]),
        "seed": int(settings["seed"]),
        "fraction": float(settings["train_fraction"]),
    }


def describe(record: Mapping[str, Any]) -> str:
    """``lgae-mix latent 9 seed 1 fraction 1`` (what is known of it)."""
    parts = [str(record.get("model", "?"))]
    for key in RUN_KEYS[1:]:
        if record.get(key) is not None:
            value = record[key]
            parts.append(f"{key} {value:g}" if isinstance(value, float) else f"{key} {value}")
    return " ".join(parts)


def parse_run(text: str, key: str = "--expect") -> dict[str, Any]:
    """``MODEL:LATENT:SEED:FRACTION`` (how the workflow names a run on a command line) as a record."""
    parts = text.split(":")
    try:
        if len(parts) != 4:
            raise ValueError
        return {
            "model": parts[0],
            "latent": int(parts[1]),
            "seed": int(parts[2]),
            "fraction": float(parts[3]),
        }
    except ValueError as exc:
        raise LGAEError(f"{key} {text!r}: expected MODEL:LATENT:SEED:FRACTION, e.g. lgae-mix:9:1:1") from exc


def parse_expected(text: str | None, key: str = "--expect") -> dict[str, Any] | None:
    """The expectation of a single-run step: a JSON object of training settings (``model``, ``latent``,
    ``seed``, ``train_fraction``, ... as :class:`lgae.pipeline.training.TrainSettings` names them), or
    ``MODEL:LATENT:SEED:FRACTION``."""
    if text is None:
        return None
    if not text.lstrip().startswith("{"):
        record = parse_run(text, key)
        return {**{k: record[k] for k in RUN_KEYS if k != "fraction"}, "train_fraction": record["fraction"]}
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
    expected: Sequence[Mapping[str, Any]] | None,
    fix: str,
) -> None:
    """Several runs read together (a table, the claims, a figure): each is a different run, and the
    ``i``-th is the ``i``-th expected one when an expectation is given."""
    if expected is not None and len(expected) != len(records):
        raise LGAEError(
            f"--expect names {len(expected)} runs for {len(records)} inputs; give one MODEL:LATENT:SEED:FRACTION "
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
            differences = _differences(record, expected[index])
            if differences:
                raise IdentityError(
                    f"{where}: holds {describe(record)}, but this step expects {describe(expected[index])} "
                    f"there ({'; '.join(differences)}); {fix}"
                )
        key = tuple(_plain(record.get(k)) for k in RUN_KEYS)
        if key in seen:
            raise IdentityError(
                f"{where} and {seen[key]}: both hold {describe(record)}; one run given twice (or a file "
                f"copied over another run's) would count twice; {fix}"
            )
        seen[key] = str(where)
