"""Tables of the convergence study (docs/fidelity.md) from the runs of benchmarks/fidelity/Snakefile.

Per run: how training ended (early stopping or the epoch cap), its best validation loss, the QCD test
jets' jet-mass and jet-pT relative errors (median, IQR), the particle pT_rel IQR, and the combined
t+W+Z AUC of the Chamfer score, all read from the pipeline's own `lgae evaluate` output. Runs not
finished yet are listed as pending, so the tables can be written while the study is still running:

    python benchmarks/fidelity/summarise.py --runs benchmarks/fidelity/results/runs \
        --config benchmarks/fidelity/config.yaml --markdown summary.md --csv summary.csv
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pandas as pd
from plan import planned_runs

from lgae.io import read_yaml

COLUMNS = {
    "valid_loss": "best valid loss",
    "mass_median": "m: median",
    "mass_iqr": "m: IQR",
    "pt_median": "pT: median",
    "pt_iqr": "pT: IQR",
    "ptrel_iqr": "pT_rel: IQR",
    "auc": "AUC t+W+Z",
}
FINISHED = ("done", "earlier")  # "earlier": a run of an earlier session, read from the --earlier record


def run_row(run_dir: Path) -> dict[str, object]:
    """The figures of one finished run, or only its status."""
    meta_file, metrics_dir = run_dir / "meta.json", run_dir / "metrics"
    if not (metrics_dir / "reconstruction.json").exists() or not meta_file.exists():
        return {"status": "pending"}
    meta = json.loads(meta_file.read_text())
    reconstruction = json.loads((metrics_dir / "reconstruction.json").read_text())["groups"]["qcd"]
    anomaly = json.loads((metrics_dir / "anomaly.json").read_text())["scores"]["chamfer"]["signals"]
    return {
        "status": "done",
        "parameters": meta["parameters"],
        "epochs": meta["epochs"],
        "best_epoch": meta["best_epoch"],
        "stopped_by": meta["stopped_by"],
        "minutes": round(meta["seconds_training"] / 60, 1),
        "valid_loss": meta["best_valid_loss"],
        "mass_median": reconstruction["jet"]["mass"]["median"],
        "mass_iqr": reconstruction["jet"]["mass"]["iqr"],
        "pt_median": reconstruction["jet"]["pt"]["median"],
        "pt_iqr": reconstruction["jet"]["pt"]["iqr"],
        "ptrel_iqr": reconstruction["particle"]["pt_rel"]["iqr"],
        "auc": anomaly["combined"]["auc"],
    }


def read_earlier(path: Path) -> pd.DataFrame:
    """The record of earlier runs, checked: a summary CSV this script wrote."""
    if not path.is_file():
        raise SystemExit(f"--earlier {path}: no such file (the CSV a previous summarise.py run wrote)")
    earlier = pd.read_csv(path)
    missing = {"base", "ablation", "seed", "status", *COLUMNS} - set(earlier.columns)
    if missing:
        raise SystemExit(f"--earlier {path}: not a summary CSV of this script, it lacks {sorted(missing)}")
    return earlier


def collect(
    runs: Path, config: dict, with_reference: bool, earlier: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per planned run; a run not under ``runs`` is taken from ``earlier`` when that has it."""
    rows = []
    for variant, base, ablation, seeds in planned_runs(config, with_reference):
        for seed in seeds:
            row = {
                "base": base,
                "ablation": ablation,
                "seed": seed,
                **run_row(runs / variant / f"seed{seed}"),
            }
            if row["status"] == "pending" and earlier is not None:
                match = earlier[
                    (earlier.base == base) & (earlier.ablation == ablation) & (earlier.seed == seed)
                ]
                if len(match) and match.iloc[0].status != "pending":  # finished, or e.g. "diverged"
                    row = match.iloc[0].dropna().to_dict()
                    row["status"] = "earlier" if row["status"] in FINISHED else row["status"]
            rows.append(row)
    fields = [
        "base",
        "ablation",
        "seed",
        "status",
        "parameters",
        "epochs",
        "best_epoch",
        "stopped_by",
        "minutes",
    ]
    return pd.DataFrame(rows, columns=[*fields, *COLUMNS])


def _fmt(value: object) -> str:
    if isinstance(value, float) and value != value:
        return ""  # NaN: a pending run has no figures yet
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
        return str(int(value))  # counts (parameters, epochs) that pandas' median made floats
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def defaults_table(frame: pd.DataFrame) -> str:
    """Every seed of the default models, then the median and the range over seeds."""
    done = frame[(frame.ablation == "default") & frame.status.isin(FINISHED)]
    keep = ["base", "seed", "status", "parameters", "epochs", "best_epoch", "stopped_by", "minutes", *COLUMNS]
    table = done[keep].rename(columns=COLUMNS)
    lines = [table.map(_fmt).to_markdown(index=False)]
    for base, group in done.groupby("base", sort=False):
        spread = ", ".join(
            f"{label} {_fmt(group[key].median())} [{_fmt(group[key].min())}, {_fmt(group[key].max())}]"
            for key, label in COLUMNS.items()
        )
        lines.append(f"\n- **{base}**, {len(group)} seed(s), median [min, max]: {spread}")
    return "\n".join(lines)


def ablation_table(frame: pd.DataFrame) -> str:
    """Each ablation against the default's seed range: 'better' or 'worse' only outside that range."""
    defaults = frame[(frame.ablation == "default") & frame.status.isin(FINISHED)]
    rows = []
    for _, run in frame[~frame.ablation.isin(["default", "authors' code"])].iterrows():
        row = {"base": run.base, "ablation": run.ablation, "seed": run.seed, "status": run.status}
        reference = defaults[defaults.base == run.base]
        if run.status in FINISHED:
            row |= {"epochs": run.epochs, "minutes": run.minutes, "parameters": run.parameters}
            for key in ("valid_loss", "mass_median", "mass_iqr", "auc"):
                row[COLUMNS[key]] = run[key]
                row[f"{COLUMNS[key]} vs default"] = _versus(key, run[key], reference[key])
        rows.append(row)
    return pd.DataFrame(rows).map(_fmt).to_markdown(index=False)


def valid_loss_at(run_dir: Path, epoch: int) -> float | None:
    """The best validation loss within the first ``epoch`` epochs of a run (None if it ran fewer)."""
    history = run_dir / "history.csv"
    if not history.exists():
        return None
    frame = pd.read_csv(history)
    return float(frame.valid_loss[frame.epoch <= epoch].min()) if frame.epoch.max() >= epoch else None


def reference_table(frame: pd.DataFrame, runs: Path) -> str:
    """The authors' code beside ours: at the end of each, and ours after as many epochs as theirs ran."""
    theirs = frame[(frame.ablation == "authors' code") & frame.status.isin(FINISHED)]
    if theirs.empty:
        return "Not run or not finished (`reference_repo`: a clone of zichunhao/lgn-autoencoder at 66620d0)."
    rows = []
    for _, ref in theirs.iterrows():
        ours = frame[(frame.base == ref.base) & (frame.ablation == "default") & frame.status.isin(FINISHED)]
        at_their_epochs = [valid_loss_at(runs / ref.base / f"seed{s}", int(ref.epochs)) for s in ours.seed]
        if None in at_their_epochs:  # a seed without its history here (an earlier run, or too short)
            at_their_epochs = []
        for label, row in (
            ("authors' code", ref),
            (f"ours, median of {len(ours)} seeds", ours.median(numeric_only=True)),
        ):
            rows.append(
                {
                    "base": ref.base,
                    "implementation": label,
                    "parameters": row.parameters,
                    "epochs": row.epochs,
                    "minutes": row.minutes,
                    "stopped by": ref.stopped_by if label == "authors' code" else "",
                    **{
                        COLUMNS[k]: row[k]
                        for k in ("valid_loss", "mass_median", "mass_iqr", "ptrel_iqr", "auc")
                    },
                    f"best valid loss by epoch {int(ref.epochs)}": (
                        ref.valid_loss
                        if label == "authors' code"
                        else (pd.Series(at_their_epochs).median() if at_their_epochs else "not here")
                    ),
                }
            )
    return pd.DataFrame(rows).map(_fmt).to_markdown(index=False)


def _versus(key: str, value: float, reference: pd.Series) -> str:
    """Where a value lies against the default's seeds: lower |.| is better, except for the AUC."""
    if len(reference) < 2:
        return "no seed range yet"
    if key == "mass_median":
        value, reference = abs(value), reference.abs()
    low, high = reference.min(), reference.max()
    if low <= value <= high:
        return "within seeds"
    better = value > high if key == "auc" else value < low
    return "better" if better else "worse"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--markdown", type=Path, required=True)
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument(
        "--with-reference", action="store_true", help="the authors' code was run (reference_repo set)"
    )
    parser.add_argument(
        "--earlier",
        type=Path,
        help="the CSV of an earlier summary (benchmarks/fidelity/measured.csv): runs not under --runs "
        "are taken from it, marked 'earlier'",
    )
    args = parser.parse_args()
    config = read_yaml(args.config)
    frame = collect(
        args.runs, config, args.with_reference, read_earlier(args.earlier) if args.earlier else None
    )
    train = config["training"]
    text = (
        f"# Convergence study: {config['data']['jets_per_class']} Pythia jets per class\n\n"
        f"Adam lr {train['lr']}, batch {train['batch_size']}, {train['dtype']}, early stopping with patience "
        f"{train['patience']} on the validation loss, at most {train['max_epochs']} epochs. Errors are "
        "(reconstructed − true)/true on the QCD test jets; the AUC is the Chamfer score's, t+W+Z against "
        "QCD. Pythia jets: not comparable with the paper's JetNet numbers.\n\n"
        f"## Default models\n\n{defaults_table(frame)}\n\n"
        f"## The authors' implementation, same loop, data and budget\n\n{reference_table(frame, args.runs)}\n\n"
        f"## Ablations\n\n{ablation_table(frame)}\n"
    )
    for path, content in ((args.markdown, text), (args.csv, frame.to_csv(index=False))):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(content)
        os.replace(partial, path)


if __name__ == "__main__":
    main()
