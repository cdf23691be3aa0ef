"""Every autoencoder of the paper behind one factory: ``lgae.models.build(name, **hyperparameters)``.

Names: ``lgae-min-max``, ``lgae-mix``, ``lgae-mean`` (the equivariant LGAE with its three aggregations),
``gnnae-jl``, ``gnnae-pl`` (graph baselines) and ``cnnae`` (image baseline). ``build(name)`` alone gives
the configuration of the paper's reconstruction figures.
"""

from __future__ import annotations

from lgae.models.base import JetAutoencoder
from lgae.models.registry import MODEL_NAMES, build, register

__all__ = ["MODEL_NAMES", "JetAutoencoder", "build", "register"]
