"""What physics guarantees of the inputs is checked before any compute: every real generated jet passes,
and a permuted, rescaled or damaged file is refused with the file named, by preprocessing (raw files) and
by everything that reads processed files (training, prediction)."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from lgae import cli
from lgae.errors import DataError
from lgae.pipeline.data.checks import check_raw, max_mass_over_pt
from lgae.pipeline.data.jetnet_format import write_raw
from lgae.pipeline.data.preprocess import load_classes, load_processed, preprocess_class


def _raw(generated_raw_dir: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    with h5py.File(generated_raw_dir / "t.hdf5") as handle:
        return handle["particle_features"][...], handle["jet_features"][...], dict(handle.attrs)


def _refused(path: Path, jet_class: str = "t", **options) -> str:
    with pytest.raises(DataError) as error:
        preprocess_class(path, path.parent / "out", jet_class, seed=1, **options)
    assert not (path.parent / "out").exists()  # nothing written
    message = str(error.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    return message


def test_every_generated_jet_passes(generated_raw_dir):
    for jet_class in "gqtwz":
        with h5py.File(generated_raw_dir / f"{jet_class}.hdf5") as handle:
            radius = float(handle.attrs["jet_radius"])
            check_raw("x", handle["particle_features"][...], handle["jet_features"][...], radius)


def test_the_mass_bound_of_a_jet_radius():
    """Two massless particles at the largest separation the bound allows reach it within its margin."""
    bound = max_mass_over_pt(0.8)
    assert 3.0 < bound < 4.0  # m/pT of real jets: medians 0.04-0.16 (JetNet), so a swapped column is far out


@pytest.mark.parametrize(
    "order", [p for p in itertools.permutations(range(4)) if p not in ((0, 1, 2, 3), (1, 0, 2, 3))]
)
def test_permuted_particle_features_are_refused(generated_raw_dir, tmp_path, order):
    """Every order of (etarel, phirel, ptrel, mask) but the stored one breaks a bound; only η_rel ↔ φ_rel,
    two symmetric angles within the radius, cannot be told apart by physics."""
    particles, jets, attrs = _raw(generated_raw_dir)
    path = tmp_path / "t.hdf5"
    write_raw(path, particles[..., list(order)], jets, attrs=attrs)
    message = _refused(path)
    assert "expected columns etarel, phirel, ptrel, mask" in message


@pytest.mark.parametrize("order", [p for p in itertools.permutations(range(4)) if p != (0, 1, 2, 3)])
def test_permuted_jet_features_are_refused(generated_raw_dir, tmp_path, order):
    particles, jets, attrs = _raw(generated_raw_dir)
    path = tmp_path / "t.hdf5"
    write_raw(path, particles, jets[:, list(order)], attrs=attrs)
    message = _refused(path)
    assert "expected jet_features columns pt [GeV], eta, mass [GeV], num_particles" in message


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p, _: p[..., 2].__imul__(1000), "pT_rel in (0, 1]"),  # ×1000 pT_rel
        (lambda p, _: p[..., 2].__imul__(-1), "pT_rel in (0, 1]"),  # negative pT_rel
        (lambda _, j: j[:, 0].__imul__(1000), "0 < jet pT <= 7000 GeV"),  # jet pT in MeV: 1,000 TeV
        (lambda _, j: j[:, 0].__imul__(-1), "0 < jet pT"),
        (lambda _, j: j[:, 1].__iadd__(100), "|jet η| <= 5.2"),
        (lambda _, j: j[:, 2].__imul__(-1), "0 <= jet mass"),
        (lambda _, j: j[:, 2].__imul__(0.01), "jet mass >= the mass of the particles it holds"),
        (lambda _, j: j[:, 3].__setitem__(Ellipsis, 3), "num_particles being the jet's number of particles"),
        (lambda p, _: p[:, -1].__setitem__(Ellipsis, [0.1, 0.1, 0.0, 0.0]), "zero padding"),
        (lambda p, _: p[3].__setitem__(Ellipsis, 0.0), "at least one particle per jet"),
        (lambda p, _: p[..., 3].__imul__(2), "the particle mask (column 3) being 0 or 1"),
        (lambda p, _: p[..., 1].__imul__(3), "|phi_rel| <= 0.8 (the jet radius 0.4 with a 2x margin"),
    ],
)
def test_raw_jets_that_break_physics_are_refused(generated_raw_dir, tmp_path, edit, message):
    particles, jets, attrs = _raw(generated_raw_dir)
    particles, jets = particles.astype(np.float64), jets.astype(np.float64)
    edit(particles, jets)
    path = tmp_path / "t.hdf5"
    write_raw(path, particles, jets, attrs=attrs)
    assert message in _refused(path)


def test_class_and_source_must_agree_with_the_file(generated_raw_dir, tmp_path):
    particles, jets, attrs = _raw(generated_raw_dir)
    named = tmp_path / "q.hdf5"
    write_raw(named, particles, jets, attrs={k: v for k, v in attrs.items() if k != "jet_class"})
    assert "named for class 'q', not 't'; give --class q" in _refused(named)
    path = tmp_path / "t.hdf5"
    write_raw(path, particles, jets, attrs=attrs)
    assert "holds 'pythia' jets, not 'jetnet' ones" in _refused(path, source="jetnet")


# ------------------------------------------------------------------------------------ processed files
def _copy(processed_jets_dir: Path, out: Path) -> Path:
    shutil.copytree(processed_jets_dir, out)
    return out


def _edit(path: Path, name: str, change) -> None:
    with h5py.File(path, "r+") as handle:
        data = handle[name][...]
        data = change(data)
        del handle[name]
        handle.create_dataset(name, data=data)


def _negative_energy(p4):
    p4[0, 0, 0] *= -1
    return p4


def _half_energy(p4):
    p4[..., 0] *= 0.5
    return p4


def _empty_jet(p4):
    p4[2] = 0.0
    return p4


def _swap(columns):
    def change(p4):
        return p4[..., columns]

    return change


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("p4", _negative_energy, "E > 0 for real particles"),
        ("p4", lambda p4: p4.astype(np.int64), "'p4' holds int64 values, not floating point"),
        ("p4", _swap([1, 0, 2, 3]), "E > 0 for real particles"),  # px where E should be
        ("p4", _swap([2, 1, 0, 3]), "E"),  # py where E should be: E > 0 or E >= |p| breaks
        ("p4", _half_energy, "E >= |p| (up to the massless tolerance"),
        ("p4", _swap([0, 3, 2, 1]), "agreement of p4 with the relative coordinates"),  # px ↔ pz
        ("p4", lambda p4: p4 * 1000, "E <= 7 TeV"),  # GeV stored as TeV
        ("p4", lambda p4: np.where(p4 == p4.max(), np.nan, p4), "finite values of 'p4'"),
        ("mask", lambda mask: mask[:, :29], "'mask' has shape"),  # a mask of the wrong length
        (
            "index",
            lambda index: np.where(index == index[1], index[0], index),
            "'index' is not a set of distinct rows",
        ),
        ("mask", lambda mask: mask.astype(np.float32), "'mask' holds float32 values, not booleans"),
        ("mask", lambda mask: mask & (np.arange(30) < 3), "zero padding (a slot with mask 0 holds momenta)"),
    ],
)
def test_processed_files_that_break_physics_are_refused(processed_jets_dir, tmp_path, name, change, message):
    data = _copy(processed_jets_dir, tmp_path / "data")
    _edit(data / "q_train.h5", name, change)
    with pytest.raises(DataError, match=re.escape(message)) as error:
        load_processed(data / "q_train.h5")
    assert str(data / "q_train.h5") in str(error.value)


def test_a_jet_without_particles_is_refused(processed_jets_dir, tmp_path):
    data = _copy(processed_jets_dir, tmp_path / "data")
    _edit(data / "q_train.h5", "p4", _empty_jet)
    _edit(data / "q_train.h5", "mask", lambda m: np.where(np.arange(len(m))[:, None] == 2, False, m))
    _edit(
        data / "q_train.h5",
        "particle_features",
        lambda f: np.where(np.arange(len(f))[:, None, None] == 2, 0, f),
    )
    with pytest.raises(
        DataError, match=r"q_train\.h5: 1 entries break at least one particle per jet \(first: jet 2"
    ):
        load_processed(data / "q_train.h5")


def test_files_that_say_they_are_another_class_or_split_are_refused(processed_jets_dir, tmp_path):
    data = _copy(processed_jets_dir, tmp_path / "data")
    shutil.copy(data / "q_train.h5", data / "g_train.h5")  # q's jets under g's name
    with pytest.raises(DataError, match=r"g_train\.h5: its attributes say jet_class 'q', its name says 'g'"):
        load_processed(data / "g_train.h5")
    shutil.copy(data / "q_valid.h5", data / "q_train.h5")
    with pytest.raises(
        DataError, match=r"q_train\.h5: its attributes say split 'valid', its name says 'train'"
    ):
        load_processed(data / "q_train.h5")


def test_a_class_without_jets_is_refused(processed_jets_dir, tmp_path):
    """One empty background class used to train on the other alone, without a word."""
    data = _copy(processed_jets_dir, tmp_path / "data")
    for name in ("p4", "mask", "particle_features", "jet_features", "jet_phi", "index"):
        _edit(data / "g_train.h5", name, lambda a: a[:0])
    with pytest.raises(DataError, match=r"g_train\.h5: the train split of this class holds no jets"):
        load_classes(data, ["g", "q"], "train")


def test_classes_of_other_particle_counts_or_preprocessings_are_refused(
    generated_raw_dir, processed_jets_dir, tmp_path, capsys
):
    data = _copy(processed_jets_dir, tmp_path / "data")
    preprocess_class(generated_raw_dir / "q.hdf5", data, "q", seed=42, num_particles=20, source="pythia")
    with pytest.raises(DataError, match="the classes hold jets of different numbers of particles"):
        load_classes(data, ["g", "q"], "train")
    # the same through `lgae train`: one line, no traceback
    argv = ["train", "--model", "gnnae-pl", "--latent", "2", "--data-dir", str(data), "--device", "cpu"]
    assert cli.main([*argv, "--out-dir", str(tmp_path / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "different numbers of particles" in err[0]
    other = _copy(processed_jets_dir, tmp_path / "other")
    preprocess_class(generated_raw_dir / "q.hdf5", other, "q", seed=7, source="pythia")
    with pytest.raises(DataError, match="come from different preprocessing runs"):
        load_classes(other, ["g", "q"], "valid")
