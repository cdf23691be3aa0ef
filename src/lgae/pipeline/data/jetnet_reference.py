"""How close generated jets are to JetNet's: distances to JetNet's published distributions.

The reference (``jetnet_reference.json``, written by ``benchmarks/proxy_jets/make_reference.py``) holds the
"Real" histograms of 50,000 JetNet30 jets per class (g, q, t) digitised from the MPGAN results figure of
R. Kansal's dissertation: the relative jet mass m/pT of each jet's <= 30 particles, and the pT_rel and
eta_rel of the real particles. A distance is the 1-Wasserstein distance between a sample and the reference
histogram over the plotted range, in units of JetNet's standard deviation of that feature.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from lgae.group.lorentz import mass_from_p4, p4_from_ptetaphi

REFERENCE_FILE = "jetnet_reference.json"
FEATURES: tuple[str, ...] = ("mass_rel", "pt_rel", "eta_rel")
# The targets (issue 25): distance of m/pT within 0.3 JetNet standard deviations, pT_rel and
# eta_rel within 0.1.
TARGETS: dict[str, float] = {"mass_rel": 0.3, "pt_rel": 0.1, "eta_rel": 0.1}


@dataclass(frozen=True)
class Histogram:
    """One digitised JetNet histogram: regular bins over ``[low, high]``."""

    low: float
    high: float
    counts: np.ndarray
    std: float  # JetNet's standard deviation of the feature over the plotted range
    median: float

    @property
    def edges(self) -> np.ndarray:
        return np.linspace(self.low, self.high, len(self.counts) + 1)


@functools.cache
def reference() -> dict[str, dict[str, Histogram]]:
    """``{class: {feature: Histogram}}`` for JetNet's g, q and t jets."""
    text = resources.files("lgae.pipeline.data").joinpath(REFERENCE_FILE).read_text()
    classes = json.loads(text)["classes"]
    return {
        cls: {
            feature: Histogram(
                low=panel["range"][0],
                high=panel["range"][1],
                counts=np.asarray(panel["counts"], dtype=np.float64),
                std=panel["std"],
                median=panel["median"],
            )
            for feature, panel in features.items()
        }
        for cls, features in classes.items()
    }


def relative_mass(particle_features: np.ndarray) -> np.ndarray:
    """m/pT_jet of each jet from its (etarel, phirel, ptrel, mask) particles, taken massless."""
    features = np.asarray(particle_features, dtype=np.float64)
    real = features[..., 3] > 0
    pt = np.where(real, features[..., 2], 0.0)
    p4 = p4_from_ptetaphi(pt, features[..., 0], features[..., 1]).sum(axis=-2)
    return np.maximum(mass_from_p4(p4), 0.0)


def feature_values(particle_features: np.ndarray, feature: str) -> np.ndarray:
    """A feature as JetNet's figure histograms it: one value per jet (mass) or per real particle."""
    if feature == "mass_rel":
        return relative_mass(particle_features)
    real = np.asarray(particle_features)[..., 3] > 0
    column = {"eta_rel": 0, "pt_rel": 2}[feature]
    return np.asarray(particle_features)[..., column][real].astype(np.float64)


def distance(values: np.ndarray, histogram: Histogram) -> float:
    """1-Wasserstein distance between ``values`` and the histogram over its range, in JetNet std units.

    Both distributions are restricted to the plotted range and normalised there; the reference is taken
    uniform within each bin.
    """
    values = np.sort(np.asarray(values, dtype=np.float64))
    values = values[(values >= histogram.low) & (values <= histogram.high)]
    if len(values) == 0:
        return float("inf")
    grid = np.linspace(histogram.low, histogram.high, 20 * len(histogram.counts) + 1)
    reference_cdf = np.interp(
        grid, histogram.edges, np.concatenate([[0.0], np.cumsum(histogram.counts)]) / histogram.counts.sum()
    )
    sample_cdf = np.searchsorted(values, grid, side="right") / len(values)
    gap = np.abs(sample_cdf - reference_cdf)
    return float(np.sum(0.5 * (gap[1:] + gap[:-1]) * np.diff(grid)) / histogram.std)


def distances(particle_features: np.ndarray, jet_class: str) -> dict[str, float]:
    """The distance of each feature of ``jet_class`` jets (JetNet layout, <= 30 particles) to JetNet's."""
    histograms = reference()[jet_class]
    return {f: distance(feature_values(particle_features, f), histograms[f]) for f in FEATURES}
