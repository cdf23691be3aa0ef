"""The Lorentz group equivariant autoencoder (paper §3, Appendix A.1).

Encoder: node-wise input mixing of (scalars ``1, p_i²``; vector ``p_i``) to the first multiplicity,
LMP layers with multiplicities (3, 3, 4, 4), node-wise mixing to the latent irreps, aggregation over
particles. Latent: ``τ_(0,0)`` complex Lorentz scalars and ``τ_(1/2,1/2)`` complex 4-vectors (doubled by
min-max). Decoder: N independent complex linear maps from the latent to one scalar and one vector per
particle, node-wise input mixing, LMP layers (4, 4, 3, 3) whose node 4-vectors are the generated
vectors, and a final mixing to one complex 4-vector per particle, of which the real part is the output.

Aggregations (``aggregation``):

- ``min-max``: per channel, the particle with the smallest and the one with the largest Minkowski norm
  of the (real, resp. imaginary part of the) vector; for scalars, min and max of real and imaginary
  parts. Lorentz and permutation invariant selection.
- ``mix``: the features of all particles, concatenated in particle order, mixed by one complex linear
  map. Equivariant, but not permutation invariant (paper Table 1).
- ``mean``: the mean over real particles.

Everything is Lorentz equivariant: every operation is either a complex-linear map on the channel axis,
a product of scalars with scalars or vectors, a Minkowski product, or a function of invariants, and the
group acts by real matrices on the real and imaginary parts alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from lgae.group.irreps import SCALAR, VECTOR, Irrep, cartesian_to_canonical
from lgae.group.tensor_product import Features
from lgae.models.base import TABLE_FEATURES_PER_PARTICLE, JetAutoencoder
from lgae.models.registry import register
from lgae.nn.lmp import LMPLayer, Pairs, edge_mask, mdot, pair_invariants
from lgae.nn.mixing import ComplexMix

Aggregation = Literal["min-max", "mix", "mean"]
HARMONICS = {"scalar": SCALAR, "vector": VECTOR}


@dataclass
class LorentzLatent:
    """The latent of a batch: complex Lorentz scalars [B, S] and complex Cartesian 4-vectors [B, V, 4]."""

    scalars: torch.Tensor
    vectors: torch.Tensor

    @classmethod
    def from_pairs(cls, s: torch.Tensor, v: torch.Tensor) -> LorentzLatent:
        return cls(torch.complex(s[:, 0], s[:, 1]), torch.complex(v[:, 0], v[:, 1]))

    def to_pairs(self) -> tuple[torch.Tensor, torch.Tensor]:
        s = torch.stack([self.scalars.real, self.scalars.imag], dim=1)
        v = torch.stack([self.vectors.real, self.vectors.imag], dim=1)
        return s, v

    def transform(self, lam: torch.Tensor) -> LorentzLatent:
        """The latent of Λ-transformed jets, if the encoder is equivariant: Λ acts on the vectors."""
        lam_c = lam.to(self.vectors.real.dtype).to(self.vectors.dtype)
        return LorentzLatent(self.scalars, self.vectors @ lam_c.T)


class LGAE(JetAutoencoder):
    """Lorentz group equivariant autoencoder; see the module docstring."""

    output_space = "p4"
    table_features_per_particle = TABLE_FEATURES_PER_PARTICLE

    def __init__(
        self,
        aggregation: Aggregation = "min-max",
        latent_vectors: int = 4,
        latent_scalars: int = 1,
        encoder_channels: Sequence[int] = (3, 3, 4, 4),
        decoder_channels: Sequence[int] = (4, 4, 3, 3),
        num_particles: int = 30,
        edge_harmonics: Sequence[str] = ("scalar", "vector"),
        num_basis: int = 10,
        max_irrep: tuple[int, int] = (1, 1),
        path: Literal["auto", "fast", "general"] = "auto",
        scalar_mlp_depth: int = 0,
        scalar_mlp_width: int = 6,
        input_scale: float = 1.0,
        real_output: Literal["real", "sum"] = "real",
        message_norm: float | None = None,
    ) -> None:
        super().__init__(num_particles)
        if aggregation not in ("min-max", "mix", "mean"):
            raise ValueError(f"aggregation must be 'min-max', 'mix' or 'mean', got {aggregation!r}")
        if latent_vectors < 1 or latent_scalars < 0:
            raise ValueError("latent_vectors must be >= 1 and latent_scalars >= 0")
        if not encoder_channels or not decoder_channels or min(*encoder_channels, *decoder_channels) < 1:
            raise ValueError(
                "encoder_channels and decoder_channels must be non-empty lists of positive integers"
            )
        unknown = [h for h in edge_harmonics if h not in HARMONICS]
        if unknown or not edge_harmonics:
            raise ValueError(
                f"edge_harmonics must be a non-empty subset of {list(HARMONICS)}, got {edge_harmonics}"
            )
        if real_output not in ("real", "sum"):
            raise ValueError(f"real_output must be 'real' or 'sum', got {real_output!r}")
        bound = Irrep(*max_irrep)
        if not VECTOR.fits_in(bound):
            raise ValueError(f"max_irrep {bound} must admit the 4-vector (1/2,1/2)")
        self.aggregation = aggregation
        self.latent_vectors = latent_vectors
        self.latent_scalars = latent_scalars
        self.input_scale = float(input_scale)
        self.real_output = real_output
        harmonics = [HARMONICS[h] for h in edge_harmonics]

        def stack(channels: Sequence[int], last_keep: Sequence[Irrep] | None) -> nn.ModuleList:
            layers = nn.ModuleList()
            irreps: tuple[Irrep, ...] = (SCALAR, VECTOR)
            previous = channels[0]
            for index, width in enumerate(channels):
                layer = LMPLayer(
                    previous,
                    width,
                    irreps,
                    bound,
                    harmonics,
                    num_basis,
                    scalar_mlp_depth,
                    scalar_mlp_width,
                    message_norm=num_particles if message_norm is None else message_norm,
                    keep=last_keep if index == len(channels) - 1 else None,
                )
                layers.append(layer)
                irreps, previous = layer.out_irreps, width
            return layers

        # encoder: (scalars 1, p²; vector p) -> channels[0] -> LMPs
        self.encoder_input_s = ComplexMix(2, encoder_channels[0])
        self.encoder_input_v = ComplexMix(1, encoder_channels[0])
        self.encoder = stack(encoder_channels, None)
        last = encoder_channels[-1]
        n_latent_in = num_particles * last if aggregation == "mix" else last
        self.to_latent_s = ComplexMix(n_latent_in, latent_scalars) if latent_scalars else None
        self.to_latent_v = ComplexMix(n_latent_in, latent_vectors)
        # decoder: latent -> one scalar and one vector per particle (N independent linear maps)
        factor = 2 if aggregation == "min-max" else 1
        self.latent_to_particles_s = (
            ComplexMix(factor * latent_scalars, num_particles) if latent_scalars else None
        )
        self.latent_to_particles_v = ComplexMix(factor * latent_vectors, num_particles)
        self.decoder_input_s = ComplexMix(2, decoder_channels[0])
        self.decoder_input_v = ComplexMix(1, decoder_channels[0])
        self.decoder = stack(decoder_channels, (VECTOR,))  # the output reads vectors only
        self.to_output = ComplexMix(decoder_channels[-1], 1)
        fast_ok = all(layer.fast_path_ok for layer in (*self.encoder, *self.decoder))
        if path == "fast" and not fast_ok:
            raise ValueError(f"path='fast' needs max_irrep (1/2,1/2); got {bound}")
        if path not in ("auto", "fast", "general"):
            raise ValueError(f"path must be 'auto', 'fast' or 'general', got {path!r}")
        self.path = "fast" if (path == "auto" and fast_ok) else ("general" if path == "auto" else path)

    # ---------------------------------------------------------------------------------- bookkeeping
    @property
    def latent_size(self) -> int:
        factor = 2 if self.aggregation == "min-max" else 1
        return factor * 2 * (self.latent_scalars + 4 * self.latent_vectors)

    # --------------------------------------------------------------------------------------- encoder
    def _prepare(self, p4: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        dtype = self.to_latent_v.weight_re.dtype
        device = self.to_latent_v.weight_re.device
        mask = mask.to(device=device, dtype=torch.bool)
        p4 = p4.to(device=device, dtype=dtype)
        p4 = (
            torch.where(mask.unsqueeze(-1), p4, torch.zeros((), dtype=dtype, device=device))
            * self.input_scale
        )
        return p4, mask

    def encode_pairs(self, p4: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent as real pairs: scalars [B, 2, S], vectors [B, 2, V, 4]."""
        p4, mask = self._prepare(p4, mask)
        real_scalars = torch.stack(
            [mask.to(p4.dtype), mdot(p4, p4)], dim=1
        )  # [B, 2, N]: 1 and p² per particle
        s_in = torch.stack([real_scalars, torch.zeros_like(real_scalars)], dim=1)  # [B, re/im, 2, N]
        v_in = torch.stack([p4, torch.zeros_like(p4)], dim=1).unsqueeze(2)  # [B, re/im, 1, N, 4]
        feats = Pairs(self.encoder_input_s(s_in), self.encoder_input_v(v_in))
        s, v = self._run(self.encoder, feats, p4, edge_mask(mask), mask)  # node 4-vectors: the momenta
        return self._aggregate(s, v, mask)

    def _run(
        self,
        layers: nn.ModuleList,
        feats: Pairs,
        x: torch.Tensor,
        edges: torch.Tensor,
        mask: torch.Tensor | None,
    ) -> Pairs:
        """The LMP stack; ``x`` are the node 4-vectors, real [B, N, 4] or complex pairs [B, 2, N, 4]."""
        dist = pair_invariants(x)
        if self.path == "fast":
            for layer in layers:
                feats = layer(feats, x, dist, edges, mask)
            return feats
        general = pairs_to_canonical(feats)
        if x.dim() == 3:
            x = torch.stack([x, torch.zeros_like(x)], dim=1)
        for layer in layers:
            general = layer.forward_general(general, x, dist, edges, mask)
        return canonical_to_pairs(general)

    def _aggregate(
        self, s: torch.Tensor, v: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        batch, _, channels, n = s.shape
        if self.aggregation == "mix":
            # particle-major concatenation: index = particle * channels + channel
            s_flat = s.permute(0, 1, 3, 2).reshape(batch, 2, n * channels)
            v_flat = v.permute(0, 1, 3, 2, 4).reshape(batch, 2, n * channels, 4)
            latent_s = self.to_latent_s(s_flat) if self.to_latent_s is not None else s_flat[:, :, :0]
            return latent_s, self.to_latent_v(v_flat)
        s_lat = self.to_latent_s(s) if self.to_latent_s is not None else s[:, :, :0]
        v_lat = self.to_latent_v(v)
        if self.aggregation == "mean":
            count = mask.sum(-1).clamp(min=1).to(s.dtype).view(batch, 1, 1)
            return s_lat.sum(-1) / count, v_lat.sum(-2) / count.unsqueeze(-1)
        return _min_max_scalars(s_lat, mask), _min_max_vectors(v_lat, mask)

    def encode(self, p4: torch.Tensor, mask: torch.Tensor) -> LorentzLatent:
        return LorentzLatent.from_pairs(*self.encode_pairs(p4, mask))

    # --------------------------------------------------------------------------------------- decoder
    def decode_pairs(self, s_lat: torch.Tensor, v_lat: torch.Tensor) -> torch.Tensor:
        batch = v_lat.shape[0]
        n = self.num_particles
        q = self.latent_to_particles_v(v_lat)  # [B, 2, N, 4]: one complex vector per particle
        if self.latent_to_particles_s is not None:
            q_s = self.latent_to_particles_s(s_lat)  # [B, 2, N]
        else:
            q_s = torch.zeros(batch, 2, n, dtype=q.dtype, device=q.device)
        one = torch.zeros_like(q_s)
        one[:, 0] = 1.0
        s_in = torch.stack([one, q_s], dim=2)  # [B, 2, 2, N]: constant 1 and the generated scalar
        feats = Pairs(self.decoder_input_s(s_in), self.decoder_input_v(q.unsqueeze(2)))
        edges = edge_mask(torch.ones(batch, n, dtype=torch.bool, device=q.device))
        _, v = self._run(self.decoder, feats, q, edges, None)
        out = self.to_output(v)[:, :, 0]  # [B, 2, N, 4]
        p4 = out[:, 0] if self.real_output == "real" else out[:, 0] + out[:, 1]
        return p4 / self.input_scale

    def decode(self, latent: LorentzLatent) -> torch.Tensor:
        dtype = self.to_output.weight_re.dtype
        s, v = latent.to_pairs()
        return self.decode_pairs(s.to(dtype), v.to(dtype))

    def forward(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.decode_pairs(*self.encode_pairs(p4, mask))


# ------------------------------------------------------------------------------------ aggregation
def _min_max_vectors(v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[B, 2, C, N, 4] -> [B, 2, 2C, 4]: per (re/im, channel) the vectors of least and greatest norm."""
    norms = mdot(v, v)  # [B, 2, C, N], a Lorentz invariant of each real 4-vector
    real = mask.view(mask.shape[0], 1, 1, -1)
    inf = torch.tensor(float("inf"), dtype=norms.dtype, device=norms.device)
    idx_min = torch.where(real, norms, inf).argmin(dim=-1)
    idx_max = torch.where(real, norms, -inf).argmax(dim=-1)

    def pick(index: torch.Tensor) -> torch.Tensor:
        gather_index = index.unsqueeze(-1).unsqueeze(-1).expand(*index.shape, 1, 4)
        return torch.gather(v, 3, gather_index).squeeze(3)

    return torch.cat([pick(idx_min), pick(idx_max)], dim=2)


def _min_max_scalars(s: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[B, 2, C, N] -> [B, 2, 2C]: min and max over real particles of real and imaginary parts."""
    real = mask.view(mask.shape[0], 1, 1, -1)
    inf = torch.tensor(float("inf"), dtype=s.dtype, device=s.device)
    return torch.cat([torch.where(real, s, inf).amin(-1), torch.where(real, s, -inf).amax(-1)], dim=2)


# ------------------------------------------------------------------------------ basis conversions
def pairs_to_canonical(feats: Pairs) -> Features:
    """Fast layout → general layout: ``{(0,0): [B, N, C, 1], (1/2,1/2): [B, N, C, 4]}`` complex."""
    s, v = feats
    scalars = torch.complex(s[:, 0], s[:, 1]).transpose(1, 2).unsqueeze(-1)
    vectors = torch.complex(v[:, 0], v[:, 1]).transpose(1, 2)
    c = cartesian_to_canonical().to(device=vectors.device, dtype=vectors.dtype)
    return {SCALAR: scalars, VECTOR: vectors @ c.T}


def canonical_to_pairs(feats: Features) -> Pairs:
    """General layout → fast layout, keeping only the scalar and vector components."""
    vec = feats[VECTOR]
    c = cartesian_to_canonical().to(device=vec.device, dtype=vec.dtype)
    vectors = (vec @ c.conj()).transpose(1, 2)  # C unitary: p = C^† v_can, [B, C, N, 4]
    if SCALAR in feats:
        scalars = feats[SCALAR][..., 0].transpose(1, 2)  # [B, C, N]
    else:
        scalars = vectors.new_zeros(vectors.shape[0], 0, vectors.shape[2])
    return Pairs(torch.stack([scalars.real, scalars.imag], 1), torch.stack([vectors.real, vectors.imag], 1))


# ---------------------------------------------------------------------------------------- factories
@register("lgae-min-max")
def lgae_min_max(latent_vectors: int = 4, **options: object) -> LGAE:
    """LGAE-Min-Max; the paper's reconstruction figures use τ_(1/2,1/2) = 4 (56.67 %)."""
    return LGAE(aggregation="min-max", latent_vectors=latent_vectors, **options)


@register("lgae-mix")
def lgae_mix(latent_vectors: int = 9, **options: object) -> LGAE:
    """LGAE-Mix; the paper's reconstruction figures use τ_(1/2,1/2) = 9 (61.67 %)."""
    return LGAE(aggregation="mix", latent_vectors=latent_vectors, **options)


@register("lgae-mean")
def lgae_mean(latent_vectors: int = 4, **options: object) -> LGAE:
    """LGAE with mean aggregation (described in the paper, not used in its tables)."""
    return LGAE(aggregation="mean", latent_vectors=latent_vectors, **options)
