"""The JetNet HDF5 layout, shared by the real download and the Pythia generator, with strict reading.

A JetNet class file (Zenodo record 6975118, e.g. ``g.hdf5``) holds

- ``particle_features`` [N, 30, 4]: ``etarel, phirel, ptrel, mask`` (pT-ordered, zero-padded);
- ``jet_features`` [N, 4]: ``pt, eta, mass, num_particles`` (GeV; no jet φ is stored).

Generated files use the same two datasets and may add more (``jet_phi``, ``truth_id``, ...).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from lgae.errors import ConfigError, DataError
from lgae.io import atomic_path
from lgae.names import CLASSES
from lgae.pipeline.data.checks import JETNET_RADIUS, check_raw

#: jets per class file of JetNet-30 (Zenodo record 6975118), for checks that must run before the download
JETNET_JETS: dict[str, int] = {"g": 177252, "q": 170679, "t": 177945, "w": 177172, "z": 176952}
PARTICLE_FEATURES: tuple[str, ...] = ("etarel", "phirel", "ptrel", "mask")
JET_FEATURES: tuple[str, ...] = ("pt", "eta", "mass", "num_particles")


def check_classes(classes: list[str] | tuple[str, ...], key: str = "data.classes") -> list[str]:
    """Validate class names against JetNet's, naming the config key on error."""
    unknown = [c for c in classes if c not in CLASSES]
    if unknown:
        raise ConfigError(
            f"{key}: unknown jet class {unknown!r}; JetNet has {list(CLASSES)} "
            "(g = gluon, q = light quark, t = top, w = W boson, z = Z boson)"
        )
    return list(classes)


@dataclass
class RawJets:
    """One class of jets in the JetNet layout (arrays as stored, float32 unless noted)."""

    particle_features: np.ndarray  # [N, P, 4] etarel, phirel, ptrel, mask
    jet_features: np.ndarray  # [N, 4] pt, eta, mass, num_particles
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.jet_features)

    @property
    def mask(self) -> np.ndarray:
        return self.particle_features[..., 3] > 0


def read_raw(path: str | os.PathLike[str], num_particles: int = 30) -> RawJets:
    """Read and validate a JetNet-layout file; every defect is reported with the file name and the fix."""
    path = Path(path)
    if isinstance(num_particles, bool) or not isinstance(num_particles, int) or num_particles < 1:
        raise ConfigError(f"num_particles = {num_particles!r}: must be a positive integer (JetNet-30: 30)")
    if not path.is_file():
        raise DataError(
            f"{path}: file not found. Run `lgae download` (JetNet) or `lgae generate` (Pythia) first."
        )
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(
            f"{path}: not a readable HDF5 file ({exc}). It is truncated or corrupt: delete it and "
            "download or generate it again."
        ) from exc
    with handle:
        for key in ("particle_features", "jet_features"):
            if key not in handle:
                raise DataError(
                    f"{path}: dataset {key!r} is missing (found {sorted(handle.keys())}); "
                    "a JetNet file holds 'particle_features' [N, 30, 4] and 'jet_features' [N, 4]."
                )
        try:
            particles = np.asarray(handle["particle_features"][...])
            jets = np.asarray(handle["jet_features"][...])
            extras = {
                k: np.asarray(handle[k][...])
                for k in handle
                if k not in ("particle_features", "jet_features")
            }
        except OSError as exc:
            raise DataError(
                f"{path}: cannot read the data ({exc}); the file is truncated or corrupt."
            ) from exc
        attrs = {k: handle.attrs[k] for k in handle.attrs}
    if particles.ndim != 3 or particles.shape[2] != 4:
        raise DataError(
            f"{path}: 'particle_features' has shape {particles.shape}, expected [N, P, 4] "
            f"with features {list(PARTICLE_FEATURES)}."
        )
    if particles.shape[1] < num_particles:
        raise DataError(
            f"{path}: holds {particles.shape[1]} particles per jet, the config asks for {num_particles}."
        )
    if jets.ndim != 2 or jets.shape[1] != 4:
        raise DataError(
            f"{path}: 'jet_features' has shape {jets.shape}, expected [N, 4] with features {list(JET_FEATURES)}."
        )
    if len(jets) != len(particles):
        raise DataError(
            f"{path}: {len(particles)} jets in 'particle_features' but {len(jets)} in 'jet_features'."
        )
    if len(jets) == 0:
        raise DataError(f"{path}: holds no jets.")
    for name, values in (("particle_features", particles), ("jet_features", jets)):
        bad = ~np.isfinite(values)
        if bad.any():
            jet_index = int(np.argwhere(bad)[0][0])
            raise DataError(
                f"{path}: {int(bad.sum())} NaN or inf values in {name!r} (first in jet {jet_index}); "
                "the file is corrupt: download or generate it again."
            )
    check_raw(path, particles, jets, float(attrs.get("jet_radius", JETNET_RADIUS)))
    particles = particles[:, :num_particles]
    return RawJets(particles, jets, extras, attrs)


def write_raw(
    path: str | os.PathLike[str],
    particle_features: np.ndarray,
    jet_features: np.ndarray,
    extras: dict[str, np.ndarray] | None = None,
    attrs: dict[str, Any] | None = None,
) -> None:
    """Write jets in the JetNet layout, atomically."""
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.create_dataset("particle_features", data=np.asarray(particle_features, dtype=np.float32))
        handle.create_dataset("jet_features", data=np.asarray(jet_features, dtype=np.float32))
        for key, value in (extras or {}).items():
            handle.create_dataset(key, data=value)
        for key, value in (attrs or {}).items():
            handle.attrs[key] = value
