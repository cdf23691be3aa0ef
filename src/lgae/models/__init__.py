"""Every autoencoder of the paper behind one factory: ``lgae.models.build(name, **hyperparameters)``.

Names: ``lgae-min-max``, ``lgae-mix``, ``lgae-mean`` (the equivariant LGAE with its three aggregations),
``gnnae-jl``, ``gnnae-pl`` (graph baselines) and ``cnnae`` (image baseline). ``build(name)`` alone gives
the configuration of the paper's reconstruction figures; ``save_model`` and ``load_model`` write and read
a model with the settings that rebuild it.

The CNNAE's factory, named as its module, is not exported (it would hide the module): ``build("cnnae")``.
"""

from __future__ import annotations

from lgae.models.base import JetAutoencoder
from lgae.models.cnnae import CNNAE
from lgae.models.gnnae import EMBEDDINGS, GNNAE, GNNAEJetLevel, GNNAEParticleLevel
from lgae.models.io import (
    DTYPES,
    ModelFileError,
    UnsafeFileError,
    load_model,
    load_plain,
    read_model_file,
    save_model,
)
from lgae.models.lgae import (
    LGAE,
    LorentzLatent,
    canonical_to_cartesian,
    cartesian_to_canonical_features,
    lgae_mean,
    lgae_min_max,
    lgae_mix,
)
from lgae.models.registry import (
    accepted_hyperparameters,
    available,
    build,
    check_hyperparameters,
    latent_argument,
    register,
)
from lgae.names import MODEL_NAMES  # the names build accepts

__all__ = [
    "CNNAE",
    "DTYPES",
    "EMBEDDINGS",
    "GNNAE",
    "LGAE",
    "MODEL_NAMES",
    "GNNAEJetLevel",
    "GNNAEParticleLevel",
    "JetAutoencoder",
    "LorentzLatent",
    "ModelFileError",
    "UnsafeFileError",
    "accepted_hyperparameters",
    "available",
    "build",
    "canonical_to_cartesian",
    "cartesian_to_canonical_features",
    "check_hyperparameters",
    "latent_argument",
    "lgae_mean",
    "lgae_min_max",
    "lgae_mix",
    "load_model",
    "load_plain",
    "read_model_file",
    "register",
    "save_model",
]
