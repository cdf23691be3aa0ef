"""Configuration: schema validation plus the cross-key checks a JSON schema cannot express.

The schema (``config/schema.yaml``) leaves the enums of its name definitions empty; :func:`schema` fills
them from :mod:`lgae.names`, so that model, class and loss names live in one place. Snakemake validates
its config through :func:`validate` too. Errors name the key and say how to fix it."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema

from lgae import names
from lgae.errors import ConfigError, LGAEError
from lgae.io import read_yaml
from lgae.pipeline.identity import Run
from lgae.pipeline.targets import FIGURE_MODEL_KEYS, FIGURES, target

REPO_ROOT = Path(__file__).resolve().parents[3]
SCHEMA_PATH = REPO_ROOT / "config" / "schema.yaml"


#: the schema's name definitions and where their values live
_NAME_ENUMS: dict[str, tuple[str, ...]] = {
    "model": names.MODEL_NAMES,
    "jet_class": names.CLASSES,
    "source": names.SOURCES,
    "detector": names.DETECTORS,
    "training_loss": names.TRAINING_LOSSES,
    "score": names.LOSS_NAMES,
    "dtype": names.DTYPE_NAMES,
}


def schema(schema_path: str | os.PathLike[str] = SCHEMA_PATH) -> dict[str, Any]:
    """The configuration schema, with its name enums filled in from :mod:`lgae.names`."""
    loaded = read_yaml(schema_path)
    for key, values in _NAME_ENUMS.items():
        loaded["$defs"][key]["enum"] = list(values)
    return loaded


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def validate(
    config: dict[str, Any], schema_path: str | os.PathLike[str] = SCHEMA_PATH, jobs: bool = True
) -> dict[str, Any]:
    """Validate against the schema, then check consistency between keys and (``jobs``) what the jobs will
    check of their settings (:func:`check_jobs`, seconds: it builds and runs every model once)."""
    validator = jsonschema.Draft202012Validator(schema(schema_path))
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for error in errors:
            if error.validator == "additionalProperties":
                allowed = sorted(error.schema.get("properties", {}))
                lines.append(f"{_key_path(error)}: {error.message} (allowed keys: {', '.join(allowed)})")
            else:
                lines.append(f"{_key_path(error)}: {error.message}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    check_consistency(config)
    if jobs:
        check_jobs(config)
    return config


def check_consistency(config: dict[str, Any]) -> None:
    """Relations between keys: background and signals are prepared classes, the split sums to 1, ..."""
    data = config["data"]
    classes = set(data["classes"])
    for key in ("background", "signals"):
        missing = [c for c in data[key] if c not in classes]
        if missing:
            raise ConfigError(
                f"data.{key} lists {missing}, which data.classes does not prepare; add them there"
            )
    overlap = set(data["background"]) & set(data["signals"])
    if overlap:
        raise ConfigError(
            f"data.background and data.signals share {sorted(overlap)}; a class is one or the other"
        )
    if abs(sum(data["split"]) - 1.0) > 1e-9:
        raise ConfigError(f"data.split = {data['split']} sums to {sum(data['split'])}, not 1")
    _check_split(data)
    pythia = data["pythia"]
    if pythia["jet_pt_min"] >= pythia["jet_pt_max"]:
        raise ConfigError("data.pythia.jet_pt_min must be below data.pythia.jet_pt_max")
    if pythia["pthat_max"] > 0 and pythia["pthat_min"] >= pythia["pthat_max"]:
        raise ConfigError("data.pythia.pthat_min must be below data.pythia.pthat_max (or set pthat_max <= 0)")
    _check_models(config)
    _check_figures(config)


def _check_split(data: dict[str, Any]) -> None:
    """Every split gets jets: an empty validation split would make the loss read 0 and stop training
    silently, an empty test split would leave nothing to evaluate."""
    empty = [name for name, fraction in zip(names.SPLITS, data["split"], strict=True) if fraction <= 0]
    if empty:
        raise ConfigError(
            f"data.split = {data['split']}: the {' and '.join(empty)} split would be empty; "
            "give every split a positive fraction"
        )
    if data["source"] == "pythia":
        n_jets = data["pythia"]["jets_per_class"]
        n_train, n_valid = (round(f * n_jets) for f in data["split"][:2])
        sizes = (n_train, n_valid, n_jets - n_train - n_valid)
        small = [name for name, size in zip(names.SPLITS, sizes, strict=True) if size < 1]
        if small:
            raise ConfigError(
                f"data.pythia.jets_per_class = {n_jets} split {data['split']} leaves the "
                f"{' and '.join(small)} split empty (sizes {list(sizes)}); generate more jets"
            )


def _check_models(config: dict[str, Any]) -> None:
    """Per model: a loss it can train with, hyperparameters it accepts (names and values), no latent size
    outside ``latents``, and the data's number of particles."""
    hyperparameters = {}
    for model, spec in config["models"].items():
        key = f"models.{model}"
        if spec["loss"] not in names.MODEL_TRAINING_LOSSES[model]:
            raise ConfigError(
                f"{key}.loss = {spec['loss']}: {model} trains with "
                f"{' or '.join(names.MODEL_TRAINING_LOSSES[model])}"
            )
        latent_key = names.LATENT_ARGUMENTS[model]
        if latent_key in spec["hyperparameters"]:
            raise ConfigError(
                f"{key}.hyperparameters.{latent_key}: the latent size is set by {key}.latents; "
                "remove it from the hyperparameters"
            )
        particles = spec["hyperparameters"].get("num_particles", config["data"]["num_particles"])
        if particles != config["data"]["num_particles"]:
            raise ConfigError(
                f"{key}.hyperparameters.num_particles = {particles}, but the data has "
                f"data.num_particles = {config['data']['num_particles']} per jet; make them agree"
            )
        if spec["hyperparameters"]:
            hyperparameters[model] = spec["hyperparameters"]
    if hyperparameters:  # the registry imports torch: only when there is something to check
        from lgae.models.registry import check_hyperparameters

        for model, values in hyperparameters.items():
            check_hyperparameters(model, values, key=f"models.{model}.hyperparameters")


# ------------------------------------------------------------------------- what the jobs will run
def main_runs(config: dict[str, Any]) -> list[Run]:
    """Every model of the paper's tables and figures (fraction 1)."""
    seeds = config["training"]["seeds"]
    return [Run(m, z, s) for m, spec in config["models"].items() for z in spec["latents"] for s in seeds]


def scan_runs(config: dict[str, Any]) -> list[Run]:
    """The runs of the data-efficiency scan (Fig. 7)."""
    scan = config["data_efficiency"]
    return [
        Run(m, z, s, f) for m, z in scan["models"].items() for f in scan["fractions"] for s in scan["seeds"]
    ]


def training_settings(config: dict[str, Any], run: Run) -> dict[str, Any]:
    """The arguments of :class:`lgae.pipeline.settings.TrainSettings` the train rule gives one run (its
    command-line options say the same): the model's own entry where it has one (a model of the scan only
    trains with its paper loss, no hyperparameters and the training defaults). A key the configuration
    leaves out (it may, the schema says which) keeps the default of TrainSettings."""
    train = config["training"]
    spec = config["models"].get(run.model, {"loss": None, "hyperparameters": {}})
    optional = {key: train[key] for key in ("min_improvement", "max_minutes") if key in train}
    return {
        **run.settings(),
        "loss": spec.get("loss"),
        "hyperparameters": dict(spec.get("hyperparameters", {})),
        "lr": train["lr"],
        "betas": tuple(train["betas"]),
        "weight_decay": train["weight_decay"],
        "batch_size": train["batch_size"],
        "max_epochs": train["max_epochs"],
        "patience": train["patience"],
        **optional,
        "dtype": train["dtype"],
        # a model's own entry may set these
        **{key: spec[key] for key in ("max_epochs", "max_minutes", "dtype") if key in spec},
        "background": tuple(config["data"]["background"]),
    }


def _class_jets(config: dict[str, Any], jet_class: str) -> int:
    """How many jets a class's raw file will hold."""
    from lgae.pipeline.data.jetnet_format import JETNET_JETS

    data = config["data"]
    return data["pythia"]["jets_per_class"] if data["source"] == "pythia" else JETNET_JETS[jet_class]


def test_jets(config: dict[str, Any], jet_class: str) -> int:
    """How many jets the test split of a class will hold (the remainder of the train and valid splits)."""
    n_jets = _class_jets(config, jet_class)
    n_train, n_valid = (round(f * n_jets) for f in config["data"]["split"][:2])
    return n_jets - n_train - n_valid


def generation_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The arguments of :class:`lgae.pipeline.data.generate.GenerationSettings` the generate rule gives."""
    pythia = config["data"]["pythia"]
    keys = ("seed", "chunk_size", "mpi", "pthat_min", "pthat_max", "jet_pt_min", "jet_pt_max")
    keys += ("jet_eta_max", "jet_radius", "match_dr", "detector")
    return {**{k: pythia[k] for k in keys}, "num_particles": config["data"]["num_particles"]}


def check_generation(config: dict[str, Any]) -> None:
    """What the generate job checks of its settings, and what preprocessing checks of the jets it makes."""
    from lgae.pipeline.data.checks import MAX_JET_ETA
    from lgae.pipeline.data.generate import GenerationSettings

    try:
        GenerationSettings(**generation_settings(config))
    except LGAEError as exc:
        raise ConfigError(f"data.pythia: {exc}") from exc
    if config["data"]["pythia"]["jet_eta_max"] > MAX_JET_ETA:
        raise ConfigError(
            f"data.pythia.jet_eta_max = {config['data']['pythia']['jet_eta_max']}: preprocessing refuses jets "
            f"beyond |η| = {MAX_JET_ETA}, where no detector measures them; ask for at most {MAX_JET_ETA}"
        )


#: the models (name, arguments, dtype, loss) check_jobs has built and run in this process
_MODELS_THAT_RUN: set[str] = set()


def check_jobs(config: dict[str, Any]) -> None:
    """What every job of the configuration will check of its settings, checked now with the jobs' own
    code. The workflow runs the same checks job by job (:func:`check_training`, :func:`check_prediction`,
    :func:`check_figure`, :func:`check_generation` in the rules' parameters), which Snakemake evaluates
    for every job it plans before it runs (or deletes the outputs of) any: a job that refused its settings
    only after Snakemake had deleted its finished outputs would destroy results."""
    if config["data"]["source"] == "pythia":
        check_generation(config)
    for run in dict.fromkeys(main_runs(config) + scan_runs(config)):
        check_training(config, run)
    check_prediction(config)
    check_figure(config, "fig2")


def check_training(config: dict[str, Any], run: Run) -> None:
    """One training's settings through :class:`lgae.pipeline.training.TrainSettings`, and its model built and run
    once on two synthetic jets (:func:`lgae.pipeline.training.check_model_runs`), as `lgae train` does first."""
    from lgae.models.io import DTYPES
    from lgae.models.registry import build
    from lgae.pipeline.settings import TrainSettings
    from lgae.pipeline.training import check_model_runs, model_options

    key = f"models.{run.model}" if run in main_runs(config) else f"data_efficiency (models.{run.model})"
    try:
        settings = TrainSettings(**training_settings(config, run))
        options = model_options(settings)
        identity = json.dumps([run.model, options, settings.dtype, settings.loss], sort_keys=True)
        if identity not in _MODELS_THAT_RUN:  # the same model is checked once per process
            check_model_runs(build(run.model, **options).to(DTYPES[settings.dtype]), settings)
            _MODELS_THAT_RUN.add(identity)
    except LGAEError as exc:
        raise ConfigError(
            f"{key} (latent {run.latent}, seed {run.seed}, fraction {run.fraction_label}): {exc}"
        ) from exc


def check_prediction(config: dict[str, Any]) -> None:
    """What `lgae predict` checks of its options: no more equivariance jets than QCD test jets."""
    evaluation = config["evaluation"]
    qcd = sum(test_jets(config, c) for c in config["data"]["background"])
    if evaluation["equivariance_jets"] > qcd:
        raise ConfigError(
            f"evaluation.equivariance_jets = {evaluation['equivariance_jets']}: the QCD test split will hold "
            f"{qcd} jets ({' + '.join(config['data']['background'])}); ask for at most {qcd}"
        )


def check_figure(config: dict[str, Any], figure: str) -> None:
    """What `lgae figure` checks of its options beyond the schema: Fig. 2's sample jets exist."""
    from lgae.pipeline.inference import IMAGE_SAMPLE

    if target(figure, "figure").name != "fig2":
        return
    candidates = sum(min(IMAGE_SAMPLE, test_jets(config, c)) for c in config["data"]["background"])
    if config["figures"]["sample_jets"] > candidates:
        raise ConfigError(
            f"figures.sample_jets = {config['figures']['sample_jets']}: Fig. 2 picks its single jets among "
            f"the {candidates} QCD test jets whose images every model keeps; ask for at most {candidates}"
        )


def _check_figures(config: dict[str, Any]) -> None:
    """Every model a figure shows is one the configuration trains (seed training.seeds[0]); the figures of
    the Lorentz latent or of equivariance show LGAEs only (lgae.pipeline.targets)."""
    models = config["models"]
    for figure in FIGURE_MODEL_KEYS:
        for model, latent in config["figures"][figure].items():
            key = f"figures.{figure}.{model}"
            if FIGURES[figure].lgae_only and not model.startswith("lgae"):
                raise ConfigError(
                    f"{key}: {figure} shows the Lorentz latent or equivariance, LGAE models only"
                )
            trained = models.get(model, {}).get("latents", [])
            if latent not in trained:
                raise ConfigError(
                    f"{key} = {latent}: this configuration does not train {model} with latent {latent} "
                    f"(models.{model}.latents = {trained}); add it there or show another model"
                )
    evaluation = config["evaluation"]
    if evaluation["anomaly_score"] == "emd" and not evaluation["emd"]:
        raise ConfigError("evaluation.anomaly_score is 'emd' but evaluation.emd is false; enable it")


def check_files(paths: Sequence[str | os.PathLike[str]]) -> None:
    """The config files Snakemake read (``workflow.configfiles``), read again strictly: UTF-8 and no key
    given twice (Snakemake's reader keeps the last of two)."""
    for path in paths:
        read_yaml(path)


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a YAML config file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    config = read_yaml(path)
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return validate(config)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
