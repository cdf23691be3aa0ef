# Shared definitions: paths and the command that runs a pipeline step through the lgae package.
import json
import os

DATA = config["data"]
SOURCE = DATA["source"]
CLASSES = DATA["classes"]
SPLITS = list(names.SPLITS)
# Rules run the package from this checkout, so that a conda env (which strips PYTHONPATH) needs no install.
LGAE = f"PYTHONPATH={workflow.basedir}/src python -m lgae"


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


def run_dir(model, latent, seed, fraction):
    return f"results/models/{model}/{latent}/seed{seed}/frac{fraction_label(fraction)}"


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
    hyper = json.dumps(spec.get("hyperparameters", {}), separators=(",", ":"))
    return (
        f"{loss} --dtype {dtype} --hyperparameters '{hyper}' --lr {TRAIN['lr']} "
        f"--betas {TRAIN['betas'][0]} {TRAIN['betas'][1]} --weight-decay {TRAIN['weight_decay']} "
        f"--batch-size {TRAIN['batch_size']} --max-epochs {TRAIN['max_epochs']} --patience {TRAIN['patience']} "
        f"--device {TRAIN['device']} --background {' '.join(DATA['background'])}"
    )
