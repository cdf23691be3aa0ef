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
Complex numbers are stored as real (re, im) pairs on axis 1: scalars [B, 2, C, N], vectors
[B, 2, C, N, 4], node 4-vectors [B, 2, N, 4].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from lgae.group.clebsch_gordan import coupling_constant_scalar_from_vectors
from lgae.group.irreps import SCALAR, VECTOR, Irrep, cartesian_to_canonical
from lgae.group.tensor_product import Features, cg_product, concatenate, product_multiplicities
from lgae.nn.edge import LorentzianBellEdges
from lgae.nn.mixing import ComplexMix


class Pairs(NamedTuple):
    """Scalar and vector channels in the fast (Cartesian, real-pair) layout."""

    s: torch.Tensor  # [B, 2, C, N]
    v: torch.Tensor  # [B, 2, C, N, 4]


def irrep_key(irrep: Irrep) -> str:
    """A module-dict key for an irrep (no dots or slashes)."""
    return f"m{irrep.m2}n{irrep.n2}"


_METRIC: dict[tuple[torch.dtype, torch.device], torch.Tensor] = {}


def _metric(like: torch.Tensor) -> torch.Tensor:
    key = (like.dtype, like.device)
    if key not in _METRIC:
        _METRIC[key] = torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=like.dtype, device=like.device)
    return _METRIC[key]


def mdot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Bilinear Minkowski product over the last axis."""
    return torch.matmul(a * b, _metric(a))


def cmul(
    ar: torch.Tensor, ai: torch.Tensor, br: torch.Tensor, bi: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Complex product of (ar + i ai) and (br + i bi)."""
    return ar * br - ai * bi, ar * bi + ai * br


def pair_invariants(x: torch.Tensor) -> torch.Tensor:
    """|⟨x_i - x_j, x_i - x_j⟩| [B, N, N] for node 4-vectors, real [B, N, 4] or complex pairs [B, 2, N, 4].

    Differences are formed before the product: for nearly collinear light-like momenta that keeps
    the relative rounding error of d_ij far below that of ``m_i² + m_j² - 2 x_i·x_j``.
    """
    if x.dim() == 3:
        diff = x.unsqueeze(2) - x.unsqueeze(1)  # [B, N, N, 4]
        return mdot(diff, diff).abs()
    diff = x.unsqueeze(3) - x.unsqueeze(2)  # [B, 2, N, N, 4]
    re = mdot(diff[:, 0], diff[:, 0]) - mdot(diff[:, 1], diff[:, 1])
    im = 2.0 * mdot(diff[:, 0], diff[:, 1])
    return torch.sqrt(re * re + im * im)


def edge_mask(node_mask: torch.Tensor) -> torch.Tensor:
    """Edges between two distinct real particles, [B, N, N] bool."""
    n = node_mask.shape[-1]
    eye = torch.eye(n, dtype=torch.bool, device=node_mask.device)
    return node_mask.unsqueeze(-1) & node_mask.unsqueeze(-2) & ~eye


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
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.in_irreps = tuple(sorted(set(in_irreps)))
        self.bound = bound
        self.edge_harmonics = tuple(sorted(set(edge_harmonics)))
        if not set(self.edge_harmonics) <= {SCALAR, VECTOR}:
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
        self.edges = LorentzianBellEdges(in_channels, len(self.edge_harmonics), num_basis, norm=message_norm)
        self.fast_path_ok = set(self.in_irreps) <= {SCALAR, VECTOR} and produced == {SCALAR, VECTOR}
        kappa = coupling_constant_scalar_from_vectors()
        self.kappa = (kappa.real, kappa.imag)
        keeps_scalars = SCALAR in self.out_irreps
        self.scalar_mlp = _scalar_mlp(
            out_channels, scalar_mlp_depth if keeps_scalars else 0, scalar_mlp_width
        )

    # ------------------------------------------------------------------------------------ fast path
    def forward(
        self,
        feats: Pairs,
        x: torch.Tensor,
        dist: torch.Tensor,
        edges: torch.Tensor,
        node_mask: torch.Tensor | None,
    ) -> Pairs:
        """Fast path. ``x``: node 4-vectors, real [B, N, 4] or complex pairs [B, 2, N, 4];
        ``dist`` = |x_ij²| [B, N, N]; ``edges`` [B, N, N] bool."""
        if not self.fast_path_ok:
            raise RuntimeError("this layer carries irreps beyond scalars and vectors: use forward_general")
        s, v = feats
        batch, _, channels, n = s.shape
        sr, si = s[:, 0], s[:, 1]  # [B, C, N]
        vr, vi = v[:, 0], v[:, 1]  # [B, C, N, 4]
        if x.dim() == 3:  # real node vectors (encoder): x = xr, xi = 0
            xr = x.unsqueeze(1)
            sx = (sr.unsqueeze(-1) * xr, si.unsqueeze(-1) * xr)
            xv = (mdot(xr, vr), mdot(xr, vi))
        else:
            xr, xi = x[:, 0].unsqueeze(1), x[:, 1].unsqueeze(1)
            sx = cmul(sr.unsqueeze(-1), si.unsqueeze(-1), xr, xi)
            xv = (mdot(xr, vr) - mdot(xi, vi), mdot(xr, vi) + mdot(xi, vr))
        # per node j: s (1), v (4), s x (4), <x, v> (1); re and im side by side
        g = torch.cat(
            [
                torch.cat([sr.unsqueeze(-1), vr, sx[0], xv[0].unsqueeze(-1)], dim=-1),
                torch.cat([si.unsqueeze(-1), vi, sx[1], xv[1].unsqueeze(-1)], dim=-1),
            ],
            dim=-1,
        )  # [B, C, N, 20]
        f = self.edges(dist, edges)  # [B, C, H, 2, N, N]
        harmonics = len(self.edge_harmonics)
        prod = torch.matmul(f.view(batch, channels, harmonics * 2 * n, n), g)
        prod = prod.view(batch, channels, harmonics, 2, n, 2, 10)  # [.., f re/im, i, g re/im, component]
        agg_r = prod[:, :, :, 0, :, 0] - prod[:, :, :, 1, :, 1]  # [B, C, H, N, 10]
        agg_i = prod[:, :, :, 0, :, 1] + prod[:, :, :, 1, :, 0]
        scalar_parts = [s]
        vector_parts = [v]
        for h, harmonic in enumerate(self.edge_harmonics):
            ar, ai = agg_r[:, :, h], agg_i[:, :, h]
            if harmonic == SCALAR:  # Σ_j f_ij s_j and Σ_j f_ij v_j
                scalar_parts.append(torch.stack([ar[..., 0], ai[..., 0]], dim=1))
                vector_parts.append(torch.stack([ar[..., 1:5], ai[..., 1:5]], dim=1))
                continue
            fs = (ar[..., :1], ai[..., :1])
            fv = (ar[..., 1:5], ai[..., 1:5])
            fsx = (ar[..., 5:9], ai[..., 5:9])
            fxv = (ar[..., 9], ai[..., 9])
            if x.dim() == 3:
                xs = (xr * fs[0], xr * fs[1])
                xfv = (mdot(xr, fv[0]), mdot(xr, fv[1]))
            else:
                xs = cmul(xr, xi, fs[0], fs[1])
                xfv = (mdot(xr, fv[0]) - mdot(xi, fv[1]), mdot(xr, fv[1]) + mdot(xi, fv[0]))
            # vector message x_i (f s)_i - (f s x)_i; scalar message κ (<x_i, (f v)_i> - (f <x, v>)_i)
            vector_parts.append(torch.stack([xs[0] - fsx[0], xs[1] - fsx[1]], dim=1))
            scalar_parts.append(self._times_kappa(xfv[0] - fxv[0], xfv[1] - fxv[1]))
        # self-interaction F_i ⊗ F_i, pairs in order (S,S), (S,V), (V,S), (V,V)
        ss = torch.stack(cmul(sr, si, sr, si), dim=1)
        vv_r = mdot(vr, vr) - mdot(vi, vi)
        vv_i = 2.0 * mdot(vr, vi)
        sv = torch.stack(cmul(sr.unsqueeze(-1), si.unsqueeze(-1), vr, vi), dim=1)
        scalar_parts += [ss, self._times_kappa(vv_r, vv_i)]
        vector_parts += [sv, sv]
        v_out = self.mix[irrep_key(VECTOR)](torch.cat(vector_parts, dim=2))
        if SCALAR in self.out_irreps:
            s_out = self._apply_scalar_mlp(self.mix[irrep_key(SCALAR)](torch.cat(scalar_parts, dim=2)))
        else:
            s_out = s.new_zeros(batch, 2, 0, n)
        if node_mask is not None:
            keep = node_mask.view(batch, 1, 1, n).to(s_out.dtype)
            s_out = s_out * keep
            v_out = v_out * keep.unsqueeze(-1)
        return Pairs(s_out, v_out)

    def _times_kappa(self, re: torch.Tensor, im: torch.Tensor) -> torch.Tensor:
        kr, ki = self.kappa
        if ki == 0.0:
            return torch.stack([kr * re, kr * im], dim=1)
        return torch.stack([kr * re - ki * im, kr * im + ki * re], dim=1)

    def _apply_scalar_mlp(self, s: torch.Tensor) -> torch.Tensor:
        if self.scalar_mlp is None:
            return s
        batch, _, channels, n = s.shape
        flat = s.permute(0, 3, 1, 2).reshape(batch, n, 2 * channels)
        out = self.scalar_mlp(flat)
        return out.view(batch, n, 2, channels).permute(0, 2, 3, 1)

    # --------------------------------------------------------------------------------- general path
    def forward_general(
        self,
        feats: Features,
        x: torch.Tensor,
        dist: torch.Tensor,
        edges: torch.Tensor,
        node_mask: torch.Tensor | None,
    ) -> Features:
        """General path: canonical-basis features ``{irrep: complex [B, N, C, dim]}``."""
        batch, _, n, _ = x.shape
        f = self.edges(dist, edges)  # [B, C, H, 2, N, N]
        f_complex = torch.complex(f[:, :, :, 0], f[:, :, :, 1]).permute(0, 2, 3, 4, 1)  # [B, H, N, N, C]
        x_complex = torch.complex(x[:, 0], x[:, 1])
        diff = x_complex.unsqueeze(2) - x_complex.unsqueeze(1)  # [B, N, N, 4], x_i - x_j
        edge_feats: Features = {}
        for h, harmonic in enumerate(self.edge_harmonics):
            if harmonic == SCALAR:
                y = torch.ones(batch, n, n, 1, 1, dtype=f_complex.dtype, device=f_complex.device)
            else:
                c = cartesian_to_canonical().to(device=diff.device, dtype=diff.dtype)
                y = (diff @ c.T).unsqueeze(-2)  # [B, N, N, 1, 4]
            edge_feats[harmonic] = f_complex[:, h].unsqueeze(-1) * y
        neighbours = {irrep: t.unsqueeze(1) for irrep, t in feats.items()}  # j on axis 2
        message = {irrep: t.sum(dim=2) for irrep, t in cg_product(edge_feats, neighbours, self.bound).items()}
        own = {irrep: t for irrep, t in feats.items() if irrep.fits_in(self.bound)}
        stacked = concatenate(own, message, cg_product(feats, feats, self.bound))
        out = {irrep: self.mix[irrep_key(irrep)].complex_forward(stacked[irrep]) for irrep in self.out_irreps}
        if self.scalar_mlp is not None and SCALAR in out:
            s = out[SCALAR][..., 0]  # [B, N, C]
            pairs = self._apply_scalar_mlp(torch.stack([s.real, s.imag], dim=1).permute(0, 1, 3, 2))
            out[SCALAR] = torch.complex(pairs[:, 0], pairs[:, 1]).permute(0, 2, 1).unsqueeze(-1)
        if node_mask is not None:
            keep = node_mask.view(batch, n, 1, 1).to(x.dtype)
            out = {irrep: t * keep for irrep, t in out.items()}
        return out


def _aggregate(f_h: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Σ_j f_ij g_j with complex f [B, C, 2N, N] (re rows then im rows) and g [B, 2, C, N, k]."""
    batch, _, channels, n, k = g.shape
    g_cat = g.permute(0, 2, 3, 1, 4).reshape(batch, channels, n, 2 * k)  # [B, C, N, (re|im) k]
    prod = torch.matmul(f_h, g_cat).view(batch, channels, 2, n, 2, k)  # [B, C, f re/im, N, g re/im, k]
    re = prod[:, :, 0, :, 0] - prod[:, :, 1, :, 1]
    im = prod[:, :, 0, :, 1] + prod[:, :, 1, :, 0]
    return torch.stack([re, im], dim=1)


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
