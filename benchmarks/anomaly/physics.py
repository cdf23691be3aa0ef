"""Physics references of the anomaly experiment: how much a single jet observable separates t, W, Z from QCD.

Cut-based taggers with the direction fixed in advance by physics, not by the test labels:

- ``mass``: the jet mass of the stored particles (a heavier jet is more signal-like);
- ``tau21``: −τ2/τ1 (two-prong W, Z and the W of a top have a small τ21);
- ``tau32``: −τ3/τ2 (three-prong tops have a small τ32).

N-subjettiness (Thaler, Van Tilburg, JHEP 03 (2011) 015) with β = 1 on the stored particles:
τ_N = Σ_i pT_i min_k ΔR(i, a_k) / Σ_i pT_i, with the axes a_k the N exclusive kT subjets (FastJet, E
scheme). The normalisation R0 cancels in the ratios. These references see the same test jets as the
autoencoders; they need no training.

Run: ``python benchmarks/anomaly/physics.py --data-dir D --out physics.json``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lgae.errors import LGAEError
from lgae.group.lorentz import ptetaphi_from_p4, wrap_phi
from lgae.io import write_json
from lgae.jets import jet_features
from lgae.paper.evaluation.anomaly import anomaly_metrics
from lgae.pipeline.data.preprocess import load_processed

#: reference name -> what it is (the sign makes a higher value more signal-like)
REFERENCES = {"mass": "jet mass", "tau21": "−τ21", "tau32": "−τ32"}
#: the kT radius of the exclusive subjets: larger than any angle within a jet, so that no particle is
#: merged with the beam before N subjets remain
EXCLUSIVE_KT_RADIUS = 2.0


def nsubjettiness(p4: np.ndarray, mask: np.ndarray, n_max: int = 3) -> np.ndarray:
    """τ_1 … τ_n_max (β = 1, normalised by Σ pT) of every jet, ``[N, n_max]``; exclusive-kT axes.

    A jet with at most N particles has τ_N = 0 (each particle is its own axis).
    """
    import awkward as ak
    import fastjet

    p4 = np.asarray(p4, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    counts = mask.sum(axis=1)
    real = p4[mask]
    particles = ak.unflatten(
        ak.zip({"px": real[:, 1], "py": real[:, 2], "pz": real[:, 3], "E": real[:, 0]}), counts
    )
    sequence = fastjet.ClusterSequence(
        particles, fastjet.JetDefinition(fastjet.kt_algorithm, EXCLUSIVE_KT_RADIUS)
    )
    pt, eta, phi = ptetaphi_from_p4(real)
    owner = np.repeat(np.arange(len(p4)), counts)
    total_pt = np.bincount(owner, weights=pt, minlength=len(p4))
    taus = np.zeros((len(p4), n_max))
    for n in range(1, n_max + 1):
        with warnings.catch_warnings():  # the bindings warn for every algorithm, kT included
            warnings.filterwarnings("ignore", message="dcut and exclusive jets")
            axes = sequence.exclusive_jets_up_to(n)  # a jet of fewer than n particles: all of them
        n_axes = ak.to_numpy(ak.num(axes))
        axes_p4 = np.stack([ak.to_numpy(ak.flatten(axes[k])) for k in ("E", "px", "py", "pz")], axis=-1)
        _, axis_eta, axis_phi = ptetaphi_from_p4(axes_p4)
        padded_eta = np.full((len(p4), n), np.nan)
        padded_phi = np.full((len(p4), n), np.nan)
        slot = np.arange(len(axes_p4)) - np.repeat(np.cumsum(n_axes) - n_axes, n_axes)
        jet = np.repeat(np.arange(len(p4)), n_axes)
        padded_eta[jet, slot], padded_phi[jet, slot] = axis_eta, axis_phi
        d_eta = eta[:, None] - padded_eta[owner]
        d_phi = wrap_phi(phi[:, None] - padded_phi[owner])
        distance = np.nanmin(np.sqrt(d_eta**2 + d_phi**2), axis=1)
        distance = np.where((n_axes >= counts)[owner], 0.0, distance)  # every particle its own axis
        taus[:, n - 1] = np.bincount(owner, weights=pt * distance, minlength=len(p4)) / np.where(
            total_pt > 0, total_pt, 1.0
        )
    return taus


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """τ_N / τ_(N−1), 0 where the denominator is 0 (a jet of too few particles to have N−1 prongs)."""
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def reference_scores(p4: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Every reference of :data:`REFERENCES` per jet (higher = more signal-like)."""
    mass = jet_features(torch.as_tensor(p4, dtype=torch.float64), torch.as_tensor(mask))["mass"].numpy()
    taus = nsubjettiness(p4, mask, 3)
    return {
        "mass": mass,
        "tau21": -_ratio(taus[:, 1], taus[:, 0]),
        "tau32": -_ratio(taus[:, 2], taus[:, 1]),
    }


def physics_metrics(data_dir: Path, background: Sequence[str], signals: Sequence[str]) -> dict[str, Any]:
    """AUC and ε_s(ε_b) of each reference on the test jets, per signal and combined."""
    scores = {}
    for jet_class in (*background, *signals):
        jets = load_processed(data_dir / f"{jet_class}_test.h5")
        scores[jet_class] = reference_scores(jets.p4, jets.mask)
    return {"references": REFERENCES, **anomaly_metrics(scores, background, signals)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="processed split files")
    parser.add_argument("--out", type=Path, required=True, help="JSON of the references' metrics")
    parser.add_argument("--background", nargs="+", default=["g", "q"])
    parser.add_argument("--signals", nargs="+", default=["t", "w", "z"])
    args = parser.parse_args(argv)
    try:
        write_json(args.out, physics_metrics(args.data_dir, args.background, args.signals))
    except LGAEError as exc:
        print(f"physics.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
