"""Lorentz group equivariant autoencoders (LGAE) for jets, and the pipeline that reproduces the paper.

Layers, from the bottom up: :mod:`lgae.lorentz` (Minkowski geometry), :mod:`lgae.group` (irreps of
SO+(3,1) and Clebsch–Gordan products), :mod:`lgae.nn` (layers), :mod:`lgae.models` (autoencoders and
``lgae.models.build``), :mod:`lgae.data` (JetNet / Pythia jets and preprocessing). Only :mod:`lgae.cli`
knows about files laid out by the workflow.
"""

from __future__ import annotations

__version__ = "0.1.0"
