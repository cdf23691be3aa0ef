"""``lgae table``: one of the paper's tables, ours beside the paper's, from metrics files."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from lgae.cli.common import add_expect, check_runs, check_scores, read_metrics, runs_source
from lgae.errors import LGAEError
from lgae.pipeline.targets import TABLES

log = logging.getLogger("lgae")


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "table",
        help="one of the paper's tables, ours beside the paper's, from metrics files",
        description="Reads: metrics directories (<dir>/*.json), one per run. Writes: <out-prefix>.csv, .md, .tex.",
    )
    p.add_argument("name", choices=TABLES)
    p.add_argument(
        "--inputs", type=Path, nargs="*", default=[], help="metrics directories (runs at fraction 1)"
    )
    p.add_argument("--source", default=None, help="data source when no run is given (jetnet or pythia)")
    p.add_argument("--out-prefix", type=Path, required=True)
    p.add_argument("--anomaly-score", default="chamfer")
    add_expect(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> None:
    from lgae.io import atomic_path
    from lgae.paper.tables import build_table

    runs = [read_metrics(d) for d in args.inputs]
    check_runs(args.inputs, [r.info for r in runs], args.expect, "--expect")
    check_scores(args.inputs, runs, args.anomaly_score)
    source = runs_source([r.info for r in runs]) if runs else args.source
    if source is None:
        raise LGAEError("no metrics given: pass --source to say which data the (empty) table is for")
    table = build_table(args.name, runs, source, args.anomaly_score)
    for extension, text in (
        ("csv", table.csv()),
        ("md", table.markdown()),
        ("tex", table.latex()),
        ("html", table.html()),
    ):
        with atomic_path(args.out_prefix.with_suffix(f".{extension}")) as tmp:
            tmp.write_text(text)
    log.info("wrote %s.{csv,md,tex,html}", args.out_prefix)
