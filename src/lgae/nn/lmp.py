"""The Lorentz group equivariant message-passing (LMP) layer (paper Eqs. 2–5, Fig. 1).

For node features F_i (channels of irreps) and node 4-vectors x_i:

- message ``m_ij = E_ij ⊗ F_j`` with the edge feature ``E_ij = ⊕_h f^(h)(x_ij²) Y^(h)(x_ij)``, where
  ``x_ij = x_i - x_j`` and the edge harmonics are ``Y^(0,0) = 1`` and ``Y^(1/2,1/2) = x_ij`` (the LGN's
  zonal functions; the paper's Eq. 2 writes only the vector one, which ``edge_harmonics`` selects);
- aggregated ``Σ_{j ≠ i, j real} CG[m_ij]`` and self-interaction ``CG[F_i ⊗ F_i]``;
- update ``F_i ← W (F_i ⊕ message ⊕ self)``, one complex linear map per irrep, then truncation.

Two implementations share the parameters. The *general* path works in the canonical basis with any
irreps, through explicit Clebsch–Gordan products. The *fast* path handles the case the paper uses,
scalars and vectors only: in Cartesian coordinates the surviving CG blocks are products of scalars, a
scalar times a vector, and κ times the bilinear Minkowski product (κ read off the CG tables), and the
sums over j reduce to batched matrix products with the edge weights::

    Σ_j f_ij (x_i - x_j) s_j      = x_i (f s)_i - (f (s x))_i
    Σ_j f_ij ⟨x_i - x_j, v_j⟩     = ⟨x_i, (f v)_i⟩ - (f ⟨x, v⟩)_i

so nothing of size [B, N, N, C, 4] is ever formed. Both paths give the same numbers (tested to 1e-12).

Layouts (fast path), channels last so that every channel mixing is one contiguous matrix product:
scalars complex [B, N, C], vectors complex Cartesian [B, N, 4, C], node 4-vectors real [B, N, 4]
(encoder) or complex [B, N, 4] (decoder), edge weights real [B, E, H, R, N, N] (E = 1 edge function
shared by the channels, or E = C, one per channel; R = 1 for real edge functions, 2 for complex ones,
real and imaginary part on axis 3).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import torch
from torch import nn

from lgae.group.clebsch_gordan import coupling_constant_scalar_from_vectors
from lgae.group.irreps import SCALAR, VECTOR, Irrep, cartesian_to_canonical
from lgae.group.tensor_product import Features, cg_product, concatenate, product_multiplicities
from lgae.nn.edge import EdgeWeights, LorentzianBells, edge_weights_of
from lgae.nn.mixing import ComplexMix


class NodeFeatures(NamedTuple):
    """Scalar and vector channels in the fast (Cartesian) layout, complex, channels last."""

    s: torch.Tensor  # [B, N, C]
    v: torch.Tensor  # [B, N, 4, C]


def irrep_key(irrep: Irrep) -> str:
    """A module-dict key for an irrep (no dots or slashes)."""
    return f"m{irrep.m2}n{irrep.n2}"


_METRIC: dict[tuple[torch.dtype, torch.device], torch.Tensor] = {}


def _metric(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    key = (dtype, device)
    if key not in _METRIC:
        _METRIC[key] = torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=dtype, device=device)
    return _METRIC[key]


def mdot(a: torch.Tensor, b: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Bilinear Minkowski product over axis ``dim`` (no conjugation for complex vectors)."""
    prod = a * b
    if dim == -1 and not prod.is_complex():
        return torch.matmul(prod, _metric(prod.dtype, prod.device))
    return 2.0 * prod.select(dim, 0) - prod.sum(dim)


def pair_invariants(x: torch.Tensor) -> torch.Tensor:
    """|⟨x_i - x_j, x_i - x_j⟩| [B, N, N] for node 4-vectors x [B, N, 4] (real or complex).

    Differences are formed before the product: for nearly collinear light-like momenta that keeps
    the relative rounding error of d_ij far below that of ``m_i² + m_j² - 2 x_i·x_j``.
    """
    diff = x.unsqueeze(2) - x.unsqueeze(1)  # [B, N, N, 4]
    return mdot(diff, diff).abs()


def edge_mask(node_mask: torch.Tensor) -> torch.Tensor:
    """Edges between two distinct real particles, [B, N, N] bool."""
    n = node_mask.shape[-1]
    eye = torch.eye(n, dtype=torch.bool, device=node_mask.device)
    return node_mask.unsqueeze(-1) & node_mask.unsqueeze(-2) & ~eye


def ccat(tensors: Sequence[torch.Tensor], dim: int) -> torch.Tensor:
    """``torch.cat`` for complex tensors through their real views (PyTorch's real copy kernels are
    about twice as fast as its complex ones here). ``dim`` must be negative."""
    if dim >= 0:
        raise ValueError("ccat takes a negative dim")
    return torch.view_as_complex(torch.cat([torch.view_as_real(t) for t in tensors], dim=dim - 1))


def lowered(v: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """``scale · η v`` for 4-vectors on axis -2 ([..., 4, C]): Minkowski products with v become plain
    sums over that axis."""
    return v * (scale * _metric(v.real.dtype, v.device)).view(4, 1)


def aggregate(f: torch.Tensor, g: torch.Tensor, widths: Sequence[int]) -> list[torch.Tensor]:
    """``Σ_j f_ij g_j`` per edge harmonic h, over the first ``widths[h]`` components of g: f real
    [B, E, H, R, N, N], g complex [B, N, k, C] → complex [B, N, widths[h], C] for each h.

    A real batched product on the (re, im) view of g; for complex f (R = 2) the two products are
    recombined as ``Σ Re f g + i Σ Im f g``."""
    batch, n, k, channels = g.shape
    edge_channels, harmonics, parts = f.shape[1], f.shape[2], f.shape[3]
    g_real = torch.view_as_real(g)  # [B, N, k, C, 2]
    if edge_channels == 1 and parts == 1:  # the paper's case: one real f per harmonic, one product
        prod = torch.bmm(f.reshape(batch, harmonics * n, n), g_real.reshape(batch, n, k * channels * 2))
        prod = torch.view_as_complex(prod.view(batch, harmonics, n, k, channels, 2))
        return [agg[:, :, :width] for agg, width in zip(prod.unbind(1), widths, strict=True)]
    out = []
    # unbind rather than index: its backward stacks the gradients instead of zero-filling f each time
    for width, f_h in zip(widths, f.unbind(2), strict=True):  # f_h: [B, E, R, N, N]
        if edge_channels == 1:  # one edge function shared by all channels: one product per jet
            rows = f_h.reshape(batch, parts * n, n)
            prod = torch.bmm(rows, g_real[:, :, :width].reshape(batch, n, width * channels * 2))
            prod = torch.view_as_complex(prod.view(batch, parts, n, width, channels, 2))
        else:  # one edge function per channel: the channels become a batch axis of the product
            cols = g_real[:, :, :width].permute(0, 3, 1, 2, 4).reshape(batch, channels, n, width * 2)
            prod = torch.matmul(f_h.reshape(batch, channels, parts * n, n), cols)
            prod = torch.view_as_complex(prod.view(batch, channels, parts, n, width, 2)).permute(
                0, 2, 3, 4, 1
            )
        if parts == 1:
            out.append(prod.squeeze(1))
        else:
            f_re, f_im = prod.unbind(1)
            out.append(f_re + 1j * f_im)
    return out


class LMPLayer(nn.Module):
    """One LMP layer with ``in_channels`` → ``out_channels`` per irrep."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        in_irreps: Sequence[Irrep] = (SCALAR, VECTOR),
        bound: Irrep = VECTOR,
        edge_harmonics: Sequence[Irrep] = (SCALAR, VECTOR),
        num_basis: int = 10,
        scalar_mlp_depth: int = 0,
        scalar_mlp_width: int = 6,
        message_norm: float = 1.0,
        keep: Sequence[Irrep] | None = None,
        edge_per_channel: bool = False,
        complex_edges: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.in_irreps = tuple(sorted(set(in_irreps)))
        self.bound = bound
        self.edge_harmonics = tuple(sorted(set(edge_harmonics)))
        if not self.edge_harmonics or not set(self.edge_harmonics) <= {SCALAR, VECTOR}:
            raise ValueError(f"edge harmonics must be (0,0) and/or (1/2,1/2), got {edge_harmonics}")
        own = {irrep: 1 for irrep in self.in_irreps if irrep.fits_in(bound)}
        message = product_multiplicities(self.edge_harmonics, self.in_irreps, bound)
        self_interaction = product_multiplicities(self.in_irreps, self.in_irreps, bound)
        blocks = {
            irrep: own.get(irrep, 0) + message.get(irrep, 0) + self_interaction.get(irrep, 0)
            for irrep in sorted(set(own) | set(message) | set(self_interaction))
        }
        produced = {irrep for irrep, count in blocks.items() if count > 0}
        # ``keep`` drops outputs nobody reads (the last decoder layer needs vectors only), so that no
        # parameter of the layer is dead
        self.out_irreps = tuple(sorted(produced if keep is None else produced & set(keep)))
        if not self.out_irreps:
            raise ValueError(
                f"keep={keep} leaves the layer no output irreps (it produces {sorted(produced)})"
            )
        self.mix = nn.ModuleDict(
            {
                irrep_key(irrep): ComplexMix(blocks[irrep] * in_channels, out_channels)
                for irrep in self.out_irreps
            }
        )
        edge_channels = in_channels if edge_per_channel else 1
        self.edges = EdgeWeights(
            edge_channels,
            len(self.edge_harmonics),
            num_basis,
            norm=message_norm,
            complex_valued=complex_edges,
        )
        self.fast_path_ok = set(self.in_irreps) <= {SCALAR, VECTOR} and produced == {SCALAR, VECTOR}
        self.kappa = coupling_constant_scalar_from_vectors()
        if self.kappa.imag != 0.0:
            raise RuntimeError(f"unexpected complex CG coupling {self.kappa}")
        keeps_scalars = SCALAR in self.out_irreps
        self.scalar_mlp = _scalar_mlp(
            out_channels, scalar_mlp_depth if keeps_scalars else 0, scalar_mlp_width
        )

    # ------------------------------------------------------------------------------------ fast path
    def forward(
        self,
        feats: NodeFeatures,
        x: torch.Tensor,
        f: torch.Tensor,
        node_mask: torch.Tensor | None,
        x_low: torch.Tensor | None = None,
    ) -> NodeFeatures:
        """Fast path. ``x``: node 4-vectors [B, N, 4], real or complex; ``f``: this layer's edge weights
        [B, E, H, R, N, N] (``self.edges(basis)``), zero on absent edges; ``x_low``: optionally
        ``κ η x`` as [B, N, 4, 1] (the same for every layer of a stack, see :func:`lowered`).

        Padded particles must carry zero features and zero 4-vectors (``LMPStack`` ensures it): they
        then send nothing (zero g_j) and receive nothing (zero rows of f), and stay zero."""
        if not self.fast_path_ok:
            raise RuntimeError("this layer carries irreps beyond scalars and vectors: use forward_general")
        s, v = feats
        kappa = self.kappa.real
        xc = x.unsqueeze(-1)  # [B, N, 4, 1], broadcast over channels
        if x_low is None:
            x_low = lowered(xc, kappa)  # κ <x, w> = Σ_μ x_low_μ w_μ
        s1 = s.unsqueeze(2)  # [B, N, 1, C]
        # per node j: s (1), v (4), s x (4), κ <x, v> (1)
        g = ccat([s1, v, s1 * xc, (x_low * v).sum(2, keepdim=True)], dim=-2)  # [B, N, 10, C]
        # the scalar harmonic needs Σ f s and Σ f v only, the vector harmonic all four sums
        summed = aggregate(f, g, [5 if h == SCALAR else 10 for h in self.edge_harmonics])
        scalar_parts = [s]
        vector_parts = [v]
        for harmonic, agg in zip(self.edge_harmonics, summed, strict=True):
            if harmonic == SCALAR:  # Σ_j f_ij s_j and Σ_j f_ij v_j
                fs, fv = agg.split((1, 4), dim=2)
                scalar_parts.append(fs.squeeze(2))
                vector_parts.append(fv)
            else:  # x_i (f s)_i - (f s x)_i and κ (<x_i, (f v)_i> - (f <x, v>)_i)
                fs, fv, fsx, fxv = agg.split((1, 4, 4, 1), dim=2)
                vector_parts.append(xc * fs - fsx)
                scalar_parts.append((x_low * fv).sum(2) - fxv.squeeze(2))
        # self-interaction F_i ⊗ F_i, pairs in order (S,S), (S,V), (V,S), (V,V)
        sv = s1 * v
        v_low = lowered(v, kappa)
        scalar_parts += [s * s, (v_low * v).sum(2)]
        vector_parts += [sv, sv]
        v_out = self.mix[irrep_key(VECTOR)](ccat(vector_parts, dim=-1))
        if SCALAR not in self.out_irreps:
            return NodeFeatures(s.new_zeros(*s.shape[:2], 0), v_out)
        s_out = self.mix[irrep_key(SCALAR)](ccat(scalar_parts, dim=-1))
        if self.scalar_mlp is not None:
            s_out = self._apply_scalar_mlp(s_out)
            if node_mask is not None:  # the MLP's biases would make padded scalars non-zero
                s_out = s_out * node_mask.unsqueeze(-1).to(s_out.real.dtype)
        return NodeFeatures(s_out, v_out)

    def _apply_scalar_mlp(self, s: torch.Tensor) -> torch.Tensor:
        """The optional MLP on the real and imaginary parts of the scalars of each node, [B, N, C]."""
        if self.scalar_mlp is None:
            return s
        batch, n, channels = s.shape
        out = self.scalar_mlp(torch.view_as_real(s).reshape(batch, n, 2 * channels))
        return torch.view_as_complex(out.view(batch, n, channels, 2))

    # --------------------------------------------------------------------------------- general path
    def forward_general(
        self, feats: Features, x: torch.Tensor, f: torch.Tensor, node_mask: torch.Tensor | None
    ) -> Features:
        """General path: canonical-basis features ``{irrep: complex [B, N, C, dim]}``, node 4-vectors
        x [B, N, 4] (Cartesian, real or complex), edge weights f as in the fast path."""
        batch, n, _ = x.shape
        f_im = f[:, :, :, 1] if f.shape[3] == 2 else torch.zeros_like(f[:, :, :, 0])
        f_complex = torch.complex(f[:, :, :, 0], f_im).permute(0, 2, 3, 4, 1)  # [B, H, N, N, E]
        x_complex = x.to(f_complex.dtype)
        diff = x_complex.unsqueeze(2) - x_complex.unsqueeze(1)  # [B, N, N, 4], x_i - x_j
        edge_feats: Features = {}
        for h, harmonic in enumerate(self.edge_harmonics):
            if harmonic == SCALAR:
                y = torch.ones(batch, n, n, 1, 1, dtype=f_complex.dtype, device=f_complex.device)
            else:
                c = cartesian_to_canonical().to(device=diff.device, dtype=diff.dtype)
                y = (diff @ c.T).unsqueeze(-2)  # [B, N, N, 1, 4]
            edge_feats[harmonic] = f_complex[:, h].unsqueeze(-1) * y  # [B, N, N, E, dim]
        neighbours = {irrep: t.unsqueeze(1) for irrep, t in feats.items()}  # j on axis 2
        message = {irrep: t.sum(dim=2) for irrep, t in cg_product(edge_feats, neighbours, self.bound).items()}
        own = {irrep: t for irrep, t in feats.items() if irrep.fits_in(self.bound)}
        stacked = concatenate(own, message, cg_product(feats, feats, self.bound))
        out = {irrep: self.mix[irrep_key(irrep)].complex_forward(stacked[irrep]) for irrep in self.out_irreps}
        if self.scalar_mlp is not None and SCALAR in out:
            out[SCALAR] = self._apply_scalar_mlp(out[SCALAR][..., 0].contiguous()).unsqueeze(-1)
        if node_mask is not None:
            keep = node_mask.view(batch, n, 1, 1).to(f.dtype)  # padded particles stay exactly zero
            out = {irrep: t * keep for irrep, t in out.items()}
        return out


class LMPStack(nn.Module):
    """The LMP layers of one network, sharing one Lorentzian-bell basis of the node 4-vectors' pair
    invariants (computed once per forward pass). ``bells_per_layer`` gives each layer bell widths of its
    own, as the LGN and the authors' code do: one basis per layer, at L times the cost."""

    def __init__(
        self,
        channels: Sequence[int],
        bound: Irrep = VECTOR,
        edge_harmonics: Sequence[Irrep] = (SCALAR, VECTOR),
        num_basis: int = 10,
        scalar_mlp_depth: int = 0,
        scalar_mlp_width: int = 6,
        message_norm: float = 1.0,
        keep_last: Sequence[Irrep] | None = None,
        edge_per_channel: bool = False,
        complex_edges: bool = False,
        bells_per_layer: bool = False,
    ) -> None:
        super().__init__()
        # shared: one module `bells` (the parameter names of models saved before the option existed)
        self.bells = None if bells_per_layer else LorentzianBells(num_basis)
        self.layer_bells = (
            nn.ModuleList(LorentzianBells(num_basis) for _ in channels) if bells_per_layer else None
        )
        self.layers = nn.ModuleList()
        irreps: tuple[Irrep, ...] = (SCALAR, VECTOR)
        previous = channels[0]
        for index, width in enumerate(channels):
            layer = LMPLayer(
                previous,
                width,
                irreps,
                bound,
                edge_harmonics,
                num_basis,
                scalar_mlp_depth,
                scalar_mlp_width,
                message_norm=message_norm,
                keep=keep_last if index == len(channels) - 1 else None,
                edge_per_channel=edge_per_channel,
                complex_edges=complex_edges,
            )
            self.layers.append(layer)
            irreps, previous = layer.out_irreps, width
        self.fast_path_ok = all(layer.fast_path_ok for layer in self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[LMPLayer]:
        return iter(self.layers)

    def edge_weights(self, x: torch.Tensor, edges: torch.Tensor) -> list[torch.Tensor]:
        """Every layer's edge weights for node 4-vectors x [B, N, 4] and edge mask [B, N, N]."""
        dist = pair_invariants(x)
        if self.bells is not None:
            return edge_weights_of([layer.edges for layer in self.layers], self.bells(dist, edges))
        return [
            edge_weights_of([layer.edges], bells(dist, edges))[0]
            for layer, bells in zip(self.layers, self.layer_bells, strict=True)
        ]

    def forward(
        self, feats: NodeFeatures, x: torch.Tensor, edges: torch.Tensor, node_mask: torch.Tensor | None
    ) -> NodeFeatures:
        if node_mask is not None:  # padded particles: zero features and 4-vectors, whatever was stored
            keep = node_mask.unsqueeze(-1)
            zero = torch.zeros((), dtype=feats.s.dtype, device=feats.s.device)
            feats = NodeFeatures(
                torch.where(keep, feats.s, zero), torch.where(keep.unsqueeze(-1), feats.v, zero)
            )
            x = torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device))
        x_low = lowered(x.unsqueeze(-1), self.layers[0].kappa.real)
        for layer, f in zip(self.layers, self.edge_weights(x, edges), strict=True):
            feats = layer(feats, x, f, node_mask, x_low)
        return feats

    def forward_general(
        self, feats: Features, x: torch.Tensor, edges: torch.Tensor, node_mask: torch.Tensor | None
    ) -> Features:
        for layer, f in zip(self.layers, self.edge_weights(x, edges), strict=True):
            feats = layer.forward_general(feats, x, f, node_mask)
        return feats


def _scalar_mlp(channels: int, depth: int, width: int) -> nn.Module | None:
    """The authors' optional scalar MLP (LGN's CGMLP): not in the paper, off by default."""
    if depth <= 0:
        return None
    hidden = width * 2 * channels
    layers: list[nn.Module] = [nn.Linear(2 * channels, hidden), nn.LeakyReLU(0.01)]
    for _ in range(depth - 1):
        layers += [nn.Linear(hidden, hidden), nn.LeakyReLU(0.01)]
    layers.append(nn.Linear(hidden, 2 * channels))
    return nn.Sequential(*layers)
