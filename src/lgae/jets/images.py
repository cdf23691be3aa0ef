"""Jet images: the CNNAE's input and output, and the picture of every model's reconstruction (paper Fig. 2).

Convention: an image is indexed ``image[..., i_phi, i_eta]``, i.e. **rows are φ_rel and columns are
η_rel**, both increasing with the index, over ``[−max_r, max_r)`` split into ``npix`` equal bins. So
``plt.imshow(image, origin="lower", extent=(-max_r, max_r, -max_r, max_r))`` draws η_rel on the x axis
and φ_rel on the y axis, as in the paper's Fig. 2 and the authors' pixelisation (``image[φ_bin, η_bin]``).
Pixel values are the summed pT_rel of the particles in the pixel; particles outside the window are
dropped; the image is then normalised to sum 1 (an image with nothing in the window stays all zero).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lgae.jets.coordinates import jet_features, relative_coordinates

__all__ = [
    "DEFAULT_MAX_R",
    "DEFAULT_NPIX",
    "image_jet_features",
    "image_to_p4",
    "jet_images",
    "jet_images_from_p4",
    "pixel_centres",
]

DEFAULT_NPIX = 40
#: half-width of the image window in η_rel and φ_rel: the jet radius R = 0.8 of JetNet (and the CNNAE code)
DEFAULT_MAX_R = 0.8


def pixel_centres(
    npix: int, max_r: float, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
) -> torch.Tensor:
    """Centres [npix] of the bins of ``[−max_r, max_r)`` (the same for the η and φ axes)."""
    width = 2.0 * max_r / npix
    return -max_r + width * (torch.arange(npix, dtype=dtype, device=device) + 0.5)


def jet_images(
    eta_rel: Any,
    phi_rel: Any,
    pt_rel: Any,
    mask: Any = None,
    npix: int = DEFAULT_NPIX,
    max_r: float = DEFAULT_MAX_R,
    normalise: bool = True,
) -> Any:
    """Pixelate jets: [B, N] coordinates → [B, npix, npix] images (``image[b, i_phi, i_eta]``).

    Accepts torch tensors (differentiable in ``pt_rel``) or numpy arrays (returns numpy). ``mask``
    [B, N] bool marks real particles (default: all). Values of padded particles are ignored.
    """
    as_numpy = not isinstance(pt_rel, torch.Tensor)
    pt = torch.as_tensor(pt_rel)
    if not pt.is_floating_point():
        pt = pt.to(torch.get_default_dtype())
    eta = torch.as_tensor(eta_rel, device=pt.device).to(pt.dtype)
    phi = torch.as_tensor(phi_rel, device=pt.device).to(pt.dtype)
    keep = (
        torch.ones(pt.shape, dtype=torch.bool, device=pt.device)
        if mask is None
        else torch.as_tensor(mask, device=pt.device).to(torch.bool)
    )
    width = 2.0 * max_r / npix
    zero = torch.zeros((), dtype=pt.dtype, device=pt.device)
    # bin indices; padded/garbage entries are parked at 0 first so that floor() never sees NaN or inf
    eta_c = torch.where(keep, eta, zero)
    phi_c = torch.where(keep, phi, zero)
    f_eta = torch.floor((eta_c + max_r) / width)
    f_phi = torch.floor((phi_c + max_r) / width)
    finite = torch.isfinite(f_eta) & torch.isfinite(f_phi)
    # clamp before the integer cast (huge values would overflow); -1 and npix are "outside"
    i_eta = torch.where(finite, f_eta, zero).clamp(-1, npix).to(torch.long)
    i_phi = torch.where(finite, f_phi, zero).clamp(-1, npix).to(torch.long)
    inside = keep & finite & (i_eta >= 0) & (i_eta < npix) & (i_phi >= 0) & (i_phi < npix)
    flat = torch.where(inside, i_phi * npix + i_eta, torch.zeros_like(i_eta))
    weight = torch.where(inside, pt, zero)
    images = torch.zeros((*pt.shape[:-1], npix * npix), dtype=pt.dtype, device=pt.device)
    images = images.scatter_add(-1, flat, weight)
    if normalise:
        total = images.sum(dim=-1, keepdim=True)
        images = images / torch.where(total != 0, total, torch.ones_like(total))
    images = images.reshape((*pt.shape[:-1], npix, npix))
    return images.detach().cpu().numpy() if as_numpy else images


def jet_images_from_p4(
    p4: Any,
    mask: Any = None,
    npix: int = DEFAULT_NPIX,
    max_r: float = DEFAULT_MAX_R,
    normalise: bool = True,
) -> Any:
    """Jet images [B, npix, npix] of absolute 4-momenta [B, N, 4], relative to each jet's own axis.

    The one pixelisation for the CNNAE input and for every model's image figure; numpy in, numpy out.
    """
    as_numpy = isinstance(p4, np.ndarray)
    p4_t = torch.as_tensor(p4)
    mask_t = None if mask is None else torch.as_tensor(mask)
    rel, _, _, _ = relative_coordinates(p4_t, mask_t)
    images = jet_images(
        rel[..., 1], rel[..., 2], rel[..., 0], mask_t, npix=npix, max_r=max_r, normalise=normalise
    )
    return images.detach().cpu().numpy() if as_numpy else images


def image_to_p4(
    images: torch.Tensor,
    jet_pt: torch.Tensor,
    jet_eta: torch.Tensor,
    jet_phi: torch.Tensor,
    max_r: float = DEFAULT_MAX_R,
) -> torch.Tensor:
    """Every pixel as a massless 4-vector [B, npix·npix, 4] (row-major over ``(i_phi, i_eta)``).

    The pixel sits at its centre (η_jet + η_c, φ_jet + φ_c) with pT = intensity × ``jet_pt``, as in the
    paper's footnote to Table 3. For a normalised image that rescales the scalar pT sum of the
    particles in the window to the jet pT (a bias of order R² on narrow jets; see docs/deviations.md).
    ``images`` is [B, npix, npix] or [B, 1, npix, npix].
    """
    if images.dim() == 4:
        images = images.squeeze(1)
    npix = images.shape[-1]
    if images.shape[-2] != npix:
        raise ValueError(f"images must be square, got {tuple(images.shape[-2:])}")
    centres = pixel_centres(npix, max_r, dtype=images.dtype, device=images.device)
    eta = centres.view(1, 1, npix) + jet_eta.view(-1, 1, 1)  # varies along columns (i_eta)
    phi = centres.view(1, npix, 1) + jet_phi.view(-1, 1, 1)  # varies along rows (i_phi)
    eta, phi = torch.broadcast_tensors(eta, phi)
    pt = images * jet_pt.view(-1, 1, 1)
    p4 = torch.stack(
        [pt * torch.cosh(eta), pt * torch.cos(phi), pt * torch.sin(phi), pt * torch.sinh(eta)], dim=-1
    )
    return p4.reshape(images.shape[0], npix * npix, 4)


def image_jet_features(
    images: torch.Tensor,
    jet_pt: torch.Tensor,
    jet_eta: torch.Tensor,
    jet_phi: torch.Tensor,
    max_r: float = DEFAULT_MAX_R,
) -> dict[str, torch.Tensor]:
    """Jet mass, pT, η, φ [B] of an image: the sum of its pixel 4-vectors (:func:`image_to_p4`)."""
    return jet_features(image_to_p4(images, jet_pt, jet_eta, jet_phi, max_r))
