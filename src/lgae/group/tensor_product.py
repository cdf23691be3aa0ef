"""Batched, channel-wise tensor products of SO+(3,1) features with Clebsch–Gordan decomposition.

Features are dicts ``{Irrep: complex tensor [..., C, dim]}`` in the canonical basis, with the same
multiplicity C for every irrep (the LGN convention: channel c of one factor meets only channel c of the
other). The product of two such features is decomposed into irreps, truncated to those that fit in
``bound``, and the contributions to each output irrep are concatenated along the channel axis in a
fixed order: input pairs sorted by (first irrep, second irrep). This is the general path; the LMP layer
has a faster Cartesian path for scalars and vectors that reproduces it exactly.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from lgae.group.clebsch_gordan import clebsch_gordan
from lgae.group.irreps import Irrep, decompose

Features = dict[Irrep, torch.Tensor]


def product_multiplicities(first: Iterable[Irrep], second: Iterable[Irrep], bound: Irrep) -> dict[Irrep, int]:
    """How many channel blocks each output irrep receives from ``first ⊗ second`` after truncation.

    Args:
        first: The irreps of the first features.
        second: The irreps of the second features.
        bound: The largest irrep kept (``(m, n)`` with m ≤ bound.m and n ≤ bound.n).

    Returns:
        ``{output irrep: number of (first, second) pairs that produce it}``.
    """
    counts: dict[Irrep, int] = {}
    for a in sorted(set(first)):
        for b in sorted(set(second)):
            for out in decompose(a, b):
                if out.fits_in(bound):
                    counts[out] = counts.get(out, 0) + 1
    return dict(sorted(counts.items()))


def cg_product(first: Features, second: Features, bound: Irrep) -> Features:
    """Channel-wise CG product ``first ⊗ second``, truncated at ``bound``; leading axes broadcast.

    Args:
        first: ``{Irrep: complex [..., C, dim]}``.
        second: ``{Irrep: complex [..., C, dim]}``, the same C.
        bound: The largest irrep kept.

    Returns:
        ``{Irrep: complex [..., C · multiplicity, dim]}``, the blocks of each output irrep in the order of
        the sorted (first irrep, second irrep) pairs.
    """
    pieces: dict[Irrep, list[torch.Tensor]] = {}
    for a in sorted(first):
        x = first[a]
        for b in sorted(second):
            y = second[b]
            kron = (x.unsqueeze(-1) * y.unsqueeze(-2)).flatten(-2)  # [..., C, da*db]
            for out in decompose(a, b):
                if not out.fits_in(bound):
                    continue
                h = clebsch_gordan(a, b, out).to(device=kron.device, dtype=kron.dtype)
                pieces.setdefault(out, []).append(kron @ h.T)
    return {irrep: torch.cat(parts, dim=-2) for irrep, parts in sorted(pieces.items())}


def concatenate(*features: Features) -> Features:
    """Concatenate several features irrep by irrep along the channel axis (in argument order).

    Args:
        *features: Features ``{Irrep: [..., C_i, dim]}``; an irrep missing from one contributes nothing.

    Returns:
        ``{Irrep: [..., Σ C_i, dim]}``.
    """
    irreps = sorted({irrep for f in features for irrep in f})
    return {irrep: torch.cat([f[irrep] for f in features if irrep in f], dim=-2) for irrep in irreps}


def apply_representation(features: Features, matrices: dict[Irrep, torch.Tensor]) -> Features:
    """Act with D(Λ) on every irrep: ``x → x @ D.T`` on the last axis.

    Args:
        features: ``{Irrep: complex [..., C, dim]}``.
        matrices: ``{Irrep: D(Λ) [dim, dim]}`` for every irrep of ``features``.

    Returns:
        The transformed features, same shapes.
    """
    return {irrep: x @ matrices[irrep].to(x).T for irrep, x in features.items()}
