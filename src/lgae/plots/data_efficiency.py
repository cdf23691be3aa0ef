"""Fig. 7: reconstruction against the size of the training set.

Median |relative error| of the jet mass on the QCD test set against the fraction of the training split,
per model: the median over the seeds (markers and line) and their spread (min to max, band). On JetNet
data the paper's curves (read off its figure) are drawn beside ours, dashed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from lgae.plots.style import COLOURS, add_footer, new_figure

__all__ = ["data_efficiency_figure"]


def _seeds(n: int) -> str:
    return "1 seed" if n == 1 else f"median of {n} seeds"


def data_efficiency_figure(
    values: Mapping[str, Mapping[float, list[float]]],
    labels: Mapping[str, str],
    footer: str,
    paper: Mapping[str, tuple[list[float], list[float]]] | None = None,
) -> Figure:
    """``values[model][fraction] = [per-seed median |δm/m|]``; ``paper[model] = (fractions, values)``."""
    fig, axes = new_figure(1, 1, (9, 7.5))
    ax = axes[0][0]
    for model, per_fraction in values.items():
        fractions = np.array(sorted(per_fraction))
        seeds = [np.asarray(per_fraction[f], dtype=float) for f in fractions]
        median = np.array([np.median(s) for s in seeds])
        colour = COLOURS.get(model, "black")
        ax.plot(
            fractions,
            median,
            "o-",
            color=colour,
            label=f"{labels[model]} ({_seeds(max(map(len, seeds)))})",
        )
        ax.fill_between(
            fractions, [s.min() for s in seeds], [s.max() for s in seeds], color=colour, alpha=0.2
        )
        if paper and model in paper:
            ax.plot(*paper[model], "--", color=colour, alpha=0.7, label=f"{labels[model]}, paper (JetNet)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("fraction of the training data")
    ax.set_ylabel(r"median $|\delta m_{\mathrm{jet}} / m_{\mathrm{jet}}|$")
    ax.grid(True, which="major", linestyle="--", alpha=0.5)
    ax.legend(fontsize=9)
    add_footer(fig, footer)
    return fig
