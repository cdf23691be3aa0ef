"""Name → model factory. Model modules register themselves; ``build`` validates names and arguments."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable

from lgae.errors import ConfigError
from lgae.models.base import JetAutoencoder
from lgae.names import MODEL_NAMES

Factory = Callable[..., JetAutoencoder]

#: the modules that define models, imported on first use so that importing the registry stays cheap
_MODEL_MODULES = ("lgae.models.lgae", "lgae.models.gnnae", "lgae.models.cnnae")
_FACTORIES: dict[str, Factory] = {}


#: the hyperparameter that sets the latent size of each family (τ_(1/2,1/2), or dim(L) / d per particle)
_LATENT_ARGUMENTS = {"lgae": "latent_vectors", "gnnae": "latent_dim", "cnnae": "latent_dim"}


def latent_argument(name: str) -> str:
    """Name of the hyperparameter that sets the latent size of model ``name``."""
    family = name.lower().split("-")[0]
    if family not in _LATENT_ARGUMENTS:
        raise ConfigError(f"unknown model {name!r}; available models: {', '.join(MODEL_NAMES)}")
    return _LATENT_ARGUMENTS[family]


def register(name: str) -> Callable[[Factory], Factory]:
    """Decorator: make ``factory`` available as ``build(name, ...)``."""

    def wrap(factory: Factory) -> Factory:
        if name in _FACTORIES and _FACTORIES[name] is not factory:
            raise ValueError(f"model name {name!r} registered twice")
        _FACTORIES[name] = factory
        return factory

    return wrap


def _load_all() -> None:
    for module in _MODEL_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a real missing dependency, not a model family not written yet
                raise


def available() -> list[str]:
    """Names that ``build`` accepts."""
    _load_all()
    return sorted(_FACTORIES)


def build(name: str, **hyperparameters: object) -> JetAutoencoder:
    """Build the model ``name``; unknown names or hyperparameters raise a ConfigError naming them."""
    _load_all()
    key = name.lower()
    if key not in _FACTORIES:
        raise ConfigError(f"unknown model {name!r}; available models: {', '.join(available())}")
    factory = _FACTORIES[key]
    signature = inspect.signature(factory)
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    unknown = sorted(set(hyperparameters) - set(signature.parameters))
    if unknown and not accepts_any:
        raise ConfigError(
            f"model {key!r} has no hyperparameter(s) {unknown}; it accepts {sorted(signature.parameters)}"
        )
    try:
        model = factory(**hyperparameters)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"model {key!r}: {exc}") from exc
    model.hyperparameters = {"name": key, **hyperparameters}
    return model
