"""Preprocessing: absolute 4-momenta in TeV that reproduce JetNet's relative coordinates, seeded split."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from lgae.errors import ConfigError, DataError
from lgae.group import lorentz
from lgae.pipeline.data.jetnet_format import read_raw, write_raw
from lgae.pipeline.data.preprocess import (
    SPLITS,
    load_classes,
    load_processed,
    preprocess_class,
    split_indices,
    split_sizes,
)


@pytest.fixture(scope="module")
def processed_dir(generated_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("processed")
    for jet_class in ("g", "q", "t"):
        preprocess_class(generated_raw_dir / f"{jet_class}.hdf5", out, jet_class, seed=42, source="pythia")
    return out


@pytest.mark.parametrize("jet_class", ["g", "q", "t"])
def test_four_momenta_give_back_the_relative_coordinates(generated_raw_dir, processed_dir, jet_class):
    raw = read_raw(generated_raw_dir / f"{jet_class}.hdf5")
    for split in SPLITS:
        jets = load_processed(processed_dir / f"{jet_class}_{split}.h5")
        pt, eta, phi = lorentz.ptetaphi_from_p4(jets.p4 * 1000.0)  # TeV -> GeV
        jet_pt = jets.jet_features[:, 0:1].astype(np.float64)
        jet_eta = jets.jet_features[:, 1:2].astype(np.float64)
        m = jets.mask
        np.testing.assert_allclose((pt / jet_pt)[m], raw.particle_features[jets.index][..., 2][m], atol=1e-6)
        np.testing.assert_allclose(
            (eta - jet_eta)[m], raw.particle_features[jets.index][..., 0][m], atol=1e-6
        )
        dphi = lorentz.wrap_phi(phi - jets.jet_phi[:, None])
        np.testing.assert_allclose(dphi[m], raw.particle_features[jets.index][..., 1][m], atol=1e-6)
        assert np.array_equal(m, raw.mask[jets.index])


def test_momenta_are_massless_in_tev_and_padding_is_zero(processed_dir):
    jets = load_processed(processed_dir / "g_train.h5")
    assert jets.p4.dtype == np.float64
    assert jets.p4.shape[1:] == (30, 4)
    m2 = lorentz.minkowski_norm2(jets.p4)
    np.testing.assert_allclose(m2[jets.mask], 0.0, atol=1e-12)  # massless, as in the paper
    assert np.all(jets.p4[~jets.mask] == 0.0)
    # jets of ~1 TeV pT: the summed transverse momentum of the constituents is ~1 TeV (not ~1000)
    jet_pt = np.hypot(jets.p4[..., 1].sum(1), jets.p4[..., 2].sum(1))
    assert 0.5 < np.median(jet_pt) < 1.6
    assert np.all((jets.jet_phi >= -np.pi) & (jets.jet_phi < np.pi))


def test_split_is_disjoint_complete_and_sized(generated_raw_dir, processed_dir):
    n = len(read_raw(generated_raw_dir / "g.hdf5"))
    parts = {split: load_processed(processed_dir / f"g_{split}.h5").index for split in SPLITS}
    together = np.concatenate(list(parts.values()))
    assert len(together) == n
    assert len(np.unique(together)) == n
    assert (len(parts["train"]), len(parts["valid"]), len(parts["test"])) == split_sizes(n, (0.6, 0.2, 0.2))
    assert split_sizes(1000, (0.6, 0.2, 0.2)) == (600, 200, 200)


def test_split_is_seeded():
    a = split_indices(1000, (0.6, 0.2, 0.2), seed=1, jet_class="g")
    b = split_indices(1000, (0.6, 0.2, 0.2), seed=1, jet_class="g")
    c = split_indices(1000, (0.6, 0.2, 0.2), seed=2, jet_class="g")
    d = split_indices(1000, (0.6, 0.2, 0.2), seed=1, jet_class="q")
    assert all(np.array_equal(a[s], b[s]) for s in SPLITS)
    assert not np.array_equal(a["train"], c["train"])
    assert not np.array_equal(a["train"], d["train"])  # classes get independent streams


def test_same_seed_gives_identical_files(generated_raw_dir, tmp_path):
    for run in ("a", "b"):
        preprocess_class(generated_raw_dir / "w.hdf5", tmp_path / run, "w", seed=3)
    for split in SPLITS:
        first, second = (
            load_processed(tmp_path / "a" / f"w_{split}.h5"),
            load_processed(tmp_path / "b" / f"w_{split}.h5"),
        )
        assert np.array_equal(first.p4, second.p4)
        assert np.array_equal(first.jet_phi, second.jet_phi)


def test_background_loads_as_one_sample(processed_dir):
    qcd = load_classes(processed_dir, ["g", "q"], "valid")
    g, q = load_processed(processed_dir / "g_valid.h5"), load_processed(processed_dir / "q_valid.h5")
    assert len(qcd) == len(g) + len(q)
    assert np.array_equal(qcd.p4[: len(g)], g.p4)


def test_bad_split_fractions_are_rejected():
    with pytest.raises(ConfigError, match=r"data\.split"):
        split_sizes(10, (0.5, 0.2, 0.2))


# ------------------------------------------------------------------------------------- bad input
def _write_jets(path: Path, particles: np.ndarray, jets: np.ndarray) -> Path:
    write_raw(path, particles, jets)
    return path


def _good_arrays(n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    particles = np.zeros((n, 30, 4), np.float32)
    particles[:, :5] = [0.01, 0.02, 0.2, 1.0]
    jets = np.tile(np.array([1000.0, 0.5, 80.0, 5.0], np.float32), (n, 1))
    return particles, jets


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        preprocess_class(tmp_path / "g.hdf5", tmp_path, "g", seed=1)


def test_truncated_file(tmp_path):
    path = _write_jets(tmp_path / "g.hdf5", *_good_arrays())
    path.write_bytes(path.read_bytes()[:700])
    with pytest.raises(DataError, match="truncated or corrupt"):
        preprocess_class(path, tmp_path / "out", "g", seed=1)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_missing_dataset_key(tmp_path):
    path = tmp_path / "g.hdf5"
    with h5py.File(path, "w") as handle:
        handle["particle_features"] = _good_arrays()[0]
    with pytest.raises(DataError, match="'jet_features' is missing"):
        preprocess_class(path, tmp_path, "g", seed=1)


def test_wrong_shape(tmp_path):
    particles, jets = _good_arrays()
    path = _write_jets(tmp_path / "g.hdf5", particles[..., :3], jets)
    with pytest.raises(DataError, match=r"expected \[N, P, 4\]"):
        preprocess_class(path, tmp_path, "g", seed=1)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf(tmp_path, bad):
    particles, jets = _good_arrays()
    particles[3, 2, 1] = bad
    path = _write_jets(tmp_path / "g.hdf5", particles, jets)
    with pytest.raises(DataError, match="NaN or inf values in 'particle_features' \\(first in jet 3\\)"):
        preprocess_class(path, tmp_path, "g", seed=1)


def test_unknown_class(tmp_path):
    path = _write_jets(tmp_path / "x.hdf5", *_good_arrays())
    with pytest.raises(ConfigError, match="unknown jet class"):
        preprocess_class(path, tmp_path, "x", seed=1)


@pytest.mark.parametrize("count", [0, -3])
def test_no_particles_per_jet_is_refused(tmp_path, count):
    """--num-particles 0 used to write jets of shape [N, 0, 4]."""
    path = _write_jets(tmp_path / "g.hdf5", *_good_arrays())
    with pytest.raises(ConfigError, match=f"data.num_particles\\) = {count}: must be a positive integer"):
        preprocess_class(path, tmp_path / "out", "g", seed=1, num_particles=count)
    assert not (tmp_path / "out").exists()


def test_a_file_of_another_class_is_refused(tmp_path):
    path = tmp_path / "g.hdf5"
    write_raw(path, *_good_arrays(), attrs={"jet_class": "g"})
    with pytest.raises(
        DataError, match=r"g\.hdf5: its attributes say it holds 'g' jets, not 'q'; give --class g"
    ):
        preprocess_class(path, tmp_path / "out", "q", seed=1)
    assert not (tmp_path / "out").exists()
    preprocess_class(path, tmp_path / "out", "g", seed=1)  # the right class goes through


@pytest.mark.parametrize(
    ("n_jets", "fractions", "empty"),
    [(2, (0.6, 0.2, 0.2), "valid"), (100, (1.0, 0.0, 0.0), "valid and test"), (10, (0.0, 0.5, 0.5), "train")],
)
def test_empty_splits_are_refused(tmp_path, n_jets, fractions, empty):
    path = _write_jets(tmp_path / "g.hdf5", *_good_arrays(n_jets))
    with pytest.raises(DataError, match=f"g.hdf5: {n_jets} jets split .* leave the {empty} split empty"):
        preprocess_class(path, tmp_path / "out", "g", seed=1, fractions=fractions)
    assert not (tmp_path / "out").exists()
