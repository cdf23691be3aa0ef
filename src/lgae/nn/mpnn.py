"""The GNNAE's fully connected, masked message-passing layer (paper Eqs. 8–9, after MPGAN).

``m_i = Σ_j f_e(x_i ⊕ x_j ⊕ d(x_i, x_j))`` over the real particles j (including j = i, as the paper's
sum over all j and the authors' code do), then ``x_i' = f_n(x_i ⊕ m_i)``. ``f_e`` and ``f_n`` are MLPs
with LeakyReLU(0.2) after every linear layer, except optionally the last one of ``f_n`` (a model's
final layer produces a latent or a reconstruction, where an activation only distorts).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["MPNNLayer", "mlp", "pairwise_distance"]


def mlp(
    in_features: int, widths: Sequence[int], negative_slope: float = 0.2, final_activation: bool = True
) -> nn.Sequential:
    """Linear layers, each followed by LeakyReLU (the last one optionally).

    Args:
        in_features: The input width.
        widths: The output width of each layer.
        negative_slope: LeakyReLU's slope.
        final_activation: Whether the last layer has the activation too.

    Returns:
        The layers.
    """
    if not widths:
        raise ValueError("an MLP needs at least one layer")
    layers: list[nn.Module] = []
    previous = in_features
    for k, width in enumerate(widths):
        layers.append(nn.Linear(previous, width))
        if k < len(widths) - 1 or final_activation:
            layers.append(nn.LeakyReLU(negative_slope))
        previous = width
    return nn.Sequential(*layers)


def pairwise_distance(x: torch.Tensor) -> torch.Tensor:
    """Euclidean distances ``|x_i − x_j|`` between the nodes of each set.

    Exact norm, with a zero-safe gradient: where the distance is exactly 0 (always on the diagonal,
    and for duplicate nodes) the value is 0 and the gradient is 0 (a subgradient of the norm), instead
    of the NaN that ``sqrt`` gives at 0. No ε is added, so the values are the paper's d.

    Args:
        x: Node features ``[..., N, F]``.

    Returns:
        ``[..., N, N]``.
    """
    diff = x.unsqueeze(-2) - x.unsqueeze(-3)
    d2 = (diff * diff).sum(dim=-1)
    positive = d2 > 0
    safe = torch.where(positive, d2, torch.ones_like(d2))
    return torch.where(positive, torch.sqrt(safe), torch.zeros_like(d2))


class MPNNLayer(nn.Module):
    """One fully connected message-passing step on masked point clouds.

    Padded particles send no message and their outputs are exactly zero; their input values are never
    used.

    Args:
        node_in: The size of x_i.
        edge_widths: The output widths of the edge MLP f_e (input 2·node_in + 1: both nodes and their
            distance).
        node_widths: The output widths of the node MLP f_n (input node_in + edge_widths[-1]).
        negative_slope: LeakyReLU's slope.
        final_activation: Whether f_n's last layer has the activation.
        self_loops: Whether a node sends a message to itself.
    """

    def __init__(
        self,
        node_in: int,
        edge_widths: Sequence[int],
        node_widths: Sequence[int],
        negative_slope: float = 0.2,
        final_activation: bool = True,
        self_loops: bool = True,
    ) -> None:
        super().__init__()
        self.node_in = node_in
        self.node_out = int(node_widths[-1])
        self.self_loops = self_loops
        self.edge_net = mlp(2 * node_in + 1, edge_widths, negative_slope, final_activation=True)
        self.node_net = mlp(node_in + int(edge_widths[-1]), node_widths, negative_slope, final_activation)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """One step.

        Args:
            x: Node features ``[B, N, node_in]``.
            mask: Real particles ``[B, N]`` (bool); None: all.

        Returns:
            ``[B, N, node_out]``, zero at padded particles.
        """
        num = x.shape[-2]
        if mask is None:
            mask = torch.ones(x.shape[:-1], dtype=torch.bool, device=x.device)
        mask = mask.to(device=x.device, dtype=torch.bool)
        zero = torch.zeros((), dtype=x.dtype, device=x.device)
        x = torch.where(mask.unsqueeze(-1), x, zero)  # garbage (even NaN) in padded slots never enters
        dist = pairwise_distance(x).unsqueeze(-1)
        # the first linear layer of f_e on x_i ⊕ x_j ⊕ d, split by blocks: W_i x_i + W_j x_j + w_d d + b,
        # two products per node instead of one per edge on a concatenated [B, N, N, 2F+1] tensor
        first = self.edge_net[0]
        f = self.node_in
        w_i, w_j, w_d = first.weight[:, :f], first.weight[:, f : 2 * f], first.weight[:, 2 * f]
        pre = (
            (x @ w_i.T).unsqueeze(-2) + (x @ w_j.T).unsqueeze(-3) + dist * w_d + first.bias
        )  # [B, N(i), N(j), E1]
        edges = self.edge_net[1:](pre)  # [B, N, N, E]
        senders = mask.unsqueeze(-2).expand(*mask.shape, num)  # [B, N(i), N(j)]: is j real
        if not self.self_loops:
            senders = senders & ~torch.eye(num, dtype=torch.bool, device=x.device)
        messages = torch.where(senders.unsqueeze(-1), edges, zero).sum(dim=-2)  # [B, N, E]
        out = self.node_net(torch.cat([x, messages], dim=-1))
        return torch.where(mask.unsqueeze(-1), out, zero)

    def extra_repr(self) -> str:
        return f"node_in={self.node_in}, node_out={self.node_out}, self_loops={self.self_loops}"
