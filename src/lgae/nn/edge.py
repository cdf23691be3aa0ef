"""Edge weights f(p_ij²) of the LMP layers: Lorentzian bells of the pair invariant, mixed per channel.

Each layer has one edge function per edge harmonic h (and, optionally, per channel c):
``f_c^(h)(d) = Σ_k W_{hc,k} / (1 + c_k² |d|) + β_{hc}``, i.e. a linear combination of Lorentzian bells
``a + b / (1 + c² d)`` as in the LGN (Bogatskiy et al. 2020), where the constants a, b are absorbed in
W and β. It is real by default (the paper's f(p²), a function of a Lorentz scalar); ``complex`` makes
it complex as in the LGN. ``d = ⟨p_i - p_j, p_i - p_j⟩`` is a Lorentz invariant, so is f; in the decoder the node
4-vectors are complex and so is d, whose modulus is still invariant.

The bell widths c_k are shared by the layers of one network (encoder or decoder), each layer keeping
its own W and β: the pairwise basis ``u_k(i, j)`` is then computed once per network instead of once per
layer, which on a CPU is most of the cost of a step (docs/deviations.md). Edges that must not exist
(self-edges, padded particles) get exactly zero: the edge mask multiplies the basis, including the
constant basis function that carries β, unlike the authors' code where masked edges kept the bias.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


class LorentzianBells(nn.Module):
    """The shared basis ``u_k = M_ij / (1 + c_k² |d_ij|)`` for k < K and ``u_K = M_ij``: [B, K+1, N²]."""

    def __init__(self, num_basis: int = 10, log10_scale_range: tuple[float, float] = (0.0, 3.0)) -> None:
        super().__init__()
        self.num_basis = num_basis
        low, high = log10_scale_range
        # widths spread over decades so that some bell resolves any scale of |d| at initialisation
        self.c = nn.Parameter(torch.logspace(low / 2, high / 2, num_basis))

    def forward(self, dist: torch.Tensor, edge_mask: torch.Tensor) -> torch.Tensor:
        batch, n, _ = dist.shape
        c2 = torch.cat([self.c * self.c, self.c.new_zeros(1)])  # width 0: the constant
        mask = edge_mask.reshape(batch, 1, n * n).to(dist.dtype)
        return _Bells.apply(dist.reshape(batch, 1, n * n), c2, mask)


class _Bells(torch.autograd.Function):
    """``u = M / (1 + c² d)`` with a hand-written backward: ∂u/∂c² = -u² d and ∂u/∂d = -u² c² (also
    where M = 0, since u = 0 there). Autograd's generic chain for the same expression makes about
    twice as many passes over the [B, K, N²] tensor, the largest one of the model."""

    @staticmethod
    def forward(ctx, dist: torch.Tensor, c2: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        u = torch.addcmul(torch.ones((), dtype=dist.dtype, device=dist.device), c2.view(1, -1, 1), dist)
        u = torch.div(mask, u)
        ctx.save_for_backward(dist, c2, u)
        return u

    @staticmethod
    def backward(ctx, grad_u: torch.Tensor):
        dist, c2, u = ctx.saved_tensors
        t = grad_u * u
        t.mul_(u)  # grad u², the common factor; signs are applied to the small results
        grad_c2 = grad_dist = None
        if ctx.needs_input_grad[1]:
            grad_c2 = -torch.bmm(t, dist.transpose(1, 2)).sum(0).view(-1)
        if ctx.needs_input_grad[0]:  # an expanded bmm: torch.matmul would broadcast by copying t
            grad_dist = -torch.bmm(c2.view(1, 1, -1).expand(t.shape[0], 1, -1), t)
        return grad_dist, grad_c2, None


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
