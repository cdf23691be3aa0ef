"""Irreps of SO+(3,1) in the canonical basis, and the Cartesian ↔ (1/2,1/2) basis change."""

from __future__ import annotations

import pytest
import torch

from lgae.equivariance import assert_equivariant, lorentz_tolerance
from lgae.group import lorentz
from lgae.group.irreps import (
    SCALAR,
    VECTOR,
    Irrep,
    algebra,
    cartesian_matrix,
    cartesian_to_canonical,
    decompose,
    rep_matrix,
)

#: bound in units of ε γ² (lgae.equivariance.lorentz_tolerance), ~8x the largest deviation measured
BASIS_BOUND = 10.0  # measured 0.22–1.3
IRREPS = [
    Irrep(0, 0),
    Irrep(1, 1),
    Irrep(2, 0),
    Irrep(0, 2),
    Irrep(2, 2),
    Irrep(1, 3),
    Irrep(3, 1),
    Irrep(4, 0),
]


def _random_algebra(seed: int, scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(3, generator=gen, dtype=torch.float64), scale * torch.randn(
        3, generator=gen, dtype=torch.float64
    )


@pytest.mark.parametrize("irrep", IRREPS, ids=str)
def test_generators_satisfy_the_lorentz_algebra(irrep):
    j, k = algebra(irrep)
    for a, b, c in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        assert torch.allclose(j[a] @ j[b] - j[b] @ j[a], 1j * j[c], atol=1e-12)
        assert torch.allclose(j[a] @ k[b] - k[b] @ j[a], 1j * k[c], atol=1e-12)
        assert torch.allclose(k[a] @ k[b] - k[b] @ k[a], -1j * j[c], atol=1e-12)


@pytest.mark.parametrize("irrep", IRREPS, ids=str)
def test_rotations_act_block_diagonally_by_spin(irrep):
    theta, _ = _random_algebra(1)
    d = rep_matrix(irrep, theta, torch.zeros(3, dtype=torch.float64))
    start = 0
    for j2 in irrep.spins:
        size = j2 + 1
        block = d[start : start + size, start : start + size]
        assert torch.allclose(block @ block.conj().T, torch.eye(size, dtype=d.dtype), atol=1e-12)  # unitary
        off = d[start : start + size].clone()
        off[:, start : start + size] = 0
        assert off.abs().max() < 1e-12
        start += size


@pytest.mark.parametrize("irrep", IRREPS, ids=str)
def test_representation_is_a_homomorphism(irrep):
    (t1, z1), (t2, z2) = _random_algebra(2, 0.5), _random_algebra(3, 0.5)
    # exp(X) exp(Y) is some group element; check D(Λ1) D(Λ2) against the product through the 4-vector
    # representation only for (1/2,1/2); for all irreps check the inverse and the identity
    d = rep_matrix(irrep, t1, z1)
    d_inv = rep_matrix(irrep, -t1, -z1)
    assert torch.allclose(d @ d_inv, torch.eye(irrep.dim, dtype=d.dtype), atol=1e-10)
    del t2, z2


def test_dimension_and_spins():
    assert VECTOR.dim == 4
    assert VECTOR.spins == (0, 2)
    assert Irrep(2, 2).dim == 9
    assert Irrep(2, 2).spins == (0, 2, 4)
    assert str(VECTOR) == "(1/2,1/2)"
    with pytest.raises(ValueError, match="spinor"):
        Irrep(1, 0)
    assert decompose(VECTOR, VECTOR) == [Irrep(0, 0), Irrep(0, 2), Irrep(2, 0), Irrep(2, 2)]
    assert SCALAR.fits_in(VECTOR)
    assert not Irrep(2, 0).fits_in(VECTOR)


@pytest.mark.parametrize("seed", range(4))
def test_basis_change_maps_cartesian_transformations_to_the_irrep(seed):
    theta, zeta = _random_algebra(seed)
    c = cartesian_to_canonical()
    lam = cartesian_matrix(theta, zeta)
    assert lorentz.is_lorentz(lam)
    p = torch.randn(5, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    # C maps Cartesian 4-vectors to the (1/2,1/2) basis: C Λ p = D(Λ) C p
    assert_equivariant(
        lambda v: v.to(c.dtype) @ c.T,
        (p,),
        lambda v: (v @ lam.T,),
        lambda w: w @ rep_matrix(VECTOR, theta, zeta).T,
        tolerance=lorentz_tolerance(torch.float64, lam, BASIS_BOUND),
        what="basis change",
    )


def test_basis_change_maps_a_z_boost_to_the_irrep():
    c = cartesian_to_canonical()
    lam = lorentz.boost(2.5, (0, 0, 1))
    expected = rep_matrix(VECTOR, torch.zeros(3), torch.tensor([0.0, 0.0, 2.5], dtype=torch.float64))
    assert torch.allclose(c @ lam.to(c.dtype) @ c.conj().T, expected, atol=1e-12)


def test_basis_change_is_unitary_and_time_is_the_scalar():
    c = cartesian_to_canonical()
    assert torch.allclose(c @ c.conj().T, torch.eye(4, dtype=c.dtype), atol=1e-15)
    assert c[0, 0] == 1
    assert c[0, 1:].abs().max() == 0
    assert c[2, 3] == 1  # p_z is the j=1, μ=0 component
