"""JetNet-like jets generated with Pythia 8 and FastJet, written in the JetNet HDF5 layout.

pp collisions at 13 TeV (Monash tune, hadronisation on, MPI optional) with one hard process per class,
anti-kT jets (R = 0.4 by default: JetNet's particles lie within 0.4 of the axis, docs/proxy-jets.md) on
the visible final state or on the objects of a simplified CMS-like detector (:mod:`lgae.pipeline.data.detector`),
and every kept jet matched to the parton or resonance that defines its class. A class is generated in independent chunks, each a Pythia run with its own seed
derived from the base seed, the class and the chunk number; chunks are concatenated in order, so the
output depends on the settings only, not on the number of worker processes.

These jets have JetNet's format and, at particle level with R = 0.4, distributions within a tenth of a
JetNet standard deviation of JetNet's published ones (docs/proxy-jets.md); they are still not JetNet
(no MadGraph, Pythia 8.3 instead of 8.212, JetNet's detector unknown): not comparable with the paper.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import functools
import logging
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from tqdm.auto import tqdm

import lgae
from lgae.errors import ConfigError, LGAEError
from lgae.group.lorentz import wrap_phi
from lgae.names import DETECTORS
from lgae.pipeline.data.detector import Objects, emulate
from lgae.pipeline.data.jetnet_format import check_classes, write_raw
from lgae.pipeline.seeding import derive_seed

log = logging.getLogger(__name__)

PYTHIA_MAX_SEED = 900_000_000  # Pythia accepts Random:seed in 1..900000000 (0 would mean "from the clock")
MAX_EVENTS_PER_JET = 200  # a chunk that needs more events than this per requested jet cannot fill
MAX_EVENTS_WITHOUT_JET = 2000  # ... and one that found no jet at all after this many is hopeless
NEUTRINO_IDS = (12, 14, 16)
INSTALL_HINT = (
    'Pythia jet generation needs the "gen" extra (pythia8mc, fastjet, awkward): pip install -e ".[gen]"'
)

# Pythia settings shared by all classes: 13 TeV, explicit Monash tune, nothing printed but errors
# (which go to stderr, so stdout stays clean for whatever the caller prints).
BASE_COMMANDS: tuple[str, ...] = (
    "Beams:eCM = 13000.",
    "Tune:pp = 14",
    "Print:quiet = on",
    "Print:useErrorStream = on",
    "Init:showProcesses = off",
    "Init:showChangedSettings = off",
    "Init:showChangedParticleData = off",
    "Init:showMultipartonInteractions = off",
    "Next:numberCount = 0",
    "Next:numberShowInfo = 0",
    "Next:numberShowProcess = 0",
    "Next:numberShowEvent = 0",
    "Next:numberShowLHA = 0",
    "Random:setSeed = on",
)
HADRONIC_W: tuple[str, ...] = ("24:onMode = off", "24:onIfAny = 1 2 3 4 5")
HADRONIC_Z: tuple[str, ...] = ("23:onMode = off", "23:onIfAny = 1 2 3 4 5")


@dataclass(frozen=True)
class ClassSpec:
    """How a class is produced and which truth particle a jet of it must be matched to."""

    processes: tuple[str, ...]  # Pythia commands switching the hard process (and decays) on
    truth_status: int  # |status| of the defining particle: 23 outgoing hard parton, 62 resonance last copy
    truth_ids: tuple[int, ...]  # allowed |PDG id| of the defining particle


# W and Z come from VV production: about 1.8 matched boson jets per event, twice the rate of V+jet.
CLASS_SPECS: dict[str, ClassSpec] = {
    "g": ClassSpec(("HardQCD:gg2gg = on", "HardQCD:qqbar2gg = on"), 23, (21,)),
    "q": ClassSpec(
        (
            "HardQCD:qq2qq = on",
            "HardQCD:qqbar2qqbarNew = on",
            "HardQCD:gg2qqbar = on",
            "HardQCD:nQuarkNew = 3",
        ),
        23,
        (1, 2, 3),
    ),
    "t": ClassSpec(("Top:gg2ttbar = on", "Top:qqbar2ttbar = on", *HADRONIC_W), 62, (6,)),
    "w": ClassSpec(("WeakDoubleBoson:ffbar2WW = on", *HADRONIC_W), 62, (24,)),
    "z": ClassSpec(("WeakDoubleBoson:ffbar2gmZgmZ = on", "WeakZ0:gmZmode = 2", *HADRONIC_Z), 62, (23,)),
}


@dataclass(frozen=True)
class GenerationSettings:
    """Everything the generated jets depend on (besides the class and their number)."""

    seed: int = 1
    chunk_size: int = 500  # jets per independent Pythia run (one seed per chunk)
    mpi: bool = True
    pthat_min: float = 990.0  # GeV; JetNet used parton/boson pT = 1 TeV ± 1 %
    pthat_max: float = 1010.0  # <= 0 means no upper limit
    jet_pt_min: float = 800.0
    jet_pt_max: float = 1600.0
    jet_eta_max: float = 2.5
    jet_radius: float = 0.4  # JetNet's constituents lie within 0.4 of the axis (docs/proxy-jets.md)
    match_dr: float = 0.4
    num_particles: int = 30
    events_per_batch: int = 100  # largest Pythia.nextBatch; memory vs overhead, the jets do not depend on it
    max_jets_per_event: int = 2
    detector: str = "none"  # "none": particle level; "cms": lgae.pipeline.data.detector's CMS-like emulation

    def __post_init__(self) -> None:
        positive_ints = ("chunk_size", "num_particles", "events_per_batch", "max_jets_per_event")
        for name in positive_ints:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ConfigError(f"generation setting {name} = {value!r}: must be a positive integer")
        if self.detector not in DETECTORS:
            raise ConfigError(
                f"generation setting detector = {self.detector!r}: must be one of {list(DETECTORS)} "
                "(none: particle-level jets; cms: jets of a simplified CMS-like detector)"
            )
        for name in ("pthat_min", "jet_radius", "match_dr", "jet_eta_max"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"generation setting {name} = {getattr(self, name)!r}: must be positive")
        if 0 < self.pthat_max <= self.pthat_min:
            raise ConfigError(
                f"generation settings pthat_min = {self.pthat_min}, pthat_max = {self.pthat_max}: pthat_max must "
                "be above pthat_min (or <= 0 for no upper limit)"
            )
        if not 0 <= self.jet_pt_min < self.jet_pt_max:
            raise ConfigError(
                f"generation settings jet_pt_min = {self.jet_pt_min}, jet_pt_max = {self.jet_pt_max}: "
                "need 0 <= jet_pt_min < jet_pt_max"
            )


@dataclass
class ChunkResult:
    """The jets of one chunk (per-jet arrays, in event order) and what producing them cost."""

    arrays: dict[str, np.ndarray]  # particle_features, jet_features, jet_phi, truth_id, event_index
    n_events: int
    cpu_seconds: float
    pythia_version: str

    @property
    def n_jets(self) -> int:
        return len(self.arrays["jet_features"])


# -------------------------------------------------------------------------------------------- backends
@functools.cache
def import_backends() -> tuple[ModuleType, ModuleType, ModuleType]:
    """``(pythia8mc, fastjet, awkward)``, or an error that says how to install them."""
    try:
        import awkward
        import fastjet
        import pythia8mc
    except ImportError as exc:
        raise LGAEError(f"{INSTALL_HINT} ({exc})") from exc
    return pythia8mc, fastjet, awkward


@functools.cache
def backends() -> tuple[ModuleType, ModuleType, ModuleType]:
    """:func:`import_backends`, ready to generate: FastJet's banner is already printed, to stderr."""
    pythia8mc, fastjet, awkward = import_backends()
    # FastJet prints its banner on the first clustering of the process: get that over with now, with
    # stdout pointing at stderr, so that the banner never mixes with the caller's output.
    with _stdout_to_stderr():
        fastjet.ClusterSequence(
            [fastjet.PseudoJet(1.0, 0.0, 0.0, 2.0)], fastjet.JetDefinition(fastjet.antikt_algorithm, 0.4)
        )
    return pythia8mc, fastjet, awkward


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Point file descriptor 1 at stderr for the block (C++ code writes to it directly)."""
    try:
        saved = os.dup(1)
    except OSError:  # no stdout at all: nothing to protect
        yield
        return
    flush_c = _c_stdio_flush()
    sys.stdout.flush()
    flush_c()
    os.dup2(2, 1)
    try:
        yield
    finally:
        flush_c()
        os.dup2(saved, 1)
        os.close(saved)


def _c_stdio_flush() -> Callable[[], None]:
    """``fflush(NULL)``: std::cout shares C stdio's buffer, which must be emptied before fd 1 is switched."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return lambda: None
    return lambda: libc.fflush(None)


# ----------------------------------------------------------------------------------------- one chunk
def chunk_seed(base_seed: int, jet_class: str, chunk: int) -> int:
    """Pythia's seed for chunk ``chunk`` of ``jet_class``, in Pythia's valid range 1..900000000."""
    return derive_seed(base_seed, "pythia", jet_class, chunk) % PYTHIA_MAX_SEED + 1


def chunk_sizes(n_jets: int, chunk_size: int) -> list[int]:
    """Jets per chunk: full chunks, then the remainder."""
    full, rest = divmod(n_jets, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


def pythia_commands(jet_class: str, seed: int, settings: GenerationSettings) -> list[str]:
    """The complete list of Pythia settings of one run (stored in the output for reference)."""
    pthat_max = settings.pthat_max if settings.pthat_max > 0 else -1.0  # Pythia: negative = no limit
    return [
        *BASE_COMMANDS,
        *CLASS_SPECS[jet_class].processes,
        f"PartonLevel:MPI = {'on' if settings.mpi else 'off'}",
        "HadronLevel:all = on",
        f"PhaseSpace:pTHatMin = {settings.pthat_min}",
        f"PhaseSpace:pTHatMax = {pthat_max}",
        f"Random:seed = {seed}",
    ]


def make_pythia(jet_class: str, seed: int, settings: GenerationSettings) -> Any:
    """An initialised, silent ``pythia8mc.Pythia`` for one class."""
    pythia8mc, _, _ = backends()
    pythia = pythia8mc.Pythia("", False)  # False: no banner
    for command in pythia_commands(jet_class, seed, settings):
        if not pythia.readString(command):
            raise LGAEError(f"Pythia rejected the setting {command!r} (class {jet_class})")
    if not pythia.init():
        raise LGAEError(
            f"Pythia failed to initialise for class {jet_class!r} with {settings}; see its errors above"
        )
    return pythia


def generate_chunk(jet_class: str, n_jets: int, seed: int, settings: GenerationSettings) -> ChunkResult:
    """Exactly ``n_jets`` matched jets from one Pythia run seeded with ``seed``.

    Events are generated in batches until enough jets are found and the surplus is dropped. Pythia's
    event stream does not depend on how it is cut into batches, nor does the detector emulation (seeded
    by :func:`detector_seed` and each event's number in the run), so neither does the result: it depends
    on ``seed`` and ``settings`` only.
    """
    check_classes([jet_class], key="jet class")
    if n_jets < 1:
        raise ConfigError(f"n_jets = {n_jets}: need at least one jet")
    cpu_start = time.process_time()
    pythia = make_pythia(jet_class, seed, settings)
    spec = CLASS_SPECS[jet_class]
    charge = _charge_table(pythia)
    pieces: list[dict[str, np.ndarray]] = []
    n_found = n_events = 0
    while n_found < n_jets:
        if n_events >= MAX_EVENTS_PER_JET * n_jets or (n_found == 0 and n_events >= MAX_EVENTS_WITHOUT_JET):
            raise LGAEError(
                f"class {jet_class!r}: only {n_found} of {n_jets} jets pass the selection after {n_events} "
                f"events (Pythia seed {seed}); the cuts cannot be met with these settings: {settings}"
            )
        events = pythia.nextBatch(_batch_size(n_jets - n_found, n_found, n_events, settings.events_per_batch))
        jets = jets_from_events(events, spec, settings, charge, detector_seed(seed), event_offset=n_events)
        jets["event_index"] += n_events
        n_events += len(events)
        pieces.append(jets)
        n_found += len(jets["jet_phi"])
    arrays = {key: np.concatenate([piece[key] for piece in pieces])[:n_jets] for key in pieces[0]}
    version = f"{pythia.parm('Pythia:versionNumber'):.3f}"
    return ChunkResult(arrays, n_events, time.process_time() - cpu_start, version)


def detector_seed(pythia_seed: int) -> int:
    """The seed of a chunk's detector emulation, derived from its Pythia seed."""
    return derive_seed(pythia_seed, "detector")


def _charge_table(pythia: Any) -> Callable[[np.ndarray], np.ndarray]:
    """Charge of PDG ids from Pythia's particle data (looked up once per distinct id)."""
    known: dict[int, float] = {}

    def charge(pid: np.ndarray) -> np.ndarray:
        ids, inverse = np.unique(pid, return_inverse=True)
        for particle in ids.tolist():
            if particle not in known:
                known[particle] = float(pythia.particleData.charge(particle))
        return np.asarray([known[particle] for particle in ids.tolist()], dtype=np.float64)[inverse]

    return charge


def _batch_size(n_missing: int, n_found: int, n_events: int, max_batch: int) -> int:
    """Events to ask for next: about what the yield so far says is missing, so little is thrown away."""
    if n_events == 0:
        return min(max_batch, n_missing)  # classes give 1-2 jets per event, so this rarely overshoots
    if n_found == 0:
        return max_batch
    return max(1, min(max_batch, math.ceil(1.1 * n_missing * n_events / n_found)))


# ------------------------------------------------------------------------------- events -> jet arrays
def _starts(counts: np.ndarray) -> np.ndarray:
    """Start offset of each of consecutive groups of the given sizes."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.cumsum(counts) - counts


def _segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For consecutive groups of the given sizes: each element's group and its position in the group."""
    counts = np.asarray(counts, dtype=np.int64)
    group = np.repeat(np.arange(len(counts)), counts)
    return group, np.arange(len(group)) - _starts(counts)[group]


def _pt_eta_phi(px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Transverse momentum, pseudorapidity (0 for pT = 0) and azimuth."""
    pt = np.hypot(px, py)
    eta = np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=pt > 0))
    return pt, eta, np.arctan2(py, px)


@dataclass
class _Record:
    """A ``Pythia.nextBatch`` record, flattened: one entry per particle, events in order."""

    n_events: int
    event: np.ndarray  # int64: event within the batch
    item: np.ndarray  # int64: index in its event's record
    pid: np.ndarray
    status: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray


def _read_record(events: Any) -> _Record:
    _, _, ak = backends()
    record = events.prt
    counts = ak.to_numpy(ak.num(record, axis=1)).astype(np.int64)
    event, item = _segments(counts)

    def flat(values: Any) -> np.ndarray:
        return ak.to_numpy(ak.flatten(values, axis=1))

    px, py, pz, energy = (flat(record.p[name]) for name in ("px", "py", "pz", "e"))
    return _Record(len(counts), event, item, flat(record.id), flat(record.status), px, py, pz, energy)


@dataclass
class _Jets:
    """The jets of a batch above some pT, with their constituents as indices into the clustered objects."""

    event: np.ndarray
    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    mass: np.ndarray
    n_constituents: np.ndarray
    constituent_start: np.ndarray  # into ``constituents``
    constituents: np.ndarray  # flat indices into the objects, jet by jet


def _cluster(objects: Objects, n_events: int, radius: float, min_pt: float) -> _Jets:
    """Anti-kT jets above ``min_pt`` of every event of the batch, in one FastJet call."""
    _, fastjet, ak = backends()
    counts = objects.counts(n_events)
    inputs = ak.unflatten(
        ak.zip(
            {"px": objects.px, "py": objects.py, "pz": objects.pz, "E": objects.e}, with_name="Momentum4D"
        ),
        counts,
    )
    sequence = fastjet.ClusterSequence(inputs, fastjet.JetDefinition(fastjet.antikt_algorithm, radius))
    # Jets below min_pt can never be kept, nor outrank a jet that can, so they need not be produced.
    jets = sequence.inclusive_jets(min_pt=min_pt)
    constituents = sequence.constituent_index(min_pt=min_pt)  # same jets, same order
    jets_per_event = ak.to_numpy(ak.num(jets, axis=1)).astype(np.int64)
    jet_event = np.repeat(np.arange(n_events), jets_per_event)

    def flat(values: Any) -> np.ndarray:
        return ak.to_numpy(ak.flatten(values, axis=1))

    jet_px, jet_py, jet_pz, jet_e = (flat(jets[name]) for name in ("px", "py", "pz", "E"))
    jet_pt, jet_eta, jet_phi = _pt_eta_phi(jet_px, jet_py, jet_pz)
    jet_mass = np.sqrt(np.maximum(jet_e**2 - jet_px**2 - jet_py**2 - jet_pz**2, 0.0))
    n_constituents = flat(ak.num(constituents, axis=2)).astype(np.int64)
    local = ak.to_numpy(ak.flatten(constituents, axis=None)).astype(np.int64)
    owner = np.repeat(jet_event, n_constituents)
    return _Jets(
        jet_event,
        jet_pt,
        jet_eta,
        jet_phi,
        jet_mass,
        n_constituents,
        _starts(n_constituents),
        _starts(counts)[owner] + local,
    )


def _nearest(
    event: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    targets: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_events: int,
    max_dr: float,
) -> np.ndarray:
    """For each (event, eta, phi), the index of the nearest target of the same event within ``max_dr``, or -1.

    ``targets`` = (event, eta, phi) of the candidates, sorted by event.
    """
    target_event, target_eta, target_phi = targets
    target_counts = np.bincount(target_event, minlength=n_events)
    pair_query, pair_pos = _segments(target_counts[event])
    pair_target = _starts(target_counts)[event][pair_query] + pair_pos
    pair_dr = np.hypot(
        target_eta[pair_target] - eta[pair_query], wrap_phi(target_phi[pair_target] - phi[pair_query])
    )
    nearest = np.lexsort((pair_dr, pair_query))
    queries, first = np.unique(pair_query[nearest], return_index=True)
    best = nearest[first]
    found = np.full(len(event), -1, dtype=np.int64)
    close = pair_dr[best] < max_dr
    found[queries[close]] = pair_target[best][close]
    return found


def _clouds(
    objects: Objects, jets: _Jets, rows: np.ndarray, num_particles: int
) -> tuple[np.ndarray, np.ndarray]:
    """JetNet's arrays for the jets ``rows``: their ``num_particles`` hardest constituents in relative
    coordinates (etarel, phirel, ptrel, mask; zero-padded) and (pt, eta, mass, num_particles)."""
    n_rows = len(rows)
    const_jet, const_pos = _segments(jets.n_constituents[rows])
    source = jets.constituents[jets.constituent_start[rows][const_jet] + const_pos]
    const_pt, const_eta, const_phi = _pt_eta_phi(objects.px[source], objects.py[source], objects.pz[source])
    order = np.lexsort((-const_pt, const_jet))
    rank_in_jet = np.arange(len(order)) - _starts(jets.n_constituents[rows])[const_jet[order]]
    leading = rank_in_jet < num_particles
    order, col = order[leading], rank_in_jet[leading]
    row = const_jet[order]
    host = rows[row]
    particle_features = np.zeros((n_rows, num_particles, 4), dtype=np.float32)
    particle_features[row, col, 0] = const_eta[order] - jets.eta[host]
    particle_features[row, col, 1] = wrap_phi(const_phi[order] - jets.phi[host])
    particle_features[row, col, 2] = const_pt[order] / jets.pt[host]
    particle_features[row, col, 3] = 1.0
    jet_features = np.stack(
        [jets.pt[rows], jets.eta[rows], jets.mass[rows], jets.n_constituents[rows].astype(np.float64)], axis=1
    ).astype(np.float32)
    return particle_features, jet_features


def jets_from_events(
    events: Any,
    spec: ClassSpec,
    settings: GenerationSettings,
    charge: Callable[[np.ndarray], np.ndarray] | None = None,
    detector_seed: int = 0,
    event_offset: int = 0,
) -> dict[str, np.ndarray]:
    """Cluster a ``Pythia.nextBatch`` record and return the selected, truth-matched jets, event by event.

    Per event, the ``max_jets_per_event`` highest-pT jets are candidates; those inside the pT window and
    the |η| cut that lie within ``match_dr`` of a class-defining truth particle are kept.

    With a detector, the jets are clustered from its objects (:func:`lgae.pipeline.data.detector.emulate`,
    seeded by ``detector_seed`` and the events' numbers ``event_offset + i`` in the run, with ``charge``
    giving the charge of a PDG id), and each kept jet also gets the particle-level jet of the same event
    nearest to it (within half the jet radius; jets without one are dropped): the arrays named
    ``particle_level_*`` describe it.
    """
    record = _read_record(events)
    n_events = record.n_events
    visible = (record.status > 0) & ~np.isin(np.abs(record.pid), NEUTRINO_IDS)
    particles = Objects(
        record.event[visible],
        record.px[visible],
        record.py[visible],
        record.pz[visible],
        record.e[visible],
        np.full(int(visible.sum()), -1, dtype=np.int8),
    )
    if settings.detector == "none":
        objects = particles
    else:
        if charge is None:
            raise ValueError("a detector needs the charge of each particle: pass charge=")
        objects = emulate(
            record.event[visible] + event_offset,
            record.item[visible],
            record.pid[visible],
            charge(record.pid[visible]),
            record.px[visible],
            record.py[visible],
            record.pz[visible],
            record.e[visible],
            detector_seed,
        )
        objects.event -= event_offset
    jets = _cluster(objects, n_events, settings.jet_radius, settings.jet_pt_min)

    # The leading jets of each event (event order, pT-descending within an event), then the cuts.
    jets_per_event = np.bincount(jets.event, minlength=n_events)
    by_pt = np.lexsort((-jets.pt, jets.event))
    rank = np.empty(len(by_pt), dtype=np.int64)
    rank[by_pt] = np.arange(len(by_pt)) - _starts(jets_per_event)[jets.event[by_pt]]
    passes = (
        (rank < settings.max_jets_per_event)
        & (jets.pt >= settings.jet_pt_min)
        & (jets.pt <= settings.jet_pt_max)
        & (np.abs(jets.eta) < settings.jet_eta_max)
    )
    selected = by_pt[passes[by_pt]]

    # Truth matching: the nearest class-defining particle of the same event, if within match_dr.
    is_truth = (np.abs(record.status) == spec.truth_status) & np.isin(np.abs(record.pid), spec.truth_ids)
    _, truth_eta, truth_phi = _pt_eta_phi(record.px[is_truth], record.py[is_truth], record.pz[is_truth])
    truth = _nearest(
        jets.event[selected],
        jets.eta[selected],
        jets.phi[selected],
        (record.event[is_truth], truth_eta, truth_phi),
        n_events,
        settings.match_dr,
    )
    kept, truth = selected[truth >= 0], truth[truth >= 0]
    arrays: dict[str, np.ndarray] = {}
    if settings.detector != "none":
        # Loose enough that a detector jet at the bottom of the window still finds its particle-level jet.
        level = _cluster(particles, n_events, settings.jet_radius, 0.5 * settings.jet_pt_min)
        partner = _nearest(
            jets.event[kept],
            jets.eta[kept],
            jets.phi[kept],
            (level.event, level.eta, level.phi),
            n_events,
            0.5 * settings.jet_radius,
        )
        kept, truth, partner = kept[partner >= 0], truth[partner >= 0], partner[partner >= 0]
        pl_particles, pl_jets = _clouds(particles, level, partner, settings.num_particles)
        arrays |= {
            "particle_level_particle_features": pl_particles,
            "particle_level_jet_features": pl_jets,
            "particle_level_jet_phi": level.phi[partner].astype(np.float64),
        }
    particle_features, jet_features = _clouds(objects, jets, kept, settings.num_particles)
    truth_id = record.pid[np.flatnonzero(is_truth)[truth]]
    return {
        "particle_features": particle_features,
        "jet_features": jet_features,
        "jet_phi": jets.phi[kept].astype(np.float64),
        "truth_id": truth_id.astype(np.int32),
        "event_index": jets.event[kept].astype(np.int64),
        **arrays,
    }


# ---------------------------------------------------------------------------------------- one class
def _chunk_job(job: tuple[int, str, int, int, GenerationSettings]) -> tuple[int, ChunkResult]:
    """Pool entry point (module level, so that worker processes can import it)."""
    index, jet_class, n_jets, seed, settings = job
    return index, generate_chunk(jet_class, n_jets, seed, settings)


def _pool_context() -> multiprocessing.context.BaseContext:
    """Workers never inherit Pythia state: they are forked from a clean server process, or spawned.

    The forkserver imports this module once, so a new pool (one per class) starts in milliseconds
    instead of paying the interpreter, numpy and torch start-up per worker, as spawn does.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _run_chunks(
    jobs: list[tuple[int, str, int, int, GenerationSettings]],
    workers: int,
    on_done: Callable[[int, ChunkResult], None],
) -> None:
    """Run the chunk jobs in-process or in a pool of worker processes, reporting each as it finishes."""
    if min(workers, len(jobs)) <= 1:
        for job in jobs:
            on_done(*_chunk_job(job))
        return
    n_workers = min(workers, len(jobs))
    with concurrent.futures.ProcessPoolExecutor(max_workers=n_workers, mp_context=_pool_context()) as pool:
        futures = [pool.submit(_chunk_job, job) for job in jobs]
        try:
            for future in concurrent.futures.as_completed(futures):
                on_done(*future.result())
        except concurrent.futures.process.BrokenProcessPool as exc:
            raise LGAEError(
                f"a generator worker process died ({exc}); its error, if any, is above. Usual causes: out of "
                "memory (use fewer workers), or a main script that worker processes cannot re-import (code "
                'read from stdin, or no `if __name__ == "__main__":` guard). workers=1 runs without a pool.'
            ) from exc
        finally:
            for future in futures:
                future.cancel()


def generate_class(
    jet_class: str,
    n_jets: int,
    out: str | os.PathLike[str],
    settings: GenerationSettings,
    workers: int = 1,
    particle_level_out: str | os.PathLike[str] | None = None,
) -> Path:
    """Generate ``n_jets`` jets of ``jet_class`` and write them to ``out`` in the JetNet layout.

    Chunk ``k`` is an independent Pythia run seeded by :func:`chunk_seed`; with ``workers > 1`` chunks
    run in parallel processes, and the file is the same whatever ``workers`` is. With a detector,
    ``particle_level_out`` (optional) receives the particle-level jet of each detector jet, row by row:
    the same events and the same physical jets, before the detector.
    """
    check_classes([jet_class], key="jet class")
    if particle_level_out is not None and settings.detector == "none":
        raise ConfigError(
            "a particle-level companion file needs a detector (detector = 'cms'): without one the jets "
            "already are particle level"
        )
    if isinstance(n_jets, bool) or not isinstance(n_jets, int | np.integer) or n_jets < 1:
        raise ConfigError(f"n_jets = {n_jets!r}: need a positive number of jets")
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise ConfigError(f"workers = {workers!r}: need at least one worker process")
    _, fastjet, _ = import_backends()  # fail here, before any pool is started, if the gen extra is missing
    sizes = chunk_sizes(int(n_jets), settings.chunk_size)
    seeds = [chunk_seed(settings.seed, jet_class, k) for k in range(len(sizes))]
    jobs = [
        (k, jet_class, size, seed, settings) for k, (size, seed) in enumerate(zip(sizes, seeds, strict=True))
    ]
    log.info(
        "generating %d %s jets in %d chunk(s) of up to %d with %d worker(s), MPI %s",
        n_jets,
        jet_class,
        len(jobs),
        settings.chunk_size,
        min(workers, len(jobs)),
        "on" if settings.mpi else "off",
    )
    results: list[ChunkResult | None] = [None] * len(jobs)
    wall_start = time.perf_counter()
    with tqdm(total=int(n_jets), unit="jet", desc=f"generate {jet_class}") as bar:

        def done(index: int, result: ChunkResult) -> None:
            results[index] = result
            bar.update(result.n_jets)

        _run_chunks(jobs, workers, done)
    wall = time.perf_counter() - wall_start
    chunks = [result for result in results if result is not None]
    assert len(chunks) == len(jobs)

    arrays = {key: np.concatenate([chunk.arrays[key] for chunk in chunks]) for key in chunks[0].arrays}
    arrays["chunk"] = np.repeat(np.arange(len(chunks), dtype=np.int32), [chunk.n_jets for chunk in chunks])
    n_events = sum(chunk.n_events for chunk in chunks)
    cpu = sum(chunk.cpu_seconds for chunk in chunks)
    attrs: dict[str, Any] = {
        "source": "pythia",
        "jet_class": jet_class,
        "n_jets": int(n_jets),
        **{f.name: getattr(settings, f.name) for f in fields(settings)},
        "pythia_version": chunks[0].pythia_version,
        "pythia8mc_version": _distribution_version("pythia8mc"),
        "fastjet_version": str(getattr(fastjet, "__version__", "unknown")),
        "lgae_version": lgae.__version__,
        "pythia_commands": [
            c for c in pythia_commands(jet_class, 0, settings) if not c.startswith("Random:seed")
        ],
        "chunk_seeds": np.asarray(seeds, dtype=np.int64),
        "events_generated": int(n_events),
        "cpu_seconds": float(cpu),
        "jets_per_cpu_second": float(n_jets / cpu) if cpu > 0 else 0.0,
        "wall_seconds": float(wall),
        "workers": int(min(workers, len(jobs))),
    }
    attrs["level"] = "particle" if settings.detector == "none" else "detector"
    companion = {
        key.removeprefix("particle_level_"): arrays.pop(key)
        for key in list(arrays)
        if key.startswith("particle_level_")
    }
    shared = {key: arrays[key] for key in ("truth_id", "event_index", "chunk")}
    if particle_level_out is not None:
        write_raw(
            particle_level_out,
            companion.pop("particle_features"),
            companion.pop("jet_features"),
            extras={**companion, **shared},
            attrs={**attrs, "level": "particle", "paired_with": str(out)},
        )
    particle_features = arrays.pop("particle_features")
    jet_features = arrays.pop("jet_features")
    write_raw(out, particle_features, jet_features, extras=arrays, attrs=attrs)
    log.info(
        "%s: %d jets from %d events, %.1f CPU-s (%.0f jets per CPU-second), %.1f s wall -> %s",
        jet_class,
        n_jets,
        n_events,
        cpu,
        attrs["jets_per_cpu_second"],
        wall,
        out,
    )
    return Path(out)


def _distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"
