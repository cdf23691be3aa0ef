# The study's definitions: paths, runs, variants and the interpreter (see Snakefile).
import json
import shlex
import sys
from pathlib import Path

ROOT = Path(workflow.basedir).parents[1]
sys.path.insert(0, str(ROOT / "src"))
from lgae.pipeline.config import check_files  # noqa: E402

check_files(workflow.configfiles)  # a key given twice is an error, not "the last one wins"
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
    return (
        spec["model"],
        spec["latent"],
        spec["loss"],
        {**spec["hyperparameters"], **ABLATIONS.get(ablation, {})},
    )


sys.path.insert(0, workflow.basedir)
from plan import planned_runs, recorded_runs

PLANNED = planned_runs(config, with_reference=bool(config["reference_repo"]))
RUNS = [(variant, ablation, seed) for variant, _, ablation, seeds in PLANNED for seed in seeds]
DEFAULT_RUNS = [(variant, seed) for variant, ablation, seed in RUNS if ablation == "default"]
REFERENCE_RUNS = [(variant, seed) for variant, ablation, seed in RUNS if ablation == "authors' code"]
ABLATION_RUNS = [
    (variant, seed) for variant, ablation, seed in RUNS if ablation not in ("default", "authors' code")
]
EARLIER = Path(workflow.basedir) / config["earlier_runs"] if config.get("earlier_runs") else None
if EARLIER and not EARLIER.is_file():
    raise ValueError(
        f"earlier_runs: {EARLIER} does not exist; name a CSV that summarise.py wrote, relative to "
        "benchmarks/fidelity, or pass --config earlier_runs='' to make every run here"
    )
RECORDED = recorded_runs(EARLIER) if EARLIER else set()
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
