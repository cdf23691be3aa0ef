"""Minkowski geometry: group elements, generators, collider coordinates."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from lgae.equivariance import assert_equivariant, lorentz_tolerance
from lgae.group import lorentz
from lgae.group.irreps import cartesian_matrix

#: bound on the Minkowski product's deviation, in units of ε γ² (measured 0.5–2.5)
BOUND = 20.0


def test_boost_known_values():
    lam = lorentz.boost(math.atanh(0.6), (0, 0, 1))  # β = 0.6, γ = 1.25
    p = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)  # at rest
    assert torch.allclose(lorentz.apply(lam, p), torch.tensor([1.25, 0, 0, 0.75], dtype=torch.float64))


def test_rotation_known_values():
    lam = lorentz.rotation(math.pi / 2, (0, 0, 1))
    p = torch.tensor([2.0, 1.0, 0.0, 3.0], dtype=torch.float64)
    assert torch.allclose(
        lorentz.apply(lam, p), torch.tensor([2.0, 0.0, 1.0, 3.0], dtype=torch.float64), atol=1e-15
    )


@pytest.mark.parametrize("seed", range(5))
def test_random_lorentz_is_proper_orthochronous_and_preserves_products(seed):
    lam = lorentz.random_lorentz(seed, max_rapidity=3.0)
    assert lorentz.is_lorentz(lam)
    gen = torch.Generator().manual_seed(seed)
    a, b = torch.randn(2, 7, 4, generator=gen, dtype=torch.float64)
    assert_equivariant(
        lorentz.minkowski_dot,
        (a, b),
        lambda a, b: (lorentz.apply(lam, a), lorentz.apply(lam, b)),
        tolerance=lorentz_tolerance(torch.float64, lam, BOUND),
        what="Minkowski product",
    )


def test_generators_satisfy_the_lorentz_algebra():
    j, k = lorentz.generators()
    eps = np.zeros((3, 3, 3))
    eps[0, 1, 2] = eps[1, 2, 0] = eps[2, 0, 1] = 1
    eps[0, 2, 1] = eps[2, 1, 0] = eps[1, 0, 2] = -1
    for a in range(3):
        for b in range(3):
            comm_jj = j[a] @ j[b] - j[b] @ j[a]
            comm_jk = j[a] @ k[b] - k[b] @ j[a]
            comm_kk = k[a] @ k[b] - k[b] @ k[a]
            expected_j = sum(1j * eps[a, b, c] * j[c] for c in range(3))
            expected_k = sum(1j * eps[a, b, c] * k[c] for c in range(3))
            assert torch.allclose(comm_jj, expected_j)
            assert torch.allclose(comm_jk, expected_k)
            assert torch.allclose(comm_kk, -expected_j)


def test_exponentiated_generators_are_boosts_and_rotations():
    axis = torch.tensor([0.3, -0.5, 0.8], dtype=torch.float64)
    axis = axis / axis.norm()
    boost = cartesian_matrix(torch.zeros(3, dtype=torch.float64), 1.7 * axis)
    rot = cartesian_matrix(0.9 * axis, torch.zeros(3, dtype=torch.float64))
    assert torch.allclose(boost, lorentz.boost(1.7, axis.numpy()), atol=1e-13)
    assert torch.allclose(rot, lorentz.rotation(0.9, axis.numpy()), atol=1e-13)


def test_collider_coordinates_round_trip_numpy_and_torch():
    gen = np.random.default_rng(3)
    pt, eta, phi = gen.uniform(1, 100, 50), gen.uniform(-3, 3, 50), gen.uniform(-np.pi, np.pi, 50)
    for lib, kind in ((np.asarray, np.ndarray), (torch.as_tensor, torch.Tensor)):
        p4 = lorentz.p4_from_ptetaphi(lib(pt), lib(eta), lib(phi))
        back = lorentz.ptetaphi_from_p4(p4)
        assert all(isinstance(x, kind) for x in (p4, *back, lorentz.mass_from_p4(p4)))
        for value, original in zip(back, (pt, eta, phi), strict=True):
            np.testing.assert_allclose(np.asarray(value), original, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(np.asarray(lorentz.minkowski_norm2(p4)), 0, atol=1e-9)


def test_mass_of_two_massless_particles():
    # m² = 2 pT1 pT2 (cosh Δη − cos Δφ)
    a = lorentz.p4_from_ptetaphi(np.array(100.0), np.array(0.3), np.array(0.1))
    b = lorentz.p4_from_ptetaphi(np.array(50.0), np.array(-0.2), np.array(0.7))
    expected = math.sqrt(2 * 100 * 50 * (math.cosh(0.5) - math.cos(0.6)))
    assert lorentz.mass_from_p4(a + b) == pytest.approx(expected, rel=1e-12)


def test_wrap_phi_range():
    phi = np.linspace(-20, 20, 1001)
    wrapped = lorentz.wrap_phi(phi)
    assert wrapped.min() >= -math.pi
    assert wrapped.max() < math.pi
    np.testing.assert_allclose(np.cos(wrapped), np.cos(phi), atol=1e-12)


def test_group_elements_are_float64_and_generators_complex128_by_default():
    assert lorentz.metric().dtype == torch.float64
    assert lorentz.boost(0.5).dtype == lorentz.rotation(0.5).dtype == torch.float64
    assert all(g.dtype == torch.complex128 for g in lorentz.generators())
    assert lorentz.metric(torch.float32).dtype == torch.float32


def test_the_data_steps_run_without_importing_torch():
    """Generation and preprocessing are numpy: torch would cost each of their processes seconds."""
    probe = (
        "import sys, numpy as np\n"
        "import lgae.pipeline.data.generate, lgae.pipeline.data.preprocess, lgae.cli\n"
        "from lgae.group import lorentz\n"
        "p4 = lorentz.p4_from_ptetaphi(np.ones(3), np.zeros(3), lorentz.wrap_phi(np.arange(3.0)))\n"
        "assert isinstance(lorentz.mass_from_p4(p4.sum(0)), np.floating)\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
