"""Edge weights f(p_ij²) of the LMP layer: Lorentzian bells of the pair invariant, mixed per channel.

``f_c^(h)(d) = Σ_k W_{hc,k} (a_k + b_k / (1 + c_k² |d|)) + β_{hc}``, complex, one weight per edge
harmonic h and channel c, as in the LGN (Bogatskiy et al. 2020). ``d = ⟨p_i - p_j, p_i - p_j⟩`` is a
Lorentz invariant, so is f. In the decoder the node 4-vectors are complex and so is d: its modulus
is still invariant. Edges that must not exist (self-edges, padded particles) get exactly zero: the
mask is applied after the linear map, unlike the authors' code where masked edges kept the bias.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class LorentzianBellEdges(nn.Module):
    """Complex edge weights [B, C, H, 2, N, N] (channel, harmonic, re/im, i, j) from |d_ij| [B, N, N].

    Computed as one matrix product per batch: with ``u_k = M_ij / (1 + c_k² |d_ij|)`` (M the edge mask)
    and ``u_{K+1} = M_ij`` (a bell of width zero), ``f = W' u`` where ``W' = [W diag(b), W a + β]``. The
    mask and the overall normalisation thus cost nothing on the [B, ·, N, N] tensors.
    """

    def __init__(
        self,
        num_channels: int,
        num_harmonics: int,
        num_basis: int = 10,
        log10_scale_range: tuple[float, float] = (0.0, 3.0),
        norm: float = 1.0,
    ) -> None:
        super().__init__()
        self.num_channels = num_channels
        self.num_harmonics = num_harmonics
        self.num_basis = num_basis
        self.norm = float(norm)
        # widths c_k spread over decades so that some bell resolves any scale of |d| at initialisation
        low, high = log10_scale_range
        self.a = nn.Parameter(torch.zeros(num_basis))
        self.b = nn.Parameter(torch.ones(num_basis))
        self.c = nn.Parameter(torch.logspace(low / 2, high / 2, num_basis))
        out = num_channels * num_harmonics * 2
        self.weight = nn.Parameter(torch.randn(out, num_basis) / math.sqrt(num_basis))
        self.bias = nn.Parameter(torch.zeros(out))

    def forward(self, dist: torch.Tensor, edge_mask: torch.Tensor) -> torch.Tensor:
        batch, n, _ = dist.shape
        c2 = torch.cat([self.c * self.c, self.c.new_zeros(1)]).view(1, -1, 1)
        mask = edge_mask.reshape(batch, 1, n * n).to(dist.dtype)
        u = mask / torch.addcmul(
            torch.ones((), dtype=dist.dtype, device=dist.device), c2, dist.reshape(batch, 1, n * n)
        )
        weight = torch.cat([self.weight * self.b, (self.weight @ self.a + self.bias).unsqueeze(1)], dim=1)
        f = torch.matmul(weight / self.norm, u)  # [B, C·H·2, N²]
        return f.view(batch, self.num_channels, self.num_harmonics, 2, n, n)
