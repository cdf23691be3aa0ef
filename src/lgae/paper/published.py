"""The paper's own numbers (Tables 2-4, Figs. 4, 5, 7, 9), as data: ``paper_numbers.yaml`` beside this
module, recovered from the paper and its dissertation reprint. Values the paper prints as "<10⁻³" are kept
as the text ``"<1e-3"``."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from lgae.errors import DataError
from lgae.io import read_yaml

__all__ = ["BELOW_RESOLUTION", "numbers", "paper_row", "paper_value"]

NUMBERS_PATH = Path(__file__).with_name("paper_numbers.yaml")
BELOW_RESOLUTION = "<1e-3"


@functools.cache
def numbers() -> dict[str, Any]:
    """Everything in ``paper_numbers.yaml``."""
    return read_yaml(NUMBERS_PATH, DataError)


def paper_row(table: str, model: str, latent: int) -> dict[str, Any] | None:
    """The paper's row of ``table`` for a model and latent size, or None when the paper has none."""
    entry = numbers()[table]
    rows = entry["rows"] if isinstance(entry, dict) else entry
    return next((r for r in rows if r["model"] == model and r["latent"] == latent), None)


def paper_value(value: Any) -> float:
    """A paper number as a float: "<1e-3" becomes 0.0005 (the middle of what it allows), for comparisons."""
    return 5e-4 if value == BELOW_RESOLUTION else float(value)
