"""The interface every autoencoder of the paper shares, so training and evaluation treat them alike.

All models take the same input: ``p4`` [B, N, 4], the real (E, px, py, pz) of each particle in the
units the pipeline feeds (TeV), and ``mask`` [B, N] (bool, True for real particles; padded slots may
hold anything, they must not matter). What a model reconstructs is its *native* output space:

- ``"p4"`` (LGAE): 4-momenta [B, N, 4];
- ``"relative"`` (GNNAE): (pT_rel, η_rel, φ_rel) [B, N, 3] relative to the input jet axis;
- ``"image"`` (CNNAE): a jet image [B, 1, H, W] normalised to sum 1.

``target(p4, mask)`` gives the input in that native space (what ``forward`` is compared with by the
loss), and ``output_to_p4(output, p4, mask)`` maps a native output back to absolute 4-momenta for the
reconstruction metrics (using the input jet axis where the native space is relative).
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, Literal

import torch
from torch import nn

INPUT_FEATURES_PER_PARTICLE = 3  # the paper's compression denominator: 30 particles × 3 features
TABLE_FEATURES_PER_PARTICLE = 4  # what the LGAE rows of the paper's tables actually divide by (30 × 4)

CompressionConvention = Literal["table", "text"]


class JetAutoencoder(nn.Module, abc.ABC):
    """Base class: ``encode``/``decode``/``forward`` plus the bookkeeping the pipeline needs."""

    output_space: ClassVar[str] = "p4"
    #: denominator per particle used by the paper's tables for this family (LGAE: 4, others: 3)
    table_features_per_particle: ClassVar[int] = INPUT_FEATURES_PER_PARTICLE

    def __init__(self, num_particles: int = 30) -> None:
        super().__init__()
        self.num_particles = num_particles
        self.hyperparameters: dict[str, Any] = {}

    @abc.abstractmethod
    def encode(self, p4: torch.Tensor, mask: torch.Tensor) -> Any:
        """Latent representation of a batch of jets.

        Args:
            p4: Input 4-momenta ``[B, N, 4]`` (E, px, py, pz).
            mask: Real particles ``[B, N]`` (bool).

        Returns:
            The model's latent (a tensor, or a structure of tensors for the LGAE).
        """

    @abc.abstractmethod
    def decode(self, latent: Any) -> torch.Tensor:
        """Native reconstruction from a latent.

        Args:
            latent: What ``encode`` returned.

        Returns:
            The reconstruction in ``output_space``: ``[B, M, 4]``, ``[B, M, 3]`` or an image ``[B, C, H, W]``.
        """

    def forward(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(p4, mask))

    def reconstruct(self, p4: torch.Tensor, mask: torch.Tensor) -> tuple[Any, torch.Tensor]:
        """The latent and the native reconstruction of a batch: ``forward``, keeping the latent.

        Args:
            p4: Input 4-momenta ``[B, N, 4]`` (E, px, py, pz).
            mask: Real particles ``[B, N]`` (bool).

        Returns:
            ``(latent, reconstruction)``.
        """
        latent = self.encode(p4, mask)
        return latent, self.decode(latent)

    def latent_arrays(self, latent: Any) -> dict[str, torch.Tensor]:
        """The latent as named tensors with the jet as first axis (what prediction files store).

        Args:
            latent: What ``encode`` returned.

        Returns:
            ``{name: tensor [B, ...]}``.
        """
        return {"values": latent}

    def target(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The input in the native output space (LGAE: the masked 4-momenta).

        Args:
            p4: Input 4-momenta ``[B, N, 4]`` (E, px, py, pz).
            mask: Real particles ``[B, N]`` (bool).

        Returns:
            What a reconstruction is compared with by the loss.
        """
        return p4 * mask.unsqueeze(-1).to(p4.dtype)

    def output_to_p4(self, output: torch.Tensor, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Absolute 4-momenta of a native reconstruction (LGAE: the output itself).

        Args:
            output: The native reconstruction.
            p4: Input 4-momenta ``[B, N, 4]`` (E, px, py, pz).
            mask: Real particles ``[B, N]`` (bool).
                The input supplies what the output space leaves out (e.g. the jet axis of relative coordinates).

        Returns:
            ``[B, M, 4]``.
        """
        del p4, mask
        return output

    @property
    @abc.abstractmethod
    def latent_size(self) -> int:
        """Number of real numbers in the latent of one jet (a complex number counts as two)."""

    def compression_rate(self, convention: CompressionConvention = "table") -> float:
        """Latent size over input size.

        Args:
            convention: ``"text"`` is the paper's definition, latent size / (30 × 3 = 90). ``"table"`` is
                what its tables print: the same for the GNNAE and CNNAE, but latent size / (30 × 4 = 120)
                for the LGAE.

        Returns:
            The rate.
        """
        if convention == "text":
            per_particle = INPUT_FEATURES_PER_PARTICLE
        elif convention == "table":
            per_particle = self.table_features_per_particle
        else:
            raise ValueError(f"unknown compression convention {convention!r}; use 'table' or 'text'")
        return self.latent_size / (self.num_particles * per_particle)

    def num_parameters(self) -> int:
        """Number of trainable real parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
