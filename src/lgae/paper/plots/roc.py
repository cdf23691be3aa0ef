"""Fig. 4: ROC curves of anomaly detection per signal (top, W, Z, combined) against the QCD background.

The paper's layout: signal efficiency ε_s on a linear x axis, background efficiency ε_b on a logarithmic
y axis (10⁻³ … 1), dashed grid, the AUC of each curve in the legend; LGAE solid, GNNAE dash-dotted, CNNAE
dotted.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from lgae.paper.plots.style import ModelRun, add_footer, new_figure

__all__ = ["SIGNAL_TITLES", "roc_figure"]

SIGNAL_TITLES = {"t": "top quark", "w": "W boson", "z": "Z boson", "combined": "combined signal"}


def roc_figure(
    curves: Mapping[str, Mapping[ModelRun, tuple[np.ndarray, np.ndarray, float]]],
    footer: str,
    notes: Mapping[str, Mapping[ModelRun, str]] | None = None,
    title: str = "",
) -> Figure:
    """``curves[signal][run] = (ε_b, ε_s, AUC)``; one panel per signal, in the order given.

    ``notes[signal][run]`` is added to a curve's legend entry (the paper protocol: which score, flipped
    or not); ``title`` goes above the panels."""
    signals = list(curves)
    cols = 2 if len(signals) > 1 else 1
    rows = -(-len(signals) // cols)
    fig, axes = new_figure(rows, cols, (7.5 * cols, 6.5 * rows + 1.0))
    for k, signal in enumerate(signals):
        ax = axes[k // cols][k % cols]
        for run, (fpr, tpr, auc) in curves[signal].items():
            keep = fpr > 0  # the log axis
            ax.plot(
                tpr[keep],
                fpr[keep],
                color=run.colour,
                linestyle=run.linestyle,
                linewidth=1.8,
                label=f"{run.label}, AUC = {auc:.4f}" + (f"\n  {notes[signal][run]}" if notes else ""),
            )
        ax.set_yscale("log")
        ax.set_xlim(0, 1)
        ax.set_ylim(1e-3, 1)
        ax.grid(True, linestyle="--", alpha=0.5, which="major")
        ax.set_xlabel(r"signal efficiency $\varepsilon_s$")
        ax.set_ylabel(r"background efficiency $\varepsilon_b$")
        ax.set_title(f"{SIGNAL_TITLES.get(signal, signal)} vs QCD", fontsize=13)
        ax.legend(loc="lower right", fontsize=9)
    for k in range(len(signals), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    if title:
        fig.suptitle(title, fontsize=14)
    add_footer(fig, footer)
    return fig
