"""The Lorentz group equivariant autoencoder (paper §3, Appendix A.1).

Encoder: node-wise input mixing of (scalars ``1, p_i²``; vector ``p_i``) to the multiplicity 3, then
three LMP layers 3 → 3 → 4 → 4, node-wise mixing to the latent irreps, aggregation over particles.
Latent: ``τ_(0,0)`` complex Lorentz scalars and ``τ_(1/2,1/2)`` complex 4-vectors (doubled by
min-max). Decoder: N independent complex linear maps from the latent to one scalar and one vector per
particle, node-wise input mixing to 4, three LMP layers 4 → 4 → 3 → 3 whose node 4-vectors are the
generated vectors, and a final mixing to one complex 4-vector per particle, of which the real part is
the output. These are the paper's multiplicity lists (3, 3, 4, 4) and (4, 4, 3, 3) as the authors' code
reads them, the first entry being the input mixing; the paper's text counts four layers
(``encoder_channels=(3, 3, 4, 4)`` builds those: docs/deviations.md, docs/fidelity.md).

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
from typing import Literal, get_args

import torch

from lgae.group.irreps import SCALAR, VECTOR, Irrep, cartesian_to_canonical
from lgae.group.tensor_product import Features
from lgae.models.base import TABLE_FEATURES_PER_PARTICLE, JetAutoencoder
from lgae.models.registry import register
from lgae.nn.lmp import LMPStack, NodeFeatures, RealFeatures, mdot
from lgae.nn.mixing import ComplexMix

Aggregation = Literal["min-max", "mix", "mean"]
HARMONICS = {"scalar": SCALAR, "vector": VECTOR}
# how each jet's input is scaled before the encoder (and its output scaled back): "max-abs" is the
# authors' division by the largest |p^μ| (not Lorentz invariant); "jet-mass" divides by the jet's mass
InputNormalisation = Literal["none", "max-abs", "jet-mass"]
INPUT_NORMALISATIONS: tuple[str, ...] = get_args(InputNormalisation)


@dataclass
class LorentzLatent:
    """The latent of a batch: complex Lorentz scalars [B, S] and complex Cartesian 4-vectors [B, V, 4]."""

    scalars: torch.Tensor
    vectors: torch.Tensor
    jet_scale: torch.Tensor | None = None  # [B]: each jet's input divisor (``input_normalisation``)
    scale_is_invariant: bool = True  # False for max |p^μ|, which a Lorentz transformation changes

    def transform(self, lam: torch.Tensor) -> LorentzLatent:
        """The latent of Λ-transformed jets, if the encoder is equivariant: Λ acts on the vectors (an
        invariant jet scale is the same for the transformed jets)."""
        if not self.scale_is_invariant:
            raise ValueError(
                "a per-jet normalised latent has no Lorentz transformation (max |p^μ| is not invariant)"
            )
        vectors = self.vectors @ lam.to(self.vectors.dtype).T
        return LorentzLatent(self.scalars, vectors, self.jet_scale, self.scale_is_invariant)


class LGAE(JetAutoencoder):
    """Lorentz group equivariant autoencoder; see the module docstring."""

    output_space = "p4"
    table_features_per_particle = TABLE_FEATURES_PER_PARTICLE

    def __init__(
        self,
        aggregation: Aggregation = "min-max",
        latent_vectors: int = 4,
        latent_scalars: int = 1,
        encoder_channels: Sequence[int] = (3, 4, 4),
        decoder_channels: Sequence[int] = (4, 3, 3),
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
        edge_per_channel: bool = False,
        complex_edges: bool = False,
        bells_per_layer: bool = False,
        input_normalisation: InputNormalisation = "none",
    ) -> None:
        super().__init__(num_particles)
        # i ≠ j for every pair of slots: a constant of the model rather than an index computation in the
        # step, which a compiled loop could not vectorise (not saved with the weights)
        self.register_buffer("distinct_pairs", ~torch.eye(num_particles, dtype=torch.bool), persistent=False)
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
        if input_normalisation not in INPUT_NORMALISATIONS:
            raise ValueError(
                f"input_normalisation must be one of {', '.join(map(repr, INPUT_NORMALISATIONS))}, "
                f"got {input_normalisation!r}"
            )
        bound = Irrep(*max_irrep)
        if not VECTOR.fits_in(bound):
            raise ValueError(f"max_irrep {bound} must admit the 4-vector (1/2,1/2)")
        self.aggregation = aggregation
        self.latent_vectors = latent_vectors
        self.latent_scalars = latent_scalars
        self.input_scale = float(input_scale)
        self.real_output = real_output
        self.input_normalisation = input_normalisation
        harmonics = [HARMONICS[h] for h in edge_harmonics]

        def stack(channels: Sequence[int], keep_last: Sequence[Irrep] | None) -> LMPStack:
            return LMPStack(
                channels,
                bound,
                harmonics,
                num_basis,
                scalar_mlp_depth,
                scalar_mlp_width,
                message_norm=num_particles if message_norm is None else message_norm,
                keep_last=keep_last,
                edge_per_channel=edge_per_channel,
                complex_edges=complex_edges,
                bells_per_layer=bells_per_layer,
            )

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
        fast_ok = self.encoder.fast_path_ok and self.decoder.fast_path_ok
        if path not in ("auto", "fast", "general"):
            raise ValueError(f"path must be 'auto', 'fast' or 'general', got {path!r}")
        if path == "fast" and not fast_ok:
            raise ValueError(f"path='fast' needs max_irrep (1/2,1/2); got {bound}")
        if path == "auto":
            path = "fast" if fast_ok else "general"
        self.path = path

    # ---------------------------------------------------------------------------------- bookkeeping
    @property
    def latent_size(self) -> int:
        factor = 2 if self.aggregation == "min-max" else 1
        return factor * 2 * (self.latent_scalars + 4 * self.latent_vectors)

    # --------------------------------------------------------------------------------------- encoder
    def _prepare(
        self, p4: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Inputs on the model's device and dtype, padded slots set to exactly zero, scaled; and each
        jet's divisor when normalised per jet (the authors' max |p^μ|, or the invariant jet mass; a
        constant of the input: no gradient flows through it)."""
        dtype = self.to_latent_v.weight_ri.dtype
        device = self.to_latent_v.weight_ri.device
        mask = mask.to(device=device, dtype=torch.bool)
        p4 = p4.to(device=device, dtype=dtype)
        zero = torch.zeros((), dtype=dtype, device=device)
        p4 = torch.where(mask.unsqueeze(-1), p4, zero) * self.input_scale
        if self.input_normalisation == "none":
            return p4, mask, None
        if self.input_normalisation == "max-abs":
            jet_scale = p4.detach().abs().amax(dim=(1, 2))
        else:  # √(P·P) of the jet's summed 4-momentum: Lorentz invariant, so equivariance is kept
            jet = p4.detach().sum(dim=1)
            jet_scale = mdot(jet, jet).clamp(min=0).sqrt()
        # empty (and massless) jets are left unscaled rather than divided by zero
        jet_scale = torch.where(jet_scale > 0, jet_scale, torch.ones_like(jet_scale))
        return p4 / jet_scale.view(-1, 1, 1), mask, jet_scale

    def encode(self, p4: torch.Tensor, mask: torch.Tensor) -> LorentzLatent:
        """Latent of a batch of jets.

        With ``input_normalisation`` the latent is in units of each jet's scale (max |p^μ| or mass).

        Args:
            p4: 4-momenta ``[B, N, 4]`` (E, px, py, pz).
            mask: Real particles ``[B, N]`` (True = real).

        Returns:
            Complex Lorentz scalars ``[B, S]`` and complex Cartesian 4-vectors ``[B, V, 4]``.
        """
        scalars, vectors, jet_scale = self._encode_real(p4, mask)
        return LorentzLatent(
            torch.complex(scalars[0], scalars[1]).transpose(0, 1),
            torch.complex(vectors[:, 0], vectors[:, 1]).permute(2, 1, 0),
            jet_scale,
            scale_is_invariant=self.input_normalisation != "max-abs",
        )

    def decode(self, latent: LorentzLatent) -> torch.Tensor:
        """Reconstructed 4-momenta from a latent.

        Args:
            latent: What ``encode`` returned.

        Returns:
            ``[B, N, 4]``.
        """
        ctype = _complex(self.to_output.weight_ri.dtype)
        scalars = torch.view_as_real(latent.scalars.to(ctype).resolve_conj()).permute(2, 1, 0)
        vectors = torch.view_as_real(latent.vectors.to(ctype).resolve_conj()).permute(2, 3, 1, 0)
        return self._decode_real(scalars, vectors, latent.jet_scale)

    def forward(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``decode(encode(p4, mask))`` without leaving real arithmetic (what training calls)."""
        return self._decode_real(*self._encode_real(p4, mask))

    # ------------------------------------------------------------- encoder and decoder, real planes
    def _encode_real(
        self, p4: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The latent as real planes, jets last (:mod:`lgae.nn.complex_arith`): scalars [2, S, B] and
        vectors [4, 2, V, B]; and each jet's divisor (None without ``input_normalisation``)."""
        p4, mask, jet_scale = self._prepare(p4, mask)
        x = p4.permute(2, 0, 1).contiguous()  # [4, B, N]: the node 4-vectors
        # per particle: scalars 1 and p² (the mass squared), vector p; real inputs, complex maps
        s_in = torch.stack([mask.to(p4.dtype), mdot(x, x, dim=0)])  # [2, B, N]
        feats = RealFeatures(
            self.encoder_input_s.real_input_forward(s_in),
            self.encoder_input_v.real_input_forward(x.unsqueeze(1)),
        )
        edges = mask.unsqueeze(-1) & mask.unsqueeze(-2) & self.distinct_pairs  # edge_mask(mask)
        s, v = self._run(self.encoder, feats, x, edges, mask)
        return (*self._aggregate(s, v, mask), jet_scale)

    def _decode_real(
        self, scalars: torch.Tensor, vectors: torch.Tensor, jet_scale: torch.Tensor | None
    ) -> torch.Tensor:
        """Reconstructed 4-momenta [B, N, 4] from the latent as real planes (see ``_encode_real``)."""
        batch, n = vectors.shape[-1], self.num_particles
        # one complex 4-vector per particle, the particles as the output channels: [4, 2, N, B]
        q = self.latent_to_particles_v.real_forward(vectors.unsqueeze(-1)).squeeze(-1)
        q = q.transpose(-1, -2).contiguous()  # [4, 2, B, N]: the decoder's node 4-vectors
        if self.latent_to_particles_s is not None:
            q_s = self.latent_to_particles_s.real_forward(scalars.unsqueeze(-1)).squeeze(-1).transpose(-1, -2)
        else:
            q_s = q.new_zeros(2, batch, n)
        one = torch.zeros_like(q_s)
        one[0] = 1.0
        s_in = torch.stack([one, q_s], dim=1)  # [2, 2, B, N]: constant 1, generated scalar
        feats = RealFeatures(
            self.decoder_input_s.real_forward(s_in), self.decoder_input_v.real_forward(q.unsqueeze(2))
        )
        edges = self.distinct_pairs.expand(batch, n, n)
        _, v = self._run(self.decoder, feats, q, edges, None)
        out = self.to_output.real_forward(v)[:, :, 0]  # [4, 2, B, N]
        p4 = out[:, 0] if self.real_output == "real" else out[:, 0] + out[:, 1]
        p4 = p4.permute(1, 2, 0)
        if jet_scale is not None:
            p4 = p4 * jet_scale.to(p4.dtype).view(-1, 1, 1)
        return p4 / self.input_scale

    def _run(
        self,
        stack: LMPStack,
        feats: RealFeatures,
        x: torch.Tensor,
        edges: torch.Tensor,
        mask: torch.Tensor | None,
    ) -> RealFeatures:
        """An LMP stack on node 4-vectors ``x``, real [4, B, N] or complex [4, 2, B, N], on the chosen
        path."""
        if self.path == "fast":
            return stack.forward_real(feats, x, edges, mask)
        x_general = x if x.dim() == 3 else torch.complex(x[:, 0], x[:, 1])
        canonical = cartesian_to_canonical_features(feats.complex())
        return RealFeatures.of(
            canonical_to_cartesian(stack.forward_general(canonical, x_general.permute(1, 2, 0), edges, mask))
        )

    def _aggregate(
        self, s: torch.Tensor, v: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Node features s [2, C, B, N], v [4, 2, C, B, N] → latent scalars [2, S, B], vectors
        [4, 2, V, B] (min-max: 2S and 2V)."""
        _, channels, batch, n = s.shape
        if self.aggregation == "mix":
            # particle-major concatenation: index = particle * channels + channel
            s_flat = s.permute(0, 3, 1, 2).reshape(2, n * channels, batch, 1)
            v_flat = v.permute(0, 1, 4, 2, 3).reshape(4, 2, n * channels, batch, 1)
            if self.to_latent_s is not None:
                scalars = self.to_latent_s.real_forward(s_flat).squeeze(-1)
            else:
                scalars = s.new_zeros(2, 0, batch)
            return scalars, self.to_latent_v.real_forward(v_flat).squeeze(-1)
        s_lat = self.to_latent_s.real_forward(s) if self.to_latent_s is not None else s[:, :0]
        v_lat = self.to_latent_v.real_forward(v)  # [4, 2, V, B, N]
        if self.aggregation == "mean":
            count = mask.sum(-1).clamp(min=1).to(s.dtype)
            return s_lat.sum(-1) / count, v_lat.sum(-1) / count
        return _min_max_scalars(s_lat, mask), _min_max_vectors(v_lat, mask)

    def latent_arrays(self, latent: LorentzLatent) -> dict[str, torch.Tensor]:
        """Complex Lorentz scalars [B, S] and complex Cartesian 4-vectors [B, V, 4]."""
        return {"scalars": latent.scalars, "vectors": latent.vectors}


def _complex(dtype: torch.dtype) -> torch.dtype:
    """The complex dtype with the precision of a real one."""
    return {torch.float32: torch.complex64, torch.float64: torch.complex128, torch.float16: torch.complex32}[
        dtype
    ]


# ------------------------------------------------------------------------------------ aggregation
def _min_max_vectors(v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[4, 2, C, B, N] (complex as planes) -> [4, 2, 2C, B]: per channel, the real (resp. imaginary)
    part of least and of greatest Minkowski norm among real particles (each part is a real 4-vector,
    its norm invariant)."""
    inf = torch.tensor(float("inf"), dtype=v.dtype, device=v.device)
    norms = mdot(v, v, dim=0)  # [2, C, B, N]: of the real and of the imaginary parts, Lorentz invariant

    def pick(largest: bool) -> torch.Tensor:
        candidates = torch.where(mask, norms, -inf if largest else inf)
        index = candidates.argmax(dim=-1) if largest else candidates.argmin(dim=-1)  # [2, C, B]
        return torch.gather(v, -1, index.unsqueeze(-1).expand(4, *index.shape, 1)).squeeze(-1)

    return torch.cat([pick(largest=False), pick(largest=True)], dim=-2)


def _min_max_scalars(s: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[2, C, B, N] -> [2, 2C, B]: min and max over real particles of the real and imaginary parts."""
    inf = torch.tensor(float("inf"), dtype=s.dtype, device=s.device)
    low = torch.where(mask, s, inf).amin(-1)
    high = torch.where(mask, s, -inf).amax(-1)
    return torch.cat([low, high], dim=-2)


# ------------------------------------------------------------------------------ basis conversions
def cartesian_to_canonical_features(feats: NodeFeatures) -> Features:
    """Fast layout → general layout: ``{(0,0): [B, N, C, 1], (1/2,1/2): [B, N, C, 4]}`` complex."""
    s, v = feats
    c = cartesian_to_canonical().to(device=v.device, dtype=v.dtype)
    return {SCALAR: s.unsqueeze(-1), VECTOR: v.transpose(-1, -2) @ c.T}


def canonical_to_cartesian(feats: Features) -> NodeFeatures:
    """General layout → fast layout, keeping only the scalar and vector components."""
    vec = feats[VECTOR]
    c = cartesian_to_canonical().to(device=vec.device, dtype=vec.dtype)
    vectors = (vec @ c.conj()).transpose(-1, -2)  # C unitary: p = C^† v_can, [B, N, 4, C]
    scalars = feats[SCALAR][..., 0] if SCALAR in feats else vectors.new_zeros(*vectors.shape[:2], 0)
    return NodeFeatures(scalars, vectors)


# ---------------------------------------------------------------------------------------- factories
@register("lgae-min-max", options_of=LGAE, fixed=("aggregation",))
def lgae_min_max(latent_vectors: int = 4, **options: object) -> LGAE:
    """LGAE-Min-Max; the paper's reconstruction figures use τ_(1/2,1/2) = 4 (56.67 %)."""
    return LGAE(aggregation="min-max", latent_vectors=latent_vectors, **options)


@register("lgae-mix", options_of=LGAE, fixed=("aggregation",))
def lgae_mix(latent_vectors: int = 9, **options: object) -> LGAE:
    """LGAE-Mix; the paper's reconstruction figures use τ_(1/2,1/2) = 9 (61.67 %)."""
    return LGAE(aggregation="mix", latent_vectors=latent_vectors, **options)


@register("lgae-mean", options_of=LGAE, fixed=("aggregation",))
def lgae_mean(latent_vectors: int = 4, **options: object) -> LGAE:
    """LGAE with mean aggregation (described in the paper, not used in its tables)."""
    return LGAE(aggregation="mean", latent_vectors=latent_vectors, **options)
