"""`lgae train`'s options are the training settings: one default each, and settings written as options
(as the workflow's train rule does) read back as the same settings."""

from __future__ import annotations

import json
import shlex
from dataclasses import MISSING, fields, replace
from pathlib import Path

import pytest

from lgae.cli import parser
from lgae.cli.train import settings_from_args, train_arguments
from lgae.io import read_yaml
from lgae.pipeline import config as lgae_config
from lgae.pipeline.settings import TrainSettings

REPO = Path(__file__).resolve().parents[2]
PATHS = ["--data-dir", "data", "--out-dir", "out"]


def _read(arguments: list[str]) -> TrainSettings:
    return settings_from_args(parser().parse_args(["train", *arguments, *PATHS]))


def test_every_training_setting_is_an_option_with_the_settings_default(subcommand):
    options = {action.dest: action for action in subcommand("train")._actions}
    for setting in fields(TrainSettings):
        action = options[setting.name]
        assert action.help.startswith(setting.metadata["help"])
        if setting.default is MISSING and setting.default_factory is MISSING:
            assert action.required, setting.name
        elif setting.default is not MISSING:
            assert action.default == setting.default, setting.name
        else:
            assert json.loads(action.default) == setting.default_factory(), setting.name
    assert _read(["--model", "lgae-mix", "--latent", "9"]) == TrainSettings(model="lgae-mix", latent=9)
    assert options["patience"].default == TrainSettings.__dataclass_fields__["patience"].default == 200


SETTINGS = [
    TrainSettings(model="lgae-mix", latent=9),
    TrainSettings(
        model="lgae-min-max",
        latent=4,
        seed=7,
        train_fraction=0.123456789,  # beyond the 6 digits of its label in paths: written exactly
        loss="mse",
        hyperparameters={"encoder_channels": [3, 4, 4], "decoder_channels": [4, 3, 3], "num_basis": 5},
        lr=3e-4,
        betas=(0.5, 0.9),
        weight_decay=1e-6,
        batch_size=17,
        max_epochs=3,
        patience=0,
        min_improvement=0.001,
        max_minutes=7.5,
        dtype="float32",
        background=("q",),
    ),
    TrainSettings(model="cnnae", latent=55, train_fraction=1e-4, max_minutes=2),
    TrainSettings(
        model="gnnae-pl",
        latent=2,
        hyperparameters={"negative_slope": 0.1, "self_loops": False},
        loss="chamfer",
    ),
]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: s.model)
def test_settings_read_back_from_the_arguments_written_for_them(settings):
    assert _read(train_arguments(settings)) == settings
    # the workflow writes the run from its path's wildcards, the rest from the settings
    run = settings.run
    wildcards = ["--model", run.model, "--latent", str(run.latent), "--seed", str(run.seed)]
    written = train_arguments(settings, run=False, device="cpu", compile=True)
    read = _read([*wildcards, "--fraction", repr(run.fraction), *shlex.split(shlex.join(written))])
    assert read == settings
    assert parser().parse_args(["train", *written, *wildcards, *PATHS]).compile
    assert not set(written) & {"--model", "--latent", "--seed", "--fraction"}


def test_a_setting_differing_from_its_default_is_written():
    base = TrainSettings(model="lgae-mix", latent=2)
    for setting in fields(TrainSettings):
        if setting.name in ("model", "latent"):
            continue
        value = {
            "seed": 5,
            "train_fraction": 0.5,
            "loss": "chamfer",
            "hyperparameters": {"num_basis": 4},
            "betas": (0.8, 0.99),
            "max_minutes": 1.5,
            "dtype": "float32",
            "background": ("g",),
        }.get(setting.name)
        if value is None:
            value = type(getattr(base, setting.name))(getattr(base, setting.name) * 2 or 0.5)
        changed = replace(base, **{setting.name: value})
        assert _read(train_arguments(changed)) == changed, setting.name


@pytest.mark.parametrize("name", ["config.yaml", "quick.yaml", "cpu.yaml"])
def test_the_train_command_of_every_planned_run_gives_the_settings_its_model_must_carry(name):
    """The train rule's command (the run from the path's wildcards, then train_options) read by `lgae
    train` is the settings the config says for that run, which the later steps --expect of its model."""
    config = read_yaml(REPO / "config" / name)
    runs = dict.fromkeys(lgae_config.main_runs(config) + lgae_config.scan_runs(config))
    for run in runs:
        settings = TrainSettings(**lgae_config.training_settings(config, run))
        assert settings.run == run
        wildcards = ["--model", run.model, "--latent", str(run.latent), "--seed", str(run.seed)]
        options = shlex.split(shlex.join(train_arguments(settings, run=False, device="auto")))
        assert _read([*wildcards, "--fraction", run.fraction_label, *options]) == settings, run


def test_the_workflow_writes_a_runs_options_as_it_always_has():
    """Snakemake reruns a finished job whose parameters read differently: the options of a run of the
    quick configuration keep the text they had before they were written from the settings."""
    config = read_yaml(REPO / "config" / "quick.yaml")
    (run,) = [r for r in lgae_config.main_runs(config) if (r.model, r.latent) == ("lgae-mix", 2)]
    settings = TrainSettings(**lgae_config.training_settings(config, run))
    assert shlex.join(train_arguments(settings, run=False, device="auto")) == (
        "--loss mse --dtype float64 --hyperparameters "
        """'{"encoder_channels":[3,4,4],"decoder_channels":[4,3,3]}' --lr 0.001 --betas 0.9 0.999 """
        "--weight-decay 0.0 --batch-size 64 --max-epochs 30 --patience 10 --device auto --background g q"
    )
    budget = replace(settings, min_improvement=0.001, max_minutes=5)
    assert "--patience 10 --min-improvement 0.001 --max-minutes 5 --compile --device cuda --background" in (
        shlex.join(train_arguments(budget, run=False, device="cuda", compile=True))
    )
