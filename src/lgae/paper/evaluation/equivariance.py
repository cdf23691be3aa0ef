"""Equivariance of trained models (paper App. C, Fig. 9): boost and rotation scans, and their summary.

The scans run in float64 (the model is copied to double precision, as the paper does) on QCD test jets:
boosts along z with rapidity 0 … 10 (26 points, γ up to cosh 10 ≈ 11013) and rotations about z over
[0, 2π] (26 points). At each point both the paper's Eq. 13 and the strict deviation are recorded (see
:mod:`lgae.equivariance`). Running a model makes :func:`scan_model` part of the predict step; the
summary is a pure function of its output.
"""

from __future__ import annotations

import copy
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from lgae.equivariance import boost_scan, rotation_scan
from lgae.jets import sanitize_p4
from lgae.models.base import JetAutoencoder

__all__ = ["scan_model", "summarize"]

CHUNK = 256  # jets per forward pass in the scans


def scan_model(model: JetAutoencoder, p4: np.ndarray, mask: np.ndarray, device: torch.device | str) -> dict:
    """Boost and rotation scans of a model's reconstructed 4-momenta, in float64.

    Args:
        model: A trained autoencoder (copied to float64; the original is untouched).
        p4: Jets ``[B, N, 4]``.
        mask: Real particles ``[B, N]``.
        device: Where the scans run.

    Returns:
        ``{"jets", "dtype", "boost_z": [point, …], "rotation_z": [point, …]}``, each point a
        [`ScanPoint`][lgae.equivariance.ScanPoint] as a dict.
    """
    model64 = copy.deepcopy(model).to(device=device, dtype=torch.float64).eval()
    p4_t = torch.as_tensor(p4, dtype=torch.float64, device=device)
    mask_t = torch.as_tensor(mask, device=device)

    def reconstruct(p: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        # in chunks, so that memory stays bounded (the pairwise tensors of 3000 jets in float64 are ~1 GB)
        out = [
            sanitize_p4(
                model64.output_to_p4(
                    model64(p[i : i + CHUNK], m[i : i + CHUNK]), p[i : i + CHUNK], m[i : i + CHUNK]
                ),
                m[i : i + CHUNK],
            )
            for i in range(0, len(p), CHUNK)
        ]
        return torch.cat(out)

    with torch.inference_mode():
        boosts = boost_scan(reconstruct, p4_t, mask_t)
        rotations = rotation_scan(reconstruct, p4_t, mask_t)
    return {
        "jets": len(p4),
        "dtype": "float64",
        "boost_z": [asdict(point) for point in boosts],
        "rotation_z": [asdict(point) for point in rotations],
    }


def summarize(scans: dict[str, Any]) -> dict[str, Any]:
    """The largest deviations of each scan (both measures), for the claims and the tables.

    Args:
        scans: The output of [`scan_model`][lgae.paper.evaluation.equivariance.scan_model], or a record
            ``{"reason": …}`` of why a model was not scanned.

    Returns:
        ``{"scanned", "jets", "<scan>_<paper|strict>_max", "<scan>_gamma_max"}``, or
        ``{"scanned": False, "reason"}``.
    """
    if not scans.get("scanned", True):
        return {"scanned": False, "reason": scans.get("reason", "")}
    out: dict[str, Any] = {"scanned": True, "jets": scans["jets"]}
    for name in ("boost_z", "rotation_z"):
        points = scans[name]
        for measure in ("paper", "strict"):
            values = np.array([p[measure] for p in points])
            out[f"{name}_{measure}_max"] = float(values.max())
        out[f"{name}_gamma_max"] = float(max(p["gamma"] for p in points))
    return out
