"""The paper's outputs: evaluation, figures, plots, tables, claims and the paper's own numbers."""

from __future__ import annotations
