"""Fig. 9 (App. C): equivariance of the trained LGAEs' reconstructed 4-vectors.

Left: relative deviation against the Lorentz factor of boosts along z (log-log). Right: against the
angle of rotations about z (ticks at multiples of π/4). Solid: the paper's Eq. 13 (signed means); dashed:
the strict measure (largest component-wise deviation over the largest component). The identity (γ = 1,
θ = 0, deviation exactly 0) is not drawn on the log axes. On JetNet data the paper's boost curve (read
off its figure) is drawn beside ours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from lgae.paper.plots.style import ModelRun, add_footer, new_figure

__all__ = ["equivariance_figure"]

TICK_LABELS = [
    "0",
    r"$\pi/4$",
    r"$\pi/2$",
    r"$3\pi/4$",
    r"$\pi$",
    r"$5\pi/4$",
    r"$3\pi/2$",
    r"$7\pi/4$",
    r"$2\pi$",
]
MEASURES = (("paper", "-o", "Eq. 13"), ("strict", "--s", "strict"))


def _nonzero(points: Sequence[Mapping[str, float]], x: str, measure: str) -> tuple[list[float], list[float]]:
    """(x, deviation) of the points of a scan with a non-zero deviation."""
    kept = [(p[x], p[measure]) for p in points if p[measure] > 0]
    return [a for a, _ in kept], [b for _, b in kept]


def equivariance_figure(
    scans: Mapping[ModelRun, Mapping[str, Sequence[Mapping[str, float]]]],
    footer: str,
    paper_boost: tuple[Sequence[float], Sequence[float]] | None = None,
) -> Figure:
    """``scans[run]`` holds ``boost_z`` and ``rotation_z`` lists of points (gamma/parameter, paper, strict)."""
    fig, axes = new_figure(1, 2, (16, 7))
    boost_ax, rot_ax = axes[0]
    for run, scan in scans.items():
        for measure, style, name in MEASURES:
            label = f"{run.label}, {name}"
            boost_ax.plot(
                *_nonzero(scan["boost_z"], "gamma", measure),
                style,
                color=run.colour,
                markersize=4,
                label=label,
            )
            rot_ax.plot(
                *_nonzero(scan["rotation_z"], "parameter", measure),
                style,
                color=run.colour,
                markersize=4,
                label=label,
            )
    if paper_boost is not None:
        boost_ax.plot(*paper_boost, ":", color="black", label="paper (JetNet), Eq. 13")
    boost_ax.set_xscale("log")
    boost_ax.set_yscale("log")
    boost_ax.set_xlabel(r"Lorentz factor $\gamma$ (boost along $z$)")
    boost_ax.set_title("Boost equivariance of 4-vectors", fontsize=13)
    rot_ax.set_yscale("log")
    rot_ax.set_xlabel(r"rotation angle $\theta$ about $z$")
    rot_ax.set_title("Rotation equivariance of 4-vectors", fontsize=13)
    rot_ax.set_xticks(np.arange(0, 9) * np.pi / 4, TICK_LABELS)
    for ax in (boost_ax, rot_ax):
        ax.set_ylabel("relative deviation")
        ax.grid(True, linestyle="--", alpha=0.5)
        ax.legend(fontsize=9)
    add_footer(fig, footer)
    return fig
