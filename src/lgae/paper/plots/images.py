"""Fig. 2: jet images of the inputs and of every model's reconstruction, the average jet and single jets.

Images are pixelated relative to each cloud's own jet axis (pixel value: the summed pT_rel, each image
normalised to 1; :mod:`lgae.jets.images`). The particle-cloud models' reconstructions are pixelated on the
figure's grid (the paper: 40×40 over η_rel, φ_rel ∈ [−0.5, 0.5]); the CNNAE's own output images are shown
on its native grid (``max_r`` of the model), inside the same axis limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure

from lgae.jets.images import jet_images_from_p4
from lgae.paper.plots.style import add_footer, use_style

__all__ = ["ImageColumn", "jet_image_figure", "particle_images"]

AVERAGE_RANGE = (1e-10, 1.0)  # log colour scale of the average jet (the paper's)
SINGLE_MAX = 0.12  # linear colour scale of single jets, in pT_rel


@dataclass
class ImageColumn:
    """One column of Fig. 2: its title, the average image and the sample images, on a grid ±max_r."""

    title: str
    average: np.ndarray  # [npix, npix], image[i_phi, i_eta]
    samples: np.ndarray  # [K, npix, npix]
    max_r: float


def particle_images(
    p4: np.ndarray, mask: np.ndarray, npix: int, max_r: float, chunk: int = 4096
) -> np.ndarray:
    """Images [N, npix, npix] of particle clouds (absolute 4-momenta), in chunks to bound memory."""
    parts = [
        jet_images_from_p4(p4[i : i + chunk].astype(np.float64), mask[i : i + chunk], npix=npix, max_r=max_r)
        for i in range(0, len(p4), chunk)
    ]
    return np.concatenate(parts)


def jet_image_figure(columns: Sequence[ImageColumn], footer: str, view_r: float = 0.5) -> Figure:
    """The average jet (top row, log colours) and single jets (rows below, linear colours) per column."""
    n_samples = min(len(c.samples) for c in columns)
    use_style()
    n_rows, n_cols = 1 + n_samples, len(columns)
    fig = plt.figure(figsize=(2.6 * n_cols + 1.2, 2.5 * n_rows + 1.0))
    grid = fig.add_gridspec(n_rows, n_cols + 1, width_ratios=[1.0] * n_cols + [0.07])
    axes = [[fig.add_subplot(grid[r, c]) for c in range(n_cols)] for r in range(n_rows)]
    colour_axes = (fig.add_subplot(grid[0, -1]), fig.add_subplot(grid[1:, -1]))
    average_norm = LogNorm(*AVERAGE_RANGE)
    single_norm = Normalize(0.0, SINGLE_MAX)
    for col, column in enumerate(columns):
        extent = (-column.max_r, column.max_r, -column.max_r, column.max_r)
        rows = [(column.average, average_norm)] + [(column.samples[k], single_norm) for k in range(n_samples)]
        for row, (image, norm) in enumerate(rows):
            ax = axes[row][col]
            shown = np.where(image > 0, image, np.nan) if isinstance(norm, LogNorm) else image
            im = ax.imshow(
                shown, origin="lower", extent=extent, norm=norm, cmap="binary", interpolation="nearest"
            )
            ax.set_xlim(-view_r, view_r)
            ax.set_ylim(-view_r, view_r)
            ax.tick_params(labelsize=8)
            if row == 0:
                ax.set_title(column.title, fontsize=11)
            if row == len(rows) - 1:
                ax.set_xlabel(r"$\eta^{\mathrm{rel}}$", fontsize=11)
            if col == 0:
                ax.set_ylabel(
                    ("average jet\n" if row == 0 else f"jet {row}\n") + r"$\phi^{\mathrm{rel}}$", fontsize=11
                )
            if col == len(columns) - 1 and row <= 1:
                bar = fig.colorbar(im, cax=colour_axes[row])
                bar.set_label(r"$p_T^{\mathrm{rel}}$", fontsize=10)
                bar.ax.tick_params(labelsize=8)
    add_footer(fig, footer)
    return fig
