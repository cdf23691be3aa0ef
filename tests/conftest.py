"""Fixtures shared by the test modules, and the rule for the physics tests that need the ``gen`` extra.

Without pythia8mc and fastjet (the ``gen`` extra) the tests that generate jets are skipped, so that a
developer without them can still run the rest; under CI (``CI`` or ``LGAE_REQUIRE_GEN`` set, as
``.ci/run`` does) they fail instead: a CI run must never pass by skipping the physics.

The tests marked ``jetnet`` compare with jetnet and energyflow, which need numpy 1 and so live in an
environment of their own (the ``jetnet`` extra): skipped where jetnet does not import, they fail instead
with ``LGAE_REQUIRE_JETNET`` set, as ``.ci/run`` sets it in that environment.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

GEN_MODULES = ("pythia8mc", "fastjet")


def _set(*names: str) -> bool:
    return any(os.environ.get(name, "").lower() not in ("", "0", "false", "no") for name in names)


def _required() -> bool:
    """Whether missing ``gen`` modules are an error (CI) rather than a reason to skip (a developer)."""
    return _set("CI", "LGAE_REQUIRE_GEN")


def require_gen() -> None:
    """Skip the calling test without the ``gen`` extra, or fail it under CI."""
    for module in GEN_MODULES:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            reason = f'needs the "gen" extra ({module}: {exc}): pip install -e ".[gen]"'
            if _required():
                pytest.fail(f"{reason}; CI must run the physics tests, not skip them", pytrace=False)
            pytest.skip(reason)


# The files that take minutes, longest first. They are collected first so that pytest-xdist (`-n` in
# pyproject's addopts, one file per worker at a time) starts each worker on one of them and the short
# files fill in around them; collected last, two of them could end up one after the other on one worker.
SLOW_FILES = ("test_slurm.py", "test_workflow.py", "test_envs.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOW_FILES.index(name) if name in SLOW_FILES else len(SLOW_FILES)

    items.sort(key=rank)  # stable: within a file, and among the other files, the collected order


def require_jetnet() -> None:
    """Skip the calling test where jetnet does not import (numpy 2), or fail it with LGAE_REQUIRE_JETNET."""
    try:
        importlib.import_module("jetnet")
    except ImportError as exc:  # absent, or energyflow's wasserstein built for numpy 1 under numpy 2
        reason = (
            f"needs the jetnet extra ({exc}), which needs numpy 1: a venv of its own, "
            'pip install torch==2.13.0 -e ".[jetnet]" -c envs/constraints-jetnet.txt'
        )
        if _set("LGAE_REQUIRE_JETNET"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("gen") is not None:
        require_gen()
    if item.get_closest_marker("jetnet") is not None:
        require_jetnet()


GENERATED_SEED = 20240601
GENERATED_JETS_PER_CLASS = 300
GENERATED_CHUNK_SIZE = 150


@pytest.fixture(scope="session")
def generated_raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding ``g.hdf5 ... z.hdf5``: 300 Pythia jets per class in the JetNet layout.

    Made once per session with :func:`lgae.pipeline.data.generate.generate_class` (default physics settings, MPI
    on, fixed seed, two chunks per class, two worker processes): about 10 s on two cores. The number of
    jets, the seed and every setting are in each file's attributes. Needs the ``gen`` extra.
    """
    require_gen()
    from lgae.pipeline.data.generate import GenerationSettings, generate_class
    from lgae.pipeline.data.jetnet_format import CLASSES

    out = tmp_path_factory.mktemp("generated_raw")
    settings = GenerationSettings(seed=GENERATED_SEED, chunk_size=GENERATED_CHUNK_SIZE)
    for jet_class in CLASSES:
        generate_class(jet_class, GENERATED_JETS_PER_CLASS, out / f"{jet_class}.hdf5", settings, workers=2)
    return out


@pytest.fixture(scope="session")
def processed_jets_dir(generated_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated jets preprocessed as the pipeline does (all five classes, 60/20/20, seed 42)."""
    from lgae.pipeline.data.jetnet_format import CLASSES
    from lgae.pipeline.data.preprocess import preprocess_class

    out = tmp_path_factory.mktemp("processed")
    for jet_class in CLASSES:
        preprocess_class(generated_raw_dir / f"{jet_class}.hdf5", out, jet_class, seed=42, source="pythia")
    return out


@pytest.fixture(scope="session")
def import_scripts():
    """Imports a study's scripts as they import each other (from their folder), under names that do not
    stay in ``sys.modules``: two studies both have a ``plan.py`` and a ``summarise.py``, and one test
    process (an xdist worker) may import both."""
    return _import_scripts


def _import_scripts(folder: Path, *names: str) -> dict[str, object]:
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    sys.path.insert(0, str(folder))
    try:
        return {name: importlib.import_module(name) for name in names}
    finally:
        sys.path.remove(str(folder))
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)
