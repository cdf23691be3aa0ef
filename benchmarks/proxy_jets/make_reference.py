"""Write the compact JetNet reference (``src/lgae/pipeline/data/jetnet_reference.json``) from the digitised figure.

Reads the shared digitisation of the MPGAN results figure (R. Kansal's dissertation, rkansal47/dissertation,
``figures/04-ML4Sim/mpgan/results/feature_distributions.pdf``: the "Real" histograms of 50,000 JetNet jets per
class, g, q and t) and keeps what the proxy-jet checks need: per class and feature the histogram range,
its bin count, the counts as plotted (4 significant digits) and the figure's standard deviation and median.

    python benchmarks/proxy_jets/make_reference.py path/to/jetnet-distributions.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

FEATURES = ("mass_rel", "pt_rel", "eta_rel")
OUT = Path(__file__).resolve().parents[2] / "src" / "lgae" / "data" / "jetnet_reference.json"


def compact(panel: dict) -> dict:
    edges = np.asarray(panel["edges"], dtype=np.float64)
    widths = np.diff(edges)
    if not np.allclose(widths, widths[0], rtol=0, atol=2e-6):
        raise ValueError(f"irregular bins in {panel['source']}")
    return {
        "range": [round(float(edges[0]), 6), round(float(edges[-1]), 6)],
        "n_bins": len(widths),
        "counts": [float(f"{h:.4g}") for h in panel["heights"]],
        "std": float(f"{panel['stats']['std']:.6g}"),
        "median": float(f"{panel['stats']['median']:.6g}"),
        "source": panel["source"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("digitised", type=Path, help="jetnet-distributions.json (the shared digitisation)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    shared = json.loads(args.digitised.read_text())
    reference = {
        "about": (
            "JetNet30's real jet distributions, 50,000 jets per class, digitised from the MPGAN results figure "
            "of R. Kansal's PhD dissertation (rkansal47/dissertation, figures/04-ML4Sim/mpgan/results/"
            "feature_distributions.pdf; the same figure as in Kansal et al., NeurIPS 2021, arXiv:2106.11535). "
            "JetNet: Zenodo 6975118, CC-BY 4.0. Counts as plotted, in the plotted range only. eta_rel and "
            "pt_rel count real particles (their totals leave no room for the zero-padded slots); mass_rel is "
            "the mass of a jet's <= 30 particles over the jet pT."
        ),
        "classes": {cls: {f: compact(shared[cls][f]) for f in FEATURES} for cls in ("g", "q", "t")},
    }
    args.out.write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
