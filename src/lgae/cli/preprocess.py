"""``lgae preprocess``: JetNet relative coordinates -> absolute massless 4-momenta (TeV) + seeded 60/20/20 split."""

from __future__ import annotations

import argparse
from pathlib import Path

from lgae.names import CLASSES


def add(sub: argparse._SubParsersAction) -> None:
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
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> None:
    from lgae.pipeline.data.preprocess import preprocess_class

    preprocess_class(
        args.input, args.out_dir, args.jet_class, args.seed, args.split, args.num_particles, args.source
    )
