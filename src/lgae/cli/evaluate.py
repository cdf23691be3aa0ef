"""``lgae evaluate``: metrics of one model from its prediction files (Tables 2-4, Figs. 5-7, 9)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from lgae.cli.common import read_output
from lgae.errors import DataError, LGAEError
from lgae.io import write_json
from lgae.names import CLASSES, PAPER_PROTOCOL_FAMILIES

log = logging.getLogger("lgae")


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="metrics of one model from its prediction files (Tables 2-4, Figs. 5-7, 9)",
        description=(
            "Reads: <predictions-dir>/<class>.h5 and equivariance.json (from `lgae predict`). Writes: "
            "<out-dir>/{reconstruction,anomaly,latent,equivariance}.json; anomaly.json holds the "
            "pre-registered score's metrics and, under 'paper_protocol', the authors' protocol (their "
            "scores, labels flipped below AUC 0.5, the best score per signal: a post-hoc selection)."
        ),
    )
    p.add_argument("--predictions-dir", type=Path, required=True)
    p.add_argument("--out-dir", type=Path, required=True)
    p.add_argument("--background", nargs="+", default=["g", "q"], choices=CLASSES)
    p.add_argument("--signals", nargs="*", default=["t", "w", "z"], choices=CLASSES)
    p.add_argument("--relative-error", default="target", choices=("target", "authors"))
    p.add_argument("--matching", default="hungarian", choices=("hungarian", "ordered"))
    p.add_argument(
        "--emd",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the authors' EMD among the paper-protocol scores (~1 ms per jet)",
    )
    p.add_argument(
        "--paper-family",
        default=None,
        choices=PAPER_PROTOCOL_FAMILIES,
        help="the authors' score set of the paper protocol (default: from the model's name; give it for a "
        "model outside the paper, e.g. lgae for any model with reconstructed 4-momenta)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs only)")
    p.add_argument(
        "--expect",
        default=None,
        help="the run the predictions must come from: MODEL:LATENT:SEED:FRACTION, or a JSON object of its "
        "training settings; predictions of another run are refused",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> None:
    from lgae.paper.evaluation.anomaly import anomaly_metrics
    from lgae.paper.evaluation.equivariance import summarize
    from lgae.paper.evaluation.latent import latent_metrics
    from lgae.paper.evaluation.paper_protocol import family_of, paper_protocol_metrics, paper_scores
    from lgae.paper.evaluation.reconstruction import reconstruction_metrics
    from lgae.pipeline.identity import check_expected, parse_expected, same_model
    from lgae.pipeline.inference import read_class_predictions

    overlap = set(args.background) & set(args.signals)
    if overlap:
        raise LGAEError(f"classes {sorted(overlap)} are both background and signal")
    expected = parse_expected(args.expect)
    predictions = read_class_predictions(args.predictions_dir, [*args.background, *args.signals])
    first = args.predictions_dir / f"{args.background[0]}.h5"
    info = {k: v for k, v in predictions[args.background[0]].attrs.items() if k != "split"}
    fix = "delete the directory's files and rerun the predict step (`lgae predict`, or the Snakemake rule predict)"
    check_expected(first, info.get("settings"), expected, fix)
    scans_path = args.predictions_dir / "equivariance.json"
    scans = read_output(scans_path)
    if not isinstance(scans, dict) or "scanned" not in scans:
        raise DataError(f"{scans_path}: not an equivariance file of `lgae predict`; {fix}")
    same_model({str(first): info, str(scans_path): scans}, "prediction files", fix)
    family = args.paper_family or family_of(info["model"])
    paper = (
        {c: paper_scores(p, family, args.emd, not args.no_progress) for c, p in predictions.items()}
        if args.signals
        else {}
    )
    results = {
        "reconstruction": reconstruction_metrics(
            predictions, args.background, args.matching, args.relative_error
        ),
        "anomaly": {
            **anomaly_metrics({c: p.scores for c, p in predictions.items()}, args.background, args.signals),
            "paper_protocol": (
                paper_protocol_metrics(paper, args.background, args.signals, family) if paper else {}
            ),
        },
        "latent": latent_metrics(predictions, args.background),
        "equivariance": {"summary": summarize(scans), "scans": scans},
    }
    for name, payload in results.items():
        write_json(args.out_dir / f"{name}.json", {"model": info, **payload})
    log.info("wrote %s", ", ".join(str(args.out_dir / f"{n}.json") for n in results))
