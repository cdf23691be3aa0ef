"""Node-wise complex linear maps acting on the multiplicity (channel) axis of one irrep.

A map W ∈ ℂ^{C_out × C_in} with no bias commutes with the group action (which acts on the other axis),
so it is the most general equivariant linear map between isotypic components (paper Eq. 5). The same
weights serve both layouts: channels last ``[..., C]`` (the fast Cartesian path) and channels
second to last ``[..., C, dim]`` (the general canonical path), and complex numbers held as real (re, im)
planes ``[..., 2, C, B, N]`` (the fast path, :mod:`lgae.nn.complex_arith`), where W acts as one real
matrix on the stacked planes. Weights are stored as real and imaginary parts so that optimisers, initialisation and
dtype casts treat them as ordinary real parameters.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lgae.nn.complex_arith import contract


class ComplexMix(nn.Module):
    """``y = W x`` over channels, W complex, initialised with variance 1/C_in for |W_oc|².

    Args:
        in_channels: C_in.
        out_channels: C_out.
        gain: Scales the initial weights.
    """

    def __init__(self, in_channels: int, out_channels: int, gain: float = 1.0) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        std = gain / math.sqrt(2.0 * in_channels)
        # (re, im) in the last axis: ``view_as_complex`` then gives W without a copy
        self.weight_ri = nn.Parameter(torch.randn(out_channels, in_channels, 2) * std)

    def weight(self) -> torch.Tensor:
        """W as a complex ``[C_out, C_in]`` tensor (a view of the parameter).

        Returns:
            W ``[C_out, C_in]``.
        """
        return torch.view_as_complex(self.weight_ri)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Channels last.

        Args:
            x: Complex ``[..., C_in]``.

        Returns:
            ``[..., C_out]``.
        """
        return torch.matmul(x, self.weight().T)

    def real_matrix(self, merge_last: int = 0) -> torch.Tensor:
        """W as the real [2 C_out, 2 C_in] matrix ``[[Re W, −Im W], [Im W, Re W]]`` acting on the stacked
        (re, im) planes of x: ``(x_r, x_i) ↦ (Re W x_r − Im W x_i, Im W x_r + Re W x_i)``.

        ``merge_last = b``: the last two blocks of b input channels read the same input, so W's two
        blocks are summed (``W_1 y + W_2 y = (W_1 + W_2) y``), and the matrix has 2 b columns fewer."""
        w = self.weight_ri
        if merge_last:
            w = torch.cat(
                [w[:, : -2 * merge_last], w[:, -2 * merge_last : -merge_last] + w[:, -merge_last:]], 1
            )
        w_re, w_im = w.unbind(-1)
        return torch.cat([torch.cat([w_re, -w_im], dim=1), torch.cat([w_im, w_re], dim=1)], dim=0)

    def real_forward(self, x: torch.Tensor, merge_last: bool = False) -> torch.Tensor:
        """Complex as real planes (:mod:`lgae.nn.complex_arith`): ``[..., 2, C_in, B, N] ->
        [..., 2, C_out, B, N]``. ``merge_last``: x lacks the last block of input channels, a copy of
        the block before it (see :meth:`real_matrix`)."""
        *lead, _, channels, batch, n = x.shape
        matrix = self.real_matrix(self.in_channels - channels if merge_last else 0)
        out = contract(matrix, x.reshape(*lead, 2 * channels, batch * n))
        return out.view(*lead, 2, self.out_channels, batch, n)

    def real_input_forward(self, x: torch.Tensor) -> torch.Tensor:
        """A real input: ``[..., C_in, B, N] -> [..., 2, C_out, B, N]`` (the planes of ``W x``; no zero
        imaginary part is multiplied)."""
        *lead, _, batch, n = x.shape
        matrix = self.weight_ri.permute(2, 0, 1).reshape(2 * self.out_channels, self.in_channels)
        out = contract(matrix, x.reshape(*lead, self.in_channels, batch * n))
        return out.view(*lead, 2, self.out_channels, batch, n)

    def complex_forward(self, x: torch.Tensor) -> torch.Tensor:
        """Channels second to last (features of an irrep).

        Args:
            x: Complex ``[..., C_in, dim]``.

        Returns:
            ``[..., C_out, dim]``.
        """
        return torch.einsum("oc,...cd->...od", self.weight(), x)
