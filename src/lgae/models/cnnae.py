"""CNNAE baseline: a convolutional autoencoder on 40×40 jet images (paper App. A.3, after Farina et al.).

A PyTorch port of the authors' Keras model: two stride-2 3×3 convolutions with 128 channels and ReLU
(40 → 20 → 10), a linear bottleneck to the latent, a ReLU dense layer back to 10×10×128, two stride-2
transposed convolutions (10 → 20 → 40, the last one linear and single-channel) and a softmax over all
pixels so that the output image sums to 1 like the input. Keras's ``padding="same"`` is reproduced
exactly: for an even input and stride 2 TensorFlow pads one zero row/column at the bottom/right only
(not symmetrically as ``Conv2d(padding=1)`` would), and its transposed convolution keeps the first
2·n rows/columns of the full output.
"""

from __future__ import annotations

import torch
from torch import nn

from lgae.jets import relative_coordinates
from lgae.jets.images import DEFAULT_MAX_R, DEFAULT_NPIX, image_to_p4, jet_images
from lgae.models.base import JetAutoencoder
from lgae.models.registry import register

__all__ = ["CNNAE", "cnnae"]

KERNEL = 3
STRIDE = 2


class _SameConv(nn.Module):
    """Conv2d with TensorFlow's "same" padding for kernel 3, stride 2 and even sizes (n → n/2)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.pad = nn.ZeroPad2d((0, 1, 0, 1))  # (left, right, top, bottom)
        self.conv = nn.Conv2d(in_channels, out_channels, KERNEL, stride=STRIDE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pad(x))


class _SameConvTranspose(nn.Module):
    """ConvTranspose2d with TensorFlow's "same" output (n → 2n) for kernel 3, stride 2."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, KERNEL, stride=STRIDE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        return self.conv(x)[..., : STRIDE * height, : STRIDE * width]  # full output is 2n + 1


class CNNAE(JetAutoencoder):
    """Jet-image autoencoder; input, output and target are images ``[B, 1, npix, npix]`` summing to 1.

    Args:
        latent_dim: dim(L).
        num_particles: N, the particle slots of an input jet.
        npix: Pixels per side, a multiple of 4 (two stride-2 layers).
        max_r: The image's half-width in η and φ around the jet axis.
        channels: The convolutions' channels.

    Raises:
        ValueError: A size out of range.
    """

    output_space = "image"

    def __init__(
        self,
        latent_dim: int = 55,
        num_particles: int = 30,
        npix: int = DEFAULT_NPIX,
        max_r: float = DEFAULT_MAX_R,
        channels: int = 128,
    ) -> None:
        super().__init__(num_particles=num_particles)
        if int(latent_dim) != latent_dim or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
        if int(npix) != npix or npix < 4 or npix % 4:
            raise ValueError(f"npix must be a positive multiple of 4 (two stride-2 layers), got {npix!r}")
        if not max_r > 0:
            raise ValueError(f"max_r must be positive, got {max_r!r}")
        if int(channels) != channels or channels < 1:
            raise ValueError(f"channels must be a positive integer, got {channels!r}")
        self.latent_dim = int(latent_dim)
        self.npix = int(npix)
        self.max_r = float(max_r)
        self.channels = int(channels)
        coarse = self.npix // 4
        self._coarse_shape = (self.channels, coarse, coarse)
        self.encoder = nn.Sequential(
            _SameConv(1, self.channels),
            nn.ReLU(),
            _SameConv(self.channels, self.channels),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(self.channels * coarse * coarse, self.latent_dim),  # linear bottleneck
        )
        self.decoder_input = nn.Sequential(
            nn.Linear(self.latent_dim, self.channels * coarse * coarse),
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            _SameConvTranspose(self.channels, self.channels),
            nn.ReLU(),
            _SameConvTranspose(self.channels, 1),  # linear; the softmax follows
        )

    def images(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Input jet images of absolute 4-momenta, relative to each jet's axis.

        Args:
            p4: Input 4-momenta ``[B, N, 4]``.
            mask: Real particles ``[B, N]`` (bool).

        Returns:
            ``[B, 1, npix, npix]``, pT fractions summing to 1.
        """
        rel, _, _, _ = relative_coordinates(p4, mask)
        image = jet_images(rel[..., 1], rel[..., 2], rel[..., 0], mask, npix=self.npix, max_r=self.max_r)
        return image.unsqueeze(1)

    def encode(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The latent of the jet image.

        Args:
            p4: Input 4-momenta ``[B, N, 4]``.
            mask: Real particles ``[B, N]`` (bool).

        Returns:
            ``[B, latent_dim]``.
        """
        return self.encode_image(self.images(p4, mask))

    def encode_image(self, image: torch.Tensor) -> torch.Tensor:
        """The latent of images.

        Args:
            image: ``[B, 1, npix, npix]``.

        Returns:
            ``[B, latent_dim]``.
        """
        return self.encoder(image)

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        """The image of a latent: non-negative and summing to 1 (softmax over all pixels).

        Args:
            latent: ``[B, latent_dim]``.

        Returns:
            ``[B, 1, npix, npix]``.
        """
        x = self.decoder_input(latent).reshape(latent.shape[0], *self._coarse_shape)
        logits = self.decoder(x).flatten(start_dim=1)
        return torch.softmax(logits, dim=-1).reshape(latent.shape[0], 1, self.npix, self.npix)

    def target(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The input image.

        Args:
            p4: Input 4-momenta ``[B, N, 4]``.
            mask: Real particles ``[B, N]`` (bool).

        Returns:
            ``[B, 1, npix, npix]``.
        """
        return self.images(p4, mask)

    def output_to_p4(self, output: torch.Tensor, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Every pixel as a massless 4-vector around the input jet axis, pT = intensity × pT_jet.

        Args:
            output: Images ``[B, 1, npix, npix]``.
            p4: Input 4-momenta ``[B, N, 4]``.
            mask: Real particles ``[B, N]`` (bool).

        Returns:
            ``[B, npix², 4]``.
        """
        _, jet_pt, jet_eta, jet_phi = relative_coordinates(p4, mask)
        return image_to_p4(output, jet_pt, jet_eta, jet_phi, self.max_r)

    @property
    def latent_size(self) -> int:
        return self.latent_dim


@register("cnnae")
def cnnae(
    latent_dim: int = 55,
    num_particles: int = 30,
    npix: int = DEFAULT_NPIX,
    max_r: float = DEFAULT_MAX_R,
    channels: int = 128,
) -> CNNAE:
    """The CNNAE; the paper uses dim(L) = 55 on 40×40 images (``max_r`` unstated; 0.8 = jet radius).

    Args:
        latent_dim: dim(L).
        num_particles: N, the particle slots of an input jet.
        npix: Pixels per side.
        max_r: The image's half-width in η and φ.
        channels: The convolutions' channels.

    Returns:
        The model.
    """
    return CNNAE(
        latent_dim=latent_dim, num_particles=num_particles, npix=npix, max_r=max_r, channels=channels
    )
