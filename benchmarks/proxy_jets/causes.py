"""Why generated jets differ from JetNet's: each candidate cause switched on its own, measured.

For every variant (one setting changed at a time from a base) and class, generates jets with
``lgae.pipeline.data.generate`` and reports the median m/pT of the <= 30 particles, the 1-Wasserstein distances to
JetNet's digitised distributions (``lgae.pipeline.data.jetnet_reference``, in JetNet standard deviations), the
median m/pT of the whole jet, and the multiplicity (real particles of the 30 slots, fraction of jets with
fewer than 30). Writes ``causes.json`` and ``causes.md`` to ``--out``.

    nice python benchmarks/proxy_jets/causes.py --jets 2000 --out results/proxy_jets

About 10 CPU-seconds per 1,000 jets and variant (the detector ~1.5x that); the defaults (2,000 jets, three
classes, 16 variants) take ~20 minutes on one core.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from lgae.pipeline.data import generate
from lgae.pipeline.data.generate import GenerationSettings, generate_chunk
from lgae.pipeline.data.jetnet_reference import FEATURES, distances, reference, relative_mass

OLD_DEFAULT = GenerationSettings(jet_radius=0.8, match_dr=0.6)  # the generator's settings before issue 25
NEW_DEFAULT = GenerationSettings()  # R = 0.4, particle level

# name -> (base, changes to GenerationSettings, extra Pythia commands, what it tests)
VARIANTS: dict[str, tuple[GenerationSettings, dict, tuple[str, ...], str]] = {
    "R0.8": (OLD_DEFAULT, {}, (), "the generator before issue 25: anti-kT R = 0.8, particle level, MPI on"),
    "R0.8 MPI off": (OLD_DEFAULT, {"mpi": False}, (), "no multiparton interactions (no underlying event)"),
    "R0.8 ISR off": (OLD_DEFAULT, {}, ("PartonLevel:ISR = off",), "no initial-state radiation"),
    "R0.8 no hadronisation": (OLD_DEFAULT, {}, ("HadronLevel:all = off",), "partons instead of hadrons"),
    "R0.8 pthat > 800": (
        OLD_DEFAULT,
        {"pthat_min": 800.0, "pthat_max": -1.0},
        (),
        "a wide parton pT window instead of 1 TeV ± 1 %",
    ),
    "R0.8 jet pT 950-1050": (
        OLD_DEFAULT,
        {"jet_pt_min": 950.0, "jet_pt_max": 1050.0},
        (),
        "a narrow jet pT window instead of 0.8-1.6 TeV",
    ),
    "R0.8 detector": (
        OLD_DEFAULT,
        {"detector": "cms"},
        (),
        "the CMS-like detector (lgae.pipeline.data.detector)",
    ),
    "R0.3": (NEW_DEFAULT, {"jet_radius": 0.3, "match_dr": 0.3}, (), "anti-kT R = 0.3"),
    "R0.35": (NEW_DEFAULT, {"jet_radius": 0.35, "match_dr": 0.35}, (), "anti-kT R = 0.35"),
    "R0.4": (NEW_DEFAULT, {}, (), "anti-kT R = 0.4 (the new default)"),
    "R0.45": (NEW_DEFAULT, {"jet_radius": 0.45, "match_dr": 0.45}, (), "anti-kT R = 0.45"),
    "R0.5": (NEW_DEFAULT, {"jet_radius": 0.5, "match_dr": 0.5}, (), "anti-kT R = 0.5"),
    "R0.6": (NEW_DEFAULT, {"jet_radius": 0.6, "match_dr": 0.6}, (), "anti-kT R = 0.6"),
    "R0.4 MPI off": (NEW_DEFAULT, {"mpi": False}, (), "R = 0.4 without multiparton interactions"),
    "R0.4 match 0.6": (NEW_DEFAULT, {"match_dr": 0.6}, (), "R = 0.4, truth matching within 0.6"),
    "R0.4 detector": (NEW_DEFAULT, {"detector": "cms"}, (), "R = 0.4 through the CMS-like detector"),
}


@contextmanager
def extra_pythia_commands(commands: tuple[str, ...]) -> Iterator[None]:
    """Append Pythia settings that the generator does not expose (switching ISR or hadronisation off)."""
    original = generate.pythia_commands
    generate.pythia_commands = lambda *args: [*original(*args), *commands]
    try:
        yield
    finally:
        generate.pythia_commands = original


def densest(values: np.ndarray, fraction: float = 0.4) -> float:
    """Centre of the narrowest interval holding ``fraction`` of the values: a binning-free peak position."""
    ordered = np.sort(values)
    k = int(fraction * len(ordered))
    i = int(np.argmin(ordered[k:] - ordered[:-k]))
    return float(ordered[i] + ordered[i + k]) / 2


def measure(jet_class: str, n_jets: int, seed: int, settings: GenerationSettings) -> dict[str, float]:
    start = time.process_time()
    arrays = generate_chunk(jet_class, n_jets, seed, dataclasses.replace(settings, num_particles=30)).arrays
    cpu = time.process_time() - start
    particles, jets = arrays["particle_features"], arrays["jet_features"]
    real = (particles[..., 3] > 0).sum(axis=1)
    row = {
        "m30_median": float(np.median(relative_mass(particles))),
        "m_all_median": float(np.median(jets[:, 2] / jets[:, 0])),
        "mass_median_gev": float(np.median(jets[:, 2])),
        "mass_peak_gev": densest(jets[:, 2]),
        "real_mean": float(real.mean()),
        "fewer_than_30": float(np.mean(real < 30)),
        "constituents_median": float(np.median(jets[:, 3])),
        "jets_per_cpu_second": n_jets / cpu,
    }
    if jet_class in reference():
        row |= {f"d_{feature}": value for feature, value in distances(particles, jet_class).items()}
        # JetNet's figure counts the real particles inside its eta_rel range: a floor on its multiplicity
        eta_range = reference()[jet_class]["eta_rel"]
        eta = particles[..., 0][particles[..., 3] > 0]
        row["in_eta_range_per_jet"] = float(np.sum((eta >= eta_range.low) & (eta <= eta_range.high)) / n_jets)
    return row


HEADER = (
    "| variant | class | m/pT (30) median | d(m/pT) | d(pT_rel) | d(η_rel) | m/pT (all) median "
    "| real of 30 | < 30 | in η_rel range per jet | mass peak, median (GeV) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def markdown(results: dict[str, dict[str, dict[str, float]]], classes: list[str]) -> str:
    """The table of docs/proxy-jets.md: JetNet's rows first, then one row per variant and class."""
    ref = reference()
    rows = [
        f"| JetNet | {cls} | {ref[cls]['mass_rel'].median:.3f} | | | | | | "
        f"| {ref[cls]['eta_rel'].counts.sum() / 50_000:.2f} | |"
        for cls in classes
        if cls in ref
    ]
    for name, per_class in results.items():
        for cls in classes:
            r = per_class[cls]
            d = [f"{r[f'd_{f}']:.2f}" if f"d_{f}" in r else "" for f in FEATURES]
            in_range = f"{r['in_eta_range_per_jet']:.2f}" if "in_eta_range_per_jet" in r else ""
            rows.append(
                f"| {name} | {cls} | {r['m30_median']:.3f} | {d[0]} | {d[1]} | {d[2]} | {r['m_all_median']:.3f} "
                f"| {r['real_mean']:.1f} | {100 * r['fewer_than_30']:.0f} % | {in_range} "
                f"| {r['mass_peak_gev']:.0f}, {r['mass_median_gev']:.0f} |"
            )
    return HEADER + "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jets", type=int, default=2000, help="jets per class and variant")
    parser.add_argument("--classes", nargs="+", default=["g", "q", "t"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seed", type=int, default=20250101, help="Pythia seed, the same for every variant")
    parser.add_argument("--out", type=Path, default=Path("results/proxy_jets"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name in args.variants:
        base, changes, commands, _ = VARIANTS[name]
        settings = dataclasses.replace(base, **changes)
        with extra_pythia_commands(commands):
            results[name] = {cls: measure(cls, args.jets, args.seed, settings) for cls in args.classes}
        print(name, json.dumps({c: {k: round(v, 4) for k, v in r.items()} for c, r in results[name].items()}))
    meta = {"jets": args.jets, "seed": args.seed, "about": {n: VARIANTS[n][3] for n in args.variants}}
    (args.out / "causes.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1) + "\n")
    (args.out / "causes.md").write_text(markdown(results, args.classes))
    print(f"wrote {args.out / 'causes.json'} and {args.out / 'causes.md'}")


if __name__ == "__main__":
    main()
