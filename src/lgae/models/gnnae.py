"""GNNAE baselines: fully connected MPNN autoencoders on particle clouds in relative coordinates.

Both variants (paper App. A.2) read each particle as (pt_rel, eta_rel, phi_rel) relative to the input
jet axis and run 3 :class:`~lgae.nn.mpnn.MPNNLayer` s in the encoder and 3 in the decoder, with the
paper's widths (Eqs. 10–12) in both. They differ in the latent space:

- **GNNAE-JL** (jet level): the encoder's node outputs (size dim(L)) are averaged over the real
  particles → a permutation-*invariant* latent [B, dim(L)]; the decoder's input layer is one linear
  map latent → N × 30 node states (like the LGAE's N linear maps). Trained with the Chamfer loss.
- **GNNAE-PL** (particle level): the encoder's node outputs of size d are the latent [B, N, d]
  (permutation-*equivariant*, zero in padded slots); the decoder's input layer is a shared linear map
  d → 30 per particle. Trained with MSE.

Choices the paper leaves open are listed in docs/deviations.md (baselines section).
"""

from __future__ import annotations

import torch
from torch import nn

from lgae.jets import absolute_p4, nonnegative_pt, relative_coordinates
from lgae.models.base import JetAutoencoder
from lgae.models.registry import register
from lgae.nn.mpnn import MPNNLayer

__all__ = ["EMBEDDINGS", "GNNAE", "GNNAEJetLevel", "GNNAEParticleLevel"]

NUM_FEATURES = 3  # (pt_rel, eta_rel, phi_rel)
NODE_WIDTH = 30  # node state entering the first MPNN layer (edge input 61 = 30 + 30 + 1)
#: paper Eqs. 10–12, layer by layer: (node size in, f_e output widths, f_n hidden widths); the last
#: f_n layer's output (δ) is appended per network: the latent size (encoder) or 3 (decoder)
LAYER_WIDTHS: tuple[tuple[int, tuple[int, ...], tuple[int, ...]], ...] = (
    (30, (50, 40, 30), (30, 15)),
    (15, (30, 30, 30), (15, 8)),
    (8, (16, 20, 30), (8,)),
)
EMBEDDINGS = ("pad", "linear")


def _mpnn_stack(
    out_features: int, negative_slope: float, final_activation: bool, self_loops: bool
) -> nn.ModuleList:
    """The 3 MPNN layers of the paper, ending in ``out_features`` per particle."""
    layers = nn.ModuleList()
    for k, (node_in, edge_widths, node_hidden) in enumerate(LAYER_WIDTHS):
        last = k == len(LAYER_WIDTHS) - 1
        node_widths = (*node_hidden, out_features) if last else node_hidden
        layers.append(
            MPNNLayer(
                node_in,
                edge_widths,
                node_widths,
                negative_slope=negative_slope,
                final_activation=final_activation if last else True,
                self_loops=self_loops,
            )
        )
    return layers


class GNNAE(JetAutoencoder):
    """Shared encoder/decoder machinery; subclasses define how nodes become a latent and back.

    Args:
        latent_dim: dim(L) (GNNAE-JL) or d per particle (GNNAE-PL); None: the class's default.
        num_particles: N, the particle slots of a jet.
        negative_slope: LeakyReLU's slope.
        embedding: ``"pad"`` zero-pads (pt_rel, eta_rel, phi_rel) to the node width, as the authors'
            code does; ``"linear"`` learns a 3 → 30 map.
        self_loops: Whether a node messages itself.
        final_activation: Whether each MPNN stack ends with the activation.

    Raises:
        ValueError: A non-positive size or an unknown embedding.
    """

    output_space = "relative"

    #: the latent size of the paper's reconstruction figures (JL: 55, PL: d = 2)
    default_latent_dim: int = 55

    def __init__(
        self,
        latent_dim: int | None = None,
        num_particles: int = 30,
        negative_slope: float = 0.2,
        embedding: str = "pad",
        self_loops: bool = True,
        final_activation: bool = False,
    ) -> None:
        super().__init__(num_particles=num_particles)
        if latent_dim is None:
            latent_dim = self.default_latent_dim
        if int(latent_dim) != latent_dim or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
        if int(num_particles) != num_particles or num_particles < 1:
            raise ValueError(f"num_particles must be a positive integer, got {num_particles!r}")
        if embedding not in EMBEDDINGS:
            raise ValueError(f"embedding must be one of {EMBEDDINGS}, got {embedding!r}")
        self.latent_dim = int(latent_dim)
        self.embedding = embedding
        # "pad": zero-pad (pt_rel, eta_rel, phi_rel) to 30 features, as the authors' code does (so the
        # first layer's d is the Euclidean distance in relative coordinates); "linear": a learned 3 → 30
        self.embed = nn.Linear(NUM_FEATURES, NODE_WIDTH) if embedding == "linear" else None
        self.encoder_layers = _mpnn_stack(self.latent_dim, negative_slope, final_activation, self_loops)
        self.decoder_layers = _mpnn_stack(NUM_FEATURES, negative_slope, final_activation, self_loops)
        self.decoder_input = self._decoder_input()

    def _decoder_input(self) -> nn.Module:
        """The decoder's input layer, from the latent to the first node states."""
        raise NotImplementedError

    # ---- pieces ------------------------------------------------------------------------------------

    def _embed(self, rel: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            return self.embed(rel)
        return nn.functional.pad(rel, (0, NODE_WIDTH - NUM_FEATURES))

    def _encode_nodes(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Encoder node outputs [B, N, latent_dim], zero in padded slots."""
        rel, _, _, _ = relative_coordinates(p4, mask)
        x = self._embed(rel)
        for layer in self.encoder_layers:
            x = layer(x, mask)
        return x

    def _decode_nodes(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        for layer in self.decoder_layers:
            x = layer(x, mask)
        return x

    # ---- interface ---------------------------------------------------------------------------------

    def target(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The input in relative coordinates.

        Args:
            p4: Input 4-momenta ``[B, N, 4]``.
            mask: Real particles ``[B, N]`` (bool).

        Returns:
            (pt_rel, eta_rel, phi_rel) ``[B, N, 3]``, zero where padded.
        """
        return relative_coordinates(p4, mask)[0]

    def output_to_p4(self, output: torch.Tensor, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Massless 4-momenta of the output around the *input* jet axis; negative pt_rel → 0.

        Args:
            output: Relative coordinates ``[B, N, 3]``.
            p4: Input 4-momenta ``[B, N, 4]``.
            mask: Real particles ``[B, N]`` (bool).

        Returns:
            ``[B, N, 4]``.
        """
        _, jet_pt, jet_eta, jet_phi = relative_coordinates(p4, mask)
        return absolute_p4(nonnegative_pt(output), jet_pt, jet_eta, jet_phi, self._output_mask(output, mask))

    def _output_mask(self, output: torch.Tensor, mask: torch.Tensor) -> torch.Tensor | None:
        """Which output slots are particles (JL: all of them; PL: the input's real ones)."""
        del output, mask
        return None


class GNNAEJetLevel(GNNAE):
    """GNNAE-JL: permutation-invariant latent [B, dim(L)], the mean of the encoder's node outputs."""

    default_latent_dim = 55

    def _decoder_input(self) -> nn.Module:
        return nn.Linear(self.latent_dim, self.num_particles * NODE_WIDTH)  # N particles from the latent

    def encode(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The jet's latent: node outputs averaged over the real particles.

        Args:
            p4: Input 4-momenta ``[B, N, 4]``.
            mask: Real particles ``[B, N]`` (bool).

        Returns:
            ``[B, latent_dim]``.
        """
        mask = mask.to(device=p4.device, dtype=torch.bool)
        nodes = self._encode_nodes(p4, mask)  # padded rows are exactly zero
        count = mask.sum(dim=-1, keepdim=True).clamp(min=1).to(nodes.dtype)
        return nodes.sum(dim=-2) / count

    def decode(self, latent: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstruction from the latent.

        Args:
            latent: ``[B, latent_dim]``.
            mask: Ignored: all N output slots are particles (the latent does not say which input slots
                were real).

        Returns:
            (pt_rel, eta_rel, phi_rel) ``[B, N, 3]``.
        """
        del mask
        x = self.decoder_input(latent).reshape(latent.shape[0], self.num_particles, NODE_WIDTH)
        return self._decode_nodes(x, None)

    @property
    def latent_size(self) -> int:
        return self.latent_dim


class GNNAEParticleLevel(GNNAE):
    """GNNAE-PL: permutation-equivariant latent [B, N, d], one d-vector per particle."""

    default_latent_dim = 2

    def _decoder_input(self) -> nn.Module:
        return nn.Linear(self.latent_dim, NODE_WIDTH)  # shared by the particles

    def encode(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """One latent d-vector per particle.

        Args:
            p4: Input 4-momenta ``[B, N, 4]``.
            mask: Real particles ``[B, N]`` (bool).

        Returns:
            ``[B, N, latent_dim]``, exactly zero in padded slots.
        """
        return self._encode_nodes(p4, mask.to(device=p4.device, dtype=torch.bool))

    def decode(self, latent: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstruction from the per-particle latent.

        Args:
            latent: ``[B, N, latent_dim]``.
            mask: Real particles ``[B, N]``: padded ones take no part in the decoder's message passing and
                come out zero. None: every slot is a particle.

        Returns:
            (pt_rel, eta_rel, phi_rel) ``[B, N, 3]``.
        """
        if mask is not None:
            mask = mask.to(device=latent.device, dtype=torch.bool)
        x = self.decoder_input(latent)
        if mask is not None:
            x = torch.where(mask.unsqueeze(-1), x, torch.zeros((), dtype=x.dtype, device=x.device))
        return self._decode_nodes(x, mask)

    def forward(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.reconstruct(p4, mask)[1]

    def reconstruct(self, p4: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        latent = self.encode(p4, mask)
        return latent, self.decode(latent, mask)

    def _output_mask(self, output: torch.Tensor, mask: torch.Tensor) -> torch.Tensor | None:
        del output
        return mask

    @property
    def latent_size(self) -> int:
        return self.num_particles * self.latent_dim


# the classes are the factories: ``build("gnnae-jl", latent_dim=10)`` checks names against __init__
register("gnnae-jl")(GNNAEJetLevel)
register("gnnae-pl")(GNNAEParticleLevel)
