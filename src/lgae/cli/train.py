"""``lgae train``: train one model (latent size, seed, training fraction) on the QCD background."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lgae.cli.common import classes
from lgae.errors import LGAEError
from lgae.names import DTYPE_NAMES, MODEL_NAMES, TRAINING_LOSSES


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train one model (latent size, seed, training fraction) on the QCD background",
        description=(
            "Reads: <data-dir>/<class>_{train,valid}.h5 for the background classes. "
            "Writes: <out-dir>/model.pt (best model), history.csv (per-epoch losses and timings), "
            "meta.json (settings, data, versions, timings) and checkpoint.pt (resume state, updated every "
            "epoch). Rerunning the same command resumes from checkpoint.pt; a checkpoint made with other "
            "settings or other data is set aside (checkpoint.<fingerprint>.pt) and training starts over."
        ),
    )
    p.add_argument("--model", required=True, choices=MODEL_NAMES)
    p.add_argument(
        "--latent", type=int, required=True, help="τ_(1/2,1/2) (LGAE), dim(L) (GNNAE-JL, CNNAE), d (GNNAE-PL)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fraction", type=float, default=1.0, help="fraction of the training split to train on")
    p.add_argument("--data-dir", type=Path, required=True, help="directory of the processed split files")
    p.add_argument("--out-dir", type=Path, required=True, help="directory for the outputs of this run")
    p.add_argument("--background", nargs="+", default=["g", "q"], help="classes to train on")
    p.add_argument(
        "--loss", default=None, choices=TRAINING_LOSSES, help="training loss (default: the paper's choice)"
    )
    p.add_argument("--hyperparameters", default="{}", help="JSON object of extra model hyperparameters")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--betas", type=float, nargs=2, default=[0.9, 0.999])
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--max-epochs", type=int, default=20000)
    p.add_argument("--patience", type=int, default=200)
    p.add_argument(
        "--min-improvement",
        type=float,
        default=0.0,
        help="relative drop of the validation loss that resets the patience (default 0: any new best)",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="minutes of training (over every call) after which no epoch starts (default: no limit; "
        "depends on the machine, so a run with it is not reproducible elsewhere)",
    )
    p.add_argument("--dtype", default="float64", choices=DTYPE_NAMES)
    p.add_argument(
        "--device",
        default="auto",
        help="auto (a free GPU of its own if any, else the CPU), cuda (the same, but never the CPU), cpu, "
        "or cuda:K (exactly that one, unclaimed)",
    )
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs only)")
    p.add_argument(
        "--compile",
        action="store_true",
        help="run the model through torch.compile (falls back to eager, with the reason logged, where it "
        "cannot); same results to rounding, an LGAE step ~2x faster on a CPU (benchmarks/README.md) after a "
        "compile of a minute or two",
    )
    p.add_argument("--stop-after-epochs", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> None:

    from lgae.pipeline.devices import claim_device
    from lgae.pipeline.training import TrainPaths, TrainSettings, train

    try:
        hyperparameters = json.loads(args.hyperparameters)
    except json.JSONDecodeError as exc:
        raise LGAEError(f"--hyperparameters is not valid JSON ({exc}): {args.hyperparameters!r}") from exc
    if not isinstance(hyperparameters, dict):
        raise LGAEError("--hyperparameters must be a JSON object, e.g. '{\"num_basis\": 10}'")
    settings = TrainSettings(
        model=args.model,
        latent=args.latent,
        seed=args.seed,
        train_fraction=args.fraction,
        loss=args.loss,
        hyperparameters=hyperparameters,
        lr=args.lr,
        betas=tuple(args.betas),
        weight_decay=args.weight_decay,
        batch_size=args.batch_size,
        max_epochs=args.max_epochs,
        patience=args.patience,
        min_improvement=args.min_improvement,
        max_minutes=args.max_minutes,
        dtype=args.dtype,
        background=tuple(classes(args.background)),
    )
    with claim_device(args.device) as device:  # a GPU of its own, held until training ends
        train(
            settings,
            TrainPaths(args.data_dir, args.out_dir),
            device=device,
            threads=args.threads,
            stop_after_epochs=args.stop_after_epochs,
            progress=not args.no_progress,
            compile=args.compile,
        )
