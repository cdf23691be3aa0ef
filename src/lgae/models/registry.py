"""Name → model factory. Model modules register themselves; ``build`` validates names and arguments.

Hyperparameters are checked, names *and* values, before anything is built: a typo or a value of the
wrong type gets one line naming the key, what it expects and the valid keys, not a traceback from deep
inside torch (``num_basis: "ten"`` used to dump torch's overloads).
"""

from __future__ import annotations

import importlib
import inspect
import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lgae.errors import ConfigError
from lgae.models.base import JetAutoencoder
from lgae.names import LATENT_ARGUMENTS, MODEL_NAMES

Factory = Callable[..., JetAutoencoder]

#: the modules that define models, imported on first use so that importing the registry stays cheap
_MODEL_MODULES = ("lgae.models.lgae", "lgae.models.gnnae", "lgae.models.cnnae")
_FACTORIES: dict[str, Factory] = {}
#: for factories that pass ``**options`` on: the callable that receives them, and the names they fix
_OPTIONS_OF: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {}


def latent_argument(name: str) -> str:
    """Name of the hyperparameter that sets the latent size of a model.

    Args:
        name: A registered model name.

    Returns:
        ``"latent_vectors"`` for an LGAE, ``"latent_dim"`` for the baselines.
    """
    key = name.lower()
    if key not in LATENT_ARGUMENTS:
        raise ConfigError(f"unknown model {name!r}; available models: {', '.join(MODEL_NAMES)}")
    return LATENT_ARGUMENTS[key]


def register(
    name: str, options_of: Callable[..., Any] | None = None, fixed: Sequence[str] = ()
) -> Callable[[Factory], Factory]:
    """Decorator: make a factory available as ``build(name, ...)``.

    Args:
        name: The model's name.
        options_of: For a factory that passes ``**options`` on, the callable that receives them, so that
            its hyperparameters can be checked all the same.
        fixed: The arguments of ``options_of`` that the factory sets itself.

    Returns:
        The decorator; it returns the factory unchanged.
    """

    def wrap(factory: Factory) -> Factory:
        if name in _FACTORIES and _FACTORIES[name] is not factory:
            raise ValueError(f"model name {name!r} registered twice")
        _FACTORIES[name] = factory
        if options_of is not None:
            _OPTIONS_OF[name] = (options_of, tuple(fixed))
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


def _factory(name: str) -> tuple[str, Factory]:
    _load_all()
    key = str(name).lower()
    if key not in _FACTORIES:
        raise ConfigError(f"unknown model {name!r}; available models: {', '.join(available())}")
    return key, _FACTORIES[key]


def _parameters(function: Callable[..., Any]) -> dict[str, tuple[Any, Any]]:
    """Keyword parameters of ``function``: name -> (type hint or None, default)."""
    target = function.__init__ if inspect.isclass(function) else function
    try:
        hints = typing.get_type_hints(target)
    except (NameError, TypeError):  # an annotation that does not resolve: check names only
        hints = {}
    return {
        p.name: (hints.get(p.name), p.default)
        for p in inspect.signature(function).parameters.values()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and p.name != "self"
    }


def accepted_hyperparameters(name: str) -> dict[str, tuple[Any, Any]]:
    """Every hyperparameter a model accepts.

    Args:
        name: A registered model name.

    Returns:
        ``{hyperparameter: (type hint or None, default)}``.
    """
    key, factory = _factory(name)
    accepted = _parameters(factory)
    if key in _OPTIONS_OF:
        target, fixed = _OPTIONS_OF[key]
        accepted = {**{k: v for k, v in _parameters(target).items() if k not in fixed}, **accepted}
    return accepted


def check_hyperparameters(name: str, values: Mapping[str, object], key: str = "hyperparameters") -> None:
    """Refuse unknown hyperparameter names (listing the valid ones) and values of the wrong type.

    Ranges (e.g. a positive number of channels) are left to the model's constructor, which
    [`build`][lgae.models.registry.build] turns into a ConfigError as well.

    Args:
        name: A registered model name.
        values: ``{hyperparameter: value}``.
        key: How the caller names the table in messages (``--hyperparameters``,
            ``models.<m>.hyperparameters``).

    Raises:
        ConfigError: An unknown model, hyperparameter or a value of the wrong type.
    """
    model, _ = _factory(name)
    accepted = accepted_hyperparameters(model)
    unknown = sorted(k for k in values if k not in accepted)
    if unknown:
        raise ConfigError(
            f"{key}: model {model!r} has no hyperparameter {', '.join(map(repr, unknown))}; "
            f"valid ones: {', '.join(sorted(accepted))}"
        )
    for option, value in values.items():
        hint = accepted[option][0]
        if hint is not None and not _matches(value, hint):
            raise ConfigError(
                f"{key}.{option} = {value!r}: model {model!r} expects {_describe(hint)} "
                f"(default {accepted[option][1]!r})"
            )


def _matches(value: object, hint: Any) -> bool:
    """Whether a plain (JSON/YAML) value fits a type hint; hints it does not know are accepted."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in args)
    if origin is typing.Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(v, args[0]) for v in value)
        return len(value) == len(args) and all(_matches(v, a) for v, a in zip(value, args, strict=True))
    if origin in (list, Sequence):
        return isinstance(value, (list, tuple)) and all(_matches(v, args[0]) for v in value)
    return True


def _describe(hint: Any) -> str:
    """A type hint in words, for error messages."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is type(None):
        return "null"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(map(repr, args))
    words = {bool: "true or false", int: "an integer", float: "a finite number", str: "a string"}
    if hint in words:
        return words[hint]
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        return f"a list of {len(args)}: [{', '.join(_describe(a) for a in args)}]"
    if origin in (tuple, list, Sequence):
        return f"a list, each item {_describe(args[0])}"
    return str(hint)


def build(name: str, **hyperparameters: object) -> JetAutoencoder:
    """Build a model.

    Args:
        name: One of ``available()``: lgae-min-max, lgae-mix, lgae-mean, gnnae-jl, gnnae-pl, cnnae.
        **hyperparameters: The model's hyperparameters (``accepted_hyperparameters(name)``).

    Returns:
        The model, in torch's default dtype (call ``.double()`` for the paper's float64 LGAE).

    Raises:
        ConfigError: An unknown name, hyperparameter or value, naming it.
    """
    key, factory = _factory(name)
    check_hyperparameters(key, hyperparameters)
    try:
        model = factory(**hyperparameters)
    except (TypeError, ValueError, ArithmeticError, RuntimeError) as exc:  # a value a layer cannot take
        raise ConfigError(f"model {key!r}: {str(exc).splitlines()[0] or type(exc).__name__}") from exc
    model.hyperparameters = {"name": key, **hyperparameters}
    return model
