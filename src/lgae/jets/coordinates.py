"""Jet-level helpers shared by the models and the evaluation: jet axis, relative coordinates, jet features.

Relative coordinates are taken with respect to the axis of the input jet, i.e. the sum of the 4-momenta of
its *real* particles: ``pt_rel = pT_i / pT_jet``, ``eta_rel = η_i − η_jet`` (pseudorapidities) and
``phi_rel = wrap(φ_i − φ_jet)`` in ``[−π, π)``. Everything here is torch, differentiable and follows the
dtype/device of its inputs. Padded slots may hold anything (even NaN): they are replaced by a harmless
placeholder before any arithmetic, so neither values nor gradients are contaminated, and they come out
as exact zeros.
"""

from __future__ import annotations

import torch

from lgae.group.lorentz import mass_from_p4, wrap_phi

__all__ = [
    "absolute_p4",
    "jet_features",
    "jet_p4",
    "nonnegative_pt",
    "ptetaphi",
    "relative_coordinates",
    "sanitize_p4",
]


def _full_mask(p4: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return torch.ones(p4.shape[:-1], dtype=torch.bool, device=p4.device)
    return mask.to(device=p4.device, dtype=torch.bool)


def sanitize_p4(p4: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``p4`` with padded slots replaced by zeros (``torch.where``, so garbage, inf or NaN cannot leak).

    Args:
        p4: 4-momenta ``[..., N, 4]``.
        mask: Real particles ``[..., N]``; None: all real (``p4`` is returned as is).

    Returns:
        ``[..., N, 4]``, zero in the padded slots.
    """
    if mask is None:
        return p4
    keep = _full_mask(p4, mask).unsqueeze(-1)
    return torch.where(keep, p4, torch.zeros((), dtype=p4.dtype, device=p4.device))


def jet_p4(p4: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The jet's 4-momentum: the sum over its real particles.

    Args:
        p4: Particle 4-momenta ``[..., N, 4]``.
        mask: Real particles ``[..., N]``; None: all.

    Returns:
        ``[..., 4]``.
    """
    return sanitize_p4(p4, mask).sum(dim=-2)


def ptetaphi(p4: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(pT, η, φ)`` of 4-vectors, with finite values *and gradients* everywhere.

    Where pT = 0 the direction is undefined: pT, η and φ are reported as 0 and get zero gradient
    (``lorentz.ptetaphi_from_p4`` gives the same values but NaN gradients there, from ``hypot`` and
    ``atan2`` at the origin).

    Args:
        p4: 4-vectors ``[..., 4]``.

    Returns:
        ``(pt, eta, phi)``, each ``[...]``.
    """
    px, py, pz = p4[..., 1], p4[..., 2], p4[..., 3]
    pt2 = px * px + py * py
    ok = pt2 > 0
    one = torch.ones((), dtype=p4.dtype, device=p4.device)
    zero = torch.zeros((), dtype=p4.dtype, device=p4.device)
    px_s = torch.where(ok, px, one)
    py_s = torch.where(ok, py, zero)
    pt_s = torch.sqrt(px_s * px_s + py_s * py_s)  # > 0 everywhere
    pt = torch.where(ok, pt_s, zero)
    eta = torch.where(ok, torch.asinh(torch.where(ok, pz, zero) / pt_s), zero)
    phi = torch.where(ok, torch.atan2(py_s, px_s), zero)
    return pt, eta, phi


def relative_coordinates(
    p4: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Particles relative to their jet axis (the sum of the real particles' 4-momenta).

    A jet without real particles (or with zero pT) gets the axis pT = 1, η = φ = 0 so that nothing
    divides by zero.

    Args:
        p4: Particle 4-momenta ``[B, N, 4]``.
        mask: Real particles ``[B, N]``; None: all.

    Returns:
        ``(rel, jet_pt, jet_eta, jet_phi)``: ``rel`` ``[B, N, 3]`` ordered (pt_rel, eta_rel, phi_rel),
        exactly zero in padded slots, and the jet's pT, η, φ ``[B]``.
    """
    keep = _full_mask(p4, mask)
    clean = sanitize_p4(p4, keep)
    jet_pt, jet_eta, jet_phi = ptetaphi(clean.sum(dim=-2))
    jet_pt = torch.where(jet_pt > 0, jet_pt, torch.ones_like(jet_pt))
    pt, eta, phi = ptetaphi(clean)
    rel = torch.stack(
        [
            pt / jet_pt.unsqueeze(-1),
            eta - jet_eta.unsqueeze(-1),
            wrap_phi(phi - jet_phi.unsqueeze(-1)),
        ],
        dim=-1,
    )
    rel = torch.where(keep.unsqueeze(-1), rel, torch.zeros((), dtype=rel.dtype, device=rel.device))
    return rel, jet_pt, jet_eta, jet_phi


def nonnegative_pt(rel: torch.Tensor) -> torch.Tensor:
    """Relative coordinates with a negative ``pt_rel`` set to 0: a reconstruction in relative
    coordinates (the GNNAE's) read as particles, which cannot have negative pT.

    Args:
        rel: ``[..., 3]`` (pt_rel, eta_rel, phi_rel).

    Returns:
        The same shape; η_rel and φ_rel as given.
    """
    return torch.cat([rel[..., :1].clamp(min=0), rel[..., 1:]], dim=-1)


def absolute_p4(
    rel: torch.Tensor,
    jet_pt: torch.Tensor,
    jet_eta: torch.Tensor,
    jet_phi: torch.Tensor,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Massless ``(E, px, py, pz)`` from relative coordinates and a jet axis.

    The inverse of [`relative_coordinates`][lgae.jets.relative_coordinates] for massless particles.
    ``pt_rel`` is used as given (callers that want to forbid negative pT pass it through
    [`nonnegative_pt`][lgae.jets.nonnegative_pt] first).

    Args:
        rel: ``[B, N, 3]`` (pt_rel, eta_rel, phi_rel).
        jet_pt: The axis's pT ``[B]``.
        jet_eta: Its η ``[B]``.
        jet_phi: Its φ ``[B]``.
        mask: Real particles ``[B, N]``; padded slots come out zero. None: all.

    Returns:
        4-momenta ``[B, N, 4]``.
    """
    pt = rel[..., 0] * jet_pt.unsqueeze(-1)
    eta = rel[..., 1] + jet_eta.unsqueeze(-1)
    phi = rel[..., 2] + jet_phi.unsqueeze(-1)  # cos/sin need no wrapping
    p4 = torch.stack(
        [pt * torch.cosh(eta), pt * torch.cos(phi), pt * torch.sin(phi), pt * torch.sinh(eta)], dim=-1
    )
    return sanitize_p4(p4, mask)


def jet_features(p4: torch.Tensor, mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Jet mass, pT, η and φ of the summed real particles.

    Args:
        p4: Particle 4-momenta ``[B, N, 4]``.
        mask: Real particles ``[B, N]``; None: all.

    Returns:
        ``{"mass", "pt", "eta", "phi"}``, each ``[B]``; the mass is signed (``lorentz.mass_from_p4``).
    """
    total = jet_p4(p4, mask)
    pt, eta, phi = ptetaphi(total)
    return {"mass": mass_from_p4(total), "pt": pt, "eta": eta, "phi": phi}
