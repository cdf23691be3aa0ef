"""``lgae generate``: generate JetNet-like jets of one class with Pythia 8 + FastJet."""

from __future__ import annotations

import argparse
from pathlib import Path

from lgae.names import CLASSES, DETECTORS


def add(sub: argparse._SubParsersAction) -> None:
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
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> None:
    from lgae.pipeline.data import generate

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
