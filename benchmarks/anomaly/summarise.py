"""The anomaly experiment's tables (docs/anomaly.md) from what its runs wrote.

Per data variant, QCD training size, model and signal (t, W, Z, combined): the pre-registered AUC (the
score fixed in advance: Chamfer in the model's output space, the image MSE for image models; never
flipped) with its standard error, ε_s at ε_b = 10⁻¹ and 10⁻², and the paper protocol's AUC with the score
it chose (post-hoc: the best of the family's scores, labels flipped below 0.5). Then the physics
references, each run's training record and the compute the DAG recorded (Snakemake's benchmark files).

Run: ``python benchmarks/anomaly/summarise.py --runs RUN... --physics JSON... --benchmarks DIR
--markdown summary.md --csv summary.csv`` (the DAG's `summary` rule, every run finished), or
``python benchmarks/anomaly/summarise.py --config benchmarks/anomaly/config.yaml --markdown M --csv C``:
every run the config plans, those without metrics (a run stopped by the budget) listed as not run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from lgae.io import atomic_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan import planned_runs, variants  # the DAG's plan (standard library only)

SIGNALS = ("t", "w", "z", "combined")
SIGNAL_NAMES = {"t": "t", "w": "W", "z": "Z", "combined": "t+W+Z"}
NOT_RUN = "not run (budget)"
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


def _signal_table(models: pd.DataFrame, signal: str) -> list[str]:
    out = [
        f"### {SIGNAL_NAMES[signal]} against QCD",
        "",
        "| variant | model | QCD train jets | AUC, pre-registered | ε_s at ε_b = 10⁻¹ | ε_s at ε_b = 10⁻² "
        "| AUC, paper protocol (post-hoc; winning score) |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, row in models[models.signal == signal].iterrows():
        head = f"| {row.variant} | {row.model} | {row.train_jets:,} | "
        if pd.isna(row.auc):
            out.append(head + f"{NOT_RUN} | | | |")
            continue
        out.append(
            head + f"{_auc(row.auc, row.auc_se)} | {row['eff_at_0.1']:.3f} | {row['eff_at_0.01']:.4f} | "
            f"{_paper(row)} |"
        )
    return [*out, ""]


def markdown(frame: pd.DataFrame, jobs: pd.DataFrame) -> str:
    models = _order(frame[~frame.model.str.startswith("reference:")])
    references = frame[frame.model.str.startswith("reference:")]
    out = ["## Anomaly detection, per signal and combined", ""]
    for signal in ("combined", "t", "w", "z"):
        out += _signal_table(models, signal)
    out += ["## Physics references (one observable, direction fixed in advance; AUC)", ""]
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
        if pd.isna(row.auc):
            out.append(f"| {row.variant} | {row.model} | {row.train_jets:,} | {NOT_RUN} | | | |")
            continue
        epochs = "" if pd.isna(row.epochs) else int(row.epochs)
        best = "" if pd.isna(row.best_epoch) else int(row.best_epoch)
        seconds = "" if pd.isna(row.train_seconds) else f"{row.train_seconds:.0f}"
        stopped = "" if pd.isna(row.stopped_by) else row.stopped_by
        out.append(
            f"| {row.variant} | {row.model} | {row.train_jets:,} | {epochs} | {best} | {stopped} | {seconds} |"
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


def figure(frame: pd.DataFrame, path: Path) -> None:
    """AUC per run and signal: pre-registered (with its error) beside the paper protocol's post-hoc best,
    and each variant's physics references as vertical ticks over its group of runs."""
    from lgae.paper.plots.style import add_footer, new_figure

    models = _order(frame[~frame.model.str.startswith("reference:")])
    runs = models[models.signal == "combined"][["variant", "model", "train_jets"]].to_numpy().tolist()
    references = frame[frame.model.str.startswith("reference:")]
    fig, axes = new_figure(1, len(SIGNALS), (4.2 * len(SIGNALS), 0.32 * len(runs) + 2.5))
    markers = {"reference:mass": ("jet mass", "tab:red"), "reference:tau21": ("−τ21", "tab:green")}
    markers["reference:tau32"] = ("−τ32", "tab:purple")
    for ax, signal in zip(axes[0], ("t", "w", "z", "combined"), strict=True):
        rows = models[models.signal == signal].set_index(["variant", "model", "train_jets"])
        for y, key in enumerate(runs):
            row = rows.loc[tuple(key)]
            if pd.isna(row.auc):
                ax.text(0.5, y, NOT_RUN, fontsize=8, va="center", ha="center", color="grey")
                continue
            ax.errorbar(row.auc, y, xerr=row.auc_se, fmt="o", color="black", ms=5, label="pre-registered")
            if not pd.isna(row.paper_auc):
                ax.plot(
                    row.paper_auc, y, "D", mfc="none", color="tab:blue", label="paper protocol (post-hoc)"
                )
        for variant in dict.fromkeys(key[0] for key in runs):
            ys = [y for y, key in enumerate(runs) if key[0] == variant]
            for name, (label, colour) in markers.items():
                ref = references[(references.variant == variant) & (references.model == name)]
                ref = ref[ref.signal == signal]
                if not ref.empty:
                    ax.vlines(
                        ref.auc.iloc[0],
                        min(ys) - 0.4,
                        max(ys) + 0.4,
                        colors=colour,
                        linestyles="--",
                        label=label,
                    )
            ax.axhline(max(ys) + 0.5, color="grey", lw=0.5)
        ax.axvline(0.5, color="grey", lw=0.8, ls=":")
        ax.set_xlim(0.3, 1.0)
        ax.set_title(f"{SIGNAL_NAMES[signal]} vs QCD")
        ax.set_xlabel("AUC")
        ax.set_yticks(range(len(runs)))
        ax.set_yticklabels([f"{v} {m} {n // 1000}k" for v, m, n in runs] if signal == "t" else [], fontsize=9)
        ax.set_ylim(len(runs) - 0.5, -0.5)
        ax.tick_params(axis="y", which="minor", left=False, right=False)
    legend = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    add_footer(
        fig,
        "Pythia 8 jets (not JetNet: not comparable with the paper's numbers); the same test jets for every run "
        "of a variant; AUC errors by Hanley & McNeil. Paper protocol: best of the family's scores, labels "
        "flipped below 0.5, chosen on the test labels.",
    )
    top = 1 - 0.9 / fig.get_size_inches()[1]  # room for the legend above the panels
    fig.subplots_adjust(top=top)
    fig.legend(
        legend.values(), legend.keys(), loc="upper center", ncol=len(legend), fontsize=10, frameon=False
    )
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format=path.suffix.lstrip("."))


def _merged(base: dict, override: dict) -> dict:
    """Nested keys merged as Snakemake merges --configfile over configfile."""
    out = dict(base)
    for key, value in override.items():
        out[key] = (
            _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


def planned(configs: Sequence[Path]) -> tuple[list[Path], list[Path], Path, list[dict[str, Any]]]:
    """From the DAG's config files: ``(finished run folders, physics files, benchmark folder, runs not run)``."""
    config: dict = {}
    for path in configs:
        if not path.is_file():
            raise SystemExit(f"summarise.py: config {path} not found")
        config = _merged(config, yaml.safe_load(path.read_text()))
    results = Path(config["results"])
    finished, missing = [], []
    for run in planned_runs(config):
        folder = results / "runs" / run.path
        if (folder / "metrics" / "anomaly.json").is_file():
            finished.append(folder)
        else:
            missing += [
                {"variant": run.variant, "model": run.model, "train_jets": run.jets, "signal": signal}
                for signal in SIGNALS
            ]
    physics = [results / "physics" / f"{v}.json" for v in variants(config)]
    return finished, [p for p in physics if p.is_file()], results / "benchmarks", missing


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--runs", type=Path, nargs="+", help="run folders variant/model/n<jets>")
    source.add_argument(
        "--config", type=Path, nargs="+", help="the DAG's config file(s): every planned run, finished or not"
    )
    parser.add_argument("--physics", type=Path, nargs="*", default=[], help="physics.py's JSON per variant")
    parser.add_argument("--benchmarks", type=Path, help="the DAG's benchmark folder (with --runs)")
    parser.add_argument("--markdown", type=Path, required=True)
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--figure", type=Path, help="a PNG of every run's AUCs (optional)")
    args = parser.parse_args(argv)
    missing: list[dict[str, Any]] = []
    if args.config:
        args.runs, args.physics, args.benchmarks, missing = planned(args.config)
    elif args.benchmarks is None:
        parser.error("--runs needs --benchmarks")
    rows = [row for run in args.runs for row in run_rows(run)]
    rows += [row for path in args.physics for row in physics_rows(path)]
    frame = _order(pd.DataFrame(rows + missing))
    with atomic_path(args.csv) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")
    with atomic_path(args.markdown) as tmp:
        tmp.write_text(markdown(frame, compute(args.benchmarks)))
    if args.figure:
        figure(frame, args.figure)


if __name__ == "__main__":
    main()
