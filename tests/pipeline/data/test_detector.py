"""The CMS-like detector: cells, thresholds, resolutions, efficiencies, determinism; and its jets.

The unit tests feed the emulation hand-made particles (no Pythia); the tests marked ``gen`` generate
detector-level jets and their particle-level partners with Pythia.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path

import h5py
import numpy as np
import pytest

from lgae.errors import ConfigError
from lgae.group.lorentz import wrap_phi
from lgae.pipeline.data import detector
from lgae.pipeline.data.detector import (
    ECAL,
    ECAL_REGIONS,
    HCAL,
    HCAL_REGIONS,
    TRACK,
    cell_index,
    ecal_resolution,
    emulate,
    fill_cells,
    hcal_resolution,
    read_out,
    uniforms,
)
from lgae.pipeline.data.generate import GenerationSettings, generate_chunk, generate_class
from lgae.pipeline.data.jetnet_format import read_raw

PION, PHOTON, NEUTRON, MUON, ELECTRON = 211, 22, 2112, 13, 11
RADIUS = 0.4
DETECTOR = GenerationSettings(jet_radius=RADIUS, match_dr=RADIUS, detector="cms")


def particles(pid, pt, eta, phi, event=None):
    """Flat particle arrays (massless) for :func:`emulate`: one event unless ``event`` says otherwise."""
    pid, pt, eta, phi = (np.atleast_1d(np.asarray(x, dtype=np.float64)) for x in (pid, pt, eta, phi))
    n = len(pt)
    pid = np.broadcast_to(pid, (n,)).astype(np.int64)
    event = np.zeros(n, dtype=np.int64) if event is None else np.asarray(event, dtype=np.int64)
    item = np.concatenate([np.arange(c) for c in np.bincount(event)]).astype(np.int64)
    charge = np.where(np.abs(pid) == PION, np.sign(pid), 0.0)
    charge = np.where((np.abs(pid) == MUON) | (np.abs(pid) == ELECTRON), -np.sign(pid), charge)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return {
        "event": event,
        "item": item,
        "pid": pid,
        "charge": charge,
        "px": px,
        "py": py,
        "pz": pz,
        "energy": pt * np.cosh(eta),
    }


# ------------------------------------------------------------------------------------------- cells
def test_cells_sum_the_energy_of_their_deposits_exactly():
    rng = np.random.default_rng(1)
    n = 20_000
    event = np.sort(rng.integers(0, 7, n))
    eta = rng.uniform(-0.3, 0.3, n)  # dense: most cells get several deposits
    phi = rng.uniform(-0.3, 0.3, n)
    energy = rng.exponential(3.0, n)
    for regions in (ECAL_REGIONS, HCAL_REGIONS):
        cells = fill_cells(event, energy, eta, phi, regions)
        pairs = list(zip(cells.event.tolist(), cells.key.tolist(), strict=True))
        assert len(set(pairs)) == len(pairs), "one entry per cell and event"
        key, *_ = cell_index(eta, phi, regions)
        expected: dict[tuple[int, int], float] = defaultdict(float)
        for e, k, x in zip(event.tolist(), key.tolist(), energy.tolist(), strict=True):
            expected[(e, k)] += x
        got = dict(zip(pairs, cells.energy.tolist(), strict=True))
        assert got.keys() == expected.keys()
        np.testing.assert_allclose([got[p] for p in expected], list(expected.values()), rtol=1e-12)
        np.testing.assert_allclose(
            np.bincount(cells.event, weights=cells.energy), np.bincount(event, weights=energy), rtol=1e-12
        )
        assert len(cells.energy) < n / 2  # merging happened


def test_cells_have_cms_granularity_and_contain_their_deposits():
    rng = np.random.default_rng(2)
    eta = rng.uniform(-4.9, 4.9, 5000)
    phi = rng.uniform(-np.pi, np.pi, 5000)
    for regions, central in (
        (ECAL_REGIONS, (0.0174, 2 * np.pi / 360)),
        (HCAL_REGIONS, (0.087, 2 * np.pi / 72)),
    ):
        key, eta_bounds, phi_bounds, covered = cell_index(eta, phi, regions)
        assert covered.all()
        assert (key >= 0).all()
        assert np.all((eta_bounds[0] <= eta + 1e-12) & (eta < eta_bounds[1] + 1e-12))
        assert np.all((phi_bounds[0] <= phi + 1e-12) & (phi < phi_bounds[1] + 1e-12))
        barrel = np.abs(eta) < 1.0
        np.testing.assert_allclose(np.diff(eta_bounds, axis=0)[0][barrel], central[0], rtol=2e-3)
        np.testing.assert_allclose(np.diff(phi_bounds, axis=0)[0][barrel], central[1], rtol=1e-9)
    key, _, _, covered = cell_index(np.array([5.5, -6.0]), np.zeros(2), HCAL_REGIONS)
    assert not covered.any()
    assert (key == -1).all()


def test_read_out_applies_the_thresholds_and_the_resolution():
    n = 40_000
    true_energy = np.concatenate([np.full(n, 50.0), np.full(n, 0.3), np.full(n, 0.8)])
    cells = detector.Cells(
        event=np.arange(3 * n, dtype=np.int64),
        key=np.zeros(3 * n, dtype=np.int64),
        energy=true_energy,
        eta_bounds=np.stack([np.full(3 * n, 0.1), np.full(3 * n, 0.1174)]),
        phi_bounds=np.stack([np.full(3 * n, 0.2), np.full(3 * n, 0.2175)]),
    )
    centre = np.full(3 * n, 0.1087)
    for calorimeter, resolution, minimum in ((ECAL, ecal_resolution, 0.5), (HCAL, hcal_resolution, 1.0)):
        event, energy, eta, phi = read_out(cells, calorimeter, seed=5)
        assert np.all(energy >= minimum)
        # the 2-sigma cut: with the HCAL's 150 %/sqrt(E) it alone keeps no cell below ~9 GeV
        assert np.all(energy >= 2.0 * resolution(energy, centre[: len(energy)]) - 1e-12)
        assert np.all((eta >= 0.1) & (eta <= 0.1174) & (phi >= 0.2) & (phi <= 0.2175)), (
            "placed inside the cell"
        )
        big = event < n
        assert big.sum() == n, "a 50 GeV cell is always read out"
        sigma = resolution(np.array([50.0]), np.array([0.1087]))[0]
        assert abs(energy[big].mean() - 50.0) < 4 * sigma / np.sqrt(n), "smearing keeps the mean"
        assert energy[big].std() == pytest.approx(sigma, rel=0.03)
        survivors = ((event >= n) & (event < 2 * n)).sum() / n
        assert survivors < 0.1  # a 0.3 GeV cell needs an upward fluctuation of several sigma


def test_tracking_efficiency_follows_the_cms_card():
    n = 20_000
    for pt, eta, expected in ((0.5, 0.3, 0.70), (5.0, 0.3, 0.95), (0.5, 2.0, 0.60), (5.0, -2.0, 0.85)):
        objects = emulate(
            **particles(PION, np.full(n, pt), np.full(n, eta), np.zeros(n), np.arange(n)), seed=3
        )
        tracked = (objects.kind == TRACK).sum() / n
        assert tracked == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / n))
    for pt, eta in ((0.05, 0.0), (20.0, 2.7)):  # below 0.1 GeV, or outside the tracker: the HCAL sees it
        objects = emulate(
            **particles(PION, np.full(100, pt), np.full(100, eta), np.zeros(100), np.arange(100)), seed=3
        )
        assert not (objects.kind == TRACK).any()
        assert set(objects.kind.tolist()) <= {HCAL}


def test_each_particle_type_reaches_its_subdetector():
    # one particle per event, central, 30 GeV: tracks keep the direction, cells sit in the right calorimeter
    pid = [PION, -PION, PHOTON, NEUTRON, MUON, ELECTRON]
    n = len(pid)
    eta = np.linspace(-1.0, 1.0, n)
    phi = np.linspace(-2.0, 2.0, n)
    objects = emulate(**particles(pid, np.full(n, 30.0), eta, phi, np.arange(n)), seed=11)
    kinds = {int(e): int(k) for e, k in zip(objects.event, objects.kind, strict=True)}
    tracked_pions = [kinds.get(0), kinds.get(1)]
    assert set(tracked_pions) <= {TRACK, HCAL}  # 95 % tracked; an untracked pion is an HCAL cell
    assert kinds[2] == ECAL
    assert kinds[3] == HCAL
    assert kinds.get(4) in (TRACK, None)  # a muon is a track or lost, never a calorimeter cell
    assert kinds[5] in (TRACK, ECAL)  # an untracked electron showers in the ECAL
    np.testing.assert_allclose(objects.e, np.sqrt(objects.px**2 + objects.py**2 + objects.pz**2), rtol=1e-12)
    track = objects.kind == TRACK
    p = particles(pid, np.full(n, 30.0), eta, phi, np.arange(n))
    source = objects.event[track]
    np.testing.assert_allclose(np.arctan2(objects.py[track], objects.px[track]), phi[source], atol=1e-12)
    np.testing.assert_allclose(
        np.arcsinh(objects.pz[track] / np.hypot(objects.px[track], objects.py[track])),
        eta[source],
        atol=1e-12,
    )
    assert np.all(
        np.abs(np.hypot(objects.px[track], objects.py[track]) / np.hypot(p["px"], p["py"])[source] - 1) < 0.1
    )


def test_the_emulation_depends_on_the_seed_and_the_events_only():
    rng = np.random.default_rng(4)
    n = 3000
    event = np.sort(rng.integers(0, 40, n))
    pid = rng.choice([PION, -PION, PHOTON, NEUTRON], n)
    batch = particles(
        pid, rng.exponential(5.0, n) + 0.05, rng.normal(0, 0.3, n), rng.normal(0, 0.3, n), event
    )
    whole = emulate(**batch, seed=9)
    split = event < 17
    halves = [emulate(**{k: v[part] for k, v in batch.items()}, seed=9) for part in (split, ~split)]
    for field in ("event", "px", "py", "pz", "e", "kind"):
        np.testing.assert_array_equal(
            getattr(whole, field), np.concatenate([getattr(h, field) for h in halves])
        )
    other = emulate(**batch, seed=10)
    assert len(other) != len(whole) or not np.array_equal(other.e, whole.e)


def test_counter_based_uniforms_are_uniform_and_independent():
    event = np.repeat(np.arange(100), 1000)
    item = np.tile(np.arange(1000), 100)
    u = uniforms(7, "track", event, item)
    v = uniforms(7, "cell_eta", event, item)
    w = uniforms(8, "track", event, item)
    for x in (u, v, w):
        assert x.min() > 0
        assert x.max() < 1
        assert x.mean() == pytest.approx(0.5, abs=0.005)
        assert x.var() == pytest.approx(1 / 12, rel=0.02)
        assert np.histogram(x, bins=10, range=(0, 1))[0].min() > 9500
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.01
    assert abs(np.corrcoef(u, w)[0, 1]) < 0.01
    np.testing.assert_array_equal(u, uniforms(7, "track", event, item))


# ------------------------------------------------------------------------------------ detector jets


@pytest.fixture(scope="module")
def paired(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("detector")
    settings = dataclasses.replace(DETECTOR, seed=3, chunk_size=30)
    generate_class("q", 60, out / "q.hdf5", settings, workers=1, particle_level_out=out / "q_particles.hdf5")
    return out / "q.hdf5", out / "q_particles.hdf5"


@pytest.mark.gen
@pytest.mark.slow
def test_detector_jets_keep_the_jetnet_layout(paired):
    for path in paired:
        jets = read_raw(path)
        pf, jf = jets.particle_features, jets.jet_features
        assert pf.shape == (60, 30, 4)
        assert jf.shape == (60, 4)
        mask = pf[..., 3]
        assert set(np.unique(mask).tolist()) <= {0.0, 1.0}
        real = mask > 0
        assert np.all(pf[~real] == 0), "padded rows are all zero"
        assert np.all(np.diff(mask, axis=1) <= 0), "real particles come first"
        assert np.all(np.diff(pf[..., 2], axis=1) <= 0), "pT-ordered"
        assert np.all(real.sum(axis=1) == np.minimum(jf[:, 3], 30))
        delta_r = np.hypot(pf[..., 0], pf[..., 1])[real]
        if jets.attrs["level"] == "detector":  # massless objects: rapidity is pseudorapidity
            assert np.all(delta_r < RADIUS + 0.05)
        else:  # a few soft massive hadrons stray in pseudorapidity
            assert np.mean(delta_r > RADIUS + 0.05) < 0.01
    detector_jets, particle_jets = (read_raw(path) for path in paired)
    assert detector_jets.attrs["level"] == "detector"
    assert particle_jets.attrs["level"] == "particle"
    assert str(particle_jets.attrs["paired_with"]) == str(paired[0])
    for key in ("event_index", "chunk", "truth_id"):
        np.testing.assert_array_equal(detector_jets.extras[key], particle_jets.extras[key])
    d_eta = detector_jets.jet_features[:, 1] - particle_jets.jet_features[:, 1]
    d_phi = wrap_phi(detector_jets.extras["jet_phi"] - particle_jets.extras["jet_phi"])
    assert np.all(np.hypot(d_eta, d_phi) < RADIUS / 2), (
        "each detector jet is paired with its own particle-level jet"
    )
    response = detector_jets.jet_features[:, 0] / particle_jets.jet_features[:, 0]
    assert 0.95 < np.median(response) < 1.05
    # the detector merges photons and neutral hadrons into cells: fewer objects than particles
    assert np.median(detector_jets.jet_features[:, 3] / particle_jets.jet_features[:, 3]) < 0.9
    assert detector_jets.jet_features[:, 0].min() >= 800
    with h5py.File(paired[0]) as handle:
        assert not any(key.startswith("particle_level") for key in handle)


@pytest.mark.gen
@pytest.mark.slow
def test_particle_level_partners_are_the_particle_level_jets():
    """Without the detector, the same events give the same particle-level jets as the partners'."""
    settings = dataclasses.replace(DETECTOR, chunk_size=20)
    paired = generate_chunk("w", 20, 77, settings).arrays
    plain = generate_chunk("w", 40, 77, dataclasses.replace(settings, detector="none")).arrays
    found = 0
    for row, event in enumerate(paired["event_index"]):
        same_event = np.flatnonzero(plain["event_index"] == event)
        matches = [
            j for j in same_event if abs(plain["jet_phi"][j] - paired["particle_level_jet_phi"][row]) < 1e-9
        ]
        if matches:  # the particle-level jet passed the particle-level selection too
            np.testing.assert_array_equal(
                plain["particle_features"][matches[0]], paired["particle_level_particle_features"][row]
            )
            found += 1
    assert found >= 15, "most partners are jets that the particle-level selection keeps as well"


@pytest.mark.gen
@pytest.mark.slow
def test_detector_jets_do_not_depend_on_the_batching():
    settings = DETECTOR
    one = generate_chunk("z", 25, 99, settings).arrays
    two = generate_chunk("z", 25, 99, dataclasses.replace(settings, events_per_batch=7)).arrays
    for key in one:
        np.testing.assert_array_equal(one[key], two[key], err_msg=key)
    other = generate_chunk("z", 25, 98, settings).arrays
    assert not np.array_equal(one["jet_features"], other["jet_features"])


def test_detector_settings_are_checked(tmp_path: Path):
    with pytest.raises(ConfigError, match="detector"):
        GenerationSettings(detector="delphes")
    with pytest.raises(ConfigError, match="needs a detector"):
        generate_class(
            "w", 5, tmp_path / "w.hdf5", GenerationSettings(), particle_level_out=tmp_path / "p.hdf5"
        )
    assert not (tmp_path / "w.hdf5").exists()
