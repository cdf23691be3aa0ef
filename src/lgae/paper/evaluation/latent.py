"""The LGAE's latent space (paper §4.5, Figs. 5, 6): what its 4-vectors encode.

The latent vectors are complex Cartesian 4-vectors; the group acts on their real and imaginary parts
alike, so each part is a real 4-vector. The paper correlates the **imaginary part of the sum of the
latent vectors** with the jet's momentum (Fig. 5) and shows the invariant masses p² of the vectors of one
part (Fig. 6); we do the same with the imaginary part, and report the real part beside it (in our model
the output is the real part of the decoder's last complex vector, so the roles of the parts need not
match the authors').
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from lgae.group.lorentz import minkowski_norm2
from lgae.pipeline.inference import Predictions

__all__ = ["PARTS", "latent_metrics", "latent_part", "pearson", "vector_masses"]

Part = Literal["imag", "real"]
PARTS: tuple[str, ...] = ("imag", "real")
COMPONENTS: tuple[str, ...] = ("E", "px", "py", "pz")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def latent_part(vectors: np.ndarray, part: Part = "imag") -> np.ndarray:
    """One part of complex latent vectors.

    Args:
        vectors: Complex latent 4-vectors ``[N, V, 4]``.
        part: ``"imag"`` (the paper's) or ``"real"``.

    Returns:
        Real 4-vectors ``[N, V, 4]``.
    """
    if part == "imag":
        return np.imag(vectors).astype(np.float64)
    if part == "real":
        return np.real(vectors).astype(np.float64)
    raise ValueError(f"unknown part {part!r}; use one of {PARTS}")


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's correlation coefficient of two samples.

    Args:
        x: ``[N]``.
        y: ``[N]``.

    Returns:
        r, or NaN when either sample is constant.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.size != y.size or x.size < 2:
        raise ValueError(f"pearson needs two samples of equal size >= 2, got {x.size} and {y.size}")
    dx, dy = x - x.mean(), y - y.mean()
    denominator = np.sqrt((dx * dx).sum() * (dy * dy).sum())
    return float((dx * dy).sum() / denominator) if denominator > 0 else float("nan")


def vector_masses(vectors: np.ndarray, part: Part = "imag") -> tuple[np.ndarray, np.ndarray]:
    """Invariant masses squared p² of each latent vector and of their sum, of one part.

    Args:
        vectors: Complex latent 4-vectors ``[N, V, 4]``.
        part: ``"imag"`` or ``"real"``.

    Returns:
        ``(per_vector [N, V], of_the_sum [N])``.
    """
    real = latent_part(vectors, part)
    return minkowski_norm2(real), minkowski_norm2(real.sum(axis=1))


def _quantiles(values: np.ndarray) -> dict[str, float]:
    return {
        f"q{round(100 * q):02d}": float(v)
        for q, v in zip(QUANTILES, np.quantile(values, QUANTILES), strict=True)
    }


def latent_metrics(predictions: Mapping[str, Predictions], background: Sequence[str]) -> dict[str, Any]:
    """What the latent 4-vectors encode (Figs. 5, 6).

    Args:
        predictions: ``{class: Predictions}`` of one model.
        background: The background classes, pooled as the QCD test jets.

    Returns:
        Pearson r of the summed latent 4-vector (each part) with the jet 4-momentum on the QCD test jets,
        and quantiles of the latent invariant masses per class; empty for models without a Lorentz latent.
    """
    if any("vectors" not in p.latent for p in predictions.values()):
        return {"lorentz_latent": False}
    qcd = [predictions[c] for c in background]
    jet = np.concatenate([p.p4.astype(np.float64).sum(axis=1) for p in qcd])  # [N, 4] (E, px, py, pz)
    vectors = np.concatenate([p.latent["vectors"] for p in qcd])
    correlation = {
        part: {
            name: pearson(latent_part(vectors, part).sum(axis=1)[:, k], jet[:, k])
            for k, name in enumerate(COMPONENTS)
        }
        for part in PARTS
    }
    masses: dict[str, Any] = {}
    for jet_class, p in predictions.items():
        masses[jet_class] = {}
        for part in PARTS:
            each, total = vector_masses(p.latent["vectors"], part)
            masses[jet_class][part] = {
                "vectors": [_quantiles(each[:, v]) for v in range(each.shape[1])],
                "total": _quantiles(total),
            }
    return {
        "lorentz_latent": True,
        "latent_vectors": int(vectors.shape[1]),
        "correlation_with_jet_momentum": correlation,
        "invariant_mass_squared_TeV2": masses,
    }
