"""Lorentz group equivariant autoencoders (LGAE) for jets, and the pipeline that reproduces the paper.

Four layers, each importing only from those before it (tests/test_layers.py):

- the equivariant library: :mod:`lgae.group` (Minkowski geometry, irreps of SO⁺(3,1), Clebsch–Gordan
  products), :mod:`lgae.jets` (relative coordinates, jet images), :mod:`lgae.nn` (layers),
  :mod:`lgae.models` (the autoencoders, ``lgae.models.build``), :mod:`lgae.losses` and
  :mod:`lgae.equivariance` (the measures and the one assertion of every test);
- :mod:`lgae.pipeline`: data, training, inference, devices and the configuration;
- :mod:`lgae.paper`: the paper's outputs (evaluation, figures, plots, tables, claims, its own numbers);
- :mod:`lgae.cli`: the ``lgae`` command, one module per subcommand; only it knows the workflow's files.

:mod:`lgae.names`, :mod:`lgae.errors` and :mod:`lgae.io` are shared by all of them.

Each package's ``__init__`` exports the public names of its modules (``from lgae.group import boost``).
The library's packages import them eagerly (they need torch and nothing heavier), except
:mod:`lgae.group`, whose Minkowski geometry serves the numpy-only data steps. That one and the pipeline's
and the paper's packages export theirs lazily (:func:`lazy_exports`), so that ``import lgae.pipeline``
costs nothing and ``from lgae.pipeline import train`` loads the training module alone, not h5py for
inference or matplotlib for the figures. This package exports, lazily too, the library's most used names:
``lgae.build``, ``lgae.JetAutoencoder``, ``lgae.load_model`` and the equivariance measures, so that
``import lgae`` (which every ``lgae.*`` import runs first) stays free and no layer imports one above it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__version__ = "0.1.0"


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` (PEP 562) for a package whose names load on first use.

    Args:
        package: the package's ``__name__``.
        exports: for each module, relative to the package (``".training"``) or absolute, the names it
            exports; a name is imported from its module the first time it is asked for, then kept.
    """
    where: dict[str, str] = {}
    for module, names in exports.items():
        for name in names:
            if name in where:
                raise ValueError(f"{package}: {name!r} is exported by both {where[name]} and {module}")
            where[name] = module

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name], package), name)
        setattr(sys.modules[package], name, value)  # the next access does not come back here
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return sorted(where), __getattr__, __dir__


__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "lgae.models": ["JetAutoencoder", "MODEL_NAMES", "build", "load_model"],
        "lgae.equivariance": [
            "assert_equivariant",
            "boost_scan",
            "deviation",
            "lorentz_tolerance",
            "rotation_scan",
            "transform_deviation",
        ],
    },
)
