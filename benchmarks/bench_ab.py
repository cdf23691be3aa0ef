"""A/B timing of LGAE training steps: this checkout against another one, side by side, interleaved.

Each variant is a worker process (``bench_lgae_step.py --serve``) that imports the library of its own
checkout (``PYTHONPATH=<checkout>/src``) and keeps its models, compiled ones included, between requests.
The driver asks the workers in turn, round after round, for ``--repeats`` steps of each configuration, so
that a change of the machine's load during the run falls on every variant alike. Reported per
(configuration, variant): the median step over all rounds and the cost per jet; per configuration the
speed-up of each variant over the first one, as the median over rounds of the paired ratios.

Variants: ``base`` (``--base``: another checkout, eager), ``eager`` and ``compiled`` (this checkout, the
latter through ``torch.compile``). The issue-27 acceptance run, on a quiet machine::

    git worktree add ../lgae-c349b3d c349b3d
    python benchmarks/bench_ab.py --base ../lgae-c349b3d --batch 64 256 --dtype float64 float32

Compilation happens once per worker and configuration, before the first timed round; its time is
reported (``setup_s``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class Worker:
    """One ``bench_lgae_step.py --serve`` process on one checkout's library."""

    def __init__(
        self, name: str, checkout: Path, threads: int, clock: str, compiled: bool, env: dict | None = None
    ) -> None:
        self.name = name
        self.compiled = compiled
        env = {
            **os.environ,
            **(env or {}),
            "PYTHONPATH": str(checkout / "src"),
            "OMP_NUM_THREADS": str(threads),
        }
        command = [sys.executable, str(HERE / "bench_lgae_step.py"), "--serve", "--threads", str(threads)]
        command += ["--clock", clock]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=HERE
        )
        hello = self._read()
        self.lgae = hello["lgae"]
        if not Path(self.lgae).is_relative_to(checkout.resolve()):
            self.close()
            raise SystemExit(f"error: worker {name} imported lgae from {self.lgae}, not from {checkout}")

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"error: worker {self.name} ended (exit status {self.process.wait()})")
        return json.loads(line)

    def measure(self, request: dict) -> dict:
        self.process.stdin.write(json.dumps({**request, "compiled": self.compiled}) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", type=Path, help="another checkout (e.g. a worktree of c349b3d)")
    parser.add_argument(
        "--variants",
        nargs="+",
        default=None,
        help="base, eager, compiled (any name starting with 'compiled' compiles; see --env)",
    )
    parser.add_argument("--models", nargs="+", default=["lgae-min-max", "lgae-mix"])
    parser.add_argument("--dtype", nargs="+", default=["float64", "float32"], choices=["float64", "float32"])
    parser.add_argument("--batch", nargs="+", type=int, default=[64, 256])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per request")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps per request")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clock", default="wall", choices=["wall", "cpu"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--markdown", action="store_true", help="also print a table")
    parser.add_argument(
        "--env",
        nargs="+",
        default=[],
        metavar="VARIANT:NAME=VALUE",
        help="an environment variable for one variant's worker (e.g. compiled:OMP_PROC_BIND=true)",
    )
    args = parser.parse_args()
    variants = args.variants or (["base", "eager", "compiled"] if args.base else ["eager", "compiled"])
    if "base" in variants and args.base is None:
        parser.error("the variant 'base' needs --base CHECKOUT")
    envs: dict[str, dict[str, str]] = {}
    for item in args.env:
        variant, _, assignment = item.partition(":")
        name, _, value = assignment.partition("=")
        envs.setdefault(variant, {})[name] = value
    workers = [
        Worker(
            name,
            args.base if name == "base" else ROOT,
            args.threads,
            args.clock,
            name.startswith("compiled"),
            envs.get(name),
        )
        for name in variants
    ]
    configs = [(m, d, b) for m in args.models for d in args.dtype for b in args.batch]
    times: dict[tuple, list[float]] = {}
    rounds: dict[tuple, list[float]] = {}
    setup: dict[tuple, dict] = {}
    try:
        for round_index in range(args.rounds):
            for model, dtype, batch in configs:
                order = workers if round_index % 2 == 0 else workers[::-1]
                for worker in order:
                    request = {"model": model, "dtype": dtype, "batch": batch, "device": args.device}
                    reply = worker.measure({**request, "warmup": args.warmup, "repeats": args.repeats})
                    key = (model, dtype, batch, worker.name)
                    if "setup_s" in reply:
                        setup[key] = {k: v for k, v in reply.items() if k != "times"}
                    times.setdefault(key, []).extend(reply["times"])
                    rounds.setdefault(key, []).append(statistics.median(reply["times"]))
    finally:
        for worker in workers:
            worker.close()
    rows = []
    for model, dtype, batch in configs:
        reference = (model, dtype, batch, variants[0])
        for name in variants:
            key = (model, dtype, batch, name)
            median = statistics.median(times[key])
            paired = [r / o for r, o in zip(rounds[reference], rounds[key], strict=True)]
            row = {
                "model": model,
                "dtype": dtype,
                "batch": batch,
                "variant": name,
                "threads": args.threads,
                "clock": args.clock,
                "median_ms": 1e3 * median,
                "per_jet_us": 1e6 * median / batch,
                f"speedup_vs_{variants[0]}": statistics.median(paired),
                "steps": len(times[key]),
                **{
                    k: v
                    for k, v in setup.get(key, {}).items()
                    if k in ("setup_s", "compiled", "compile_note")
                },
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.markdown:
        print(f"\n| model | dtype | batch | variant | ms per step | µs per jet | × vs {variants[0]} |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            print(
                f"| {r['model']} | {r['dtype']} | {r['batch']} | {r['variant']} | {r['median_ms']:.1f} | "
                f"{r['per_jet_us']:.0f} | {r[f'speedup_vs_{variants[0]}']:.2f} |"
            )


if __name__ == "__main__":
    main()
