"""The ``lgae`` subcommands that turn trained models into the paper's results.

``predict`` (the only one that loads a model: one run per trained model, GPU if present) → ``evaluate``
(metrics of one model, pure functions of its predictions) → ``figure``, ``table``, ``claims`` (across
models). Each reads and writes files at the paths it is given; the workflow (workflow/rules) lays them
out. Registered in :mod:`lgae.cli`.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from lgae.errors import DataError, LGAEError
from lgae.io import write_json
from lgae.names import CLASSES, PAPER_PROTOCOL_FAMILIES

log = logging.getLogger("lgae")

METRIC_FILES = ("reconstruction", "anomaly", "latent", "equivariance")


def _data_source(data_dir: Path, jet_class: str) -> str:
    """The ``source`` label preprocessing stored in a processed file (jetnet or pythia)."""
    import h5py

    path = data_dir / f"{jet_class}_test.h5"
    try:
        with h5py.File(path, "r") as handle:
            return str(handle.attrs.get("source", "")) or "unknown"
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc}); rerun `lgae preprocess`") from exc


# ------------------------------------------------------------------------------------------- predict
def add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="run one trained model on the test split of every class (the only step after training that "
        "loads a model)",
        description=(
            "Reads: --model-file (written by `lgae train`, loaded with weights_only=True) and "
            "<data-dir>/<class>_test.h5. Writes: <out-dir>/<class>.h5 per class (labels, input and "
            "reconstructed 4-momenta, jet features, latent, per-jet anomaly scores) and "
            "<out-dir>/equivariance.json (boost and rotation scans of the trained LGAE, App. C)."
        ),
    )
    p.add_argument("--model-file", type=Path, required=True, help="model.pt of a training run")
    p.add_argument("--data-dir", type=Path, required=True, help="directory of the processed split files")
    p.add_argument("--out-dir", type=Path, required=True, help="directory for the prediction files")
    p.add_argument("--classes", nargs="+", default=list(CLASSES), choices=CLASSES, help="classes to predict")
    p.add_argument("--background", nargs="+", default=["g", "q"], choices=CLASSES, help="QCD classes")
    p.add_argument(
        "--batch-size", type=int, default=256, help="jets per inference batch (CPU: 256 is fastest)"
    )
    p.add_argument("--emd", action=argparse.BooleanOptionalAction, default=True, help="exact EMD score")
    p.add_argument(
        "--equivariance-jets", type=int, default=3000, help="QCD test jets of the equivariance scans (LGAE)"
    )
    p.add_argument(
        "--device",
        default="auto",
        help="auto (a free GPU of its own if any, else the CPU), cuda (the same, but never the CPU), cpu, "
        "or cuda:K (exactly that one, unclaimed)",
    )
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs only)")
    p.add_argument(
        "--expect",
        default=None,
        help="the run the model file must be: MODEL:LATENT:SEED:FRACTION, or a JSON object of its training "
        "settings (the workflow gives every setting); a model file of another run is refused",
    )
    p.set_defaults(handler=run_predict)


def run_predict(args: argparse.Namespace) -> None:
    import torch

    from lgae.data.preprocess import load_processed
    from lgae.devices import claim_device
    from lgae.evaluation.equivariance import scan_model
    from lgae.evaluation.predict import predict_class, write_predictions
    from lgae.identity import check_expected, parse_expected
    from lgae.io import atomic_paths
    from lgae.models.io import load_model
    from lgae.seeding import rng
    from lgae.train import choose_device

    if args.batch_size < 1 or args.equivariance_jets < 1:
        raise LGAEError("--batch-size and --equivariance-jets must be positive")
    missing = [c for c in args.background if c not in args.classes]
    if missing:
        raise LGAEError(f"--background {missing} must be among --classes {args.classes}")
    expected = parse_expected(args.expect)
    if args.threads:
        torch.set_num_threads(args.threads)
    with claim_device(args.device) as claimed:  # a GPU of its own, held until prediction ends
        device = choose_device(claimed)
        model, meta = load_model(args.model_file, device)
        settings = meta["settings"]
        _check_beside(args.model_file, meta)
        check_expected(
            args.model_file,
            settings,
            expected,
            "the file was copied there or left by another run: delete it and rerun the train step "
            "(`lgae train`, or the Snakemake rule train)",
        )
        test = {c: load_processed(args.data_dir / f"{c}_test.h5") for c in args.classes}
        _check_test_data(args.model_file, meta, args.data_dir, args.classes)
        qcd_jets = sum(len(test[c]) for c in args.background)
        if meta["name"].startswith("lgae") and args.equivariance_jets > qcd_jets:
            raise LGAEError(
                f"--equivariance-jets {args.equivariance_jets} (evaluation.equivariance_jets): "
                f"{args.data_dir} holds {qcd_jets} QCD test jets ({'+'.join(args.background)}); ask for at "
                "most that many"
            )
        info = {
            "model": meta["name"],
            "latent": settings["latent"],
            "seed": settings["seed"],
            "fraction": settings["train_fraction"],
            "loss": settings["loss"],
            "dtype": settings["dtype"],
            "epochs": meta.get("epochs"),
            "best_epoch": meta.get("best_epoch"),
            "stopped_by": meta.get("stopped_by"),
            "train_jets": meta.get("train_jets"),
            "model_file": str(args.model_file),
            "fingerprint": meta.get("fingerprint"),
            "settings": settings,
            "source": _data_source(args.data_dir, args.classes[0]),
            "data": _test_provenance(args.data_dir / f"{args.classes[0]}_test.h5"),
            "device": str(device),
            "compression_rate": meta.get("compression_rate"),
            "image_max_r": getattr(model, "max_r", None),  # the CNNAE's image grid
            "image_npix": getattr(model, "npix", None),
        }
        log.info("predicting with %s (%s) on %s", args.model_file, info["model"], device)
        outputs = [args.out_dir / f"{c}.h5" for c in args.classes] + [args.out_dir / "equivariance.json"]
        # every output appears at once, or none does: a failure in the last class (or in the scans)
        # leaves no class file of this model beside those of another
        with atomic_paths(outputs) as temporaries:
            for (jet_class, jets), tmp in zip(test.items(), temporaries, strict=False):
                predictions = predict_class(
                    model,
                    jets,
                    args.batch_size,
                    device,
                    args.emd,
                    not args.no_progress,
                    {**info, "split": "test"},
                )
                write_predictions(tmp, predictions)
                log.info("%s: %d jets", args.out_dir / f"{jet_class}.h5", len(predictions))
            if meta["name"].startswith("lgae"):
                p4 = np.concatenate([test[c].p4 for c in args.background])
                mask = np.concatenate([test[c].mask for c in args.background])
                chosen = np.sort(rng(0, "equivariance").permutation(len(p4))[: args.equivariance_jets])
                scans = {"scanned": True, **scan_model(model, p4[chosen], mask[chosen], device)}
            else:
                scans = {
                    "scanned": False,
                    "reason": f"{meta['name']} is not Lorentz equivariant by construction",
                }
            write_json(temporaries[-1], {**info, **scans})


def _check_beside(model_file: Path, meta: dict[str, Any]) -> None:
    """The meta.json `lgae train` wrote beside a model file describes that model (a model.pt copied over
    another run's leaves the other's meta.json, whose epochs and settings the captions would quote)."""
    from lgae.identity import IdentityError
    from lgae.io import read_json

    beside = model_file.parent / "meta.json"
    if not beside.is_file():
        return
    recorded = read_json(beside)
    if not isinstance(recorded, dict) or any(
        json.dumps(recorded.get(k), sort_keys=True) != json.dumps(meta.get(k), sort_keys=True)
        for k in ("fingerprint", "settings", "epochs")
    ):
        raise IdentityError(
            f"{model_file} and {beside}: of different runs (their fingerprints, settings or epochs differ); "
            "one was copied over the other's: delete both and rerun the train step"
        )


def _test_provenance(path: Path) -> dict[str, Any]:
    """Which preprocessing the test jets come from (runs compared in one table must share it)."""
    from lgae.data.preprocess import PROVENANCE_KEYS, read_attrs

    attrs = read_attrs(path)
    return {key: attrs.get(key) for key in PROVENANCE_KEYS}


def _check_test_data(model_file: Path, meta: dict[str, Any], data_dir: Path, classes: list[str]) -> None:
    """The test files come from the preprocessing the model was trained on: for the classes it was
    trained on, the same raw file, source, seed and split (another seed's test split would hold the
    model's training jets); for the others (signals), the same source. A class the model never saw may be
    split otherwise, e.g. kept mostly for testing (benchmarks/anomaly)."""
    from lgae.data.preprocess import PROVENANCE_KEYS, read_attrs

    trained = (meta.get("data") or {}).get("files") or {}
    if not trained:
        return
    reference = next(iter(trained.values()))
    for jet_class in classes:
        path = data_dir / f"{jet_class}_test.h5"
        attrs = read_attrs(path)
        seen = f"{jet_class}_train" in trained
        record = trained.get(f"{jet_class}_train", reference)
        keys = [*PROVENANCE_KEYS, "raw_jets"] if seen else ["source"]
        differ = [
            f"{k} {attrs.get(k)!r} (trained on {record.get(k)!r})"
            for k in keys
            if attrs.get(k) != record.get(k)
        ]
        if differ:
            raise DataError(
                f"{path}: not from the preprocessing {model_file} was trained on ({'; '.join(differ)}); "
                "predict on the test split of the model's own data, or retrain the model on this data"
            )


# ------------------------------------------------------------------------------------------ evaluate
def add_evaluate(sub: argparse._SubParsersAction) -> None:
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
    p.set_defaults(handler=run_evaluate)


def _read_json(path: Path) -> Any:
    from lgae.io import read_json

    if not path.is_file():
        raise DataError(f"{path}: not found; rerun the step that writes it")
    return read_json(path)


def run_evaluate(args: argparse.Namespace) -> None:
    from lgae.evaluation.anomaly import anomaly_metrics
    from lgae.evaluation.equivariance import summarize
    from lgae.evaluation.latent import latent_metrics
    from lgae.evaluation.paper_protocol import family_of, paper_protocol_metrics, paper_scores
    from lgae.evaluation.predict import read_class_predictions
    from lgae.evaluation.reconstruction import reconstruction_metrics
    from lgae.identity import check_expected, parse_expected, same_model

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
    scans = _read_json(scans_path)
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


# --------------------------------------------------------------------------- figures, tables, claims
FIGURES = ("fig2", "fig3", "fig4", "fig4_paper_protocol", "fig5", "fig6", "fig7", "fig9")


def _read_metrics(directory: Path) -> Any:
    """One run's four metrics files, each of the shape the tables, claims and figures read, all of one
    model."""
    from lgae.identity import same_model
    from lgae.results import RunMetrics, check_metrics

    payloads = {}
    for name in METRIC_FILES:
        path = directory / f"{name}.json"
        payloads[name] = _read_json(path)
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


def _check_scores(inputs: list[Path], runs: list[Any], score: str) -> None:
    """Every run has the anomaly score a table or the claims read (a missing one used to read "n/a")."""
    from lgae.results import anomaly_score_name

    for directory, run in zip(inputs, runs, strict=True):
        name = anomaly_score_name(run.model, score)
        if name not in run.anomaly["scores"]:
            raise DataError(
                f"{directory / 'anomaly.json'}: has no {name!r} scores (it has {sorted(run.anomaly['scores'])}); "
                f"choose one of them (--anomaly-score, evaluation.anomaly_score) or predict with it "
                "(evaluation.emd for 'emd') and evaluate again"
            )


def _expected_runs(values: list[str] | None, key: str = "--expect") -> list[dict[str, Any]] | None:
    from lgae.identity import parse_run

    return None if values is None else [parse_run(v, key) for v in values]


def _check_runs(
    inputs: list[Path], records: list[dict[str, Any]], expected: list[str] | None, key: str
) -> None:
    """Several runs read together: each a different run, each the one expected in its place."""
    from lgae.identity import check_runs

    check_runs(
        [(str(d), r) for d, r in zip(inputs, records, strict=True)],
        _expected_runs(expected, key),
        "give each run's directory once; a file of another run there must be deleted and its step rerun",
    )


def _add_expect(p: argparse.ArgumentParser, key: str = "--expect", of: str = "--inputs") -> None:
    p.add_argument(
        key,
        nargs="*",
        default=None,
        metavar="MODEL:LATENT:SEED:FRACTION",
        help=f"the run each of {of} must hold, in the same order (the workflow gives them); another is refused",
    )


def _source(infos: list[dict[str, Any]]) -> str:
    sources = sorted({str(i.get("source", "unknown")) for i in infos})
    if len(sources) != 1:
        raise LGAEError(f"the inputs come from different data sources {sources}; use one source per run")
    return sources[0]


def _run(info: dict[str, Any]) -> Any:
    from lgae.plots.style import ModelRun

    return ModelRun.trained(info["model"], int(info["latent"]), int(info["seed"]), info)


def _save_figure(fig: Any, prefix: Path, caption: str) -> None:
    import matplotlib.pyplot as plt

    from lgae.io import atomic_path

    for extension in ("pdf", "png"):
        with atomic_path(prefix.with_suffix(f".{extension}")) as tmp:
            fig.savefig(tmp, format=extension, dpi=150)
    with atomic_path(prefix.with_suffix(".txt")) as tmp:
        tmp.write_text(caption + "\n")
    plt.close(fig)
    log.info("wrote %s.{pdf,png,txt}", prefix)


def add_figure(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "figure",
        help="draw one of the paper's figures from prediction or metrics files",
        description=(
            "Reads: prediction directories (fig2-fig6, fig4_paper_protocol: <dir>/<class>.h5) or metrics directories (fig7, fig9: "
            "<dir>/*.json), one per model. Writes: <out-prefix>.pdf, .png and .txt (its caption: the data, "
            "the models with their epochs, the seeds)."
        ),
    )
    p.add_argument("name", choices=FIGURES)
    p.add_argument("--inputs", type=Path, nargs="+", required=True, help="one directory per model")
    p.add_argument("--out-prefix", type=Path, required=True, help="e.g. results/figures/fig4")
    p.add_argument("--background", nargs="+", default=["g", "q"], choices=CLASSES)
    p.add_argument("--signals", nargs="+", default=["t", "w", "z"], choices=CLASSES)
    p.add_argument("--anomaly-score", default="chamfer", help="score of the particle-cloud models (Fig. 4)")
    p.add_argument(
        "--emd",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the authors' EMD among the paper-protocol scores (fig4_paper_protocol; as `lgae evaluate`)",
    )
    p.add_argument("--image-max-r", type=float, default=0.5, help="Fig. 2: half-width of the image window")
    p.add_argument("--image-npix", type=int, default=40, help="Fig. 2: pixels per axis")
    p.add_argument("--sample-jets", type=int, default=5, help="Fig. 2: single jets shown")
    p.add_argument("--sample-seed", type=int, default=0, help="Fig. 2: seed of their choice")
    _add_expect(p)
    p.set_defaults(handler=run_figure)


def _check_figure_models(name: str, inputs: list[Path], infos: list[dict[str, Any]]) -> None:
    """Figures of the Lorentz latent or of equivariance show LGAEs only."""
    from lgae.config import LGAE_ONLY_FIGURES

    if name in LGAE_ONLY_FIGURES:
        others = [
            f"{d} ({i.get('model')})"
            for d, i in zip(inputs, infos, strict=True)
            if not str(i.get("model")).startswith("lgae")
        ]
        if others:
            raise LGAEError(
                f"{name} shows the Lorentz latent or equivariance of LGAE models only, not {', '.join(others)}; "
                f"give LGAE directories (figures.{name})"
            )


def run_figure(args: argparse.Namespace) -> None:
    from lgae import figures

    if args.image_npix < 4 or not args.image_max_r > 0 or args.sample_jets < 1:
        raise LGAEError(
            f"--image-npix {args.image_npix}, --image-max-r {args.image_max_r}, --sample-jets {args.sample_jets}: "
            "Fig. 2 needs at least 4 pixels, a positive half-width and one jet (figures.image_npix, "
            "figures.image_max_r, figures.sample_jets)"
        )

    if args.name in ("fig7", "fig9"):
        runs = [_read_metrics(d) for d in args.inputs]
        infos = [r.info for r in runs]
        _check_runs(args.inputs, infos, args.expect, "--expect")
        _check_figure_models(args.name, args.inputs, infos)
        fig, caption = figures.METRIC_FIGURES[args.name](runs, _source(infos))
    else:
        from lgae.evaluation.predict import IMAGE_SAMPLE, read_class_predictions

        classes = (
            args.background if args.name in ("fig2", "fig3", "fig5") else [*args.background, *args.signals]
        )
        if args.name == "fig4" and not args.signals:
            raise LGAEError("fig4 needs at least one signal class (--signals, data.signals)")
        models = [read_class_predictions(d, classes) for d in args.inputs]
        infos = [next(iter(m.values())).attrs for m in models]
        _check_runs(args.inputs, infos, args.expect, "--expect")
        _check_figure_models(args.name, args.inputs, infos)
        for jet_class in classes:  # every model on the same test jets: a figure overlays them
            for directory, model in zip(args.inputs[1:], models[1:], strict=True):
                if not np.array_equal(model[jet_class].index, models[0][jet_class].index):
                    raise DataError(
                        f"{directory / f'{jet_class}.h5'} and {args.inputs[0] / f'{jet_class}.h5'}: predictions "
                        "of different test jets; predict every model on the same processed data"
                    )
        if args.name == "fig4":
            from lgae.results import anomaly_score_name

            for directory, info, model in zip(args.inputs, infos, models, strict=True):
                name = anomaly_score_name(str(info.get("model")), args.anomaly_score)
                missing = [c for c in classes if name not in model[c].scores]
                if missing:
                    raise DataError(
                        f"{directory / f'{missing[0]}.h5'}: has no {name!r} scores; choose another "
                        "--anomaly-score (evaluation.anomaly_score) or predict with it (evaluation.emd for 'emd')"
                    )
        if args.name == "fig2":
            candidates = sum(min(IMAGE_SAMPLE, len(models[0][c])) for c in args.background)
            if args.sample_jets > candidates:
                raise LGAEError(
                    f"--sample-jets {args.sample_jets} (figures.sample_jets): Fig. 2 picks among the "
                    f"{candidates} QCD test jets whose images every model keeps; ask for at most {candidates}"
                )
        options = {
            "background": args.background,
            "signals": args.signals,
            "anomaly_score": args.anomaly_score,
            "emd": args.emd,
            "max_r": args.image_max_r,
            "npix": args.image_npix,
            "sample_jets": args.sample_jets,
            "sample_seed": args.sample_seed,
        }
        fig, caption = figures.PREDICTION_FIGURES[args.name](
            {_run(i): m for i, m in zip(infos, models, strict=True)}, _source(infos), options
        )
    _save_figure(fig, args.out_prefix, caption)


def add_table(sub: argparse._SubParsersAction) -> None:
    from lgae.tables import TABLES

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
    _add_expect(p)
    p.set_defaults(handler=run_table)


def run_table(args: argparse.Namespace) -> None:
    from lgae.io import atomic_path
    from lgae.tables import build_table

    runs = [_read_metrics(d) for d in args.inputs]
    _check_runs(args.inputs, [r.info for r in runs], args.expect, "--expect")
    _check_scores(args.inputs, runs, args.anomaly_score)
    source = _source([r.info for r in runs]) if runs else args.source
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


def add_claims(sub: argparse._SubParsersAction) -> None:
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
    _add_expect(p)
    _add_expect(p, "--scan-expect", "--scan")
    p.set_defaults(handler=run_claims)


def run_claims(args: argparse.Namespace) -> None:
    from lgae.claims import check_claims, claims_html, claims_markdown, claims_payload
    from lgae.io import atomic_path

    main = [_read_metrics(d) for d in args.inputs]
    scan = [_read_metrics(d) for d in args.scan]
    _check_runs(args.inputs, [r.info for r in main], args.expect, "--expect")
    _check_runs(args.scan, [r.info for r in scan], args.scan_expect, "--scan-expect")
    _check_scores(args.inputs, main, args.anomaly_score)
    source = _source([r.info for r in main + scan])
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


SUBCOMMANDS = [add_predict, add_evaluate, add_figure, add_table, add_claims]
