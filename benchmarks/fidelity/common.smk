# The study's definitions: paths, runs, variants and the interpreter (see Snakefile).
import json
import shlex
from pathlib import Path

ROOT = Path(workflow.basedir).parents[1]
OUT = "benchmarks/fidelity/results"
DATA, TRAIN, EVAL = config["data"], config["training"], config["evaluation"]
BASE, ABLATIONS = config["base"], config["ablations"]


include: "../../workflow/rules/python.smk"


PYTHON = PipelinePython(ROOT)


def variant_spec(variant):
    """(model, latent, loss, hyperparameters) of a variant: a base name, or base+ablation."""
    base, _, ablation = variant.partition("+")
    if base not in BASE or (ablation and ablation not in ABLATIONS):
        raise ValueError(
            f"unknown study variant {variant!r}: bases {list(BASE)}, ablations {list(ABLATIONS)}"
        )
    spec = BASE[base]
    return spec["model"], spec["latent"], spec["loss"], ABLATIONS.get(ablation, {})


DEFAULT_RUNS = [(base, seed) for base in BASE for seed in config["seeds"]]
ABLATION_RUNS = [
    (f"{base}+{ablation}", seed)
    for ablation in ABLATIONS
    for base in BASE
    for seed in config["ablation_seeds"]
]
REFERENCE_RUNS = [
    (f"reference-{base}", seed)
    for base in (BASE if config["reference_repo"] else [])
    for seed in config["reference"]["seeds"]
]
RUN = f"{OUT}/runs/{{variant}}/seed{{seed}}"
PROCESSED = f"{OUT}/data/processed"


ruleorder: train_reference > train
ruleorder: train_reference > predict


wildcard_constraints:
    variant=r"[a-z-]+(\+[a-z-]+)?",
    seed=r"\d+",
    cls="|".join(DATA["classes"]),


def metrics(runs):
    return [f"{OUT}/runs/{variant}/seed{seed}/metrics/reconstruction.json" for variant, seed in runs]


def processed(classes, splits):
    return [f"{PROCESSED}/{cls}_{split}.h5" for cls in classes for split in splits]


def train_options(wildcards):
    model, latent, loss, hyper = variant_spec(wildcards.variant)
    return (
        f"--model {model} --latent {latent} --loss {loss} "
        f"--hyperparameters {shlex.quote(json.dumps(hyper, separators=(',', ':')))} "
        f"--lr {TRAIN['lr']} --betas {TRAIN['betas'][0]} {TRAIN['betas'][1]} "
        f"--batch-size {TRAIN['batch_size']} --max-epochs {TRAIN['max_epochs']} "
        f"--patience {TRAIN['patience']} --dtype {TRAIN['dtype']} "
        f"--background {' '.join(DATA['background'])}"
    )
