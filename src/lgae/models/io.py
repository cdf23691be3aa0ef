"""Trained-model files: written by training, read by prediction, safe to open when they come from others.

A model file holds only tensors and plain data (the state dict, the registry name, the hyperparameters
and the run's metadata), and is read with ``torch.load(..., weights_only=True)``: a file that carries
anything else, e.g. a pickled callable that would run code when unpickled, is refused with a clear error
instead of being executed. Users do load models that others archived.
"""

from __future__ import annotations

import io
import json
import os
import pickle
from pathlib import Path
from typing import Any

import torch

from lgae.errors import LGAEError
from lgae.io import atomic_path
from lgae.models.base import JetAutoencoder
from lgae.models.registry import build

__all__ = [
    "DTYPES",
    "ModelFileError",
    "UnsafeFileError",
    "load_model",
    "load_plain",
    "read_model_file",
    "save_model",
]

DTYPES = {"float32": torch.float32, "float64": torch.float64}
_REQUIRED = ("state_dict", "name", "hyperparameters", "settings")


class ModelFileError(LGAEError):
    """A model file is missing, unreadable, or holds something other than tensors and plain data."""


def save_model(path: str | os.PathLike[str], model: JetAutoencoder, meta: dict[str, Any]) -> None:
    """Write a model (its weights, name and hyperparameters) and its metadata atomically.

    Args:
        path: The ``model.pt`` to write.
        model: The model.
        meta: Plain data (no objects), with a ``settings`` dict holding the training ``dtype``.

    Raises:
        ValueError: ``meta`` lacks the training settings' dtype.
    """
    if "settings" not in meta or "dtype" not in meta["settings"]:
        raise ValueError("meta needs the training settings (with their dtype) to rebuild the model")
    hyperparameters = dict(model.hyperparameters)
    payload = {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "name": hyperparameters.pop("name", None),
        "hyperparameters": hyperparameters,
        **_plain(meta),
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def _plain(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` as JSON-able plain data (e.g. ``torch.__version__`` is a str subclass the safe loader
    refuses), so that the file loads with ``weights_only=True``."""
    return json.loads(json.dumps(meta, default=str))


class UnsafeFileError(LGAEError):
    """A torch file holds more than tensors and plain data: unpickling it could run code."""


def load_plain(path: Path) -> Any:
    """``torch.load(path, weights_only=True)``, refusing anything but tensors and plain data.

    Args:
        path: A torch file.

    Returns:
        Its content.

    Raises:
        UnsafeFileError: The file carries anything else (unpickling it could run code).
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UnsafeFileError(
            f"{path}: refusing to load it: the file holds objects other than tensors and plain data "
            f"(loading them could run code; {str(exc).splitlines()[0]})."
        ) from exc


def read_model_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The payload of a model file (tensors and plain data only), with errors that name the file.

    Args:
        path: A ``model.pt``.

    Returns:
        ``{"name", "hyperparameters", "state_dict", "settings", …}``: the model and its metadata.

    Raises:
        ModelFileError: The file is missing, unreadable or unsafe.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: trained model not found; run the train step first")
    try:
        payload = load_plain(path)
    except UnsafeFileError as exc:
        raise ModelFileError(
            f"{exc} Only load model files written by `lgae train`, or retrain the model."
        ) from exc
    except Exception as exc:  # a damaged or foreign file fails in unpickling in any of many ways
        raise ModelFileError(
            f"{path}: not a readable model file ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "delete it and rerun the train step"
        ) from exc
    if not isinstance(payload, dict) or any(key not in payload for key in _REQUIRED):
        raise ModelFileError(
            f"{path}: not a model file written by `lgae train` (expected the keys {list(_REQUIRED)})"
        )
    return payload


def load_model(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[JetAutoencoder, dict[str, Any]]:
    """The trained model of a model file, in eval mode, in its training dtype.

    Args:
        path: A ``model.pt`` written by [`save_model`][lgae.models.io.save_model].
        device: Where the model goes.

    Returns:
        ``(model, meta)``.

    Raises:
        ModelFileError: The file is missing, unreadable, unsafe or does not match its model.
    """
    payload = read_model_file(path)
    meta = {k: v for k, v in payload.items() if k not in ("state_dict", "hyperparameters")}
    dtype = DTYPES.get(str(payload["settings"].get("dtype")))
    if dtype is None:
        raise ModelFileError(f"{path}: unknown training dtype {payload['settings'].get('dtype')!r}")
    model = build(str(payload["name"]), **payload["hyperparameters"]).to(dtype)
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise ModelFileError(
            f"{path}: its weights do not fit the model {payload['name']!r} with its hyperparameters "
            f"({str(exc).splitlines()[0]}); the file was written by another version: retrain it"
        ) from exc
    return model.to(device).eval(), meta
