"""``lgae train``: train one model (latent size, seed, training fraction) on the QCD background."""

from __future__ import annotations

import argparse
import json
import types
import typing
from dataclasses import MISSING, Field, fields
from pathlib import Path
from typing import Any

from lgae.cli.common import add_compute_options, classes
from lgae.errors import LGAEError
from lgae.pipeline.settings import TrainSettings

#: the settings that name the run (lgae.pipeline.identity.Run)
RUN_SETTINGS = ("model", "latent", "seed", "train_fraction")
_HINTS = typing.get_type_hints(TrainSettings)
_FIELDS = {setting.name: setting for setting in fields(TrainSettings)}


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train one model (latent size, seed, training fraction) on the QCD background",
        description=(
            "Reads: <data-dir>/<class>_{train,valid}.h5 for the background classes. "
            "Writes: <out-dir>/model.pt (best model), history.csv (per-epoch losses and timings), "
            "meta.json (settings, data, versions, timings) and checkpoint.pt (resume state, updated every "
            "epoch). Rerunning the same command resumes from checkpoint.pt; a checkpoint made with other "
            "settings or other data is set aside (checkpoint.<fingerprint>.pt) and training starts over."
        ),
    )
    for setting in fields(TrainSettings):
        p.add_argument(_option(setting), dest=setting.name, **_parse_as(setting))
    p.add_argument("--data-dir", type=Path, required=True, help="directory of the processed split files")
    p.add_argument("--out-dir", type=Path, required=True, help="directory for the outputs of this run")
    add_compute_options(p)
    p.add_argument(
        "--compile",
        action="store_true",
        help="run the model through torch.compile (falls back to eager, with the reason logged, where it "
        "cannot); same results to rounding, an LGAE step ~2x faster on a CPU (benchmarks/README.md) after a "
        "compile of a minute or two",
    )
    p.add_argument("--stop-after-epochs", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> None:
    from lgae.pipeline.devices import claim_device
    from lgae.pipeline.training import TrainPaths, train

    settings = settings_from_args(args)
    with claim_device(args.device) as device:  # a GPU of its own, held until training ends
        train(
            settings,
            TrainPaths(args.data_dir, args.out_dir),
            device=device,
            threads=args.threads,
            stop_after_epochs=args.stop_after_epochs,
            progress=not args.no_progress,
            compile=args.compile,
        )


# ------------------------------------------------------------------ the settings as options
def _option(setting: Field[Any]) -> str:
    return setting.metadata.get("option", "--" + setting.name.replace("_", "-"))


def _parse_as(setting: Field[Any]) -> dict[str, Any]:
    """How argparse reads a setting: its type (a tuple as several values, a mapping as JSON text), its
    default (none: required), choices and help, all from the field of TrainSettings."""
    hint = _HINTS[setting.name]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):  # X | None
        (hint,) = (arg for arg in typing.get_args(hint) if arg is not type(None))
    kind, args = typing.get_origin(hint) or hint, typing.get_args(hint)
    kwargs: dict[str, Any] = {"help": setting.metadata["help"]}
    if "choices" in setting.metadata:
        kwargs["choices"] = setting.metadata["choices"]
    else:
        kwargs["metavar"] = _option(setting).removeprefix("--").replace("-", "_").upper()
    if kind is tuple:
        kwargs.update(type=args[0], nargs="+" if args[-1] is Ellipsis else len(args))
    elif kind is dict:
        kwargs.update(type=str)  # JSON, decoded by settings_from_args
    else:
        kwargs.update(type=kind)
    if setting.default is not MISSING:
        kwargs["default"] = setting.default
    elif setting.default_factory is not MISSING:
        default = setting.default_factory()
        kwargs["default"] = json.dumps(default) if kind is dict else default
    else:
        kwargs["required"] = True
    if kwargs.get("default") is not None and "default" not in kwargs["help"]:
        kwargs["help"] += " (default: %(default)s)"
    return kwargs


def settings_from_args(args: argparse.Namespace) -> TrainSettings:
    """The training settings the options of `lgae train` give."""
    values = {setting.name: getattr(args, setting.name) for setting in fields(TrainSettings)}
    try:
        hyperparameters = json.loads(values["hyperparameters"])
    except json.JSONDecodeError as exc:
        raise LGAEError(
            f"--hyperparameters is not valid JSON ({exc}): {values['hyperparameters']!r}"
        ) from exc
    if not isinstance(hyperparameters, dict):
        raise LGAEError("--hyperparameters must be a JSON object, e.g. '{\"num_basis\": 10}'")
    return TrainSettings(
        **{**values, "hyperparameters": hyperparameters, "background": tuple(classes(values["background"]))}
    )


#: the order train_arguments writes the options in: the order the workflow's train rule has always
#: written them (Snakemake reruns a finished job whose parameters read differently), with the options of
#: `lgae train` that are not settings (--compile, --device) in their place
_WRITTEN: tuple[str, ...] = (
    *("model", "latent", "seed", "train_fraction", "loss", "dtype", "hyperparameters", "lr", "betas"),
    *("weight_decay", "batch_size", "max_epochs", "patience", "min_improvement", "max_minutes"),
    *("compile", "device", "background"),
)
#: settings added after the workflow's first runs: written only when they differ from their default, so
#: that the jobs of a configuration that does not set them keep their text (and their results)
_WRITTEN_WHEN_SET = ("min_improvement", "max_minutes")


def train_arguments(
    settings: TrainSettings, *, run: bool = True, device: str | None = None, compile: bool = False
) -> list[str]:
    """The `lgae train` arguments that give ``settings`` (:func:`settings_from_args` reads them back);
    without the run's own (``run=False``: the workflow writes --model ... --fraction from its wildcards),
    with ``--compile`` and ``--device`` when given."""
    out: list[str] = []
    for name in _WRITTEN:
        if name == "compile":
            out += ["--compile"] if compile else []
        elif name == "device":
            out += ["--device", device] if device is not None else []
        elif run or name not in RUN_SETTINGS:
            value = getattr(settings, name)
            if name in _WRITTEN_WHEN_SET and value == _FIELDS[name].default:
                continue
            if isinstance(value, dict):
                out += [_option(_FIELDS[name]), json.dumps(value, separators=(",", ":"))]
            elif isinstance(value, tuple):
                out += [_option(_FIELDS[name]), *(str(v) for v in value)]
            else:
                out += [_option(_FIELDS[name]), str(value)]
    return out
