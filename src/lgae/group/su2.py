"""SU(2) building blocks: spin generators and Clebsch–Gordan coefficients (Condon–Shortley phases).

Spins are labelled by ``2j`` (an integer); basis vectors of spin j are ordered by magnetic number
m = -j, …, +j (ascending). Clebsch–Gordan coefficients are exact (sympy) and cached.
"""

from __future__ import annotations

from functools import cache

import torch


@cache
def su2_generators(j2: int) -> torch.Tensor:
    """Hermitian spin matrices of spin j = j2/2, in the basis m = -j, …, +j.

    Args:
        j2: Twice the spin (0, 1, 2, …).

    Returns:
        ``(J_x, J_y, J_z)`` as one complex128 tensor ``[3, 2j+1, 2j+1]``.
    """
    j = j2 / 2
    ms = [-j + k for k in range(j2 + 1)]
    jz = torch.diag(torch.tensor(ms, dtype=torch.complex128))
    j_plus = torch.zeros(j2 + 1, j2 + 1, dtype=torch.complex128)
    for k, m in enumerate(ms[:-1]):
        j_plus[k + 1, k] = (j * (j + 1) - m * (m + 1)) ** 0.5  # J+ |j m> = sqrt(j(j+1) - m(m+1)) |j m+1>
    j_minus = j_plus.T.conj()
    jx = (j_plus + j_minus) / 2
    jy = (j_plus - j_minus) / 2j
    return torch.stack([jx, jy, jz])


@cache
def su2_cg_matrix(j1_2: int, j2_2: int, j_2: int) -> torch.Tensor:
    """SU(2) Clebsch–Gordan coefficients ``<j1 m1; j2 m2 | j m>`` (exact, from sympy; cached).

    Args:
        j1_2: Twice the first spin.
        j2_2: Twice the second spin.
        j_2: Twice the coupled spin.

    Returns:
        float64 ``[2j1+1, 2j2+1, 2j+1]``, zero unless m = m1 + m2.
    """
    # sympy here, not at the top: importing it costs ~1 s, and every process that imports the models
    # (a GNNAE's training, a figure) would pay it without ever building an LGAE
    from sympy import Rational
    from sympy.physics.wigner import clebsch_gordan

    if not abs(j1_2 - j2_2) <= j_2 <= j1_2 + j2_2 or (j1_2 + j2_2 + j_2) % 2:
        raise ValueError(f"spin {j_2}/2 is not in {j1_2}/2 ⊗ {j2_2}/2")
    out = torch.zeros(j1_2 + 1, j2_2 + 1, j_2 + 1, dtype=torch.float64)
    for a in range(j1_2 + 1):
        for b in range(j2_2 + 1):
            c2 = (2 * a - j1_2) + (2 * b - j2_2)  # 2(m1 + m2)
            if abs(c2) > j_2:
                continue
            c = (c2 + j_2) // 2
            value = clebsch_gordan(
                Rational(j1_2, 2),
                Rational(j2_2, 2),
                Rational(j_2, 2),
                Rational(2 * a - j1_2, 2),
                Rational(2 * b - j2_2, 2),
                Rational(c2, 2),
            )
            out[a, b, c] = float(value)
    return out
