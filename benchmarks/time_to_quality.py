"""Time to quality (issue 27): the convergence study's LGAE-Mix τ=9 (docs/fidelity.md, seed 1 and its
settings) trained by a baseline checkout eagerly beside this checkout compiled, one thread each, at the
same time on two cores and on the same data; then the wall time each needs to reach the baseline's best
validation losses at fixed epochs.

    python benchmarks/time_to_quality.py --baseline-src /path/to/c349b3d/src --data-dir DATA --out OUT
    python benchmarks/time_to_quality.py --out OUT --analyse-only   # the table again from the logs

The training time of an epoch is what ``lgae train`` logs for it (the compiled run's first epoch includes
compiling). Both runs start from the same weights and batches; their losses agree to ~1e-16 at first and
drift apart by rounding, so the compiled run's epoch of reaching a loss is measured, not assumed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

EPOCH_LINE = re.compile(r"epoch (\d+): train \S+ valid (\S+) \(best .*\) ([\d.]+)s")
#: the study's LGAE-Mix τ=9 (benchmarks/fidelity/config.yaml: base.mix and training)
STUDY_OPTIONS = [
    "--model", "lgae-mix", "--latent", "9", "--seed", "1", "--loss", "mse",
    "--hyperparameters", json.dumps({"encoder_channels": [3, 3, 4, 4], "decoder_channels": [4, 4, 3, 3]}),
    "--lr", "1e-3", "--betas", "0.9", "0.999", "--batch-size", "64", "--patience", "25",
    "--dtype", "float64", "--threads", "1", "--background", "g", "q", "--no-progress", "--device", "cpu",
]  # fmt: skip
MARKS = (25, 50, 100, 150, 200, 250, 300)


def _progress(log: Path) -> list[tuple[int, float, float]]:
    """(epoch, best validation loss so far, cumulative training seconds) per logged epoch."""
    rows, best, seconds = [], float("inf"), 0.0
    for epoch, valid, epoch_seconds in EPOCH_LINE.findall(log.read_text()):
        seconds += float(epoch_seconds)
        best = min(best, float(valid))
        rows.append((int(epoch), best, seconds))
    if not rows:
        sys.exit(f"{log}: no epoch lines; did the training run?")
    return rows


def table(baseline_log: Path, compiled_log: Path) -> str:
    base, fast = _progress(baseline_log), _progress(compiled_log)
    lines = [
        f"baseline (eager): {len(base)} epochs in {base[-1][2] / 60:.1f} min; "
        f"compiled: {len(fast)} epochs in {fast[-1][2] / 60:.1f} min (first epoch, with compiling, "
        f"{fast[0][2]:.0f} s)",
        "",
        "| baseline epoch | its best valid loss | baseline min | compiled reaches it at epoch | compiled min | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for mark in (m for m in MARKS if m <= len(base)):
        epoch, loss, seconds = base[mark - 1]
        hit = next(((e, s) for e, b, s in fast if b <= loss), None)
        reached = f"{hit[0]} | {hit[1] / 60:.1f} | {hit[1] / seconds:.2f}" if hit else "not reached | — | —"
        lines.append(f"| {epoch} | {loss:.3g} | {seconds / 60:.1f} | {reached} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for both runs and their logs")
    parser.add_argument("--baseline-src", type=Path, help="the src/ folder of the baseline checkout")
    parser.add_argument("--data-dir", type=Path, help="processed jets (the study's: 2,500 per class)")
    parser.add_argument("--max-epochs", type=int, default=300, help="the study's epoch cap")
    parser.add_argument("--analyse-only", action="store_true", help="only print the table from the logs")
    args = parser.parse_args()
    logs = {name: args.out / f"{name}.log" for name in ("baseline_eager", "compiled")}
    if not args.analyse_only:
        if args.baseline_src is None or args.data_dir is None:
            parser.error("--baseline-src and --data-dir are needed to run")
        args.out.mkdir(parents=True, exist_ok=True)
        options = [*STUDY_OPTIONS, "--data-dir", str(args.data_dir), "--max-epochs", str(args.max_epochs)]
        environment = {**os.environ, "OMP_NUM_THREADS": "1"}
        runs = {
            "baseline_eager": ({**environment, "PYTHONPATH": str(args.baseline_src.resolve())}, []),
            "compiled": (environment, ["--compile"]),
        }
        processes = []
        for name, (env, extra) in runs.items():
            command = [
                sys.executable,
                "-m",
                "lgae",
                "train",
                *options,
                *extra,
                "--out-dir",
                str(args.out / name),
            ]
            with logs[name].open("w") as log:
                processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
        if any(p.wait() for p in processes):
            sys.exit(f"a training failed: see {', '.join(map(str, logs.values()))}")
    print(table(logs["baseline_eager"], logs["compiled"]))


if __name__ == "__main__":
    main()
