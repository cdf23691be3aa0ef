"""AUC of the Chamfer anomaly score in each representation the authors' code computes (their
`anomaly_detection.py` logs the best AUC over all of them; which one the paper's numbers use is not
recorded), from the prediction files of `lgae predict`.

The pipeline's score is fixed before looking at results: Chamfer on the absolute (E, px, py, pz) in TeV.
This script shows how much the choice of representation, made after looking, could move the AUC:

- ``cartesian``: (E, px, py, pz) in TeV (the pipeline's score);
- ``cartesian/jet``: the same divided by each target jet's largest |p^μ| (the authors' normalisation);
- ``polar``: (E, pT, η, φ), φ differences wrapped;
- ``relative``: (pT_rel, η_rel, φ_rel), each cloud about its own jet axis;
- ``jet mass``: |m_rec − m| / m of the summed 4-momenta, a jet-level score.

Higher is always more anomalous (no flipping of AUCs below 0.5, which the authors' code does).

    python benchmarks/fidelity/score_spaces.py RUN_DIR/predictions [...] --markdown out.md
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score

from lgae.jets import jet_features, ptetaphi, relative_coordinates, sanitize_p4
from lgae.losses import chamfer
from lgae.pipeline.inference import read_predictions

BACKGROUND, SIGNALS = ("g", "q"), ("t", "w", "z")


def _wrapped_chamfer(
    out: torch.Tensor, tgt: torch.Tensor, mask: torch.Tensor, angle: int | None
) -> torch.Tensor:
    """Per-jet Chamfer (the pipeline's: mean of squared nearest distances) with one angular column."""
    if angle is None:
        return chamfer(out, tgt, mask, mask, reduction="none")
    # lgae.losses.chamfer has no periodic coordinate: the same sums here, with the angular differences
    # wrapped into [-π, π) pair by pair
    d = out.unsqueeze(2) - tgt.unsqueeze(1)
    d[..., angle] = torch.remainder(d[..., angle] + math.pi, 2 * math.pi) - math.pi
    d2 = d.pow(2).sum(-1)
    inf = torch.full((), float("inf"), dtype=d2.dtype)
    pair = mask.unsqueeze(2) & mask.unsqueeze(1)
    d2 = torch.where(pair, d2, inf)
    n = mask.sum(-1).clamp(min=1).to(d2.dtype)
    zero = torch.zeros((), dtype=d2.dtype)
    a = torch.where(mask, d2.amin(1), zero).sum(-1) / n
    b = torch.where(mask, d2.amin(2), zero).sum(-1) / n
    return 0.5 * (a + b)


def scores(path: Path) -> dict[str, np.ndarray]:
    """Every representation's per-jet score for one prediction file."""
    p = read_predictions(path)
    mask = torch.as_tensor(p.mask)
    tgt = sanitize_p4(torch.as_tensor(p.p4, dtype=torch.float64), mask)
    out = sanitize_p4(torch.as_tensor(p.recon_p4, dtype=torch.float64), mask)
    scale = tgt.abs().amax(dim=(1, 2)).clamp_min(1e-16).view(-1, 1, 1)

    def polar(x: torch.Tensor) -> torch.Tensor:
        pt, eta, phi = ptetaphi(x)
        return torch.stack([x[..., 0], pt, eta, phi], dim=-1)

    m_true = jet_features(tgt, mask)["mass"]
    m_rec = jet_features(out, mask)["mass"]
    result = {
        "cartesian": _wrapped_chamfer(out, tgt, mask, None),
        "cartesian/jet": _wrapped_chamfer(out / scale, tgt / scale, mask, None),
        "polar": _wrapped_chamfer(polar(out), polar(tgt), mask, 3),
        "relative": _wrapped_chamfer(
            relative_coordinates(out, mask)[0], relative_coordinates(tgt, mask)[0], mask, 2
        ),
        "jet mass": (m_rec - m_true).abs() / m_true.abs().clamp_min(1e-12),
    }
    return {k: torch.nan_to_num(v, nan=np.inf).numpy() for k, v in result.items()}


def aucs(predictions_dir: Path) -> dict[str, float]:
    per_class = {c: scores(predictions_dir / f"{c}.h5") for c in (*BACKGROUND, *SIGNALS)}
    row = {}
    for name in per_class["g"]:
        qcd = np.concatenate([per_class[c][name] for c in BACKGROUND])
        for signal in (*SIGNALS, "t+W+Z"):
            sig = (
                np.concatenate([per_class[s][name] for s in SIGNALS])
                if signal == "t+W+Z"
                else per_class[signal][name]
            )
            labels = np.r_[np.zeros(len(qcd)), np.ones(len(sig))]
            row[(name, signal)] = roc_auc_score(labels, np.r_[qcd, sig])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("predictions", nargs="+", type=Path, help="prediction directories of `lgae predict`")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    rows = []
    for directory in args.predictions:
        label = "/".join(directory.resolve().parts[-3:-1])  # <variant>/seed<k>
        rows += [{"run": label, "score": k[0], "signal": k[1], "auc": v} for k, v in aucs(directory).items()]
    frame = pd.DataFrame(rows)
    table = frame.pivot_table(index=["run", "score"], columns="signal", values="auc", sort=False)
    text = table.map(lambda v: f"{v:.3f}").to_markdown()
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
