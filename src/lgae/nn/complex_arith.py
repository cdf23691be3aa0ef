"""Complex arithmetic on real tensors, for the LGAE's fast path.

A complex tensor is held as a real one with its real and imaginary *planes* on axis −4, in front of the
channels, the jets and the particles: ``[..., 2, C, B, N]``. Jets and particles are the two last axes,
contiguous, so that every element-wise operation is one long loop over all particles of all jets, every
channel mixing is one matrix product with B·N columns, and each jet's [C, N] block is a strided matrix that
batched products read in place.

Why: the LGAE's features are complex, but PyTorch's compiler (inductor) generates no code for complex
dtypes, and eager complex kernels, casts and ``view_as_real`` round trips cost as much as the arithmetic
(benchmarks/README.md). On real planes a complex product is a few real multiplications that the compiler
fuses with their neighbours; (re, im) as a last axis of size 2 would give stride-2 loops instead, and
channels last would give loops of 3 or 4.

A complex channel mixing ``y = W x`` is the real matrix ``[[Re W, −Im W], [Im W, Re W]]`` on the stacked
planes (``ComplexMix.real_matrix``), applied by :func:`contract`.
"""

from __future__ import annotations

import torch

PLANES = -4  #: the axis of the (re, im) planes: [..., 2, C, B, N]


def cmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The complex product ``a b`` (broadcasting on every axis but the planes)."""
    ar, ai = a.unbind(PLANES)
    br, bi = b.unbind(PLANES)
    return torch.stack([ar * br - ai * bi, ar * bi + ai * br], dim=PLANES)


def csquare(a: torch.Tensor) -> torch.Tensor:
    """``a²``."""
    ar, ai = a.unbind(PLANES)
    return torch.stack([ar * ar - ai * ai, 2.0 * ar * ai], dim=PLANES)


def times_i(a: torch.Tensor) -> torch.Tensor:
    """``i a``: (re, im) → (−im, re)."""
    ar, ai = a.unbind(PLANES)
    return torch.stack([-ai, ar], dim=PLANES)


def contract(matrix: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``y[..., o, m] = Σ_k M[o, k] x[..., k, m]``: a small matrix (1–40 columns) on the channel axis of
    x, with any number of leading axes and m the flattened jets and particles."""
    return _Contract.apply(matrix, x)


class _Contract(torch.autograd.Function):
    """:func:`contract` with a hand-written backward.

    Compiled, the forward pass and the gradient of x are written as sums of products, which inductor
    fuses with what produces x (the concatenated parts of an LMP layer are never stored twice); the
    gradient of M, a sum over every jet and particle, is one batched product and a sum (as a fused
    reduction it would stream through x once per entry of M). Eagerly, all three are matrix products."""

    @staticmethod
    def forward(ctx, matrix: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(matrix, x)
        return _apply(matrix, x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        matrix, x = ctx.saved_tensors
        grad_matrix = grad_x = None
        if ctx.needs_input_grad[0]:
            rows = grad.reshape(-1, *grad.shape[-2:])
            cols = x.reshape(-1, *x.shape[-2:])
            grad_matrix = torch.bmm(rows, cols.transpose(1, 2)).sum(0)
        if ctx.needs_input_grad[1]:
            grad_x = _apply(matrix.transpose(0, 1), grad)
        return grad_matrix, grad_x


#: a contraction over at most this many channels is a fused sum of products when compiled; over more (the
#: latent mixing of Mix aggregation: 2 N C channels) the loop would be scalar, and a matrix product wins
FUSED_CHANNELS = 64


def _apply(matrix: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if torch.compiler.is_compiling() and matrix.shape[1] <= FUSED_CHANNELS:
        return (matrix.unsqueeze(-1) * x.unsqueeze(-3)).sum(-2)
    if x.dim() == 2:
        return matrix @ x
    flat = x.reshape(-1, *x.shape[-2:])
    out = torch.bmm(matrix.expand(flat.shape[0], *matrix.shape), flat)
    return out.view(*x.shape[:-2], *out.shape[-2:])
