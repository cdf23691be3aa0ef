"""Edge weights f(p_ij²) of the LMP layers: Lorentzian bells of the pair invariant, mixed per channel.

Each layer has one edge function per edge harmonic h (and, optionally, per channel c):
``f_c^(h)(d) = Σ_k W_{hc,k} / (1 + c_k² |d|) + β_{hc}``, i.e. a linear combination of Lorentzian bells
``a + b / (1 + c² d)`` as in the LGN (Bogatskiy et al. 2020), where the constants a, b are absorbed in
W and β. It is real by default (the paper's f(p²), a function of a Lorentz scalar); ``complex`` makes
it complex as in the LGN. ``d = ⟨p_i - p_j, p_i - p_j⟩`` is a Lorentz invariant, so is f; in the decoder the node
4-vectors are complex and so is d, whose modulus is still invariant.

The bell widths c_k are shared by the layers of one network (encoder or decoder), each layer keeping
its own W and β: the pairwise basis ``u_k(i, j)`` is then computed once per network instead of once per
layer (docs/deviations.md), and every layer's edge weights come from one matrix product over all pairs of
all jets (:meth:`LorentzianBells.edge_functions`). Edges that must not exist
(self-edges, padded particles) get exactly zero: the edge mask multiplies the basis, including the
constant basis function that carries β, unlike the authors' code where masked edges kept the bias.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


class LorentzianBells(nn.Module):
    """The shared basis ``u_k = M_ij / (1 + c_k² |d_ij|)`` for k < K and ``u_K = M_ij``."""

    def __init__(self, num_basis: int = 10, log10_scale_range: tuple[float, float] = (0.0, 3.0)) -> None:
        super().__init__()
        self.num_basis = num_basis
        low, high = log10_scale_range
        # widths spread over decades so that some bell resolves any scale of |d| at initialisation
        self.c = nn.Parameter(torch.logspace(low / 2, high / 2, num_basis))

    def widths_squared(self) -> torch.Tensor:
        """[K+1]: c_k², and 0 for the constant basis function."""
        return torch.cat([self.c * self.c, self.c.new_zeros(1)])

    def forward(self, dist: torch.Tensor, edge_mask: torch.Tensor) -> torch.Tensor:
        """The basis itself, [B, K+1, N²], for pair invariants [B, N, N] and edge mask [B, N, N] (for
        tests and inspection: the model never forms it, see :func:`edge_functions`)."""
        batch, n, _ = dist.shape
        mask = edge_mask.reshape(batch, 1, n * n).to(dist.dtype)
        return mask / (1 + self.widths_squared().view(1, -1, 1) * dist.reshape(batch, 1, n * n))

    def edge_functions(
        self, dist: torch.Tensor, edge_mask: torch.Tensor, layers: Sequence[EdgeWeights]
    ) -> list[torch.Tensor]:
        """The edge weights [B, E, H, R, N, N] of each of ``layers`` on this basis: ``W u`` for the
        stacked matrices W of the layers, without forming the basis for autograd (:class:`_EdgeFunctions`)."""
        matrices = [layer.matrix() for layer in layers]
        mask = edge_mask.to(dist.dtype)
        flat = _EdgeFunctions.apply(dist, mask, self.widths_squared(), torch.cat(matrices))  # [A, B, N, N]
        parts = flat.split([m.shape[0] for m in matrices])
        return [
            part.unflatten(0, (layer.num_channels, layer.num_harmonics, layer.parts)).permute(
                3, 0, 1, 2, 4, 5
            )
            for part, layer in zip(parts, layers, strict=True)
        ]


class _EdgeFunctions(torch.autograd.Function):
    """``f_a = Σ_k W_ak u_k`` over all pairs of all jets at once, ``u_k = M / (1 + c_k² d)``: one matrix
    product [A, K+1] · [K+1, B·N²] instead of one per jet, and a hand-written backward,

        ∂L/∂W = g u^T,   t = (W^T g) ⊙ u²,   ∂L/∂c_k² = −Σ t_k d,   ∂L/∂d = −Σ_k c_k² t_k

    (∂u/∂c² = −u² d and ∂u/∂d = −u² c², also where M = 0, since u = 0 there), with g = ∂L/∂f. Autograd's
    generic chain makes about twice as many passes over u, the largest tensor of the model."""

    @staticmethod
    def forward(
        ctx, dist: torch.Tensor, mask: torch.Tensor, widths2: torch.Tensor, weight: torch.Tensor
    ) -> torch.Tensor:
        batch, n, _ = dist.shape
        d = dist.reshape(1, -1)
        u = mask.reshape(1, -1) / torch.addcmul(
            torch.ones((), dtype=d.dtype, device=d.device), widths2[:, None], d
        )
        ctx.save_for_backward(d, u, widths2, weight)
        ctx.shape = (batch, n)
        return (weight @ u).view(weight.shape[0], batch, n, n)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        d, u, widths2, weight = ctx.saved_tensors
        batch, n = ctx.shape
        g = grad.reshape(weight.shape[0], -1)
        grad_dist = grad_widths2 = grad_weight = None
        if ctx.needs_input_grad[3]:
            grad_weight = g @ u.T
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[2]:
            t = weight.T @ g  # [K+1, B·N²]
            t.mul_(u).mul_(u)  # the common factor (W^T g) u²; signs are applied to the small results
            if ctx.needs_input_grad[2]:
                grad_widths2 = -(t @ d[0])
            if ctx.needs_input_grad[0]:
                grad_dist = -(widths2 @ t).view(batch, n, n)
        return grad_dist, None, grad_widths2, grad_weight


class EdgeWeights(nn.Module):
    """One layer's edge functions: f [B, E, H, R, N, N] (edge channel, harmonic, re[/im], i, j)."""

    def __init__(
        self,
        num_channels: int,
        num_harmonics: int,
        num_basis: int = 10,
        norm: float = 1.0,
        complex_valued: bool = False,
    ) -> None:
        super().__init__()
        self.num_channels = num_channels
        self.num_harmonics = num_harmonics
        self.parts = 2 if complex_valued else 1
        self.norm = float(norm)
        out = num_channels * num_harmonics * self.parts
        self.weight = nn.Parameter(torch.randn(out, num_basis) / math.sqrt(num_basis))
        self.bias = nn.Parameter(torch.zeros(out))

    def matrix(self) -> torch.Tensor:
        """[E·H·R, K+1]: the map from the bell basis to this layer's edge weights (norm included)."""
        return torch.cat([self.weight, self.bias.unsqueeze(1)], dim=1) / self.norm

    def forward(self, basis: torch.Tensor) -> torch.Tensor:
        return edge_weights_of([self], basis)[0]


def shape_edge_weights(flat: torch.Tensor, edges: EdgeWeights) -> torch.Tensor:
    """[B, E·H·R, N²] → [B, E, H, R, N, N]."""
    batch, _, nn2 = flat.shape
    n = math.isqrt(nn2)
    return flat.view(batch, edges.num_channels, edges.num_harmonics, edges.parts, n, n)


def edge_weights_of(layers: Sequence[EdgeWeights], basis: torch.Tensor) -> list[torch.Tensor]:
    """The edge weights of several layers from one shared basis, with a single batched product
    (``torch.matmul`` broadcasting would copy the basis; an expanded bmm does not)."""
    matrices = [layer.matrix() for layer in layers]
    stacked = torch.cat(matrices, dim=0)
    flat = torch.bmm(stacked.expand(basis.shape[0], -1, -1), basis)  # [B, Σ E·H·R, N²]
    sizes = [m.shape[0] for m in matrices]
    return [
        shape_edge_weights(part, layer) for part, layer in zip(flat.split(sizes, dim=1), layers, strict=True)
    ]
