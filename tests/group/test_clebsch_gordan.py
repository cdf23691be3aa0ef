"""Clebsch–Gordan coefficients of SO+(3,1) and the channel-wise tensor product."""

from __future__ import annotations

import itertools

import pytest
import torch

from lgae.equivariance import assert_equivariant, lorentz_tolerance
from lgae.group import lorentz
from lgae.group.clebsch_gordan import clebsch_gordan, coupling_constant_scalar_from_vectors
from lgae.group.irreps import (
    SCALAR,
    VECTOR,
    Irrep,
    cartesian_matrix,
    cartesian_to_canonical,
    decompose,
    rep_matrix,
)
from lgae.group.tensor_product import apply_representation, cg_product, product_multiplicities

#: bounds in units of ε γ² (lgae.equivariance.lorentz_tolerance), 5–10x the largest deviation measured
CG_BOUND = 100.0  # measured 0–20 over the 98 triples
PRODUCT_BOUND = 20.0  # measured 1.95
SMALL = [Irrep(0, 0), Irrep(1, 1), Irrep(2, 0), Irrep(0, 2), Irrep(2, 2), Irrep(1, 3)]
TRIPLES = [(a, b, out) for a, b in itertools.product(SMALL, SMALL) for out in decompose(a, b)]


@pytest.mark.parametrize(("first", "second", "out"), TRIPLES, ids=lambda i: str(i))
def test_cg_intertwines(first, second, out):
    gen = torch.Generator().manual_seed(hash((first, second, out)) % 2**31)
    theta = torch.randn(3, generator=gen, dtype=torch.float64)
    zeta = 0.7 * torch.randn(3, generator=gen, dtype=torch.float64)
    h = clebsch_gordan(first, second, out).to(torch.complex128)
    pair = torch.kron(rep_matrix(first, theta, zeta), rep_matrix(second, theta, zeta))
    x = torch.randn(7, first.dim * second.dim, generator=gen, dtype=torch.complex128)
    # the CG map from first ⊗ second onto out commutes with the group: H D₁⊗D₂ = D_out H
    assert_equivariant(
        lambda v: v @ h.T,
        (x,),
        lambda v: (v @ pair.T,),
        lambda w: w @ rep_matrix(out, theta, zeta).T,
        tolerance=lorentz_tolerance(torch.float64, cartesian_matrix(theta, zeta), CG_BOUND),
        what=f"CG {first} x {second} -> {out}",
    )


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
    counts = product_multiplicities(irreps, irreps, bound)
    assert set(out) == set(counts)
    for irrep, value in out.items():
        assert irrep.fits_in(bound)
        assert value.shape == (3, 5, 2 * counts[irrep], irrep.dim)
    assert_equivariant(
        lambda a, b: cg_product(a, b, bound),
        (x, y),
        lambda a, b: (apply_representation(a, mats), apply_representation(b, mats)),
        lambda prod: {irrep: value @ rep_matrix(irrep, theta, zeta).T for irrep, value in prod.items()},
        tolerance=lorentz_tolerance(torch.float64, cartesian_matrix(theta, zeta), PRODUCT_BOUND),
        what="cg_product",
    )
    assert Irrep(4, 0) not in out  # (1,0) ⊗ (1,0) ∋ (2,0), cut by the bound
