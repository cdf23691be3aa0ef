"""Figs. 5 and 6: what the LGAE's latent 4-vectors encode.

Fig. 5: 2-D histograms of the summed latent 4-vector (one part, the paper's: imaginary) against the
input jet's px, py, pz (TeV), with Pearson's r. Fig. 6: distributions (log density, in GeV²) of the invariant
mass squared p² of latent vector 1, latent vector 2 and of the sum of all latent vectors, per class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lgae.paper.evaluation.latent import latent_part, pearson, vector_masses
from lgae.paper.plots.style import ModelRun, add_footer, new_figure

__all__ = ["correlation_figure", "mass_figure"]

COMPONENTS = (("px", 1), ("py", 2), ("pz", 3))
GEV2_PER_TEV2 = 1e6
CLASS_LABELS = {"g": "gluon", "q": "light quark", "qcd": "QCD", "t": "top", "w": "W", "z": "Z"}
CLASS_COLOURS = {
    "qcd": "black",
    "g": "tab:gray",
    "q": "tab:brown",
    "t": "tab:red",
    "w": "tab:blue",
    "z": "tab:green",
}


def correlation_figure(
    latents: Mapping[ModelRun, np.ndarray],
    jets: Mapping[ModelRun, np.ndarray],
    footer: str,
    part: str = "imag",
) -> Figure:
    """One row per model: ``latents[run]`` complex vectors [N, V, 4], ``jets[run]`` jet p4 [N, 4] (TeV)."""
    runs = list(latents)
    fig, axes = new_figure(len(runs), 3, (17, 5.6 * len(runs) + 1.0))
    for row, run in enumerate(runs):
        total = latent_part(latents[run], part).sum(axis=1)
        for col, (name, k) in enumerate(COMPONENTS):
            ax = axes[row][col]
            x, y = jets[run][:, k], total[:, k]
            lo, hi = np.quantile(x, [0.005, 0.995])
            ylo, yhi = np.quantile(y, [0.005, 0.995])
            counts = ax.hist2d(x, y, bins=60, range=[[lo, hi], [ylo, yhi]], norm=LogNorm(), cmap="viridis")
            fig.colorbar(counts[3], ax=ax, pad=0.01)
            ax.set_xlabel(f"jet ${name[0]}_{name[1]}$ [TeV]")
            ax.set_ylabel(rf"latent $\mathrm{{{part[0].upper()}{part[1:]}}}(\Sigma\, {name[0]}_{name[1]})$")
            ax.set_title(f"{run.label}: r = {pearson(x, y):.4f}", fontsize=12)
    add_footer(fig, footer)
    return fig


def mass_figure(
    latents: Mapping[ModelRun, Mapping[str, np.ndarray]],
    footer: str,
    part: str = "imag",
    vectors: Sequence[int] = (0, 1),
) -> Figure:
    """One row per model: p² of the chosen latent vectors and of their total sum, one curve per class
    (``latents[run][class]`` complex vectors [N, V, 4])."""
    runs = list(latents)
    fig, axes = new_figure(len(runs), len(vectors) + 1, (6 * (len(vectors) + 1), 5.2 * len(runs) + 1.0))
    for row, run in enumerate(runs):
        # GeV² (the latent is in the inputs' TeV): QCD latent masses are ~10-1000 GeV², readable numbers
        masses = {
            c: tuple(m * GEV2_PER_TEV2 for m in vector_masses(v, part)) for c, v in latents[run].items()
        }
        for col in range(len(vectors) + 1):
            ax = axes[row][col]
            total = col == len(vectors)
            values = {c: (m[1] if total else m[0][:, vectors[col]]) for c, m in masses.items()}
            everything = np.concatenate(list(values.values()))
            lo, hi = np.quantile(everything, [0.002, 0.998])
            bins = np.linspace(lo, hi, 70) if hi > lo else 70
            for jet_class, v in values.items():
                ax.hist(
                    v,  # the 0.2 % beyond either end of the range are not drawn
                    bins=bins,
                    density=True,
                    histtype="step",
                    linewidth=1.5,
                    color=CLASS_COLOURS.get(jet_class),
                    label=CLASS_LABELS.get(jet_class, jet_class),
                )
            ax.set_yscale("log")
            ax.xaxis.set_major_locator(MaxNLocator(5))
            what = "sum of all latent vectors" if total else f"latent vector {vectors[col] + 1}"
            ax.set_xlabel(rf"$p_\mu p^\mu$ [GeV$^2$], {what}", fontsize=11)
            ax.set_ylabel("density")
            ax.set_title(run.label, fontsize=12)
            ax.legend(fontsize=9)
    add_footer(fig, footer)
    return fig
