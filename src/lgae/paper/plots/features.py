"""Fig. 3: distributions of particle and jet features of the inputs and of each model's reconstruction.

Top row: particle pT_rel, η_rel, φ_rel relative to each cloud's own jet axis (real particles only; not for
the CNNAE, whose inputs are discretised). Bottom row: jet mass, pT and η of the summed 4-momenta (the
CNNAE's from its pixels), in GeV. Normalised histograms (densities) on the paper's axis ranges.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from lgae.paper.plots.style import ModelRun, add_footer, new_figure

__all__ = ["JET_PANELS", "PARTICLE_PANELS", "feature_figure"]

#: (key, axis label, range) of each panel, as in the paper's Fig. 3
PARTICLE_PANELS = (
    ("pt_rel", r"particle $p_T^{\mathrm{rel}}$", (0.0, 0.2)),
    ("eta_rel", r"particle $\eta^{\mathrm{rel}}$", (-0.2, 0.2)),
    ("phi_rel", r"particle $\phi^{\mathrm{rel}}$", (-0.2, 0.2)),
)
JET_PANELS = (
    ("mass", r"jet mass [GeV]", (0.0, 250.0)),
    ("pt", r"jet $p_T$ [GeV]", (0.0, 2000.0)),
    ("eta", r"jet $\eta$", (-2.5, 2.5)),
)
BINS = 60


def _density(ax, values: np.ndarray, bins: np.ndarray, label: str, **style: object) -> None:
    """A normalised step histogram; values with none inside the panel are said so in the legend
    (a density of nothing would silently draw nothing)."""
    values = np.asarray(values, dtype=float)
    inside = np.isfinite(values) & (values >= bins[0]) & (values <= bins[-1])
    if not inside.any():
        ax.plot([], [], label=f"{label} (none in range)", **style)
        return
    ax.hist(values[inside], bins=bins, density=True, histtype="step", label=label, **style)


def feature_figure(
    target: Mapping[str, np.ndarray],
    reconstructions: Mapping[ModelRun, Mapping[str, np.ndarray]],
    footer: str,
) -> Figure:
    """``target`` and each model's ``reconstructions`` map a panel key to its values (a model without
    particle outputs simply lacks the particle keys)."""
    fig, axes = new_figure(2, 3, (16, 10.5))
    for row, panels in enumerate((PARTICLE_PANELS, JET_PANELS)):
        for col, (key, label, limits) in enumerate(panels):
            ax = axes[row][col]
            bins = np.linspace(*limits, BINS + 1)
            _density(ax, target[key], bins, "Target", color="red", linestyle="--", linewidth=2)
            for run, values in reconstructions.items():
                if key in values:
                    _density(
                        ax,
                        values[key],
                        bins,
                        run.label,
                        color=run.colour,
                        linestyle=run.linestyle,
                        linewidth=1.5,
                    )
            ax.set_xlabel(label)
            ax.set_ylabel("density")
            ax.set_xlim(*limits)
            ax.set_yscale("log" if key in ("pt_rel",) else "linear")
    axes[1][0].legend(loc="upper right", fontsize=9)
    add_footer(fig, footer)
    return fig
