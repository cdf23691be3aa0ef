"""Fixtures shared by the test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

GENERATED_SEED = 20240601
GENERATED_JETS_PER_CLASS = 300
GENERATED_CHUNK_SIZE = 150


@pytest.fixture(scope="session")
def generated_raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding ``g.hdf5 ... z.hdf5``: 300 Pythia jets per class in the JetNet layout.

    Made once per session with :func:`lgae.data.generate.generate_class` (default physics settings, MPI
    on, fixed seed, two chunks per class, two worker processes): about 10 s on two cores. The number of
    jets, the seed and every setting are in each file's attributes. Skipped without the ``gen`` extra.
    """
    pytest.importorskip("pythia8mc", reason='needs the "gen" extra: pip install -e ".[gen]"')
    pytest.importorskip("fastjet", reason='needs the "gen" extra: pip install -e ".[gen]"')
    from lgae.data.generate import GenerationSettings, generate_class
    from lgae.data.jetnet_format import CLASSES

    out = tmp_path_factory.mktemp("generated_raw")
    settings = GenerationSettings(seed=GENERATED_SEED, chunk_size=GENERATED_CHUNK_SIZE)
    for jet_class in CLASSES:
        generate_class(jet_class, GENERATED_JETS_PER_CLASS, out / f"{jet_class}.hdf5", settings, workers=2)
    return out


@pytest.fixture(scope="session")
def processed_jets_dir(generated_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated jets preprocessed as the pipeline does (all five classes, 60/20/20, seed 42)."""
    from lgae.data.jetnet_format import CLASSES
    from lgae.data.preprocess import preprocess_class

    out = tmp_path_factory.mktemp("processed")
    for jet_class in CLASSES:
        preprocess_class(generated_raw_dir / f"{jet_class}.hdf5", out, jet_class, seed=42, source="pythia")
    return out
