"""Finite-dimensional irreducible representations (m, n) of SO+(3,1) in the canonical basis.

The Lie algebra of SO+(3,1) splits into two commuting su(2) algebras, ``A = (J + iK)/2`` and
``B = (J - iK)/2``; the irrep (m, n) lets A act as spin m and B as spin n. In the *product basis*
``|m a> ⊗ |n b>`` that gives ``J = J^m ⊗ 1 + 1 ⊗ J^n`` and ``K = i (J^m ⊗ 1 - 1 ⊗ J^n)``. The
*canonical basis* (Gel'fand–Minlos–Shapiro, used by the LGN and the paper) couples m ⊗ n to the spins
j = |m-n| … m+n with SU(2) Clebsch–Gordan coefficients, so that rotations act block-diagonally by the
standard Wigner matrices. Basis order: j ascending, then the magnetic number μ ascending.

Group elements are addressed through the algebra: ``Λ(θ, ζ) = exp(-i (θ·J + ζ·K))``, with θ a rotation
vector and ζ a rapidity vector; the 4-vector (Cartesian) generators are in :func:`lgae.group.lorentz.generators`.
Irreps are labelled by integers ``(2m, 2n)`` to stay exact: ``Irrep(1, 1)`` is the 4-vector (1/2, 1/2).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import torch

from lgae.group import lorentz
from lgae.group.su2 import su2_cg_matrix, su2_generators


@dataclass(frozen=True, order=True)
class Irrep:
    """The irrep (m, n) = (m2/2, n2/2) of SO+(3,1).

    Args:
        m2: Twice m (a non-negative integer).
        n2: Twice n (a non-negative integer).

    Raises:
        ValueError: ``m2`` or ``n2`` is negative, or m + n is not an integer (a spinor irrep of SL(2,C)).
    """

    m2: int
    n2: int

    def __post_init__(self) -> None:
        if self.m2 < 0 or self.n2 < 0:
            raise ValueError(f"irrep labels must be non-negative, got (2m, 2n) = ({self.m2}, {self.n2})")
        if (self.m2 + self.n2) % 2:
            raise ValueError(
                f"({Fraction(self.m2, 2)}, {Fraction(self.n2, 2)}) is a spinor irrep of SL(2,C), "
                "not a representation of SO+(3,1): m + n must be an integer"
            )

    @property
    def dim(self) -> int:
        return (self.m2 + 1) * (self.n2 + 1)

    @property
    def spins(self) -> tuple[int, ...]:
        """Twice the SU(2) spins j it contains, ascending (the canonical-basis blocks)."""
        return tuple(range(abs(self.m2 - self.n2), self.m2 + self.n2 + 1, 2))

    def fits_in(self, bound: Irrep) -> bool:
        """Whether this irrep survives truncation at ``bound`` (m ≤ bound.m and n ≤ bound.n)."""
        return self.m2 <= bound.m2 and self.n2 <= bound.n2

    def __str__(self) -> str:
        return f"({Fraction(self.m2, 2)},{Fraction(self.n2, 2)})"


SCALAR = Irrep(0, 0)
VECTOR = Irrep(1, 1)


def decompose(first: Irrep, second: Irrep) -> list[Irrep]:
    """Irreps in ``first ⊗ second`` (the Clebsch–Gordan series), ascending.

    Args:
        first: The first factor.
        second: The second factor.

    Returns:
        Every (m, n) with |m1 − m2| ≤ m ≤ m1 + m2 and |n1 − n2| ≤ n ≤ n1 + n2, once each.
    """
    return [
        Irrep(m2, n2)
        for m2 in range(abs(first.m2 - second.m2), first.m2 + second.m2 + 1, 2)
        for n2 in range(abs(first.n2 - second.n2), first.n2 + second.n2 + 1, 2)
    ]


@cache
def product_to_canonical(irrep: Irrep) -> torch.Tensor:
    """The change of basis from the product basis of (m, 0) ⊗ (0, n) to the canonical one.

    Args:
        irrep: The irrep (m, n).

    Returns:
        Real orthogonal U ``[dim, dim]``: canonical coordinates = U @ product-basis coordinates.
    """
    rows = []
    for j2 in irrep.spins:
        cg = su2_cg_matrix(irrep.m2, irrep.n2, j2)  # [2m+1, 2n+1, 2j+1]
        rows.append(cg.reshape(irrep.dim, j2 + 1).T)
    return torch.cat(rows, dim=0)


@cache
def algebra(irrep: Irrep) -> tuple[torch.Tensor, torch.Tensor]:
    """The Lie algebra of an irrep in the canonical basis.

    Args:
        irrep: The irrep.

    Returns:
        Generators ``(J, K)``, each complex128 ``[3, dim, dim]``.
    """
    jm = su2_generators(irrep.m2)
    jn = su2_generators(irrep.n2)
    eye_m = torch.eye(irrep.m2 + 1, dtype=torch.complex128)
    eye_n = torch.eye(irrep.n2 + 1, dtype=torch.complex128)
    u = product_to_canonical(irrep).to(torch.complex128)
    j = torch.stack([torch.kron(jm[k], eye_n) + torch.kron(eye_m, jn[k]) for k in range(3)])
    k = torch.stack([1j * (torch.kron(jm[a], eye_n) - torch.kron(eye_m, jn[a])) for a in range(3)])
    return u @ j @ u.T, u @ k @ u.T


def rep_matrix(irrep: Irrep, theta: torch.Tensor, zeta: torch.Tensor) -> torch.Tensor:
    """The representation matrix ``D^(m,n)(Λ)`` of ``Λ = exp(-i (θ·J + ζ·K))``.

    Args:
        irrep: The irrep (m, n).
        theta: Rotation parameters θ, a real 3-vector.
        zeta: Boost parameters ζ, a real 3-vector.

    Returns:
        complex128 ``[dim, dim]``.
    """
    j, k = algebra(irrep)
    theta = torch.as_tensor(theta, dtype=torch.float64).to(torch.complex128)
    zeta = torch.as_tensor(zeta, dtype=torch.float64).to(torch.complex128)
    generator = torch.einsum("a,aij->ij", theta, j) + torch.einsum("a,aij->ij", zeta, k)
    return torch.linalg.matrix_exp(-1j * generator)


def cartesian_matrix(theta: torch.Tensor, zeta: torch.Tensor) -> torch.Tensor:
    """The real 4×4 Lorentz matrix ``exp(-i (θ·J + ζ·K))`` on Cartesian (E, px, py, pz).

    Args:
        theta: Rotation parameters θ, a real 3-vector.
        zeta: Boost parameters ζ, a real 3-vector.

    Returns:
        Λ ``[4, 4]`` in float64, the same group element as ``rep_matrix(VECTOR, theta, zeta)``.
    """
    j, k = lorentz.generators()
    theta = torch.as_tensor(theta, dtype=torch.float64).to(torch.complex128)
    zeta = torch.as_tensor(zeta, dtype=torch.float64).to(torch.complex128)
    generator = torch.einsum("a,aij->ij", theta, j) + torch.einsum("a,aij->ij", zeta, k)
    return torch.linalg.matrix_exp(-1j * generator).real


@cache
def cartesian_to_canonical() -> torch.Tensor:
    """Unitary C ``[4, 4]`` with ``D^(1/2,1/2)(Λ) = C Λ C⁻¹``: canonical coordinates of a 4-vector = C @ p.

    Found as the (one-dimensional, by Schur's lemma) space of intertwiners between the Cartesian
    generators and the canonical ones, with its phase fixed so that p_z maps to +1 times the j=1, μ=0
    component.

    Returns:
        C, complex128 ``[4, 4]``.
    """
    jc, kc = lorentz.generators()
    jv, kv = algebra(VECTOR)
    eye = torch.eye(4, dtype=torch.complex128)
    # C G_cart - G_can C = 0 for all six generators, as a linear system on vec(C) (row-major)
    blocks = [
        torch.kron(eye, gc.T.contiguous()) - torch.kron(gv, eye)
        for gc, gv in zip((*jc, *kc), (*jv, *kv), strict=True)
    ]
    system = torch.cat(blocks, dim=0)
    _, singular, vh = torch.linalg.svd(system)
    if singular[-1] > 1e-10 or singular[-2] < 1e-6:
        raise RuntimeError("the Cartesian and canonical 4-vector representations do not intertwine uniquely")
    c = vh[-1].conj().reshape(4, 4)
    c = c / c[2, 3]  # canonical index 2 is (j=1, μ=0); Cartesian index 3 is p_z
    return _snap(c)


def _snap(matrix: torch.Tensor) -> torch.Tensor:
    """Remove the SVD's rounding noise: the entries are exactly 0, ±1 or ±1/√2 (real or imaginary)."""
    exact = torch.tensor([0.0, 1.0, -1.0, 0.5**0.5, -(0.5**0.5)], dtype=torch.float64)

    def nearest(part: torch.Tensor) -> torch.Tensor:
        distance = (part.unsqueeze(-1) - exact).abs()
        if distance.min(-1).values.max() > 1e-8:
            raise RuntimeError("unexpected entries in the Cartesian-to-canonical basis change")
        return exact[distance.argmin(-1)]

    return torch.complex(nearest(matrix.real), nearest(matrix.imag))
