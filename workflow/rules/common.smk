# Shared definitions: paths and the command that runs a pipeline step through the lgae package.
import json
import os
import shlex
from dataclasses import asdict

from lgae.cli.train import train_arguments
from lgae.pipeline.config import check_figure, check_generation, check_prediction, check_training
from lgae.pipeline.config import main_runs as planned_main_runs
from lgae.pipeline.config import scan_runs as planned_scan_runs
from lgae.pipeline.config import training_settings
from lgae.pipeline.identity import Run
from lgae.pipeline.settings import TrainSettings
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
    frac=Run.FRACTION_PATTERN,


# a run's directories, as the rules match them (lgae.pipeline.identity.Run: one definition)
RUN = Run.pattern("models")
PREDICTIONS = Run.pattern("predictions")
METRICS = Run.pattern("metrics")
RUN_NAME = Run.FLAT_PATTERN  # of a run's logs and benchmarks
METRIC_NAMES = list(names.METRIC_FILES)
EVAL = config["evaluation"]


def main_runs():
    """Every model of the paper's tables and figures (lgae.pipeline.identity.Run)."""
    return planned_main_runs(config)


def scan_runs():
    """The runs of the data-efficiency scan (Fig. 7)."""
    return planned_scan_runs(config)


def run_names(runs):
    """The runs as `--expect` names them (MODEL:LATENT:SEED:FRACTION), in order."""
    return " ".join(str(run) for run in runs)


def trained_models(runs):
    return sorted({run.model_file() for run in runs})


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
    """The run (lgae.pipeline.identity.Run) of a job's wildcards."""
    return Run.from_wildcards(wildcards)


def run_settings(wildcards):
    """The training settings of one run (lgae.pipeline.settings.TrainSettings): what the config says for it
    (lgae.pipeline.config.training_settings)."""
    return TrainSettings(**training_settings(config, run_of(wildcards)))


def train_options(wildcards):
    """Command-line options of `lgae train` for one run's settings (the run itself is in the rule's shell)."""
    options = train_arguments(
        run_settings(wildcards), run=False, device=TRAIN["device"], compile=TRAIN.get("compile", False)
    )
    return shlex.join(options)


def expected_run(wildcards):
    """`--expect` of the steps that read one run's files: every training setting its model must carry,
    so that a model (or its predictions) of another run or of other settings is refused."""
    settings = asdict(run_settings(wildcards))
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
    """The runs (lgae.pipeline.identity.Run) a figure shows: the data-efficiency scan, or the models of
    its key of `figures:` at the first seed and the full training set."""
    shown = FIGURES[figure]
    if shown.shows_scan:
        return scan_runs()
    return [Run(m, z, TRAIN["seeds"][0]) for m, z in config["figures"][shown.figure_key].items()]


def predictions_of(figure):
    return [f"{run.predictions_dir()}/{cls}.h5" for run in figure_runs(figure) for cls in CLASSES]


def metrics_of(runs):
    return [run.metrics_file(name) for run in runs for name in METRIC_NAMES]


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
