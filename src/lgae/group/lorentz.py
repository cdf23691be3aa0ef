"""Minkowski geometry: metric, products, boosts, rotations, random Lorentz transformations, coordinates.

Conventions: 4-vectors are ``(E, px, py, pz)`` in the last axis, metric ``diag(+1, -1, -1, -1)``.
Functions taking momenta accept numpy arrays or torch tensors and return the same kind. Matrices of
the group are built in float64 (and cast afterwards if the caller wants), since the equivariance tests
compare against them at the 1e-12 level.

torch is imported where a torch matrix is built, not with the module: the data steps (generation and
preprocessing, numpy only) use the coordinate functions, and importing torch would add seconds to each
of their processes and to every generator worker.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

Array = Any  # numpy.ndarray or torch.Tensor

METRIC_DIAG = (1.0, -1.0, -1.0, -1.0)


def metric(dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """The Minkowski metric ``diag(1, -1, -1, -1)``.

    Args:
        dtype: The matrix's dtype; ``None``: float64.
        device: Where the matrix lives.

    Returns:
        The metric ``g`` ``[4, 4]``.
    """
    import torch

    return torch.diag(torch.tensor(METRIC_DIAG, dtype=dtype or torch.float64, device=device))


def minkowski_dot(a: Array, b: Array) -> Array:
    """Bilinear Minkowski product ``a0 b0 - a.b`` over the last axis (no complex conjugation).

    Args:
        a: 4-vectors ``[..., 4]`` (numpy or torch, real or complex).
        b: 4-vectors ``[..., 4]``, broadcastable against ``a``.

    Returns:
        The products ``[...]``, of the inputs' kind.
    """
    return a[..., 0] * b[..., 0] - a[..., 1] * b[..., 1] - a[..., 2] * b[..., 2] - a[..., 3] * b[..., 3]


def minkowski_norm2(a: Array) -> Array:
    """Squared Minkowski norm ``a.a``: the invariant mass squared of a 4-momentum.

    Args:
        a: 4-vectors ``[..., 4]``.

    Returns:
        ``a.a`` ``[...]``.
    """
    return minkowski_dot(a, a)


# --------------------------------------------------------------------------------------------------
# Group elements (float64 torch matrices acting on column 4-vectors: p' = Λ p, i.e. p' = p @ Λ.T)
# --------------------------------------------------------------------------------------------------


def _unit(direction: Array) -> np.ndarray:
    n = np.asarray(direction, dtype=np.float64).reshape(3)
    norm = float(np.linalg.norm(n))
    if not norm > 0:
        raise ValueError(f"direction must be a non-zero 3-vector, got {n.tolist()}")
    return n / norm


def boost(rapidity: float, direction: Array = (0.0, 0.0, 1.0)) -> torch.Tensor:
    """Pure boost of the given rapidity along ``direction`` (γ = cosh rapidity).

    Args:
        rapidity: The rapidity ζ (any sign).
        direction: The boost direction, a non-zero 3-vector (normalised here).

    Returns:
        Λ ``[4, 4]`` (float64) acting on column 4-vectors: ``p' = Λ p``.

    Raises:
        ValueError: ``direction`` has no length (zero or NaN).
    """
    n = _unit(direction)
    ch, sh = math.cosh(rapidity), math.sinh(rapidity)
    lam = np.eye(4)
    lam[0, 0] = ch
    lam[0, 1:] = sh * n
    lam[1:, 0] = sh * n
    lam[1:, 1:] += (ch - 1.0) * np.outer(n, n)
    import torch

    return torch.from_numpy(lam)


def rotation(angle: float, axis: Array = (0.0, 0.0, 1.0)) -> torch.Tensor:
    """Rotation by ``angle`` (right-handed) about ``axis``, acting on the spatial components.

    Args:
        angle: The angle in radians.
        axis: The rotation axis, a non-zero 3-vector (normalised here).

    Returns:
        Λ ``[4, 4]`` (float64).

    Raises:
        ValueError: ``axis`` has no length (zero or NaN).
    """
    n = _unit(axis)
    k = np.array([[0.0, -n[2], n[1]], [n[2], 0.0, -n[0]], [-n[1], n[0], 0.0]])
    r = np.eye(3) + math.sin(angle) * k + (1.0 - math.cos(angle)) * (k @ k)
    lam = np.eye(4)
    lam[1:, 1:] = r
    import torch

    return torch.from_numpy(lam)


def random_lorentz(
    generator: np.random.Generator | int | None = None, max_rapidity: float = 3.0
) -> torch.Tensor:
    """A random proper orthochronous Lorentz transformation: rotation × boost.

    The rotation is uniform (Haar) on SO(3); the boost has a uniform random direction and a rapidity
    drawn uniformly in ``[0, max_rapidity]``.

    Args:
        generator: A numpy generator, or a seed for one (``None``: fresh entropy).
        max_rapidity: The largest boost rapidity.

    Returns:
        Λ ``[4, 4]`` (float64).
    """
    gen = generator if isinstance(generator, np.random.Generator) else np.random.default_rng(generator)
    quat = gen.normal(size=4)
    quat /= np.linalg.norm(quat)
    w, x, y, z = quat
    r = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    rot = np.eye(4)
    rot[1:, 1:] = r
    direction = gen.normal(size=3)
    import torch

    lam = torch.from_numpy(rot) @ boost(float(gen.uniform(0.0, max_rapidity)), direction)
    return lam


def apply(lam: torch.Tensor, p4: torch.Tensor) -> torch.Tensor:
    """Transform 4-vectors in the last axis: ``p' = Λ p``.

    Args:
        lam: Λ ``[4, 4]`` (cast to the dtype and device of ``p4``).
        p4: 4-vectors ``[..., 4]``.

    Returns:
        Λ p ``[..., 4]``.
    """
    return p4 @ lam.to(dtype=p4.dtype, device=p4.device).transpose(-1, -2)


def is_lorentz(lam: torch.Tensor, atol: float = 1e-9) -> bool:
    """Whether ``lam`` preserves the metric, has det +1 and keeps the time direction.

    Args:
        lam: A matrix ``[4, 4]``.
        atol: The tolerance on ``Λᵀ g Λ = g``, relative to the largest entry of Λ squared.

    Returns:
        True for an element of SO⁺(3,1).
    """
    import torch

    g = metric(lam.dtype, lam.device)
    scale = max(1.0, float(lam.abs().max()) ** 2)
    preserves = torch.allclose(lam.T @ g @ lam, g, atol=atol * scale, rtol=0)
    return bool(preserves and torch.linalg.det(lam) > 0 and lam[0, 0] >= 1.0 - atol)


def generators(dtype: torch.dtype | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Hermitian-convention generators (J, K) of the 4-vector representation.

    ``rotation(θ, e_k) = exp(-i θ J_k)`` and ``boost(ζ, e_k) = exp(-i ζ K_k)``; they satisfy
    ``[J_a, J_b] = i ε J_c``, ``[J_a, K_b] = i ε K_c``, ``[K_a, K_b] = -i ε J_c``.

    Args:
        dtype: A complex dtype; ``None``: complex128.

    Returns:
        ``(J, K)``, each ``[3, 4, 4]``.
    """
    import torch

    dtype = dtype or torch.complex128
    j = torch.zeros(3, 4, 4, dtype=dtype)
    k = torch.zeros(3, 4, 4, dtype=dtype)
    eps = _levi_civita()
    for a in range(3):
        # rotation: (R p)_b = p_b - θ ε_{abc} n... ; real antisymmetric generator A with exp(θ A) = R
        a_real = torch.zeros(4, 4, dtype=torch.float64)
        a_real[1:, 1:] = -torch.from_numpy(eps[a])
        j[a] = 1j * a_real.to(dtype)
        b_real = torch.zeros(4, 4, dtype=torch.float64)
        b_real[0, a + 1] = 1.0
        b_real[a + 1, 0] = 1.0
        k[a] = 1j * b_real.to(dtype)
    return j, k


def _levi_civita() -> np.ndarray:
    eps = np.zeros((3, 3, 3))
    eps[0, 1, 2] = eps[1, 2, 0] = eps[2, 0, 1] = 1.0
    eps[0, 2, 1] = eps[2, 1, 0] = eps[1, 0, 2] = -1.0
    return eps


# --------------------------------------------------------------------------------------------------
# Collider coordinates
# --------------------------------------------------------------------------------------------------


def _xp(x: Array) -> Any:
    """torch for a tensor, else numpy. A tensor exists only once torch is imported, so no import here."""
    torch = sys.modules.get("torch")
    return torch if torch is not None and isinstance(x, torch.Tensor) else np


def wrap_phi(phi: Array) -> Array:
    """Wrap an angle into ``[-π, π)``.

    Args:
        phi: Angles, any shape (numpy, torch or a float).

    Returns:
        The wrapped angles, same shape and kind.
    """
    return (phi + math.pi) % (2 * math.pi) - math.pi


def p4_from_ptetaphi(pt: Array, eta: Array, phi: Array, mass: Array | float = 0.0) -> Array:
    """Cartesian ``(E, px, py, pz)`` from transverse momentum, pseudorapidity, azimuth and mass.

    Args:
        pt: Transverse momenta ``[...]``.
        eta: Pseudorapidities ``[...]``.
        phi: Azimuths ``[...]``.
        mass: Masses ``[...]`` or one number (0: massless, then ``E = |p|`` exactly).

    Returns:
        4-momenta ``[..., 4]``, of the inputs' kind.
    """
    xp = _xp(pt)
    px = pt * xp.cos(phi)
    py = pt * xp.sin(phi)
    pz = pt * xp.sinh(eta)
    p_abs = pt * xp.cosh(eta)
    energy = xp.sqrt(p_abs * p_abs + mass * mass) if not (np.isscalar(mass) and mass == 0) else p_abs
    return xp.stack([energy, px, py, pz], axis=-1)


def ptetaphi_from_p4(p4: Array, eps: float = 0.0) -> tuple[Array, Array, Array]:
    """``(pT, η, φ)`` of 4-vectors; η of a particle with pT ≤ ``eps`` is reported as 0.

    Args:
        p4: 4-vectors ``[..., 4]``.
        eps: The pT at or below which η is 0.

    Returns:
        ``(pt, eta, phi)``, each ``[...]``. Gradients are NaN at pT = 0: ``lgae.jets.ptetaphi`` avoids that.
    """
    xp = _xp(p4)
    px, py, pz = p4[..., 1], p4[..., 2], p4[..., 3]
    pt = xp.hypot(px, py)
    safe_pt = xp.where(pt > eps, pt, xp.ones_like(pt))
    eta = xp.where(pt > eps, xp.arcsinh(pz / safe_pt), xp.zeros_like(pt))
    phi = xp.arctan2(py, px)
    return pt, eta, phi


def mass_from_p4(p4: Array) -> Array:
    """Signed invariant mass ``sign(m²) sqrt(|m²|)`` (negative for numerically spacelike sums).

    Args:
        p4: 4-vectors ``[..., 4]``.

    Returns:
        Masses ``[...]``.
    """
    xp = _xp(p4)
    m2 = minkowski_norm2(p4)
    return xp.sign(m2) * xp.sqrt(xp.abs(m2))
