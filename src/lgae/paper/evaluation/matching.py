"""Pairing input and output particles per jet, for particle-level errors (paper Table 2).

The paper matches the particles of each jet with the Jonker–Volgenant algorithm
(``scipy.optimize.linear_sum_assignment``) on the L2 distance of their features. Only real particles take
part: the input's real slots against the reconstruction's real slots (the same slots here, as the
reconstruction is masked with the input mask, so both sides have n particles).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["match_particles"]

CHUNK = 2048  # jets whose cost matrices are formed at once (bounded memory on JetNet-sized sets)


def match_particles(
    target: np.ndarray, output: np.ndarray, target_mask: np.ndarray, output_mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Optimal one-to-one pairs of real target and real output particles, jet by jet.

    The cost is the Euclidean distance (``scipy.optimize.linear_sum_assignment``); a jet with n and m
    real particles contributes min(n, m) pairs.

    Args:
        target: Target particles ``[B, N, F]``.
        output: Output particles ``[B, M, F]``.
        target_mask: Real targets ``[B, N]``.
        output_mask: Real outputs ``[B, M]``; None: all.

    Returns:
        Flat index arrays ``(jet, target_slot, output_slot)`` ``[P]`` of every matched pair, jets in order.
    """
    target = np.asarray(target, dtype=np.float64)
    output = np.asarray(output, dtype=np.float64)
    target_mask = np.asarray(target_mask, dtype=bool)
    output_mask = np.ones(output.shape[:2], bool) if output_mask is None else np.asarray(output_mask, bool)
    if target.shape[0] != output.shape[0] or target.shape[-1] != output.shape[-1]:
        raise ValueError(f"target {target.shape} and output {output.shape} differ in jets or features")
    jets, rows, cols = [], [], []
    for b in range(len(target)):
        if b % CHUNK == 0:  # pairwise costs of a chunk of jets at once: [chunk, N, M]
            chunk = slice(b, b + CHUNK)
            cost = np.sqrt(((target[chunk, :, None, :] - output[chunk, None, :, :]) ** 2).sum(-1))
        real_t, real_o = np.flatnonzero(target_mask[b]), np.flatnonzero(output_mask[b])
        if real_t.size == 0 or real_o.size == 0:
            continue
        r, c = linear_sum_assignment(cost[b % CHUNK][np.ix_(real_t, real_o)])
        jets.append(np.full(r.size, b))
        rows.append(real_t[r])
        cols.append(real_o[c])
    if not jets:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return tuple(np.concatenate(a).astype(np.int64) for a in (jets, rows, cols))  # type: ignore[return-value]
