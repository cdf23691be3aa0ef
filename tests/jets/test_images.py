"""Jet images: pixel convention, normalisation, and jet features back from pixels."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lgae.group.lorentz import p4_from_ptetaphi
from lgae.jets import jet_features, relative_coordinates
from lgae.jets.images import (
    image_jet_features,
    image_to_p4,
    jet_images,
    jet_images_from_p4,
    pixel_centres,
)

NPIX, MAX_R = 40, 0.8
WIDTH = 2 * MAX_R / NPIX  # 0.04


def centre(index: int, npix: int = NPIX, max_r: float = MAX_R) -> float:
    return -max_r + (index + 0.5) * 2 * max_r / npix


def one(values: list[float], dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.tensor([values], dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_single_particle_lights_the_expected_pixel(dtype: torch.dtype) -> None:
    # η_rel in pixel column 27, φ_rel in pixel row 12: rows are φ, columns are η
    eta, phi = centre(27), centre(12)
    image = jet_images(one([eta], dtype), one([phi], dtype), one([0.37], dtype))
    assert image.shape == (1, NPIX, NPIX)
    assert image.dtype == dtype
    assert float(image[0, 12, 27]) == 1.0
    assert float(image.sum()) == pytest.approx(1.0, abs=1e-6)
    assert int((image != 0).sum()) == 1
    # the same particle mirrored in η moves along the column axis only
    mirrored = jet_images(one([-eta], dtype), one([phi], dtype), one([0.37], dtype))
    assert float(mirrored[0, 12, NPIX - 1 - 27]) == 1.0


def test_pixel_edges_and_window() -> None:
    # [−max_r, max_r): the lower edge belongs to pixel 0, the upper edge is outside
    image = jet_images(one([-MAX_R, 0.0]), one([0.0, MAX_R]), one([1.0, 1.0]))
    assert float(image[0, 20, 0]) == 1.0  # φ = 0 is the lower edge of row 20
    just_inside = jet_images(one([MAX_R - 1e-9]), one([-MAX_R]), one([1.0]))
    assert float(just_inside[0, 0, NPIX - 1]) == 1.0
    torch.testing.assert_close(
        pixel_centres(NPIX, MAX_R)[[0, 27, -1]], torch.tensor([-0.78, 0.3, 0.78], dtype=torch.float64)
    )


def test_two_particles_split_and_sum_to_one() -> None:
    image = jet_images(one([0.1, -0.3]), one([0.02, 0.5]), one([0.3, 0.1]))
    assert float(image.sum()) == pytest.approx(1.0, abs=1e-15)
    i_eta = [math.floor((x + MAX_R) / WIDTH) for x in (0.1, -0.3)]
    i_phi = [math.floor((x + MAX_R) / WIDTH) for x in (0.02, 0.5)]
    assert float(image[0, i_phi[0], i_eta[0]]) == pytest.approx(0.75, abs=1e-15)
    assert float(image[0, i_phi[1], i_eta[1]]) == pytest.approx(0.25, abs=1e-15)
    # two particles in one pixel add up
    same = jet_images(one([0.101, 0.109]), one([0.021, 0.029]), one([0.3, 0.1]))
    assert float(same[0, i_phi[0], i_eta[0]]) == pytest.approx(1.0, abs=1e-15)
    # particles outside the window are dropped before normalising
    outside = jet_images(one([0.1, 0.9]), one([0.02, 0.0]), one([0.3, 0.6]))
    assert float(outside[0, i_phi[0], i_eta[0]]) == pytest.approx(1.0, abs=1e-15)


def test_masks_garbage_empty_images_and_numpy() -> None:
    eta = torch.tensor([[0.1, float("nan"), 5e30], [0.0, 0.0, 0.0]], dtype=torch.float64)
    phi = torch.tensor([[0.0, 1.0, float("inf")], [0.0, 0.0, 0.0]], dtype=torch.float64)
    pt = torch.tensor([[0.5, float("nan"), 7.0], [0.2, 0.2, 0.2]], dtype=torch.float64)
    mask = torch.tensor([[True, False, False], [False, False, False]])
    image = jet_images(eta, phi, pt, mask)
    assert torch.all(torch.isfinite(image))
    assert float(image[0].sum()) == 1.0
    assert torch.all(image[1] == 0)  # empty jet: zeros, not NaN
    from_numpy = jet_images(eta.numpy(), phi.numpy(), pt.numpy(), mask.numpy())
    assert isinstance(from_numpy, np.ndarray)
    np.testing.assert_array_equal(from_numpy, image.numpy())
    unnormalised = jet_images(eta, phi, pt, mask, normalise=False)
    assert float(unnormalised[0].sum()) == 0.5


def test_images_are_differentiable_in_pt() -> None:
    pt = torch.tensor([[0.3, 0.1]], dtype=torch.float64, requires_grad=True)
    image = jet_images(one([0.1, -0.3]), one([0.02, 0.5]), pt)
    image[0, 20, 22].backward()  # = pt_0 / (pt_0 + pt_1)
    torch.testing.assert_close(pt.grad, torch.tensor([[0.1 / 0.16, -0.3 / 0.16]], dtype=torch.float64))


def symmetric_jet(a: float, b: float, pt: float = 0.6, phi0: float = 2.0) -> torch.Tensor:
    """Two equal-pT massless particles at (η, φ) = (±a, φ0 ± b): the jet axis is exactly (0, φ0)."""
    return p4_from_ptetaphi(
        torch.tensor([[pt, pt]], dtype=torch.float64),
        torch.tensor([[a, -a]], dtype=torch.float64),
        torch.tensor([[phi0 + b, phi0 - b]], dtype=torch.float64),
    )


def test_images_from_p4_use_the_jet_axis() -> None:
    a, b = centre(22), centre(23)  # η_rel = ±0.1, φ_rel = ±0.14
    p4 = symmetric_jet(a, b)
    image = jet_images_from_p4(p4, torch.ones(1, 2, dtype=torch.bool))
    assert float(image[0, 23, 22]) == pytest.approx(0.5, abs=1e-15)  # (η, φ) = (+a, +b)
    assert float(image[0, NPIX - 1 - 23, NPIX - 1 - 22]) == pytest.approx(0.5, abs=1e-15)
    as_numpy = jet_images_from_p4(p4.numpy(), np.ones((1, 2), dtype=bool))
    np.testing.assert_array_equal(as_numpy, image.numpy())


def test_image_to_p4_pixel_layout() -> None:
    image = torch.zeros(1, 1, NPIX, NPIX, dtype=torch.float64)
    image[0, 0, 12, 27] = 1.0
    jet_pt, jet_eta, jet_phi = (torch.tensor([x], dtype=torch.float64) for x in (1.3, -0.4, 3.0))
    p4 = image_to_p4(image, jet_pt, jet_eta, jet_phi, MAX_R)
    assert p4.shape == (1, NPIX * NPIX, 4)
    assert int((p4.abs().sum(-1) > 0).sum()) == 1
    expected = p4_from_ptetaphi(
        torch.tensor(1.3, dtype=torch.float64),
        torch.tensor(-0.4 + centre(27), dtype=torch.float64),
        torch.tensor(3.0 + centre(12), dtype=torch.float64),
    )
    torch.testing.assert_close(p4[0, 12 * NPIX + 27], expected, rtol=1e-14, atol=1e-14)


def test_image_jet_features_exact_at_pixel_centres() -> None:
    """Particles at pixel centres: the pixels are the particles, with pT scaled by s = pT_jet / Σ pT_i
    (the image is normalised to 1 and each pixel carries intensity × pT_jet), so m' = s·m, pT' = s·pT."""
    a, b = centre(22), centre(23)  # Δη = 2a = 0.2, Δφ = 2b = 0.28
    p4 = symmetric_jet(a, b, pt=0.6)
    mask = torch.ones(1, 2, dtype=torch.bool)
    truth = jet_features(p4, mask)
    m_expected = math.sqrt(2 * 0.6 * 0.6 * (math.cosh(2 * a) - math.cos(2 * b)))
    assert float(truth["mass"]) == pytest.approx(m_expected, rel=1e-12)
    _, jet_pt, jet_eta, jet_phi = relative_coordinates(p4, mask)
    image = jet_images_from_p4(p4, mask)
    features = image_jet_features(image, jet_pt, jet_eta, jet_phi, MAX_R)
    s = math.cos(b)  # pT_jet / (pT_1 + pT_2) for this jet
    assert float(features["mass"]) == pytest.approx(s * m_expected, rel=1e-12)
    assert float(features["pt"]) == pytest.approx(s * float(jet_pt), rel=1e-12)
    assert float(features["eta"]) == pytest.approx(float(jet_eta), abs=1e-12)
    assert float(features["phi"]) == pytest.approx(float(jet_phi), abs=1e-12)
    # the scalar pT sum of the pixels is the jet pT
    pixel_pt = image_to_p4(image, jet_pt, jet_eta, jet_phi, MAX_R)[..., 1:3].norm(dim=-1).sum()
    assert float(pixel_pt) == pytest.approx(float(jet_pt), rel=1e-12)


@pytest.mark.parametrize("npix", [40, 400])
def test_image_jet_features_within_the_discretisation_bound(npix: int) -> None:
    """Off-centre particles move by at most w/2 in η and φ (w = 2 max_r / npix), so |ΔΔη|, |ΔΔφ| ≤ w.

    With pixel pT = s·pT_i, m'² = s²·2 pT1 pT2 (cosh Δη' − cos Δφ') and the mean value theorem gives
    |m'² − s² m²| ≤ s²·2 pT1 pT2 · w (sinh(|Δη| + w) + |Δφ| + w). For pT each pixel vector turns by
    ≤ w/2, so |pT' − s·pT_jet| ≤ s (pT1 + pT2) w / 2.
    """
    pts, etas, phis = (0.5, 0.2), (0.8131, 0.5017), (-1.0372, -1.2413)  # Δη/w, Δφ/w not integers
    p4 = p4_from_ptetaphi(
        torch.tensor([pts], dtype=torch.float64),
        torch.tensor([etas], dtype=torch.float64),
        torch.tensor([phis], dtype=torch.float64),
    )
    mask = torch.ones(1, 2, dtype=torch.bool)
    d_eta, d_phi = abs(etas[0] - etas[1]), abs(phis[0] - phis[1])
    m2 = 2 * pts[0] * pts[1] * (math.cosh(d_eta) - math.cos(d_phi))
    _, jet_pt, jet_eta, jet_phi = relative_coordinates(p4, mask)
    s = float(jet_pt) / sum(pts)
    w = 2 * MAX_R / npix
    image = jet_images_from_p4(p4, mask, npix=npix, max_r=MAX_R)
    features = image_jet_features(image, jet_pt, jet_eta, jet_phi, MAX_R)
    m2_bound = s**2 * 2 * pts[0] * pts[1] * w * (math.sinh(d_eta + w) + d_phi + w)
    assert abs(float(features["mass"]) ** 2 - s**2 * m2) <= m2_bound
    assert abs(float(features["pt"]) - s * float(jet_pt)) <= s * sum(pts) * w / 2
    # the bound shrinks with the pixel size: at npix = 400 it allows ≈ 1.5 % on the mass
    if npix == 400:
        assert float(features["mass"]) == pytest.approx(s * math.sqrt(m2), rel=0.02)
