"""A simplified CMS-like detector for generated events: tracks, ECAL cells and HCAL cells.

JetNet's jets went through "a simplified detector" (Kansal et al., NeurIPS 2021) whose parameters are not
published; the dataset it derives from (Pierini et al., Zenodo 3601436; Coleman et al., JINST 13 (2018)
T01003) describes "a parametric description of a generic LHC detector". This module emulates such a
detector with the public numbers of Delphes' CMS card (``cards/delphes_card_CMS.tcl`` of
delphes/delphes, commit 0593ac3) and the CMS granularity (ECAL 0.0174 x 1 degree, HCAL 0.087 x 5 degrees):

- charged particles inside the tracker (|eta| < 2.5) are tracked with the card's efficiency (0 below
  0.1 GeV; 70 % / 95 % below / above 1 GeV for |eta| < 1.5, 60 % / 85 % beyond) and their pT smeared
  with its resolution; a track is kept at its true direction, as Delphes' particle-flow tracks are;
- everything else that is visible deposits its energy in one calorimeter cell: photons and electrons
  in the ECAL, hadrons in the HCAL (muons that are not tracked are lost);
- each cell's summed energy is smeared log-normally with the card's resolution, kept only above the
  card's thresholds (ECAL 0.5 GeV, HCAL 1.0 GeV, both at least 2 sigma), and placed at a uniformly
  random point of the cell (the card's ``SmearTowerCenter``).

One simplification against Delphes: a tracked particle deposits nothing in the calorimeters, i.e. the
particle-flow subtraction of its energy is perfect (Delphes subtracts the track energy from the smeared
cell energy, which leaves fluctuations that its 2-sigma cut mostly removes). Every object is massless,
as JetNet's particles are (they carry pT, eta and phi only).

The random numbers are a pure function of (seed, event number, particle or cell, purpose), computed
with a counter-based hash: the emulated event depends on the particle-level event and the seed only,
not on how events are grouped into batches or processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lgae.group.lorentz import wrap_phi

#: the emulation and the card's parametrisations; the other public functions are its steps (imported from
#: this module by its tests)
__all__ = [
    "CaloRegion",
    "Cells",
    "Objects",
    "ecal_resolution",
    "emulate",
    "hcal_resolution",
    "track_resolution",
    "tracking_efficiency",
]

TRACKER_ETA_MAX = 2.5
TRACK_PT_MIN = 0.1  # GeV: no track below this (card: efficiency 0 for pt <= 0.1)
ECAL_ENERGY_MIN, HCAL_ENERGY_MIN = 0.5, 1.0  # GeV (card: EnergyMin)
SIGNIFICANCE_MIN = 2.0  # E / sigma(E) (card: EnergySignificanceMin, both calorimeters)
ELECTRON, MUON, PHOTON = 11, 13, 22

TRACK, ECAL, HCAL = 0, 1, 2  # object kinds
KIND_NAMES = {TRACK: "track", ECAL: "ECAL cell", HCAL: "HCAL cell"}


@dataclass(frozen=True)
class CaloRegion:
    """A band 0 <= eta_low <= |eta| < eta_high of equal cells (mirrored at negative eta)."""

    eta_low: float
    eta_high: float
    n_eta: int  # cells across the band in |eta|
    n_phi: int  # cells around the full circle

    @property
    def d_eta(self) -> float:
        return (self.eta_high - self.eta_low) / self.n_eta


# CMS granularity, with the card's forward calorimeter (HF) beyond |eta| = 3.
ECAL_REGIONS: tuple[CaloRegion, ...] = (
    CaloRegion(0.0, 1.479, 85, 360),  # barrel: 0.0174 x 1 degree
    CaloRegion(1.479, 3.0, 87, 360),  # endcaps: 0.0175 x 1 degree
    CaloRegion(3.0, 5.0, 11, 36),  # HF: 0.18 x 10 degrees
)
HCAL_REGIONS: tuple[CaloRegion, ...] = (
    CaloRegion(0.0, 1.74, 20, 72),  # 0.087 x 5 degrees
    CaloRegion(1.74, 3.0, 7, 36),  # 0.18 x 10 degrees
    CaloRegion(3.0, 5.0, 11, 36),  # HF
)
CALO_ETA_MAX = 5.0


@dataclass
class Objects:
    """Flat massless 4-momenta of the objects of a batch of events, in event order."""

    event: np.ndarray  # int64 [M]: event of each object (0-based within the batch)
    px: np.ndarray  # float64 [M], GeV
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    kind: np.ndarray  # int8 [M]: TRACK, ECAL or HCAL (particle level: -1)

    def __len__(self) -> int:
        return len(self.event)

    def counts(self, n_events: int) -> np.ndarray:
        return np.bincount(self.event, minlength=n_events).astype(np.int64)


# ---------------------------------------------------------------------------------------- random
_STREAMS = {
    "track": 1,
    "track_pt_a": 2,
    "track_pt_b": 3,
    "cell_a": 4,
    "cell_b": 5,
    "cell_eta": 6,
    "cell_phi": 7,
}


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijective scramble of 64-bit integers (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)).astype(np.uint64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def uniforms(seed: int, stream: str, event: np.ndarray, item: np.ndarray) -> np.ndarray:
    """Uniform numbers in (0, 1), one per (event, item), that depend on those and the seed only."""
    key = _mix64(np.asarray([((int(seed) << 8) ^ _STREAMS[stream]) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))
    h = _mix64(key ^ np.asarray(event, dtype=np.int64).astype(np.uint64))
    h = _mix64(h ^ np.asarray(item, dtype=np.int64).astype(np.uint64))
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def normals(seed: int, stream: str, event: np.ndarray, item: np.ndarray) -> np.ndarray:
    """Standard normal numbers (Box-Muller on two independent uniform streams)."""
    u1 = uniforms(seed, f"{stream}_a", event, item)
    u2 = uniforms(seed, f"{stream}_b", event, item)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def lognormal(mean: np.ndarray, sigma: np.ndarray, z: np.ndarray) -> np.ndarray:
    """A log-normal variate with the given mean and standard deviation from a standard normal ``z``."""
    ratio = np.square(sigma / mean)
    s = np.sqrt(np.log1p(ratio))
    return mean * np.exp(s * z - 0.5 * s * s)


# ----------------------------------------------------------------------------------- detector response
def tracking_efficiency(pt: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Delphes CMS card, ChargedHadronTrackingEfficiency (applied to every charged particle)."""
    central = np.abs(eta) <= 1.5
    low = pt <= 1.0
    eff = np.where(central, np.where(low, 0.70, 0.95), np.where(low, 0.60, 0.85))
    return np.where((pt > TRACK_PT_MIN) & (np.abs(eta) <= TRACKER_ETA_MAX), eff, 0.0)


def track_resolution(pt: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Relative pT resolution of tracks: Delphes CMS card, ChargedHadronMomentumSmearing (arXiv:1405.6569)."""
    a = np.abs(eta)
    const = np.where(a <= 0.5, 0.01, np.where(a <= 1.5, 0.015, 0.025))
    slope = np.where(a <= 0.5, 1.5e-4, np.where(a <= 1.5, 2.5e-4, 5.5e-4))
    return np.hypot(const, pt * slope)


def ecal_resolution(energy: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """sigma(E) of an ECAL cell in GeV: Delphes CMS card (arXiv:1306.2016, 1502.02701; HF beyond 2.5)."""
    a = np.abs(eta)
    core = np.sqrt(np.square(0.008 * energy) + energy * 0.11**2 + 0.40**2)
    forward = np.sqrt(np.square(0.107 * energy) + energy * 2.08**2)
    barrel_shape = 1 + 0.64 * np.square(eta)
    endcap_shape = 2.16 + 5.6 * np.square(a - 2)
    return np.where(a <= 1.5, barrel_shape * core, np.where(a <= 2.5, endcap_shape * core, forward))


def hcal_resolution(energy: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """sigma(E) of an HCAL cell in GeV: Delphes CMS card (HF beyond |eta| = 3)."""
    central = np.sqrt(np.square(0.050 * energy) + energy * 1.50**2)
    forward = np.sqrt(np.square(0.130 * energy) + energy * 2.70**2)
    return np.where(np.abs(eta) <= 3.0, central, forward)


# --------------------------------------------------------------------------------------- calorimeter
def cell_index(
    eta: np.ndarray, phi: np.ndarray, regions: tuple[CaloRegion, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each direction's cell: a key unique within one calorimeter, and the cell's eta and phi bounds.

    Directions beyond the last region get key -1.
    """
    a = np.abs(eta)
    key = np.full(len(eta), -1, dtype=np.int64)
    eta_lo = np.zeros(len(eta))
    eta_hi = np.zeros(len(eta))
    phi_lo = np.zeros(len(eta))
    phi_hi = np.zeros(len(eta))
    phi01 = (wrap_phi(phi) + np.pi) / (2 * np.pi)  # [0, 1)
    for r, region in enumerate(regions):
        inside = (a >= region.eta_low) & (a < region.eta_high)
        if not inside.any():
            continue
        i_eta = np.minimum(((a[inside] - region.eta_low) / region.d_eta).astype(np.int64), region.n_eta - 1)
        i_phi = np.minimum((phi01[inside] * region.n_phi).astype(np.int64), region.n_phi - 1)
        side = (eta[inside] >= 0).astype(np.int64)
        key[inside] = ((r * 2 + side) * 1024 + i_eta) * 1024 + i_phi
        low = region.eta_low + i_eta * region.d_eta
        high = low + region.d_eta
        eta_lo[inside] = np.where(side == 1, low, -high)
        eta_hi[inside] = np.where(side == 1, high, -low)
        phi_lo[inside] = -np.pi + 2 * np.pi * i_phi / region.n_phi
        phi_hi[inside] = phi_lo[inside] + 2 * np.pi / region.n_phi
    return key, np.stack([eta_lo, eta_hi]), np.stack([phi_lo, phi_hi]), a < regions[-1].eta_high


@dataclass
class Cells:
    """The cells of one calorimeter hit in a batch, before smearing (energy summed per cell)."""

    event: np.ndarray  # int64 [C]
    key: np.ndarray  # int64 [C]: unique within (event, calorimeter)
    energy: np.ndarray  # float64 [C]: true energy deposited, GeV
    eta_bounds: np.ndarray  # [2, C]
    phi_bounds: np.ndarray  # [2, C]


def fill_cells(
    event: np.ndarray, energy: np.ndarray, eta: np.ndarray, phi: np.ndarray, regions: tuple[CaloRegion, ...]
) -> Cells:
    """Sum the energies of the deposits that fall into the same cell of the same event."""
    key, eta_bounds, phi_bounds, covered = cell_index(eta, phi, regions)
    event, key, energy = event[covered], key[covered], energy[covered]
    eta_bounds, phi_bounds = eta_bounds[:, covered], phi_bounds[:, covered]
    # Group on (event, key), ordered by event then key: the order cannot depend on the batching.
    order = np.lexsort((key, event))
    pair = np.stack([event[order], key[order]])
    first = np.ones(len(order), dtype=bool)
    first[1:] = np.any(pair[:, 1:] != pair[:, :-1], axis=0)
    group = np.cumsum(first) - 1
    summed = np.bincount(group, weights=energy[order], minlength=int(first.sum()))
    heads = order[first]
    return Cells(event[heads], key[heads], summed, eta_bounds[:, heads], phi_bounds[:, heads])


def read_out(
    cells: Cells, calorimeter: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Smear, threshold and place the cells: (event, energy, eta, phi) of the cells that are kept."""
    centre_eta = cells.eta_bounds.mean(axis=0)
    resolution, energy_min = (
        (ecal_resolution, ECAL_ENERGY_MIN) if calorimeter == ECAL else (hcal_resolution, HCAL_ENERGY_MIN)
    )
    item = cells.key * 4 + calorimeter
    sigma = resolution(cells.energy, centre_eta)
    measured = lognormal(cells.energy, sigma, normals(seed, "cell", cells.event, item))
    kept = (measured >= energy_min) & (measured >= SIGNIFICANCE_MIN * resolution(measured, centre_eta))
    u_eta = uniforms(seed, "cell_eta", cells.event, item)
    u_phi = uniforms(seed, "cell_phi", cells.event, item)
    eta = cells.eta_bounds[0] + u_eta * (cells.eta_bounds[1] - cells.eta_bounds[0])
    phi = wrap_phi(cells.phi_bounds[0] + u_phi * (cells.phi_bounds[1] - cells.phi_bounds[0]))
    return cells.event[kept], measured[kept], eta[kept], phi[kept]


# ------------------------------------------------------------------------------------------- emulate
def massless(event: np.ndarray, pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, kind: int) -> Objects:
    return Objects(
        event=event.astype(np.int64),
        px=pt * np.cos(phi),
        py=pt * np.sin(phi),
        pz=pt * np.sinh(eta),
        e=pt * np.cosh(eta),
        kind=np.full(len(event), kind, dtype=np.int8),
    )


def emulate(
    event: np.ndarray,
    item: np.ndarray,
    pid: np.ndarray,
    charge: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    energy: np.ndarray,
    seed: int,
) -> Objects:
    """The detector objects of the visible final-state particles of a batch of events.

    ``event`` numbers events uniquely within the seed's stream (e.g. their number within a Pythia run),
    ``item`` each particle uniquely within its event (e.g. its index in the event record): together
    with ``seed`` they fix every random number, so the result does not depend on the batching.
    """
    pt = np.hypot(px, py)
    eta = np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=pt > 0))
    phi = np.arctan2(py, px)
    apid = np.abs(pid)
    charged = charge != 0
    tracked = charged & (uniforms(seed, "track", event, item) < tracking_efficiency(pt, eta))
    track_pt = lognormal(
        pt[tracked],
        pt[tracked] * track_resolution(pt[tracked], eta[tracked]),
        normals(seed, "track_pt", event[tracked], item[tracked]),
    )
    tracks = massless(event[tracked], track_pt, eta[tracked], phi[tracked], TRACK)

    in_calo = ~tracked & (apid != MUON) & (pt > 0) & (np.abs(eta) < CALO_ETA_MAX)
    electromagnetic = in_calo & ((apid == PHOTON) | (apid == ELECTRON))
    hadronic = in_calo & ~electromagnetic
    parts = [tracks]
    for calorimeter, selected, regions in (
        (ECAL, electromagnetic, ECAL_REGIONS),
        (HCAL, hadronic, HCAL_REGIONS),
    ):
        cells = fill_cells(event[selected], energy[selected], eta[selected], phi[selected], regions)
        cell_event, cell_energy, cell_eta, cell_phi = read_out(cells, calorimeter, seed)
        parts.append(massless(cell_event, cell_energy / np.cosh(cell_eta), cell_eta, cell_phi, calorimeter))
    objects = Objects(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in ("event", "px", "py", "pz", "e", "kind"))
    )
    order = np.argsort(objects.event, kind="stable")  # event order; within an event: tracks, ECAL, HCAL
    return Objects(*(getattr(objects, f)[order] for f in ("event", "px", "py", "pz", "e", "kind")))
