"""What more than one ``lgae`` command shares: option checks, run expectations, metric files."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lgae.errors import DataError, LGAEError
from lgae.names import METRIC_FILES


def classes(values: Sequence[str]) -> list[str]:
    from lgae.pipeline.data.jetnet_format import check_classes

    return check_classes(list(values), key="--classes")


def read_output(path: Path) -> Any:
    """A JSON file an earlier step wrote, or an error that says to rerun that step."""
    from lgae.io import read_json

    if not path.is_file():
        raise DataError(f"{path}: not found; rerun the step that writes it")
    return read_json(path)


def read_metrics(directory: Path) -> Any:
    """One run's four metrics files, each of the shape the tables, claims and figures read, all of one
    model."""
    from lgae.paper.results import RunMetrics, check_metrics
    from lgae.pipeline.identity import same_model

    payloads = {}
    for name in METRIC_FILES:
        path = directory / f"{name}.json"
        payloads[name] = read_output(path)
        check_metrics(name, payloads[name], str(path))
    fix = "delete them and rerun the evaluate step (`lgae evaluate`, or the Snakemake rule evaluate)"
    same_model(
        {str(directory / f"{name}.json"): payload["model"] for name, payload in payloads.items()},
        "metrics files",
        fix,
    )
    model = str(payloads["latent"]["model"]["model"])
    if model.startswith("lgae") != payloads["latent"]["lorentz_latent"]:
        raise DataError(
            f"{directory / 'latent.json'}: says lorentz_latent {payloads['latent']['lorentz_latent']} for "
            f"{model}, whose latent {'is' if model.startswith('lgae') else 'is not'} made of 4-vectors; {fix}"
        )
    return RunMetrics.from_files(payloads)


def check_scores(inputs: list[Path], runs: list[Any], score: str) -> None:
    """Every run has the anomaly score a table or the claims read (a missing one used to read "n/a")."""
    from lgae.paper.results import anomaly_score_name

    for directory, run in zip(inputs, runs, strict=True):
        name = anomaly_score_name(run.model, score)
        if name not in run.anomaly["scores"]:
            raise DataError(
                f"{directory / 'anomaly.json'}: has no {name!r} scores (it has {sorted(run.anomaly['scores'])}); "
                f"choose one of them (--anomaly-score, evaluation.anomaly_score) or predict with it "
                "(evaluation.emd for 'emd') and evaluate again"
            )


def expected_runs(values: list[str] | None, key: str = "--expect") -> list[Any] | None:
    """The runs (:class:`lgae.pipeline.identity.Run`) of ``--expect MODEL:LATENT:SEED:FRACTION ...``."""
    from lgae.pipeline.identity import Run

    return None if values is None else [Run.parse(v, key) for v in values]


def check_runs(
    inputs: list[Path], records: list[dict[str, Any]], expected: list[str] | None, key: str
) -> None:
    """Several runs read together: each a different run, each the one expected in its place."""
    from lgae.pipeline.identity import check_runs

    check_runs(
        [(str(d), r) for d, r in zip(inputs, records, strict=True)],
        expected_runs(expected, key),
        "give each run's directory once; a file of another run there must be deleted and its step rerun",
    )


def add_expect(p: argparse.ArgumentParser, key: str = "--expect", of: str = "--inputs") -> None:
    p.add_argument(
        key,
        nargs="*",
        default=None,
        metavar="MODEL:LATENT:SEED:FRACTION",
        help=f"the run each of {of} must hold, in the same order (the workflow gives them); another is refused",
    )


def runs_source(infos: list[dict[str, Any]]) -> str:
    sources = sorted({str(i.get("source", "unknown")) for i in infos})
    if len(sources) != 1:
        raise LGAEError(f"the inputs come from different data sources {sources}; use one source per run")
    return sources[0]


def add_compute_options(p: argparse.ArgumentParser) -> None:
    """--device, --threads and --no-progress: where and how a step that runs a model computes."""
    p.add_argument(
        "--device",
        default="auto",
        help="auto (a free GPU of its own if any, else the CPU), cuda (the same, but never the CPU), cpu, "
        "or cuda:K (exactly that one, unclaimed)",
    )
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs only)")
