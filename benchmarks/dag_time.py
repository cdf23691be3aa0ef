"""Where the time of a finished pipeline run went: per model and per rule, from what the run recorded.

Reads Snakemake's `benchmark:` records (`results/benchmarks/<rule>/*.tsv`) and each model's `meta.json`
and `history.csv`, so it costs nothing and can be run on any finished (or half-finished) results folder:

    python benchmarks/dag_time.py --results results [--markdown time.md]

Rules without a `benchmark:` record (preprocess, tables, claims: seconds each) are not listed.
Seconds are wall-clock seconds of each job; with one thread per job (the CPU configs) they are also its
core-seconds, and their sum over the DAG divided by the cores is a lower bound of the DAG's wall time.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd


def job_seconds(results: Path) -> pd.DataFrame:
    """One row per recorded job: rule, job name (the benchmark file's stem), seconds, peak RSS (MB)."""
    rows = []
    for tsv in sorted((results / "benchmarks").glob("*/*.tsv")):
        record = pd.read_csv(tsv, sep="\t")
        if record.empty:
            continue
        last = record.iloc[-1]  # a rerun job appends: its last run is the one that made the output
        rows.append(
            {
                "rule": tsv.parent.name,
                "job": tsv.stem,
                "seconds": float(last["s"]),
                "max_rss_mb": last["max_rss"],
            }
        )
    return pd.DataFrame(rows, columns=["rule", "job", "seconds", "max_rss_mb"])


def per_model(results: Path, jobs: pd.DataFrame) -> pd.DataFrame:
    """One row per trained model: epochs, why it stopped, seconds per epoch, and its train/predict/evaluate
    jobs."""
    seconds = {(r.rule, r.job): r.seconds for r in jobs.itertuples()}
    rows = []
    for meta_path in sorted((results / "models").glob("*/*/seed*/frac*/meta.json")):
        meta = json.loads(meta_path.read_text())
        frac_dir = meta_path.parent
        model, latent, seed, frac = (
            frac_dir.parts[-4],
            frac_dir.parts[-3],
            frac_dir.parts[-2],
            frac_dir.parts[-1],
        )
        history = pd.read_csv(frac_dir / "history.csv")
        job = f"{model}_{latent}_{seed}_{frac}"
        rows.append(
            {
                "model": model,
                "latent": int(latent),
                "fraction": float(frac.removeprefix("frac")),
                "dtype": meta["settings"]["dtype"],
                "train jets": meta["train_jets"],
                "epochs": meta["epochs"],
                "best epoch": meta["best_epoch"],
                "stopped by": meta["stopped_by"],
                "s/epoch": round(float(history["epoch_seconds"].median()), 2),
                "train s": seconds.get(("train", job)),
                "predict s": seconds.get(("predict", job)),
                "evaluate s": seconds.get(("evaluate", job)),
            }
        )
    return pd.DataFrame(rows).sort_values(["model", "fraction", "latent"], ascending=[True, False, True])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--markdown", type=Path, default=None, help="also write the tables here")
    args = parser.parse_args()
    jobs = job_seconds(args.results)
    if jobs.empty:
        raise SystemExit(
            f"no benchmark records under {args.results / 'benchmarks'}: is this a results folder?"
        )
    by_rule = (
        jobs.groupby("rule")["seconds"]
        .agg(["count", "sum", "max"])
        .rename(columns={"count": "jobs", "sum": "seconds", "max": "longest job s"})
    )
    by_rule["share %"] = 100 * by_rule["seconds"] / by_rule["seconds"].sum()
    models = per_model(args.results, jobs)
    text = (
        "## Per rule (seconds of all its jobs)\n\n"
        + by_rule.round(1).to_markdown()
        + f"\n\nAll jobs: {jobs['seconds'].sum() / 60:.1f} job-minutes; peak RSS of one job "
        f"{jobs['max_rss_mb'].max():.0f} MB.\n\n## Per model\n\n" + models.to_markdown(index=False) + "\n"
    )
    if args.markdown is not None:
        args.markdown.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
