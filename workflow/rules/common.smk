# Shared definitions: paths and the command that runs a pipeline step through the lgae package.
import json
import os
import shlex
from dataclasses import asdict

from lgae.pipeline.config import check_figure, check_generation, check_prediction, check_training
from lgae.pipeline.config import main_runs as planned_main_runs
from lgae.pipeline.config import scan_runs as planned_scan_runs
from lgae.pipeline.config import training_settings
from lgae.pipeline.targets import FIGURES, TABLES

DATA = config["data"]
SOURCE = DATA["source"]
CLASSES = DATA["classes"]
SPLITS = list(names.SPLITS)


include: "python.smk"


LGAE = PipelinePython(workflow.basedir, "lgae")  # `lgae` from this checkout


wildcard_constraints:
    cls="|".join(names.CLASSES),
    source="|".join(names.SOURCES),
    split="|".join(SPLITS),


def processed(cls, split, source=SOURCE):
    """Path of one processed split file."""
    return f"results/data/processed/{source}/{cls}_{split}.h5"


def jetnet_md5_args(wildcards):
    """`--md5 CLASS=MD5` when the config pins the checksum of this class."""
    md5 = DATA["jetnet"]["md5"].get(wildcards.cls)
    return f"--md5 {wildcards.cls}={md5}" if md5 else ""


TRAIN = config["training"]
MODELS = config["models"]
SCAN = config["data_efficiency"]


wildcard_constraints:
    model="|".join(names.MODEL_NAMES),
    latent=r"\d+",
    seed=r"\d+",
    frac=r"[0-9.]+(e-?[0-9]+)?",


def fraction_label(fraction):
    """The canonical text of a training fraction in paths (1.0 -> "1", 0.0001 -> "0.0001")."""
    return f"{float(fraction):g}"


RUN = "results/models/{model}/{latent}/seed{seed}/frac{frac}"
PREDICTIONS = "results/predictions/{model}/{latent}/seed{seed}/frac{frac}"
METRICS = "results/metrics/{model}/{latent}/seed{seed}/frac{frac}"
METRIC_NAMES = ["reconstruction", "anomaly", "latent", "equivariance"]
EVAL = config["evaluation"]


def run_dir(model, latent, seed, fraction):
    return RUN.format(model=model, latent=latent, seed=seed, frac=fraction_label(fraction))


def metrics_file(run, name):
    """The metrics file ``name`` of a run (model, latent, seed, fraction)."""
    model, latent, seed, fraction = run
    return f"{METRICS}/{name}.json".format(
        model=model, latent=latent, seed=seed, frac=fraction_label(fraction)
    )


def predictions_dir(run):
    model, latent, seed, fraction = run
    return PREDICTIONS.format(model=model, latent=latent, seed=seed, frac=fraction_label(fraction))


def main_runs():
    """(model, latent, seed, fraction) of every model of the paper's tables and figures."""
    return planned_main_runs(config)


def scan_runs():
    """(model, latent, seed, fraction) of the data-efficiency scan (Fig. 7)."""
    return planned_scan_runs(config)


def run_names(runs):
    """The runs as `--expect` names them (MODEL:LATENT:SEED:FRACTION), in order."""
    return " ".join(f"{m}:{z}:{s}:{fraction_label(f)}" for m, z, s, f in runs)


def trained_models(runs):
    return sorted({f"{run_dir(*run)}/model.pt" for run in runs})


def checked(check, value):
    """A params function: ``value`` (or ``value(wildcards)``), once ``check(wildcards)`` has passed.
    Snakemake computes the params of every job it plans before it runs any job or deletes any old
    output, so a setting a job would refuse stops the run first, with the job's own check
    (lgae.pipeline.config.check_jobs), and a target that does not need that job is not held up by it."""

    def params(wildcards):
        check(wildcards)
        return value(wildcards) if callable(value) else value

    return params


def run_of(wildcards):
    """(model, latent, seed, fraction) of a job's wildcards."""
    return wildcards.model, int(wildcards.latent), int(wildcards.seed), float(wildcards.frac)


def run_settings(wildcards):
    """The training settings of one run (lgae.pipeline.config.training_settings: what the config says for it)."""
    return training_settings(
        config, wildcards.model, int(wildcards.latent), int(wildcards.seed), float(wildcards.frac)
    )


def train_options(wildcards):
    """Command-line options of `lgae train` taken from the config."""
    settings = run_settings(wildcards)
    loss = f"--loss {settings['loss']}" if settings["loss"] else ""
    hyper = json.dumps(settings["hyperparameters"], separators=(",", ":"))
    # only when set, so that a finished DAG of an older config is not rerun for the new option
    minimum = settings["min_improvement"]
    min_improvement = f"--min-improvement {minimum} " if minimum else ""
    minutes = settings["max_minutes"]
    max_minutes = f"--max-minutes {minutes} " if minutes is not None else ""
    compile_flag = "--compile " if TRAIN.get("compile") else ""
    return (
        f"{loss} --dtype {settings['dtype']} --hyperparameters '{hyper}' --lr {settings['lr']} "
        f"--betas {settings['betas'][0]} {settings['betas'][1]} --weight-decay {settings['weight_decay']} "
        f"--batch-size {settings['batch_size']} --max-epochs {settings['max_epochs']} "
        f"--patience {settings['patience']} {min_improvement}{max_minutes}{compile_flag}"
        f"--device {TRAIN['device']} --background {' '.join(settings['background'])}"
    )


def expected_run(wildcards):
    """`--expect` of the steps that read one run's files: every training setting its model must carry,
    so that a model (or its predictions) of another run or of other settings is refused."""
    from lgae.pipeline.training import TrainSettings

    settings = asdict(TrainSettings(**run_settings(wildcards)))
    return shlex.quote(json.dumps(settings, separators=(",", ":"), sort_keys=True))


def predict_options(wildcards):
    """Command-line options of `lgae predict` taken from the config."""
    return (
        f"--classes {' '.join(CLASSES)} --background {' '.join(DATA['background'])} "
        f"--batch-size {EVAL['batch_size']} {emd_option()} --equivariance-jets {EVAL['equivariance_jets']} "
        f"--device {TRAIN['device']}"
    )


def emd_option():
    """`--emd` or `--no-emd`: the EMD score of predict, and among the paper-protocol scores."""
    return "--emd" if EVAL["emd"] else "--no-emd"


def evaluate_options(wildcards):
    """Command-line options of `lgae evaluate` taken from the config."""
    return (
        f"--background {' '.join(DATA['background'])} --signals {' '.join(DATA['signals'])} "
        f"--relative-error {EVAL['relative_error']} --matching {EVAL['matching']} {emd_option()} "
        "--no-progress"
    )


# --- figures and tables (lgae.pipeline.targets): which runs each shows
def figure_runs(figure):
    """(model, latent, seed, fraction) of the runs a figure shows: the data-efficiency scan, or the
    models of its key of `figures:` at the first seed and the full training set."""
    shown = FIGURES[figure]
    if shown.shows_scan:
        return scan_runs()
    return [(m, z, TRAIN["seeds"][0], 1.0) for m, z in config["figures"][shown.figure_key].items()]


def predictions_of(figure):
    return [f"{predictions_dir(run)}/{cls}.h5" for run in figure_runs(figure) for cls in CLASSES]


def metrics_of(runs):
    return [metrics_file(run, name) for run in runs for name in METRIC_NAMES]


def directories(files):
    """The directories of ``files``, in order, each once (the `--inputs` of the lgae figure command)."""
    return " ".join(dict.fromkeys(os.path.dirname(f) for f in files))


FIGURE_OPTIONS = (
    f"--background {' '.join(DATA['background'])} --signals {' '.join(DATA['signals'])} "
    f"--anomaly-score {EVAL['anomaly_score']} --image-max-r {config['figures']['image_max_r']} "
    f"--image-npix {config['figures']['image_npix']} --sample-jets {config['figures']['sample_jets']} "
    f"--sample-seed {config['figures']['sample_seed']} {emd_option()}"
)
# the files each figure reads: per run, its predictions of every class, or its metrics
FIGURE_INPUTS = {
    f: predictions_of(f) if shown.reads == "predictions" else metrics_of(figure_runs(f))
    for f, shown in FIGURES.items()
}
# the run each of a figure's input directories holds, in their order
FIGURE_RUNS = {f: run_names(figure_runs(f)) for f in FIGURES}
