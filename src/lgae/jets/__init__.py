"""Jets as the models see them: 4-momenta of up to 30 particles and a mask, their relative coordinates
and jet features (:mod:`lgae.jets.coordinates`), and jet images (:mod:`lgae.jets.images`, the CNNAE's
input and Fig. 2)."""

from __future__ import annotations

from lgae.jets.coordinates import (
    absolute_p4,
    jet_features,
    jet_p4,
    nonnegative_pt,
    ptetaphi,
    relative_coordinates,
    sanitize_p4,
)

__all__ = [
    "absolute_p4",
    "jet_features",
    "jet_p4",
    "nonnegative_pt",
    "ptetaphi",
    "relative_coordinates",
    "sanitize_p4",
]
