# Shared definitions: paths and the command that runs a pipeline step through the lgae package.
import json
import os

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
    return [(m, z, s, 1.0) for m, spec in MODELS.items() for z in spec["latents"] for s in TRAIN["seeds"]]


def scan_runs():
    """(model, latent, seed, fraction) of the data-efficiency scan (Fig. 7)."""
    return [(m, z, s, f) for m, z in SCAN["models"].items() for f in SCAN["fractions"] for s in SCAN["seeds"]]


def trained_models(runs):
    return sorted({f"{run_dir(*run)}/model.pt" for run in runs})


def model_spec(wildcards):
    """The config entry of a model (models.<name>), also for models that only appear in the scan."""
    return MODELS.get(wildcards.model, {"loss": None, "hyperparameters": {}})


def train_options(wildcards):
    """Command-line options of `lgae train` taken from the config."""
    spec = model_spec(wildcards)
    loss = f"--loss {spec['loss']}" if spec.get("loss") else ""
    dtype = spec.get("dtype", TRAIN["dtype"])
    epochs = spec.get("max_epochs", TRAIN["max_epochs"])
    hyper = json.dumps(spec.get("hyperparameters", {}), separators=(",", ":"))
    # only when set, so that a finished DAG of an older config is not rerun for the new option
    minimum = TRAIN.get("min_improvement", 0.0)
    min_improvement = f"--min-improvement {minimum} " if minimum else ""
    minutes = spec.get("max_minutes", TRAIN.get("max_minutes"))
    max_minutes = f"--max-minutes {minutes} " if minutes is not None else ""
    return (
        f"{loss} --dtype {dtype} --hyperparameters '{hyper}' --lr {TRAIN['lr']} "
        f"--betas {TRAIN['betas'][0]} {TRAIN['betas'][1]} --weight-decay {TRAIN['weight_decay']} "
        f"--batch-size {TRAIN['batch_size']} --max-epochs {epochs} --patience {TRAIN['patience']} {min_improvement}{max_minutes}"
        f"--device {TRAIN['device']} --background {' '.join(DATA['background'])}"
    )


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


# --- figures and tables: which runs each shows
# Fig. 4 under the paper's protocol shows the models of Fig. 4
FIGURE_MODELS = {"fig4_paper_protocol": "fig4"}


def figure_runs(figure):
    """(model, latent, seed, fraction) of the models a figure shows: the first seed, the full training set."""
    models = config["figures"][FIGURE_MODELS.get(figure, figure)]
    return [(m, z, TRAIN["seeds"][0], 1.0) for m, z in models.items()]


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
FIGURE_SECTIONS = {
    "fig2": "4.3 Reconstruction",
    "fig3": "4.3 Reconstruction",
    "fig4": "4.4 Anomaly detection",
    "fig4_paper_protocol": "4.4 Anomaly detection",
    "fig5": "4.5 Latent space",
    "fig6": "4.5 Latent space",
    "fig7": "4.6 Data efficiency",
    "fig9": "App. C Equivariance",
}
FIGURE_INPUTS = {
    **{f: predictions_of(f) for f in ("fig2", "fig3", "fig4", "fig4_paper_protocol", "fig5", "fig6")},
    "fig7": metrics_of(scan_runs()),
    "fig9": metrics_of(figure_runs("fig9")),
}


TABLE_SECTIONS = {
    "table2": "4.3 Reconstruction",
    "table3": "4.3 Reconstruction",
    "table4": "4.4 Anomaly detection",
}
