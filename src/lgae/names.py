"""Every name the pipeline shares, defined once: read by the library, the config schema, the command
line and the Snakemake wildcards (no dependencies, so that anything can import it cheaply)."""

from __future__ import annotations

#: JetNet's jet classes, in its label order (g = 0, …, z = 4)
CLASSES: tuple[str, ...] = ("g", "q", "t", "w", "z")
CLASS_NAMES: dict[str, str] = {
    "g": "gluon",
    "q": "light quark",
    "t": "top quark",
    "w": "W boson",
    "z": "Z boson",
}
#: the metrics files of every evaluated run (``lgae evaluate`` writes ``<name>.json`` of each)
METRIC_FILES: tuple[str, ...] = ("reconstruction", "anomaly", "latent", "equivariance")
#: the splits of every processed class file
SPLITS: tuple[str, ...] = ("train", "valid", "test")
#: where jets come from
SOURCES: tuple[str, ...] = ("jetnet", "pythia")
#: what generated jets are made of: particles, or the objects of a CMS-like detector (lgae.pipeline.data.detector)
DETECTORS: tuple[str, ...] = ("none", "cms")
#: the models of ``lgae.models.build``
MODEL_NAMES: tuple[str, ...] = ("lgae-min-max", "lgae-mix", "lgae-mean", "gnnae-jl", "gnnae-pl", "cnnae")
#: every reconstruction loss / distance, and those a model can be trained with (EMD is not differentiable)
LOSS_NAMES: tuple[str, ...] = ("chamfer", "mse", "hungarian", "emd")
TRAINING_LOSSES: tuple[str, ...] = ("chamfer", "mse", "hungarian")
#: the model families whose anomaly scores the authors' code defines (lgae.paper.evaluation.paper_protocol)
PAPER_PROTOCOL_FAMILIES: tuple[str, ...] = ("lgae", "gnnae", "cnnae")
#: how a run's ``stopped_by`` begins when its wall-clock budget stopped it (``training.max_minutes``)
STOPPED_BY_TIME_BUDGET = "time budget"
#: floating-point precisions of training and evaluation
DTYPE_NAMES: tuple[str, ...] = ("float32", "float64")

#: the hyperparameter that sets each model's latent size (τ_(1/2,1/2), dim(L) or d): training sets it from
#: ``--latent`` / ``models.<name>.latents``, so it may not also appear among a model's hyperparameters
LATENT_ARGUMENTS: dict[str, str] = {
    "lgae-min-max": "latent_vectors",
    "lgae-mix": "latent_vectors",
    "lgae-mean": "latent_vectors",
    "gnnae-jl": "latent_dim",
    "gnnae-pl": "latent_dim",
    "cnnae": "latent_dim",
}
#: the training losses each model supports: the CNNAE reconstructs an image, which only MSE compares
MODEL_TRAINING_LOSSES: dict[str, tuple[str, ...]] = {
    **{name: TRAINING_LOSSES for name in MODEL_NAMES if name != "cnnae"},
    "cnnae": ("mse",),
}

#: how the paper writes the model names
MODEL_DISPLAY: dict[str, str] = {
    "lgae-min-max": "LGAE-Min-Max",
    "lgae-mix": "LGAE-Mix",
    "lgae-mean": "LGAE-Mean",
    "gnnae-jl": "GNNAE-JL",
    "gnnae-pl": "GNNAE-PL",
    "cnnae": "CNNAE",
}


def model_label(model: str, latent: int) -> str:
    """The paper's name of a model with its latent size, e.g. ``LGAE-Mix (τ=9)``."""
    name = MODEL_DISPLAY.get(model, model)
    if model.startswith("lgae"):
        return f"{name} (τ={latent})"
    if model == "gnnae-pl":
        return f"{name} (dim(L)={latent}×30)"
    return f"{name} (dim(L)={latent})"
