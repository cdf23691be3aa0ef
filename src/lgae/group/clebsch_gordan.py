"""Clebsch–Gordan coefficients of SO+(3,1): (m1,n1) ⊗ (m2,n2) → (m,n), in the canonical basis.

Because the algebra is su(2) ⊕ su(2), the coupling factorises in the product basis: the m-parts couple
m1 ⊗ m2 → m and the n-parts n1 ⊗ n2 → n, each with ordinary SU(2) coefficients. The canonical-basis
coefficients follow by the basis changes of :func:`lgae.group.irreps.product_to_canonical`. All of them
are real. Computed once per triple and cached.
"""

from __future__ import annotations

from functools import cache

import torch

from lgae.group.irreps import Irrep, decompose, product_to_canonical
from lgae.group.su2 import su2_cg_matrix


@cache
def clebsch_gordan(first: Irrep, second: Irrep, out: Irrep) -> torch.Tensor:
    """The Clebsch–Gordan map of ``first ⊗ second`` onto its ``out`` component (cached).

    ``kron(x, y)[i1 * second.dim + i2] = x[i1] y[i2]``; H is an isometry from the ``out`` component
    of the product (its rows are orthonormal).

    Args:
        first: The first factor's irrep.
        second: The second factor's irrep.
        out: An irrep of the Clebsch–Gordan series of ``first ⊗ second``.

    Returns:
        H ``[out.dim, first.dim · second.dim]`` (float64) with ``z = H @ kron(x, y)`` equivariant.

    Raises:
        ValueError: ``out`` does not occur in ``first ⊗ second``.
    """
    if out not in decompose(first, second):
        raise ValueError(f"{out} does not occur in {first} ⊗ {second}")
    cg_m = su2_cg_matrix(first.m2, second.m2, out.m2)  # [m1, m2, m]
    cg_n = su2_cg_matrix(first.n2, second.n2, out.n2)  # [n1, n2, n]
    # product-basis coefficient [(a, b), (a1, b1), (a2, b2)]
    prod = torch.einsum("ika,jlb->abijkl", cg_m, cg_n).reshape(out.dim, first.dim, second.dim)
    u_out = product_to_canonical(out)
    u_1 = product_to_canonical(first)
    u_2 = product_to_canonical(second)
    canonical = torch.einsum("oa,axy,ix,jy->oij", u_out, prod, u_1, u_2)
    return canonical.reshape(out.dim, first.dim * second.dim).contiguous()


def coupling_constant_scalar_from_vectors() -> complex:
    """κ with ``CG[(1/2,1/2) ⊗ (1/2,1/2) → (0,0)](C u, C w) = κ · (u0 w0 - u·w)`` for Cartesian u, w.

    The fast (Cartesian) path of the LMP layer multiplies Minkowski products by this constant, so that
    it reproduces the general CG path exactly.
    """
    from lgae.group.irreps import SCALAR, VECTOR, cartesian_to_canonical

    h = clebsch_gordan(VECTOR, VECTOR, SCALAR).to(torch.complex128)
    c = cartesian_to_canonical()
    e_t = c[:, 0]
    value = (h @ torch.kron(e_t, e_t))[0]
    return complex(value)
