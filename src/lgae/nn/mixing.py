"""Node-wise complex linear maps acting on the multiplicity (channel) axis of one irrep.

A map W ∈ ℂ^{C_out × C_in} with no bias commutes with the group action (which acts on the other axis),
so it is the most general equivariant linear map between isotypic components (paper Eq. 5). The same
weights serve both storage layouts: real (re, im) pairs ``[B, 2, C, ...]`` for the fast Cartesian path,
and complex ``[..., C, dim]`` for the general canonical path.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class ComplexMix(nn.Module):
    """``y = W x`` over channels, W complex, initialised with variance 1/C_in for |W_oc|²."""

    def __init__(self, in_channels: int, out_channels: int, gain: float = 1.0) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        std = gain / math.sqrt(2.0 * in_channels)
        self.weight_re = nn.Parameter(torch.randn(out_channels, in_channels) * std)
        self.weight_im = nn.Parameter(torch.randn(out_channels, in_channels) * std)

    def real_block(self) -> torch.Tensor:
        """The real [2 C_out, 2 C_in] matrix acting on stacked (re; im) channels."""
        top = torch.cat([self.weight_re, -self.weight_im], dim=1)
        bottom = torch.cat([self.weight_im, self.weight_re], dim=1)
        return torch.cat([top, bottom], dim=0)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """Pairs layout: ``[B, 2, C_in, *rest] -> [B, 2, C_out, *rest]``."""
        batch, _, channels, *rest = pairs.shape
        flat = pairs.reshape(batch, 2 * channels, -1)
        out = torch.matmul(self.real_block(), flat)
        return out.view(batch, 2, self.out_channels, *rest)

    def complex_forward(self, x: torch.Tensor) -> torch.Tensor:
        """Complex layout: ``[..., C_in, dim] -> [..., C_out, dim]``."""
        weight = torch.complex(self.weight_re, self.weight_im).to(x.dtype)
        return torch.einsum("oc,...cd->...od", weight, x)
