"""``lgae claims``: check the paper's qualitative claims on this run."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from lgae.cli.common import add_expect, check_runs, check_scores, read_metrics, runs_source
from lgae.io import write_json

log = logging.getLogger("lgae")


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "claims",
        help="check the paper's qualitative claims on this run",
        description=(
            "Reads: metrics directories of the runs at fraction 1 (--inputs) and of the data-efficiency scan "
            "(--scan). Writes: <out-prefix>.md (the claims, each holds / does not hold / not measurable) and .json."
        ),
    )
    p.add_argument("--inputs", type=Path, nargs="+", required=True)
    p.add_argument("--scan", type=Path, nargs="*", default=[])
    p.add_argument("--out-prefix", type=Path, required=True, help="e.g. results/claims")
    p.add_argument("--anomaly-score", default="chamfer")
    add_expect(p)
    add_expect(p, "--scan-expect", "--scan")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> None:
    from lgae.io import atomic_path
    from lgae.paper.claims import check_claims, claims_html, claims_markdown, claims_payload

    main = [read_metrics(d) for d in args.inputs]
    scan = [read_metrics(d) for d in args.scan]
    check_runs(args.inputs, [r.info for r in main], args.expect, "--expect")
    check_runs(args.scan, [r.info for r in scan], args.scan_expect, "--scan-expect")
    check_scores(args.inputs, main, args.anomaly_score)
    source = runs_source([r.info for r in main + scan])
    claims = check_claims(main, scan, args.anomaly_score)
    epochs = sorted({(r.model, r.latent, r.seed, r.info.get("epochs")) for r in main})
    notes = [
        "Models (model, latent, seed, epochs trained): "
        + "; ".join(f"{m} {z} seed {s}: {e}" for m, z, s, e in epochs)
    ]
    with atomic_path(args.out_prefix.with_suffix(".md")) as tmp:
        tmp.write_text(claims_markdown(claims, source, notes))
    with atomic_path(args.out_prefix.with_suffix(".html")) as tmp:
        tmp.write_text(claims_html(claims, source, notes))
    write_json(args.out_prefix.with_suffix(".json"), claims_payload(claims, source))
    log.info("%s: %s", args.out_prefix.with_suffix(".md"), ", ".join(f"{c.key}: {c.verdict}" for c in claims))
