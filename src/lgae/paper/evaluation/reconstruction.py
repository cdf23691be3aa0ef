"""Reconstruction quality (paper Tables 2, 3 and Fig. 7): relative errors of particle and jet features.

- **Particle features** (Table 2): (pT_rel, η_rel, φ_rel) of each cloud relative to its *own* jet axis (the
  sum of its real particles), input and output particles paired per jet by
  :func:`~lgae.paper.evaluation.matching.match_particles` (or slot by slot with ``matching="ordered"``).
- **Jet features** (Table 3): mass, pT, η, φ of the summed 4-momenta (the CNNAE's from its pixels).

Relative error of a feature x, ``convention="target"`` (our default): ``(x_rec − x_tgt) / x_tgt``;
``"authors"``: ``(x_rec − x_tgt) / (x_rec + 1e-16)``, what the authors' code effectively computes (its
helper is called with the arguments swapped). Differences of azimuths are wrapped into [−π, π) first.
Statistics: median, IQR = q75 − q25 (as ``scipy.stats.iqr``) and the median of |error| (Fig. 7), over
the finite values; the number of non-finite errors (a target feature that is exactly zero, or a jet whose
reconstruction holds a NaN or inf: all of its errors) is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import torch

from lgae.group.lorentz import wrap_phi
from lgae.jets import relative_coordinates
from lgae.paper.evaluation.matching import match_particles
from lgae.pipeline.inference import JET_FEATURES, Predictions

__all__ = [
    "PARTICLE_FEATURES",
    "RELATIVE_ERRORS",
    "error_summary",
    "jet_errors",
    "particle_errors",
    "reconstruction_metrics",
    "relative_error",
]

Convention = Literal["target", "authors"]
Matching = Literal["hungarian", "ordered"]
RELATIVE_ERRORS: tuple[str, ...] = ("target", "authors")
MATCHINGS: tuple[str, ...] = ("hungarian", "ordered")
PARTICLE_FEATURES: tuple[str, ...] = ("pt_rel", "eta_rel", "phi_rel")
PERIODIC = {"phi_rel", "phi"}
EPS = 1e-16


def relative_error(
    recon: np.ndarray, target: np.ndarray, convention: Convention = "target", periodic: bool = False
) -> np.ndarray:
    """Element-wise relative error of ``recon`` with respect to ``target`` (see the module docstring).

    Args:
        recon: Reconstructed values, any shape.
        target: Target values, the same shape.
        convention: ``"target"``: ``(x_rec − x_tgt) / x_tgt``; ``"authors"``: divided by ``x_rec + 1e-16``.
        periodic: Azimuths: the difference is wrapped into [−π, π) first.

    Returns:
        The relative errors, the same shape (inf or NaN where the denominator is 0).
    """
    recon = np.asarray(recon, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    diff = wrap_phi(recon - target) if periodic else recon - target
    with np.errstate(divide="ignore", invalid="ignore"):
        if convention == "target":
            return diff / target
        if convention == "authors":
            return diff / (recon + EPS)
    raise ValueError(f"unknown relative-error convention {convention!r}; use one of {RELATIVE_ERRORS}")


def error_summary(errors: np.ndarray) -> dict[str, float | int]:
    """Median, IQR and median |error| of the finite errors, and how many there were.

    Args:
        errors: Relative errors, any shape.

    Returns:
        ``{"median", "iqr", "median_abs", "n", "non_finite"}``; NaN statistics when no error is finite.
    """
    errors = np.asarray(errors, dtype=np.float64).ravel()
    finite = errors[np.isfinite(errors)]
    if finite.size == 0:
        nan = float("nan")
        return {"median": nan, "iqr": nan, "median_abs": nan, "n": 0, "non_finite": int(errors.size)}
    q25, q50, q75 = np.percentile(finite, [25, 50, 75])
    return {
        "median": float(q50),
        "iqr": float(q75 - q25),
        "median_abs": float(np.median(np.abs(finite))),
        "n": int(finite.size),
        "non_finite": int(errors.size - finite.size),
    }


def _relative_features(p4: np.ndarray, mask: np.ndarray) -> np.ndarray:
    rel, _, _, _ = relative_coordinates(torch.as_tensor(p4, dtype=torch.float64), torch.as_tensor(mask))
    return rel.numpy()


def particle_errors(
    p4: np.ndarray,
    mask: np.ndarray,
    recon_p4: np.ndarray,
    recon_mask: np.ndarray | None = None,
    matching: Matching = "hungarian",
    convention: Convention = "target",
) -> dict[str, np.ndarray]:
    """Relative errors of (pT_rel, η_rel, φ_rel) of every matched real particle, per feature.

    Args:
        p4: Input 4-momenta ``[B, N, 4]``.
        mask: Real input particles ``[B, N]``.
        recon_p4: Reconstructed 4-momenta ``[B, M, 4]``.
        recon_mask: Real output particles ``[B, M]``; None: all.
        matching: ``"hungarian"`` pairs particles optimally per jet, ``"ordered"`` slot by slot.
        convention: ``"target"``: ``(x_rec − x_tgt) / x_tgt``; ``"authors"``: divided by ``x_rec + 1e-16``.

    Returns:
        ``{"pt_rel", "eta_rel", "phi_rel"}``, each the errors of the matched pairs ``[P]``.
    """
    recon_mask = mask if recon_mask is None else recon_mask
    # a jet whose reconstruction is not finite has no meaningful particle errors: it is matched as if
    # perfect, then every error of it is NaN, so that it counts as non-finite and moves no median
    broken = _non_finite_jets(recon_p4, recon_mask)
    recon_p4 = np.where(broken[:, None, None], 0.0, recon_p4)
    target = _relative_features(p4, mask)
    output = _relative_features(recon_p4, recon_mask)
    if matching == "hungarian":
        jet, t_slot, o_slot = match_particles(target, output, mask, recon_mask)
    elif matching == "ordered":
        jet, t_slot = np.nonzero(np.asarray(mask, bool) & np.asarray(recon_mask, bool))
        o_slot = t_slot
    else:
        raise ValueError(f"unknown matching {matching!r}; use one of {MATCHINGS}")
    t, o = target[jet, t_slot], output[jet, o_slot]
    o = np.where(broken[jet][:, None], np.nan, o)
    return {
        name: relative_error(o[:, k], t[:, k], convention, periodic=name in PERIODIC)
        for k, name in enumerate(PARTICLE_FEATURES)
    }


def _non_finite_jets(recon_p4: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """[B] bool: jets with a non-finite reconstructed value in a real slot."""
    finite = np.isfinite(np.asarray(recon_p4, dtype=np.float64)).all(axis=-1)
    return (np.asarray(mask, bool) & ~finite).any(axis=-1)


def jet_errors(
    jet_features: np.ndarray, recon_jet_features: np.ndarray, convention: Convention = "target"
) -> dict[str, np.ndarray]:
    """Relative errors of the jet features.

    Args:
        jet_features: Input jet features ``[B, F]``, columns ``JET_FEATURES`` of
            ``lgae.pipeline.inference`` (mass, pt, eta, phi).
        recon_jet_features: Reconstructed ones ``[B, F]``.
        convention: ``"target"``: ``(x_rec − x_tgt) / x_tgt``; ``"authors"``: divided by ``x_rec + 1e-16``.

    Returns:
        ``{feature: errors [B]}`` (φ periodic).
    """
    return {
        name: relative_error(
            recon_jet_features[:, k], jet_features[:, k], convention, periodic=name in PERIODIC
        )
        for k, name in enumerate(JET_FEATURES)
    }


def _class_errors(p: Predictions, matching: Matching, convention: Convention) -> dict[str, Any]:
    """The raw relative errors of one class: jet features always, particle features for particle models."""
    recon_jet_features = np.asarray(p.recon_jet_features, dtype=np.float64)
    if p.recon_p4 is not None:  # a non-finite particle makes the whole jet's features non-finite
        broken = _non_finite_jets(p.recon_p4, p.mask)
        recon_jet_features = np.where(broken[:, None], np.nan, recon_jet_features)
    out: dict[str, Any] = {
        "jet": jet_errors(p.jet_features, recon_jet_features, convention),
        "particle": None,
    }
    if p.recon_p4 is not None:
        out["particle"] = particle_errors(p.p4, p.mask, p.recon_p4, None, matching, convention)
    return out


def _summaries(errors: Sequence[dict[str, Any]], jets: int) -> dict[str, Any]:
    """Statistics of the concatenated errors of one or several classes."""
    out: dict[str, Any] = {"jets": jets, "particle": None}
    for level in ("jet", "particle"):
        if all(e[level] is not None for e in errors):
            out[level] = {
                k: error_summary(np.concatenate([e[level][k] for e in errors])) for k in errors[0][level]
            }
    return out


def reconstruction_metrics(
    predictions: Mapping[str, Predictions],
    background: Sequence[str],
    matching: Matching = "hungarian",
    convention: Convention = "target",
) -> dict[str, Any]:
    """Table 2/3 quantities for the QCD background and for every class separately.

    Args:
        predictions: ``{class: Predictions}`` of one model.
        background: The background classes, pooled as ``"qcd"``.
        matching: ``"hungarian"`` or ``"ordered"`` (see ``particle_errors``).
        convention: ``"target"``: ``(x_rec − x_tgt) / x_tgt``; ``"authors"``: divided by ``x_rec + 1e-16``.

    Returns:
        Per group (``"qcd"`` and each class) the summaries of the particle features (None for a model
        without particle outputs, the CNNAE) and of the jet features, with the settings used.
    """
    errors = {c: _class_errors(p, matching, convention) for c, p in predictions.items()}
    groups = {
        "qcd": _summaries([errors[c] for c in background], sum(len(predictions[c]) for c in background))
    }
    groups.update({c: _summaries([errors[c]], len(predictions[c])) for c in predictions})
    return {
        "matching": matching,
        "relative_error": convention,
        "background": list(background),
        "groups": groups,
    }
