"""The ``lgae`` command: one subcommand per pipeline step, each runnable without Snakemake.

Every subcommand says in ``--help`` what it reads and what it writes. Errors caused by the user's
input (missing or corrupt files, bad config values) are printed as one clear message, exit code 2.
"""

from __future__ import annotations

import argparse
import errno
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from lgae import cli_results
from lgae.errors import LGAEError
from lgae.names import CLASSES, DETECTORS, DTYPE_NAMES, MODEL_NAMES, TRAINING_LOSSES

log = logging.getLogger("lgae")

Handler = Callable[[argparse.Namespace], None]


def _classes(values: Sequence[str]) -> list[str]:
    from lgae.data.jetnet_format import check_classes

    return check_classes(list(values), key="--classes")


def _md5_pairs(values: Sequence[str]) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or len(value) != 32:
            raise LGAEError(
                f"--md5 {item!r}: expected CLASS=<32 hex digits>, e.g. g=0123456789abcdef0123456789abcdef"
            )
        pairs[key] = value
    return pairs


# ------------------------------------------------------------------------------------------ download
def _add_download(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "download",
        help="download the JetNet 30-particle class files from Zenodo (verified by MD5)",
        description=(
            "Reads: the Zenodo record (network), or nothing if a verified file is already in place. "
            "Writes: <out-dir>/<class>.hdf5 (JetNet layout) and <class>.hdf5.md5 (the verified checksum)."
        ),
    )
    p.add_argument("--classes", nargs="+", default=list(CLASSES), help="jet classes (default: all five)")
    p.add_argument("--out-dir", type=Path, required=True, help="directory for the class files")
    p.add_argument("--record", type=int, default=None, help="Zenodo record id (default: 6975118, JetNet-30)")
    p.add_argument(
        "--api-url", default=None, help="Zenodo records API (default: https://zenodo.org/api/records)"
    )
    p.add_argument(
        "--md5", nargs="*", default=[], metavar="CLASS=MD5", help="expected checksums (skip the API)"
    )
    p.add_argument("--timeout", type=float, default=60.0, help="network timeout in seconds")
    p.set_defaults(handler=_run_download)


def _run_download(args: argparse.Namespace) -> None:
    from lgae.data import download

    paths = download.download(
        _classes(args.classes),
        args.out_dir,
        record=args.record or download.JETNET30_RECORD,
        api_url=args.api_url or download.ZENODO_API,
        md5=_md5_pairs(args.md5),
        timeout=args.timeout,
    )
    for path in paths:
        log.info("ready: %s", path)


# ------------------------------------------------------------------------------------------ generate
def _add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="generate JetNet-like jets of one class with Pythia 8 + FastJet",
        description=(
            "Reads: nothing (needs the 'gen' extra: pythia8mc, fastjet). "
            "Writes: --out, an HDF5 file in the JetNet layout (particle_features [N,30,4] = etarel, phirel, "
            "ptrel, mask; jet_features [N,4] = pt, eta, mass, num_particles) plus jet_phi, truth_id, "
            "event_index and the generation settings as attributes."
        ),
    )
    p.add_argument("--class", dest="jet_class", required=True, choices=CLASSES)
    p.add_argument("--n-jets", type=int, required=True, help="number of jets to write")
    p.add_argument("--out", type=Path, required=True, help="output HDF5 file")
    p.add_argument("--seed", type=int, default=1, help="base seed; chunk seeds derive from it and the class")
    p.add_argument("--workers", type=int, default=1, help="parallel processes (one Pythia per chunk)")
    p.add_argument("--chunk-size", type=int, default=500, help="jets per independent Pythia run")
    p.add_argument(
        "--mpi", action=argparse.BooleanOptionalAction, default=True, help="multiparton interactions"
    )
    p.add_argument("--pthat-min", type=float, default=990.0, help="PhaseSpace:pTHatMin [GeV]")
    p.add_argument("--pthat-max", type=float, default=1010.0, help="PhaseSpace:pTHatMax [GeV] (<=0: none)")
    p.add_argument("--jet-pt-min", type=float, default=800.0, help="jet selection, GeV")
    p.add_argument("--jet-pt-max", type=float, default=1600.0, help="jet selection, GeV")
    p.add_argument("--jet-eta-max", type=float, default=2.5, help="jet selection, |η| below this")
    p.add_argument(
        "--jet-radius", type=float, default=0.4, help="anti-kT distance parameter R (JetNet-like: 0.4)"
    )
    p.add_argument(
        "--match-dr", type=float, default=0.4, help="ΔR for matching a jet to its parton/resonance"
    )
    p.add_argument("--num-particles", type=int, default=30, help="constituents kept per jet (zero-padded)")
    p.add_argument(
        "--detector",
        choices=DETECTORS,
        default="none",
        help="none: particle-level jets; cms: jets of a simplified CMS-like detector (docs/proxy-jets.md)",
    )
    p.add_argument(
        "--particle-level-out",
        type=Path,
        default=None,
        help="with --detector: also write the particle-level jet of every detector jet here, row by row",
    )
    p.set_defaults(handler=_run_generate)


def _run_generate(args: argparse.Namespace) -> None:
    from lgae.data import generate

    settings = generate.GenerationSettings(
        seed=args.seed,
        chunk_size=args.chunk_size,
        mpi=args.mpi,
        pthat_min=args.pthat_min,
        pthat_max=args.pthat_max,
        jet_pt_min=args.jet_pt_min,
        jet_pt_max=args.jet_pt_max,
        jet_eta_max=args.jet_eta_max,
        jet_radius=args.jet_radius,
        match_dr=args.match_dr,
        num_particles=args.num_particles,
        detector=args.detector,
    )
    generate.generate_class(
        args.jet_class,
        args.n_jets,
        args.out,
        settings,
        workers=args.workers,
        particle_level_out=args.particle_level_out,
    )


# ---------------------------------------------------------------------------------------- preprocess
def _add_preprocess(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "preprocess",
        help="JetNet relative coordinates -> absolute massless 4-momenta (TeV) + seeded 60/20/20 split",
        description=(
            "Reads: --input, one class file in the JetNet layout. "
            "Writes: <out-dir>/<class>_{train,valid,test}.h5 with p4 [N,30,4] (E, px, py, pz in TeV), "
            "mask [N,30], particle_features [N,30,3], jet_features [N,4], jet_phi [N], index [N]."
        ),
    )
    p.add_argument("--input", type=Path, required=True, help="raw class file (JetNet layout)")
    p.add_argument("--class", dest="jet_class", required=True, choices=CLASSES)
    p.add_argument("--out-dir", type=Path, required=True, help="directory for the three split files")
    p.add_argument("--seed", type=int, default=42, help="seed of the jet-φ draw and of the split")
    p.add_argument(
        "--split", type=float, nargs=3, default=[0.6, 0.2, 0.2], metavar=("TRAIN", "VALID", "TEST")
    )
    p.add_argument("--num-particles", type=int, default=30, help="particles per jet")
    p.add_argument("--source", default="", help="label stored in the files (jetnet or pythia)")
    p.set_defaults(handler=_run_preprocess)


def _run_preprocess(args: argparse.Namespace) -> None:
    from lgae.data.preprocess import preprocess_class

    preprocess_class(
        args.input, args.out_dir, args.jet_class, args.seed, args.split, args.num_particles, args.source
    )


# --------------------------------------------------------------------------------------------- train
def _add_train(sub: argparse._SubParsersAction) -> None:
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
    p.set_defaults(handler=_run_train)


def _run_train(args: argparse.Namespace) -> None:
    import json

    from lgae.devices import claim_device
    from lgae.train import TrainPaths, TrainSettings, train

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
        background=tuple(_classes(args.background)),
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


# ------------------------------------------------------------------------------------------ plumbing
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_download,
    _add_generate,
    _add_preprocess,
    _add_train,
    *cli_results.SUBCOMMANDS,
]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="lgae",
        description="Lorentz group equivariant autoencoders: the steps of the reproduction pipeline.",
    )
    top.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return top


def _os_error(exc: OSError) -> str:
    """An operating-system error in one line: the path, what went wrong, what to check."""
    where = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    what = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return f"{where or 'an output'}: {what}; free space on that disk (or write elsewhere) and rerun"
    return f"{where}: {what}; check that the path exists, is writable and has free space" if where else what


def _one_line(text: str) -> str:
    """A message in one line: a list under a heading (a config's errors) joined with semicolons."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else ""
    head, rest = lines[0], "; ".join(lines[1:])
    return f"{head} {rest}" if head.endswith(":") else f"{head}; {rest}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        args.handler(args)
    except LGAEError as exc:
        print(f"lgae {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path the user gave: unwritable, a file where a folder should be, disk full
        print(f"lgae {args.command}: error: {_one_line(_os_error(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lgae {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
