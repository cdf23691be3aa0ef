"""``lgae predict``: run one trained model on the test split of every class (the only step after training that ."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from lgae.cli.common import add_compute_options
from lgae.errors import DataError, LGAEError
from lgae.io import write_json
from lgae.names import CLASSES
from lgae.pipeline.settings import INFERENCE_BATCH_SIZE

log = logging.getLogger("lgae")


def _data_source(data_dir: Path, jet_class: str) -> str:
    """The ``source`` label preprocessing stored in a processed file (jetnet or pythia)."""
    import h5py

    path = data_dir / f"{jet_class}_test.h5"
    try:
        with h5py.File(path, "r") as handle:
            return str(handle.attrs.get("source", "")) or "unknown"
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc}); rerun `lgae preprocess`") from exc


def add(sub: argparse._SubParsersAction) -> None:
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
        "--batch-size",
        type=int,
        default=INFERENCE_BATCH_SIZE,
        help="jets per inference batch (default: %(default)s, for a GPU; on a CPU 256 is faster)",
    )
    p.add_argument("--emd", action=argparse.BooleanOptionalAction, default=True, help="exact EMD score")
    p.add_argument(
        "--equivariance-jets", type=int, default=3000, help="QCD test jets of the equivariance scans (LGAE)"
    )
    add_compute_options(p)
    p.add_argument(
        "--expect",
        default=None,
        help="the run the model file must be: MODEL:LATENT:SEED:FRACTION, or a JSON object of its training "
        "settings (the workflow gives every setting); a model file of another run is refused",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> None:
    import torch

    from lgae.io import atomic_paths
    from lgae.models.io import load_model
    from lgae.paper.evaluation.equivariance import scan_model
    from lgae.pipeline.data.preprocess import load_processed
    from lgae.pipeline.devices import claim_device
    from lgae.pipeline.identity import check_expected, parse_expected
    from lgae.pipeline.inference import predict_class, write_predictions
    from lgae.pipeline.seeding import rng
    from lgae.pipeline.training import choose_device

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
    from lgae.io import read_json
    from lgae.pipeline.identity import IdentityError

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
    from lgae.pipeline.data.preprocess import PROVENANCE_KEYS, read_attrs

    attrs = read_attrs(path)
    return {key: attrs.get(key) for key in PROVENANCE_KEYS}


def _check_test_data(model_file: Path, meta: dict[str, Any], data_dir: Path, classes: list[str]) -> None:
    """The test files come from the preprocessing the model was trained on: for the classes it was
    trained on, the same raw file, source, seed and split (another seed's test split would hold the
    model's training jets); for the others (signals), the same source. A class the model never saw may be
    split otherwise, e.g. kept mostly for testing (benchmarks/anomaly)."""
    from lgae.pipeline.data.preprocess import PROVENANCE_KEYS, read_attrs

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
