"""Fig. 7: reconstruction against the size of the training set.

Median |relative error| of the jet mass on the QCD test set against the fraction of the training split,
per model: the median over the seeds (markers and line), their spread (min to max, band) and each seed
(small dots). seaborn aggregates the replicas (``lineplot`` with a median estimator and a 100 %
percentile interval). On JetNet data the paper's curves (read off its figure) are drawn beside ours,
dashed.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from lgae.paper.plots.style import COLOURS, add_footer, new_figure

__all__ = ["data_efficiency_figure"]


def _seeds(n: int) -> str:
    return "1 seed" if n == 1 else f"median of {n} seeds"


def data_efficiency_figure(
    values: Mapping[str, Mapping[float, list[float]]],
    labels: Mapping[str, str],
    footer: str,
    paper: Mapping[str, tuple[list[float], list[float]]] | None = None,
) -> Figure:
    """Fig. 7 from per-seed values.

    Args:
        values: ``values[model][fraction]`` = the per-seed median |δm/m| of the QCD test jets.
        labels: The legend name of each model.
        footer: The caption printed under the axes.
        paper: ``paper[model] = (fractions, values)``, the paper's curve, drawn dashed where given.

    Returns:
        The figure: one axes, log-log.
    """
    fig, axes = new_figure(1, 1, (9, 7.5))
    ax = axes[0][0]
    rows = [
        (model, f"{labels[model]} ({_seeds(max(map(len, per_fraction.values())))})", fraction, value)
        for model, per_fraction in values.items()
        for fraction, seeds in per_fraction.items()
        for value in seeds
    ]
    points = pd.DataFrame(rows, columns=["model", "label", "fraction", "value"])
    palette = {
        label: COLOURS.get(model, "black") for model, label in zip(points.model, points.label, strict=True)
    }
    seeds = {"data": points, "x": "fraction", "y": "value", "hue": "label", "palette": palette, "ax": ax}
    # the band runs from the smallest to the largest seed (a 100 % percentile interval)
    sns.lineplot(**seeds, estimator="median", errorbar=("pi", 100), marker="o", err_kws={"alpha": 0.2})
    sns.scatterplot(**seeds, s=18, alpha=0.6, legend=False)
    for model in values:
        if paper and model in paper:
            colour = COLOURS.get(model, "black")
            ax.plot(*paper[model], "--", color=colour, alpha=0.7, label=f"{labels[model]}, paper (JetNet)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("fraction of the training data")
    ax.set_ylabel(r"median $|\delta m_{\mathrm{jet}} / m_{\mathrm{jet}}|$")
    ax.grid(True, which="major", linestyle="--", alpha=0.5)
    ax.legend(fontsize=9)
    add_footer(fig, footer)
    return fig
