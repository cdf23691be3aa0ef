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
from lgae.jets.images import (
    DEFAULT_MAX_R,
    DEFAULT_NPIX,
    image_jet_features,
    image_to_p4,
    jet_images,
    jet_images_from_p4,
    pixel_centres,
)

__all__ = [
    "DEFAULT_MAX_R",
    "DEFAULT_NPIX",
    "absolute_p4",
    "image_jet_features",
    "image_to_p4",
    "jet_features",
    "jet_images",
    "jet_images_from_p4",
    "jet_p4",
    "nonnegative_pt",
    "pixel_centres",
    "ptetaphi",
    "relative_coordinates",
    "sanitize_p4",
]
