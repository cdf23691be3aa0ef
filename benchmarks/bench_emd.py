"""Time the exact EMD score (``lgae.losses.emd``, POT) per jet, and energyflow's on the same jets.

energyflow needs numpy 1, so it is timed only where it imports: run this in the jetnet extra's venv
(docs/environment.md) for the side-by-side numbers, e.g.

    .venv-jetnet/bin/python benchmarks/bench_emd.py --jets 1000 --rounds 5

JetNet-like pairs: up to 30 massless particles with exponential pT around a common jet axis, the second
jet of each pair a slightly moved copy of the axis with its own particles (as input and reconstruction).
Prints the median seconds per jet over the rounds, and the largest relative difference of the values.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from lgae.group.lorentz import p4_from_ptetaphi
from lgae.jets import ptetaphi
from lgae.losses import emd


def jet_pairs(n_jets: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    axis_eta, axis_phi = rng.uniform(-2, 2, n_jets), rng.uniform(-np.pi, np.pi, n_jets)
    jets = []
    for shift in (0.0, 0.05):
        counts = rng.integers(5, 31, n_jets)
        mask = np.arange(30) < counts[:, None]
        pt = np.where(mask, rng.exponential(1.0, (n_jets, 30)), 0.0)
        eta = axis_eta[:, None] + rng.normal(shift, 0.15, (n_jets, 30))
        phi = axis_phi[:, None] + rng.normal(shift, 0.15, (n_jets, 30))
        p4 = p4_from_ptetaphi(*(torch.from_numpy(x) for x in (pt / pt.sum(1, keepdims=True), eta, phi)))
        jets.append((p4 * torch.from_numpy(mask)[..., None], torch.from_numpy(mask)))
    (a, ma), (b, mb) = jets
    return a, b, ma, mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jets", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    a, b, ma, mb = jet_pairs(args.jets, args.seed)
    emd(a[:2], b[:2], ma[:2], mb[:2])  # the first call imports POT (~1 s)
    try:
        from energyflow.emd import emd as energyflow_emd
    except ImportError as exc:
        energyflow_emd = None
        print(f"energyflow not timed ({exc}): run this in the jetnet extra's venv")
    events = [torch.stack(ptetaphi(p), dim=-1).numpy() for p in (a, b)]
    ours, theirs = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        values = emd(a, b, ma, mb, "none").numpy()
        ours.append(time.perf_counter() - start)
        if energyflow_emd is not None:
            start = time.perf_counter()
            reference = [
                energyflow_emd(events[0][i][ma[i]], events[1][i][mb[i]], R=0.8, periodic_phi=True)
                for i in range(args.jets)
            ]
            theirs.append(time.perf_counter() - start)
    print(f"{args.jets} jet pairs, {float(ma.sum(1).float().mean()):.1f} real particles per jet on average")
    print(f"POT (lgae.losses.emd): {np.median(ours) / args.jets * 1e3:.3f} ms per jet")
    if theirs:
        print(f"energyflow.emd.emd:    {np.median(theirs) / args.jets * 1e3:.3f} ms per jet")
        print(f"ratio {np.median(ours) / np.median(theirs):.2f}; values differ by at most "
              f"{np.max(np.abs(values - reference) / np.abs(reference)):.1e} (relative)")  # fmt: skip


if __name__ == "__main__":
    main()
