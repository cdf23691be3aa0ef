"""The anomaly experiment's tables (docs/anomaly.md) from what its runs wrote.

Per data variant, QCD training size, model and signal (t, W, Z, combined): the pre-registered AUC (the
score fixed in advance: Chamfer in the model's output space, the image MSE for image models; never
flipped) with its standard error, ε_s at ε_b = 10⁻¹ and 10⁻², and the paper protocol's AUC with the score
it chose (post-hoc: the best of the family's scores, labels flipped below 0.5). Then the physics
references, each run's training record and the compute the DAG recorded (Snakemake's benchmark files).

Run: ``python benchmarks/anomaly/summarise.py --runs RUN... --physics JSON... --benchmarks DIR
--markdown summary.md --csv summary.csv``.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lgae.io import atomic_path

SIGNALS = ("t", "w", "z", "combined")
SIGNAL_NAMES = {"t": "t", "w": "W", "z": "Z", "combined": "t+W+Z"}
EFFICIENCIES = ("0.1", "0.01")
IMAGE_SCORE = "image_mse"
PARTICLE_SCORE = "chamfer"
#: the order of the tables: variants as the data question reads them, then models
VARIANT_ORDER = ("particle-r08", "particle-r04", "detector-r04-particles", "detector-r04")
MODEL_ORDER = (
    "lgae-mix-2",
    "lgae-min-max-2",
    "cnnae-55",
    "pca-relative",
    "pca-p4",
    "mlp-relative",
    "pca-image",
)


def auc_standard_error(auc: float, n_background: int, n_signal: int) -> float:
    """The AUC's standard error by Hanley & McNeil (Radiology 143 (1982) 29), from the AUC and the counts."""
    q1, q2 = auc / (2.0 - auc), 2.0 * auc**2 / (1.0 + auc)
    variance = (auc * (1.0 - auc) + (n_signal - 1) * (q1 - auc**2) + (n_background - 1) * (q2 - auc**2)) / (
        n_signal * n_background
    )
    return math.sqrt(max(variance, 0.0))


def _read(path: Path) -> Any:
    if not path.is_file():
        raise SystemExit(
            f"summarise.py: {path} not found; rerun the DAG (snakemake -s benchmarks/anomaly/Snakefile)"
        )
    return json.loads(path.read_text())


def run_rows(run_dir: Path) -> list[dict[str, Any]]:
    """One row per signal of one run (variant/model/n<jets>)."""
    variant, model, jets = run_dir.parts[-3], run_dir.parts[-2], int(run_dir.parts[-1].removeprefix("n"))
    anomaly = _read(run_dir / "metrics" / "anomaly.json")
    meta = _read(run_dir / "meta.json")
    score = IMAGE_SCORE if IMAGE_SCORE in anomaly["scores"] else PARTICLE_SCORE
    pre = anomaly["scores"][score]
    loss = meta.get("settings", {}).get("loss") if "settings" in meta else "mse"
    own = anomaly["scores"].get(IMAGE_SCORE if score == IMAGE_SCORE else loss, pre)
    paper = anomaly.get("paper_protocol", {}).get("best", {})
    record = {
        "epochs": meta.get("epochs"),
        "best_epoch": meta.get("best_epoch"),
        "stopped_by": meta.get("stopped_by"),
        "train_seconds": meta.get("seconds_training", meta.get("fit_seconds")),  # lgae train's, a control's
    }
    rows = []
    for signal in SIGNALS:
        if signal not in pre["signals"]:
            continue
        values = pre["signals"][signal]
        best = paper.get(signal, {})
        rows.append(
            {
                "variant": variant,
                "model": model,
                "train_jets": jets,
                "signal": signal,
                "score": score,
                "auc": values["auc"],
                "auc_se": auc_standard_error(values["auc"], pre["background_jets"], values["jets"]),
                **{f"eff_at_{e}": values["signal_efficiency"][e] for e in EFFICIENCIES},
                "paper_auc": best.get("auc"),
                "paper_score": best.get("score"),
                "paper_flipped": best.get("flipped"),
                "auc_training_loss": own["signals"][signal]["auc"],
                "background_jets": pre["background_jets"],
                "signal_jets": values["jets"],
                **record,
            }
        )
    return rows


def physics_rows(path: Path) -> list[dict[str, Any]]:
    """One row per reference and signal of one variant's physics.json."""
    payload = _read(path)
    rows = []
    for name, scores in payload["scores"].items():
        for signal, values in scores["signals"].items():
            rows.append(
                {
                    "variant": path.stem,
                    "model": f"reference:{name}",
                    "train_jets": 0,
                    "signal": signal,
                    "score": payload["references"][name],
                    "auc": values["auc"],
                    "auc_se": auc_standard_error(values["auc"], scores["background_jets"], values["jets"]),
                    **{f"eff_at_{e}": values["signal_efficiency"][e] for e in EFFICIENCIES},
                    "background_jets": scores["background_jets"],
                    "signal_jets": values["jets"],
                }
            )
    return rows


def compute(benchmarks: Path) -> pd.DataFrame:
    """CPU seconds and wall seconds per rule from Snakemake's benchmark records (the last run of each job)."""
    rows = []
    for tsv in sorted(benchmarks.glob("*/*.tsv")):
        record = pd.read_csv(tsv, sep="\t")
        if not record.empty:
            last = record.iloc[-1]
            rows.append(
                {
                    "rule": tsv.parent.name,
                    "job": tsv.stem,
                    "cpu_s": float(last["cpu_time"]),
                    "wall_s": float(last["s"]),
                }
            )
    return pd.DataFrame(rows, columns=["rule", "job", "cpu_s", "wall_s"])


def _order(frame: pd.DataFrame) -> pd.DataFrame:
    def rank(values: pd.Series, order: Sequence[str]) -> pd.Series:
        return values.map(lambda v: order.index(v) if v in order else len(order))

    return frame.sort_values(
        ["variant", "model", "train_jets"],
        key=lambda col: (
            rank(col, VARIANT_ORDER)
            if col.name == "variant"
            else (rank(col, MODEL_ORDER) if col.name == "model" else col)
        ),
    )


def _auc(value: float, se: float | None = None) -> str:
    return f"{value:.3f}" if se is None else f"{value:.3f} ± {se:.3f}"


def _paper(row: pd.Series) -> str:
    if pd.isna(row["paper_auc"]):
        return ""
    flipped = ", flipped" if row["paper_flipped"] else ""
    return f"{row['paper_auc']:.3f} (`{row['paper_score']}`{flipped})"


def markdown(frame: pd.DataFrame, jobs: pd.DataFrame) -> str:
    models = _order(frame[~frame.model.str.startswith("reference:")])
    references = frame[frame.model.str.startswith("reference:")]
    out = ["## Combined t + W + Z against QCD", ""]
    out += [
        "| variant | model | QCD train jets | AUC, pre-registered | ε_s at ε_b = 10⁻¹ | ε_s at ε_b = 10⁻² "
        "| AUC, paper protocol (post-hoc; winning score) |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, row in models[models.signal == "combined"].iterrows():
        out.append(
            f"| {row.variant} | {row.model} | {row.train_jets:,} | {_auc(row.auc, row.auc_se)} | "
            f"{row['eff_at_0.1']:.3f} | {row['eff_at_0.01']:.4f} | {_paper(row)} |"
        )
    out += ["", "## Per signal: AUC pre-registered / paper protocol (post-hoc)", ""]
    out += ["| variant | model | QCD train jets | t | W | Z | t+W+Z |", "|---|---|---|---|---|---|---|"]
    for (variant, model, jets), group in models.groupby(["variant", "model", "train_jets"], sort=False):
        cells = []
        for signal in SIGNALS:
            row = group[group.signal == signal].iloc[0]
            cells.append(f"{row.auc:.3f} / {row.paper_auc:.3f}")
        out.append(f"| {variant} | {model} | {jets:,} | " + " | ".join(cells) + " |")
    out += ["", "## ε_s at ε_b = 10⁻² per signal (pre-registered score)", ""]
    out += ["| variant | model | QCD train jets | t | W | Z | t+W+Z |", "|---|---|---|---|---|---|---|"]
    for (variant, model, jets), group in models.groupby(["variant", "model", "train_jets"], sort=False):
        cells = [f"{group[group.signal == s].iloc[0]['eff_at_0.01']:.4f}" for s in SIGNALS]
        out.append(f"| {variant} | {model} | {jets:,} | " + " | ".join(cells) + " |")
    out += ["", "## Physics references (one observable, direction fixed in advance)", ""]
    out += [
        "| variant | reference | t | W | Z | t+W+Z | ε_s at 10⁻¹, 10⁻² (t+W+Z) |",
        "|---|---|---|---|---|---|---|",
    ]
    for (variant, _model), group in _order(references).groupby(["variant", "model"], sort=False):
        aucs = [f"{group[group.signal == s].iloc[0].auc:.3f}" for s in SIGNALS]
        combined = group[group.signal == "combined"].iloc[0]
        out.append(
            f"| {variant} | {group.iloc[0].score} | "
            + " | ".join(aucs)
            + f" | {combined['eff_at_0.1']:.3f}, {combined['eff_at_0.01']:.4f} |"
        )
    out += ["", "## Training record", ""]
    out += [
        "| variant | model | QCD train jets | epochs | best epoch | stopped by | training s |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, row in models[models.signal == "combined"].iterrows():
        epochs = "" if pd.isna(row.epochs) else int(row.epochs)
        best = "" if pd.isna(row.best_epoch) else int(row.best_epoch)
        seconds = "" if pd.isna(row.train_seconds) else f"{row.train_seconds:.0f}"
        out.append(
            f"| {row.variant} | {row.model} | {row.train_jets:,} | {epochs} | {best} | {row.stopped_by or ''} | {seconds} |"
        )
    out += ["", "## Compute (Snakemake's benchmark records)", ""]
    out += ["| rule | jobs | CPU hours | wall hours (sum over jobs) |", "|---|---|---|---|"]
    for rule, group in jobs.groupby("rule"):
        out.append(
            f"| {rule} | {len(group)} | {group.cpu_s.sum() / 3600:.2f} | {group.wall_s.sum() / 3600:.2f} |"
        )
    out.append(
        f"| **all** | {len(jobs)} | **{jobs.cpu_s.sum() / 3600:.2f}** | {jobs.wall_s.sum() / 3600:.2f} |"
    )
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs", type=Path, nargs="+", required=True, help="run folders variant/model/n<jets>"
    )
    parser.add_argument("--physics", type=Path, nargs="*", default=[], help="physics.py's JSON per variant")
    parser.add_argument("--benchmarks", type=Path, required=True, help="the DAG's benchmark folder")
    parser.add_argument("--markdown", type=Path, required=True)
    parser.add_argument("--csv", type=Path, required=True)
    args = parser.parse_args(argv)
    rows = [row for run in args.runs for row in run_rows(run)]
    rows += [row for path in args.physics for row in physics_rows(path)]
    frame = _order(pd.DataFrame(rows))
    with atomic_path(args.csv) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")
    with atomic_path(args.markdown) as tmp:
        tmp.write_text(markdown(frame, compute(args.benchmarks)))


if __name__ == "__main__":
    main()
