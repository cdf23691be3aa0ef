"""Configuration: schema validation (the same schema Snakemake uses) plus the cross-key checks a
JSON schema cannot express. Errors name the key and say how to fix it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from lgae.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO_ROOT / "config" / "schema.yaml"


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def validate(config: dict[str, Any], schema_path: str | os.PathLike[str] = SCHEMA_PATH) -> dict[str, Any]:
    """Validate against the schema, then check consistency between keys."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for error in errors:
            if error.validator == "additionalProperties":
                allowed = sorted(error.schema.get("properties", {}))
                lines.append(f"{_key_path(error)}: {error.message} (allowed keys: {', '.join(allowed)})")
            else:
                lines.append(f"{_key_path(error)}: {error.message}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    check_consistency(config)
    return config


def check_consistency(config: dict[str, Any]) -> None:
    """Relations between keys: background and signals are prepared classes, the split sums to 1, ..."""
    data = config["data"]
    classes = set(data["classes"])
    for key in ("background", "signals"):
        missing = [c for c in data[key] if c not in classes]
        if missing:
            raise ConfigError(
                f"data.{key} lists {missing}, which data.classes does not prepare; add them there"
            )
    overlap = set(data["background"]) & set(data["signals"])
    if overlap:
        raise ConfigError(
            f"data.background and data.signals share {sorted(overlap)}; a class is one or the other"
        )
    if abs(sum(data["split"]) - 1.0) > 1e-9:
        raise ConfigError(f"data.split = {data['split']} sums to {sum(data['split'])}, not 1")
    pythia = data["pythia"]
    if pythia["jet_pt_min"] >= pythia["jet_pt_max"]:
        raise ConfigError("data.pythia.jet_pt_min must be below data.pythia.jet_pt_max")
    if pythia["pthat_max"] > 0 and pythia["pthat_min"] >= pythia["pthat_max"]:
        raise ConfigError("data.pythia.pthat_min must be below data.pythia.pthat_max (or set pthat_max <= 0)")


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a YAML config file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return validate(config)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
