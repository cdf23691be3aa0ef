"""Relative JetNet coordinates → absolute massless 4-momenta in TeV, with a seeded split.

For each jet: a jet φ drawn uniformly in [-π, π) (JetNet stores none), then per particle
``pT = ptrel·pT_jet``, ``η = etarel + η_jet``, ``φ = wrap(phirel + φ_jet)`` and
``p = (pT cosh η, pT cos φ, pT sin φ, pT sinh η) / 1000`` (massless, as the paper; the authors' code adds
a random sub-MeV mass, we do not). Padded particles stay exactly zero and are flagged by ``mask``.
Each class is split 60/20/20 (configurable) by a seeded permutation.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from lgae.errors import ConfigError, DataError
from lgae.group import lorentz
from lgae.io import atomic_path
from lgae.names import CLASSES, SPLITS
from lgae.pipeline.data.checks import check_processed
from lgae.pipeline.data.jetnet_format import RawJets, check_classes, read_raw
from lgae.pipeline.seeding import rng

log = logging.getLogger(__name__)

GEV_PER_TEV = 1000.0


def split_sizes(n_jets: int, fractions: Sequence[float]) -> tuple[int, int, int]:
    """Jets per split; the test split takes the rounding remainder so the three add up to ``n_jets``."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ConfigError(
            f"data.split = {list(fractions)}: give three non-negative fractions (train, valid, test) summing to 1"
        )
    n_train = round(fractions[0] * n_jets)
    n_valid = round(fractions[1] * n_jets)
    return n_train, n_valid, n_jets - n_train - n_valid


def split_indices(
    n_jets: int, fractions: Sequence[float], seed: int, jet_class: str
) -> dict[str, np.ndarray]:
    """Disjoint, complete, seeded index sets (each sorted) for train / valid / test."""
    n_train, n_valid, _ = split_sizes(n_jets, fractions)
    order = rng(seed, "split", jet_class).permutation(n_jets)
    parts = (order[:n_train], order[n_train : n_train + n_valid], order[n_train + n_valid :])
    return {name: np.sort(part) for name, part in zip(SPLITS, parts, strict=True)}


def draw_jet_phi(n_jets: int, seed: int, jet_class: str) -> np.ndarray:
    """One azimuth per jet, uniform in [-π, π), from the class's own seeded stream."""
    return rng(seed, "jet_phi", jet_class).uniform(-np.pi, np.pi, size=n_jets)


def absolute_p4(raw: RawJets, jet_phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Massless (E, px, py, pz) in TeV [N, P, 4] (float64) and the particle mask [N, P] (bool)."""
    features = raw.particle_features.astype(np.float64)
    mask_values = features[..., 3]
    if not np.isin(mask_values, (0.0, 1.0)).all():
        raise DataError(
            "particle mask column holds values other than 0 and 1; the file is not in JetNet layout"
        )
    mask = mask_values > 0
    jet_pt = raw.jet_features[:, 0].astype(np.float64)[:, None]
    jet_eta = raw.jet_features[:, 1].astype(np.float64)[:, None]
    pt = features[..., 2] * jet_pt
    eta = features[..., 0] + jet_eta
    phi = lorentz.wrap_phi(features[..., 1] + jet_phi[:, None])
    p4 = lorentz.p4_from_ptetaphi(pt, eta, phi) / GEV_PER_TEV
    p4[~mask] = 0.0
    return p4, mask


@dataclass
class ProcessedJets:
    """One split of one class, as the training and evaluation steps read it."""

    p4: np.ndarray  # [N, P, 4] float64, (E, px, py, pz) in TeV, zero where ~mask
    mask: np.ndarray  # [N, P] bool
    particle_features: np.ndarray  # [N, P, 3] float32: etarel, phirel, ptrel (as stored by JetNet)
    jet_features: np.ndarray  # [N, 4] float32: pt [GeV], eta, mass [GeV], num_particles
    jet_phi: np.ndarray  # [N] float64, the drawn jet azimuth
    index: np.ndarray  # [N] int64, row in the raw class file
    jet_class: str
    split: str

    def __len__(self) -> int:
        return len(self.p4)


def check_num_particles(num_particles: object, key: str = "data.num_particles") -> int:
    """A positive particle count, or a ConfigError naming ``key`` (0 would write jets of no particles)."""
    if isinstance(num_particles, bool) or not isinstance(num_particles, int) or num_particles < 1:
        raise ConfigError(f"{key} = {num_particles!r}: must be a positive integer (JetNet-30 jets: 30)")
    return num_particles


def preprocess_class(
    raw_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    jet_class: str,
    seed: int,
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    num_particles: int = 30,
    source: str = "",
) -> dict[str, Path]:
    """Write ``<out_dir>/<class>_<split>.h5`` for the three splits; returns their paths."""
    check_classes([jet_class], key="jet class")
    check_num_particles(num_particles, "--num-particles (data.num_particles)")
    raw = read_raw(raw_path, num_particles)
    stated = raw.attrs.get("jet_class")
    if stated is not None and str(stated) != jet_class:
        raise DataError(
            f"{raw_path}: its attributes say it holds {str(stated)!r} jets, not {jet_class!r}; "
            f"give --class {stated} or the {jet_class} file"
        )
    named = Path(raw_path).stem
    if named in CLASSES and named != jet_class:
        raise DataError(
            f"{raw_path}: the file is named for class {named!r}, not {jet_class!r}; "
            f"give --class {named} or the {jet_class} file"
        )
    stated_source = raw.attrs.get("source")
    if source and stated_source is not None and str(stated_source) != source:
        raise DataError(
            f"{raw_path}: its attributes say it holds {str(stated_source)!r} jets, not {source!r} ones; "
            f"give --source {stated_source} (data.source) or the {source} file"
        )
    sizes = split_sizes(len(raw), fractions)
    empty = [name for name, size in zip(SPLITS, sizes, strict=True) if size == 0]
    if empty:
        raise DataError(
            f"{raw_path}: {len(raw)} jets split {list(fractions)} leave the {' and '.join(empty)} split "
            f"empty (sizes {list(sizes)}); use more jets (data.pythia.jets_per_class) or give every split "
            "a larger fraction (data.split)"
        )
    jet_phi = draw_jet_phi(len(raw), seed, jet_class)
    p4, mask = absolute_p4(raw, jet_phi)
    check_processed(  # what is about to be written satisfies what every reader checks
        raw_path,
        {
            "p4": p4,
            "mask": mask,
            "particle_features": raw.particle_features[..., :3],
            "jet_features": raw.jet_features,
            "jet_phi": jet_phi,
            "index": np.arange(len(raw)),
        },
    )
    indices = split_indices(len(raw), fractions, seed, jet_class)
    outputs = {}
    for split, idx in indices.items():
        path = Path(out_dir) / f"{jet_class}_{split}.h5"
        with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
            handle.create_dataset("p4", data=p4[idx])
            handle.create_dataset("mask", data=mask[idx])
            handle.create_dataset("particle_features", data=raw.particle_features[idx, :, :3])
            handle.create_dataset("jet_features", data=raw.jet_features[idx])
            handle.create_dataset("jet_phi", data=jet_phi[idx])
            handle.create_dataset("index", data=idx.astype(np.int64))
            handle.attrs.update(
                {
                    "jet_class": jet_class,
                    "split": split,
                    "seed": seed,
                    "fractions": np.asarray(fractions, dtype=np.float64),
                    "units": "TeV",
                    "source": source,
                    "raw_file": str(raw_path),
                    "raw_jets": len(raw),
                }
            )
        log.info("%s: %d jets", path, len(idx))
        outputs[split] = path
    return outputs


_PROCESSED_KEYS = ("p4", "mask", "particle_features", "jet_features", "jet_phi", "index")


def load_processed(path: str | os.PathLike[str]) -> ProcessedJets:
    """Read one processed split file, with a clear error if it is missing, damaged, or breaks what
    physics guarantees (:func:`lgae.pipeline.data.checks.check_processed`), or says it is another class or split
    than its name ``<class>_<split>.h5``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{path}: processed file not found; run `lgae preprocess` (or the Snakemake rule) first."
        )
    try:
        with h5py.File(path, "r") as handle:
            missing = [k for k in _PROCESSED_KEYS if k not in handle]
            if missing:
                raise DataError(f"{path}: datasets {missing} missing; rerun `lgae preprocess`.")
            arrays = {k: handle[k][...] for k in _PROCESSED_KEYS}
            attrs = dict(handle.attrs)
    except OSError as exc:
        raise DataError(
            f"{path}: not a readable HDF5 file ({exc}); delete it and rerun `lgae preprocess`."
        ) from exc
    _check_name(path, attrs)
    check_processed(path, arrays)
    return ProcessedJets(
        **arrays,
        jet_class=str(attrs.get("jet_class", "")),
        split=str(attrs.get("split", "")),
    )


def _check_name(path: Path, attrs: dict[str, object]) -> None:
    """The class and split a file's attributes state agree with its name ``<class>_<split>.h5``."""
    jet_class, _, split = path.stem.partition("_")
    for key, named in (("jet_class", jet_class), ("split", split)):
        stated = attrs.get(key)
        if stated is not None and named and str(stated) != named:
            raise DataError(
                f"{path}: its attributes say {key} {str(stated)!r}, its name says {named!r}; the file was "
                "renamed or copied over another: delete it and rerun `lgae preprocess`."
            )


def read_attrs(path: str | os.PathLike[str]) -> dict[str, object]:
    """The attributes of a processed split file (its provenance: source, seed, split, jet counts),
    as plain Python values."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as handle:
            attrs = dict(handle.attrs)
    except OSError as exc:
        raise DataError(
            f"{path}: not a readable HDF5 file ({exc}); delete it and rerun `lgae preprocess`."
        ) from exc
    return {k: v.tolist() if hasattr(v, "tolist") else v for k, v in attrs.items()}


def load_classes(directory: str | os.PathLike[str], classes: Sequence[str], split: str) -> ProcessedJets:
    """Concatenate one split of several classes (e.g. the QCD background g + q), after checking that
    every class holds jets, that they have one number of particles, and one provenance (source, seed,
    split fractions): g of one preprocessing and q of another would be a silent mixture."""
    check_classes(list(classes))
    if split not in SPLITS:
        raise ConfigError(f"split {split!r} unknown; use one of {list(SPLITS)}")
    paths = [Path(directory) / f"{c}_{split}.h5" for c in classes]
    parts = [load_processed(path) for path in paths]
    fix = f"rerun `lgae preprocess` with more jets or a larger {split} fraction (data.split)"
    empty = [str(path) for path, part in zip(paths, parts, strict=True) if len(part) == 0]
    if len(empty) == len(paths):
        raise DataError(f"{', '.join(empty)}: the {split} split holds no jets; {fix}")
    if empty:
        raise DataError(f"{', '.join(empty)}: the {split} split of this class holds no jets; {fix}")
    particles = {str(path): part.p4.shape[1] for path, part in zip(paths, parts, strict=True)}
    if len(set(particles.values())) > 1:
        raise DataError(
            f"{directory}: the classes hold jets of different numbers of particles ({particles}); "
            "preprocess every class with one data.num_particles"
        )
    provenance = {str(path): _provenance(path) for path in paths}
    if len({repr(p) for p in provenance.values()}) > 1:
        raise DataError(
            f"{directory}: the {split} files of {list(classes)} come from different preprocessing "
            f"runs ({provenance}); preprocess every class with one data.source, data.seed and data.split"
        )
    return ProcessedJets(
        **{k: np.concatenate([getattr(p, k) for p in parts]) for k in _PROCESSED_KEYS},
        jet_class="+".join(classes),
        split=split,
    )


#: the attributes a class shares with every other class of one preprocessing
PROVENANCE_KEYS = ("source", "seed", "fractions")


def _provenance(path: Path) -> dict[str, object]:
    attrs = read_attrs(path)
    return {key: attrs.get(key) for key in PROVENANCE_KEYS}
