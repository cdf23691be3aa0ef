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

The fast path computes in real arithmetic, each complex tensor held as its real and imaginary planes
(:mod:`lgae.nn.complex_arith`): no complex dtype, so that ``torch.compile`` can fuse it, and each complex
channel mixing is one real matrix product (``ComplexMix.real_forward``). Layouts, jets and particles
last: scalars [2, C, B, N], Cartesian vectors [4, 2, C, B, N] (:class:`RealFeatures`), node 4-vectors
real [4, B, N] (encoder) or complex [4, 2, B, N] (decoder), edge weights real [B, E, H, R, N, N] (E = 1
edge function shared by the channels, or E = C, one per channel; R = 1 for real edge functions, 2 for
complex ones, real and imaginary part on axis 3). The complex :class:`NodeFeatures` are the interface
of ``forward`` (tests, the general path); the model calls ``forward_real`` throughout.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import torch
from torch import nn

from lgae.group.clebsch_gordan import coupling_constant_scalar_from_vectors
from lgae.group.irreps import SCALAR, VECTOR, Irrep, cartesian_to_canonical
from lgae.group.tensor_product import Features, cg_product, concatenate, product_multiplicities
from lgae.nn.complex_arith import cmul, csquare, times_i
from lgae.nn.edge import EdgeWeights, LorentzianBells
from lgae.nn.mixing import ComplexMix

#: the layer and its interface; the other public functions are the fast path's steps, used by the layer
#: and its tests (imported from this module)
__all__ = ["LMPLayer", "LMPStack", "NodeFeatures", "RealFeatures", "edge_mask", "mdot", "pair_invariants"]


class NodeFeatures(NamedTuple):
    """Scalar and vector channels in the Cartesian layout, complex, channels last: the interface."""

    s: torch.Tensor  # [B, N, C]
    v: torch.Tensor  # [B, N, 4, C]


class RealFeatures(NamedTuple):
    """:class:`NodeFeatures` as the fast path holds them: real (re, im) planes, jets and particles last
    (:mod:`lgae.nn.complex_arith`)."""

    s: torch.Tensor  # [2, C, B, N]
    v: torch.Tensor  # [4, 2, C, B, N]

    @staticmethod
    def of(feats: NodeFeatures) -> RealFeatures:
        s = torch.view_as_real(feats.s.resolve_conj()).permute(3, 2, 0, 1)
        v = torch.view_as_real(feats.v.resolve_conj()).permute(2, 4, 3, 0, 1)
        return RealFeatures(s.contiguous(), v.contiguous())

    def complex(self) -> NodeFeatures:
        s = torch.view_as_complex(self.s.permute(2, 3, 1, 0).contiguous())
        v = torch.view_as_complex(self.v.permute(3, 4, 0, 2, 1).contiguous())
        return NodeFeatures(s, v)


def irrep_key(irrep: Irrep) -> str:
    """A module-dict key for an irrep (no dots or slashes)."""
    return f"m{irrep.m2}n{irrep.n2}"


def metric(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """η = diag(1, −1, −1, −1) as a vector (a new small tensor each call: nothing cached to go stale
    across devices or under ``torch.compile``)."""
    return torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=dtype, device=device)


def mdot(a: torch.Tensor, b: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Bilinear Minkowski product over axis ``dim`` (no conjugation for complex vectors)."""
    prod = a * b
    return 2.0 * prod.select(dim, 0) - prod.sum(dim)


def positions_of(x: torch.Tensor) -> torch.Tensor:
    """Node 4-vectors [B, N, 4] in the fast path's layout: real [4, B, N], complex [4, 2, B, N]."""
    if x.is_complex():
        return torch.view_as_real(x.resolve_conj()).permute(2, 3, 0, 1).contiguous()
    return x.permute(2, 0, 1).contiguous()


def pair_invariants(x: torch.Tensor) -> torch.Tensor:
    """|⟨x_i - x_j, x_i - x_j⟩| [B, N, N] for node 4-vectors x [B, N, 4], real or complex.

    Differences are formed before the product: for nearly collinear light-like momenta that keeps
    the relative rounding error of d_ij far below that of ``m_i² + m_j² - 2 x_i·x_j``.
    """
    return _pair_invariants(positions_of(x))


def _pair_invariants(x: torch.Tensor) -> torch.Tensor:
    """:func:`pair_invariants` of node 4-vectors in the fast path's layout."""
    return _PairInvariants.apply(x)


class _PairInvariants(torch.autograd.Function):
    """d_ij = |w_ij|, ``w_ij = Σ_μ η_μ Δ_ijμ²`` with ``Δ_ij = x_i − x_j`` (complex for the decoder), with a
    hand-written backward that keeps three [B, N, N] tensors instead of the [4, 2, B, N, N] differences.

    With ``G = (g + g^T) ∂d/∂w`` (g = ∂L/∂d; ∂d/∂w = w̄/|w| for complex w, sign w for real w, and 0 where
    w = 0), the chain rule gives ``∂L/∂x_iμ = 2 η_μ Σ_j G_ij Δ_ijμ`` (complex: ∂L/∂x = its conjugate
    pairing), and ``Σ_j G_ij Δ_ij = x_i Σ_j G_ij − (G x)_i``: a row sum and a batched matrix product."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        eta = metric(x.dtype, x.device)
        if x.dim() == 3:  # real [4, B, N]
            diff = x.unsqueeze(-1) - x.unsqueeze(-2)  # [4, B, N, N]
            w = torch.tensordot(eta, diff * diff, dims=1)
            ctx.save_for_backward(x, w)
            return w.abs()
        xr, xi = x.unbind(1)  # [4, B, N] each
        a = xr.unsqueeze(-1) - xr.unsqueeze(-2)
        b = xi.unsqueeze(-1) - xi.unsqueeze(-2)
        w_re = torch.tensordot(eta, (a - b) * (a + b), dims=1)
        w_im = torch.tensordot(2.0 * eta, a * b, dims=1)
        d = torch.sqrt(w_re * w_re + w_im * w_im)  # not hypot: |w| ≪ 1e150, and √ vectorises
        ctx.save_for_backward(x, w_re, w_im, d)
        return d

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        if not ctx.needs_input_grad[0]:
            return None
        sym = grad + grad.transpose(1, 2)
        if len(ctx.saved_tensors) == 2:  # real
            x, w = ctx.saved_tensors
            return _times_differences([sym * torch.sign(w)], [x])[0] * _two_eta(x)
        x, w_re, w_im, d = ctx.saved_tensors
        positive = d > 0
        scale = torch.where(positive, sym / torch.where(positive, d, torch.ones_like(d)), torch.zeros_like(d))
        xr, xi = x.unbind(1)
        (h_re_xr, h_re_xi), (h_im_xr, h_im_xi) = _times_differences([scale * w_re, scale * w_im], [xr, xi])
        two_eta = _two_eta(x)
        return torch.stack([h_re_xr + h_im_xi, h_im_xr - h_re_xi], dim=1) * two_eta


def _times_differences(matrices: list[torch.Tensor], vectors: list[torch.Tensor]) -> list:
    """``Σ_j H_ij (x_i − x_j)`` for each H [B, N, N] and each x [4, B, N]: ``x_i Σ_j H_ij − (H x)_i``
    (one batched product per H for all x). A list per H of one [4, B, N] per x (a bare tensor for one x)."""
    stacked = torch.cat(vectors).permute(1, 2, 0)  # [B, N, 4·len(vectors)]
    out = []
    for h in matrices:
        hx = torch.bmm(h, stacked).permute(2, 0, 1)  # [4·len, B, N]
        res = torch.cat(vectors) * h.sum(-1) - hx
        parts = list(res.split(4))
        out.append(parts if len(parts) > 1 else parts[0])
    return out


def _two_eta(x: torch.Tensor) -> torch.Tensor:
    """2η shaped to multiply [4, (2,) B, N] tensors."""
    return (2.0 * metric(x.dtype, x.device)).view(4, *[1] * (x.dim() - 1))


def edge_mask(node_mask: torch.Tensor) -> torch.Tensor:
    """Edges between two distinct real particles, [B, N, N] bool."""
    n = node_mask.shape[-1]
    eye = torch.eye(n, dtype=torch.bool, device=node_mask.device)
    return node_mask.unsqueeze(-1) & node_mask.unsqueeze(-2) & ~eye


def lowered(x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """``scale · η x`` for node 4-vectors in the fast path's layout: Minkowski products with x become
    plain sums over the 4-vector axis (axis 0)."""
    return x * (scale * metric(x.dtype, x.device)).view(4, *[1] * (x.dim() - 1))


def _meeting_features(x: torch.Tensor) -> torch.Tensor:
    """Node 4-vectors, real [4, B, N] or complex [4, 2, B, N], shaped to meet vector features
    [4, 2, C, B, N]: [4, 1, 1, B, N] or [4, 2, 1, B, N]."""
    return x[:, None, None] if x.dim() == 3 else x[:, :, None]


def times_position(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``x_μ z_c`` per node: z [2, C, B, N], x real [4, B, N] or complex [4, 2, B, N] → [4, 2, C, B, N]."""
    xm = _meeting_features(x)
    return z * xm if x.dim() == 3 else cmul(z.unsqueeze(0), xm)


def dot_position(x_low: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``Σ_μ x_low_μ w_μc`` per node: x_low as x in :func:`times_position`, w [4, 2, C, B, N] →
    [2, C, B, N]."""
    xm = _meeting_features(x_low)
    return (w * xm if x_low.dim() == 3 else cmul(w, xm)).sum(0)


def aggregate(f: torch.Tensor, g: torch.Tensor, spans: Sequence[tuple[int, int]]) -> list[torch.Tensor]:
    """``Σ_j f_ij g_j`` per edge harmonic h, over the components ``spans[h] = (start, stop)`` of g: f real
    [B, E, H, R, N, N], g [k, 2, C, B, N] (k components, complex as planes) → [stop − start, 2, C, B, N]
    for each h (a strided view of the product).

    One real batched product per harmonic, over the components it needs only: per jet, the [rows, N]
    block of g times f^T, read in place. For complex f (R = 2) the two products are recombined as
    ``Σ Re f g + i Σ Im f g``."""
    _, _, channels, batch, n = g.shape
    edge_channels, parts = f.shape[1], f.shape[3]
    out = []
    # unbind rather than index: its backward stacks the gradients instead of zero-filling f each time
    for (start, stop), f_h in zip(spans, f.unbind(2), strict=True):  # f_h: [B, E, R, N, N]
        width = stop - start
        if edge_channels == 1:  # one edge function shared by all channels: one product per part
            rows = g[start:stop].reshape(width * 2 * channels, batch, n).transpose(0, 1)  # [B, rows, N]
            prods = [
                torch.bmm(rows, f_h[:, 0, r].transpose(1, 2))
                .transpose(0, 1)
                .unflatten(0, (width, 2, channels))
                for r in range(parts)
            ]
        else:  # one edge function per channel: (jet, channel) is the batch axis of the product
            rows = g[start:stop].permute(3, 2, 0, 1, 4).reshape(batch, channels, width * 2, n)
            prods = [
                torch.matmul(rows, f_h[:, :, r].transpose(-1, -2))
                .view(batch, channels, width, 2, n)
                .permute(2, 3, 1, 0, 4)
                for r in range(parts)
            ]
        out.append(prods[0] if parts == 1 else prods[0] + times_i(prods[1]))
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
        self.fast_path_ok = (
            set(self.in_irreps) <= {SCALAR, VECTOR}
            and produced == {SCALAR, VECTOR}
            and VECTOR in self.out_irreps
        )
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
        """Fast path on complex features: :meth:`forward_real` between two changes of layout. ``x``:
        node 4-vectors [B, N, 4], real or complex; ``x_low``: optionally ``κ η x`` as [B, N, 4, 1]."""
        x = positions_of(x)
        x_low = lowered(x, self.kappa.real) if x_low is None else positions_of(x_low[..., 0])
        return self.forward_real(RealFeatures.of(feats), x, f, node_mask, x_low).complex()

    def forward_real(
        self,
        feats: RealFeatures,
        x: torch.Tensor,
        f: torch.Tensor,
        node_mask: torch.Tensor | None,
        x_low: torch.Tensor,
    ) -> RealFeatures:
        """Fast path. ``feats``: complex features as real planes, jets and particles last; ``x``: node
        4-vectors, real [4, B, N] or complex [4, 2, B, N]; ``x_low``: ``κ η x`` in the same layout (the
        same for every layer of a stack, see :func:`lowered`); ``f``: this layer's edge weights
        [B, E, H, R, N, N] (``self.edges(basis)``), zero on absent edges.

        Padded particles must carry zero features and zero 4-vectors (``LMPStack`` ensures it): they
        then send nothing (zero g_j) and receive nothing (zero rows of f), and stay zero."""
        if not self.fast_path_ok:
            raise RuntimeError("this layer carries irreps beyond scalars and vectors: use forward_general")
        s, v = feats  # [2, C, B, N], [4, 2, C, B, N]
        scalars_out = SCALAR in self.out_irreps
        vector_harmonic = VECTOR in self.edge_harmonics
        # per node j, in this order: v (4), s (1), s x (4), κ <x, v> (1); the last only where the vector
        # harmonic feeds output scalars. Every harmonic reads a contiguous run of them: the scalar one
        # Σ f v (and Σ f s for output scalars), the vector one Σ f s and Σ f s x (and Σ f v, Σ f <x, v>)
        parts = [v, s.unsqueeze(0)]
        if vector_harmonic:
            parts.append(times_position(s, x))
            if scalars_out:
                parts.append(dot_position(x_low, v).unsqueeze(0))
        g = torch.cat(parts)
        spans = {SCALAR: (0, 5) if scalars_out else (0, 4), VECTOR: (0, 10) if scalars_out else (4, 9)}
        summed = aggregate(f, g, [spans[h] for h in self.edge_harmonics])
        scalar_parts = [s]
        vector_parts = [v]
        for harmonic, agg in zip(self.edge_harmonics, summed, strict=True):
            if harmonic == SCALAR:  # Σ_j f_ij v_j and Σ_j f_ij s_j
                vector_parts.append(agg[:4])
                if scalars_out:
                    scalar_parts.append(agg[4])
            else:  # x_i (f s)_i - (f s x)_i and κ (<x_i, (f v)_i> - (f <x, v>)_i)
                if scalars_out:
                    fv, fs, fsx, fxv = agg.split((4, 1, 4, 1))
                    scalar_parts.append(dot_position(x_low, fv) - fxv.squeeze(0))
                else:
                    fs, fsx = agg.split((1, 4))
                vector_parts.append(times_position(fs.squeeze(0), x) - fsx)
        # self-interaction F_i ⊗ F_i, pairs in order (S,S), (S,V), (V,S), (V,V)
        # (S,V) and (V,S) are both s v: mixed once by the sum of their two blocks of W
        vector_parts.append(cmul(s.unsqueeze(0), v))
        v_out = self.mix[irrep_key(VECTOR)].real_forward(torch.cat(vector_parts, dim=-3), merge_last=True)
        if not scalars_out:
            return RealFeatures(s.new_zeros(2, 0, *s.shape[-2:]), v_out)
        eta_kappa = self.kappa.real * metric(v.dtype, v.device)
        scalar_parts += [csquare(s), (csquare(v) * eta_kappa.view(4, 1, 1, 1, 1)).sum(0)]
        # the parts side by side on the channel axis, in the order of the mixing's input channels
        s_out = self.mix[irrep_key(SCALAR)].real_forward(torch.cat(scalar_parts, dim=-3))
        if self.scalar_mlp is not None:
            s_out = self._apply_scalar_mlp(s_out.permute(2, 3, 1, 0)).permute(3, 2, 0, 1)
            if node_mask is not None:  # the MLP's biases would make padded scalars non-zero
                s_out = s_out * node_mask.to(s_out.dtype)
        return RealFeatures(s_out, v_out)

    def _apply_scalar_mlp(self, s: torch.Tensor) -> torch.Tensor:
        """The optional MLP on the real and imaginary parts of the scalars of each node: s [B, N, C, 2]
        (the MLP reads them as [B, N, 2C], (re, im) of channel 0 first)."""
        if self.scalar_mlp is None:
            return s
        batch, n, channels, _ = s.shape
        return self.scalar_mlp(s.reshape(batch, n, 2 * channels)).view(batch, n, channels, 2)

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
            scalars = torch.view_as_real(out[SCALAR][..., 0].contiguous())
            out[SCALAR] = torch.view_as_complex(self._apply_scalar_mlp(scalars).contiguous()).unsqueeze(-1)
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
        """Every layer's edge weights for node 4-vectors x in the fast path's layout (real [4, B, N] or
        complex [4, 2, B, N]) and edge mask [B, N, N]."""
        dist = _pair_invariants(x)
        if self.bells is not None:
            return self.bells.edge_functions(dist, edges, [layer.edges for layer in self.layers])
        return [
            bells.edge_functions(dist, edges, [layer.edges])[0]
            for layer, bells in zip(self.layers, self.layer_bells, strict=True)
        ]

    def forward(
        self, feats: NodeFeatures, x: torch.Tensor, edges: torch.Tensor, node_mask: torch.Tensor | None
    ) -> NodeFeatures:
        """Complex features and node 4-vectors: :meth:`forward_real` between two changes of layout."""
        return self.forward_real(RealFeatures.of(feats), positions_of(x), edges, node_mask).complex()

    def forward_real(
        self, feats: RealFeatures, x: torch.Tensor, edges: torch.Tensor, node_mask: torch.Tensor | None
    ) -> RealFeatures:
        """The fast path: features as real planes, jets and particles last (:class:`RealFeatures`), node
        4-vectors real [4, B, N] or complex [4, 2, B, N], edge mask [B, N, N], particle mask [B, N]
        (None: every node is real)."""
        if node_mask is not None:  # padded particles: zero features and 4-vectors, whatever was stored
            zero = torch.zeros((), dtype=feats.s.dtype, device=feats.s.device)
            feats = RealFeatures(torch.where(node_mask, feats.s, zero), torch.where(node_mask, feats.v, zero))
            x = torch.where(node_mask, x, zero)
        x_low = lowered(x, self.layers[0].kappa.real)
        for layer, f in zip(self.layers, self.edge_weights(x, edges), strict=True):
            feats = layer.forward_real(feats, x, f, node_mask, x_low)
        return feats

    def forward_general(
        self, feats: Features, x: torch.Tensor, edges: torch.Tensor, node_mask: torch.Tensor | None
    ) -> Features:
        """The general path: canonical-basis features, node 4-vectors [B, N, 4] real or complex."""
        for layer, f in zip(self.layers, self.edge_weights(positions_of(x), edges), strict=True):
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
