"""Clebsch–Gordan coefficients of SO+(3,1) and the channel-wise tensor product."""

from __future__ import annotations

import itertools

import pytest
import torch

from lgae import lorentz
from lgae.group.clebsch_gordan import clebsch_gordan, coupling_constant_scalar_from_vectors
from lgae.group.irreps import SCALAR, VECTOR, Irrep, cartesian_to_canonical, decompose, rep_matrix
from lgae.group.tensor_product import apply_representation, cg_product, product_multiplicities

SMALL = [Irrep(0, 0), Irrep(1, 1), Irrep(2, 0), Irrep(0, 2), Irrep(2, 2), Irrep(1, 3)]
TRIPLES = [(a, b, out) for a, b in itertools.product(SMALL, SMALL) for out in decompose(a, b)]


@pytest.mark.parametrize(("first", "second", "out"), TRIPLES, ids=lambda i: str(i))
def test_cg_intertwines(first, second, out):
    gen = torch.Generator().manual_seed(hash((first, second, out)) % 2**31)
    theta = torch.randn(3, generator=gen, dtype=torch.float64)
    zeta = 0.7 * torch.randn(3, generator=gen, dtype=torch.float64)
    h = clebsch_gordan(first, second, out).to(torch.complex128)
    lhs = rep_matrix(out, theta, zeta) @ h
    rhs = h @ torch.kron(rep_matrix(first, theta, zeta), rep_matrix(second, theta, zeta))
    assert (lhs - rhs).abs().max() <= 1e-10 * rhs.abs().max()


@pytest.mark.parametrize(("first", "second", "out"), TRIPLES, ids=lambda i: str(i))
def test_cg_rows_are_orthonormal(first, second, out):
    h = clebsch_gordan(first, second, out)
    assert torch.allclose(h @ h.T, torch.eye(out.dim, dtype=h.dtype), atol=1e-12)


def test_cg_of_all_outputs_is_a_complete_orthogonal_change_of_basis():
    a, b = VECTOR, Irrep(2, 0)
    stacked = torch.cat([clebsch_gordan(a, b, out) for out in decompose(a, b)])
    assert torch.allclose(stacked @ stacked.T, torch.eye(a.dim * b.dim, dtype=stacked.dtype), atol=1e-12)


def test_vector_times_vector_to_scalar_is_half_the_minkowski_product():
    assert coupling_constant_scalar_from_vectors() == pytest.approx(0.5, abs=1e-15)
    c = cartesian_to_canonical()
    h = clebsch_gordan(VECTOR, VECTOR, SCALAR).to(torch.complex128)
    gen = torch.Generator().manual_seed(5)
    for _ in range(5):
        u, w = torch.randn(2, 4, generator=gen, dtype=torch.float64)
        value = (h @ torch.kron(c @ u.to(c.dtype), c @ w.to(c.dtype)))[0]
        assert value.real == pytest.approx(0.5 * float(lorentz.minkowski_dot(u, w)), abs=1e-14)
        assert abs(value.imag) < 1e-15


def test_scalar_coupling_is_the_identity():
    for irrep in SMALL:
        assert torch.allclose(
            clebsch_gordan(SCALAR, irrep, irrep), torch.eye(irrep.dim, dtype=torch.float64), atol=1e-15
        )
        assert torch.allclose(
            clebsch_gordan(irrep, SCALAR, irrep), torch.eye(irrep.dim, dtype=torch.float64), atol=1e-15
        )


def test_product_is_equivariant_and_truncated():
    gen = torch.Generator().manual_seed(7)
    irreps = [SCALAR, VECTOR, Irrep(2, 0)]
    x = {r: torch.randn(3, 5, 2, r.dim, generator=gen, dtype=torch.complex128) for r in irreps}
    y = {r: torch.randn(3, 5, 2, r.dim, generator=gen, dtype=torch.complex128) for r in irreps}
    theta, zeta = (
        torch.randn(3, generator=gen, dtype=torch.float64),
        torch.randn(3, generator=gen, dtype=torch.float64),
    )
    bound = Irrep(2, 2)
    mats = {
        r: rep_matrix(r, theta, zeta)
        for r in (*irreps, *decompose(VECTOR, Irrep(2, 0)), Irrep(4, 0), Irrep(2, 2))
    }
    out = cg_product(x, y, bound)
    out_of_transformed = cg_product(apply_representation(x, mats), apply_representation(y, mats), bound)
    counts = product_multiplicities(irreps, irreps, bound)
    assert set(out) == set(counts)
    for irrep, value in out.items():
        assert irrep.fits_in(bound)
        assert value.shape == (3, 5, 2 * counts[irrep], irrep.dim)
        expected = value @ rep_matrix(irrep, theta, zeta).T
        assert torch.allclose(out_of_transformed[irrep], expected, atol=1e-10 * expected.abs().max())
    assert Irrep(4, 0) not in out  # (1,0) ⊗ (1,0) ∋ (2,0), cut by the bound
