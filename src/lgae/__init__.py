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
"""

from __future__ import annotations

__version__ = "0.1.0"
