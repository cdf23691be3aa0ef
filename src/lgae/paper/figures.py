"""From prediction files and metrics to the paper's figures: the data each figure shows, then its plot.

Each function takes the models' predictions (or metrics) as data and returns the figure and its caption
(the data, the models with their epochs, the seeds), which the figure also carries as a footer. Models
are keyed by :class:`~lgae.paper.plots.style.ModelRun`. No paths: :mod:`lgae.cli.figure` reads and writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from sklearn.metrics import auc

from lgae.errors import DataError
from lgae.jets import relative_coordinates
from lgae.names import model_label
from lgae.paper.evaluation.anomaly import COMBINED, roc
from lgae.paper.evaluation.paper_protocol import PROTOCOL_NAME, best_rocs, family_of, paper_scores
from lgae.paper.plots.data_efficiency import data_efficiency_figure
from lgae.paper.plots.equivariance import equivariance_figure
from lgae.paper.plots.features import feature_figure
from lgae.paper.plots.images import ImageColumn, jet_image_figure, particle_images
from lgae.paper.plots.latent import correlation_figure, mass_figure
from lgae.paper.plots.roc import roc_figure
from lgae.paper.plots.style import ModelRun, footer_text
from lgae.paper.published import numbers
from lgae.paper.results import RunMetrics, anomaly_score_name
from lgae.pipeline.inference import JET_FEATURES, Predictions, image_sample
from lgae.pipeline.seeding import rng
from lgae.pipeline.targets import FIGURES, target

__all__ = ["BUILDERS", "builder"]

GEV_PER_TEV = 1000.0
ModelPredictions = Mapping[ModelRun, Mapping[str, Predictions]]
#: a figure from predictions (models, source, options) or from metrics (runs, source)
Builder = Callable[..., tuple[Figure, str]]

#: the functions that draw the figures, by the registry's builder names (lgae.pipeline.targets)
BUILDERS: dict[str, Builder] = {}


def _builds(function: Builder) -> Builder:
    """Registers a figure's function under its name, which a figure of the registry must name."""
    if function.__name__ not in {f.builder for f in FIGURES.values()}:
        raise ValueError(
            f"{function.__name__}: no figure of lgae.pipeline.targets is drawn by it; add it there"
        )
    BUILDERS[function.__name__] = function
    return function


def builder(name: str) -> Builder:
    """The function that draws figure ``name``: from predictions when the registry says it reads them
    (``builder(name)(models, source, options)``), else from metrics (``builder(name)(runs, source)``)."""
    return BUILDERS[target(name, "figure").builder]


def _concat(parts: Sequence[Predictions], name: str) -> np.ndarray:
    return np.concatenate([getattr(p, name) for p in parts])


def _caption(title: str, source: str, runs: Sequence[ModelRun], extra: str = "") -> str:
    """``title`` (a figure's heading in the registry), then the data, the models and their epochs, the seeds."""
    return f"{title}. {footer_text(source, list(runs))}{(' ' + extra) if extra else ''}"


# ------------------------------------------------------------------------------------------- Fig. 2
def _average_image(
    p4: np.ndarray, mask: np.ndarray, npix: int, max_r: float, chunk: int = 4096
) -> np.ndarray:
    total = np.zeros((npix, npix))
    for i in range(0, len(p4), chunk):
        total += particle_images(p4[i : i + chunk], mask[i : i + chunk], npix, max_r).sum(axis=0)
    return total / len(p4)


@_builds
def fig2(models: ModelPredictions, source: str, options: Mapping[str, Any]) -> tuple[Figure, str]:
    """Jet images: target, then each model; the average QCD jet and sample QCD jets."""
    npix, max_r, background = options["npix"], options["max_r"], options["background"]
    first = next(iter(models.values()))
    masks = {c: first[c].mask for c in background}
    # the sample jets are among the rows whose image every CNNAE file keeps (the same for every model)
    candidates = [(c, int(row)) for c in background for row in image_sample(len(first[c]), c)]
    picked = rng(options["sample_seed"], "fig2").permutation(len(candidates))[: options["sample_jets"]]
    samples = [candidates[k] for k in sorted(picked)]

    def particle_column(title: str, p4: Mapping[str, np.ndarray]) -> ImageColumn:
        n_jets = sum(len(p4[c]) for c in background)
        mean = sum(_average_image(p4[c], masks[c], npix, max_r) * len(p4[c]) for c in background) / n_jets
        chosen = np.stack([p4[c][row] for c, row in samples])
        chosen_masks = np.stack([masks[c][row] for c, row in samples])
        return ImageColumn(title, mean, particle_images(chosen, chosen_masks, npix, max_r), max_r)

    def image_column(title: str, predictions: Mapping[str, Predictions]) -> ImageColumn:
        n_jets = sum(len(predictions[c]) for c in background)
        mean = sum(predictions[c].recon_image_mean * len(predictions[c]) for c in background) / n_jets
        images = [
            predictions[c].recon_images[int(np.searchsorted(predictions[c].image_index, row))]
            for c, row in samples
        ]
        return ImageColumn(
            title, mean, np.stack(images), float(predictions[background[0]].attrs["image_max_r"])
        )

    columns = [particle_column("Target", {c: first[c].p4 for c in background})]
    for run, predictions in models.items():
        if predictions[background[0]].recon_p4 is None:
            columns.append(image_column(run.label, predictions))
        else:
            columns.append(particle_column(run.label, {c: predictions[c].recon_p4 for c in background}))
    caption = _caption(
        FIGURES["fig2"].heading,
        source,
        list(models),
        f"Particle clouds pixelated on {npix}×{npix} over ±{max_r}; the CNNAE shown on its own output grid.",
    )
    return jet_image_figure(columns, caption, view_r=max_r), caption


# ------------------------------------------------------------------------------------------- Fig. 3
def _particle_features(p4: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    rel, _, _, _ = relative_coordinates(torch.as_tensor(p4, dtype=torch.float64), torch.as_tensor(mask))
    real = rel.numpy()[mask]
    return {"pt_rel": real[:, 0], "eta_rel": real[:, 1], "phi_rel": real[:, 2]}


def _jet_columns(features: np.ndarray) -> dict[str, np.ndarray]:
    out = {name: features[:, k] for k, name in enumerate(JET_FEATURES)}
    return {**out, "mass": out["mass"] * GEV_PER_TEV, "pt": out["pt"] * GEV_PER_TEV}


@_builds
def fig3(models: ModelPredictions, source: str, options: Mapping[str, Any]) -> tuple[Figure, str]:
    """Particle and jet feature distributions of the QCD test jets and of each model's reconstruction."""
    background = options["background"]
    first = [next(iter(models.values()))[c] for c in background]
    target = {
        **_particle_features(_concat(first, "p4"), _concat(first, "mask")),
        **_jet_columns(_concat(first, "jet_features")),
    }
    recon = {}
    for run, predictions in models.items():
        parts = [predictions[c] for c in background]
        values = _jet_columns(_concat(parts, "recon_jet_features"))
        if parts[0].recon_p4 is not None:
            values.update(_particle_features(_concat(parts, "recon_p4"), _concat(parts, "mask")))
        recon[run] = values
    caption = _caption(
        FIGURES["fig3"].heading,
        source,
        list(models),
        "The CNNAE has no particle outputs (its jet features come from its pixels).",
    )
    return feature_figure(target, recon, caption), caption


# ------------------------------------------------------------------------------------------- Fig. 4
def roc_curves(
    models: ModelPredictions, background: Sequence[str], signals: Sequence[str], score: str
) -> dict:
    """``curves[signal][run] = (ε_b, ε_s, AUC)`` of each model's anomaly score, signals and combined."""
    curves: dict[str, dict[ModelRun, tuple[np.ndarray, np.ndarray, float]]] = {}
    for run, predictions in models.items():
        name = anomaly_score_name(run.model, score)
        qcd = np.concatenate([predictions[c].scores[name] for c in background])
        groups = {s: predictions[s].scores[name] for s in signals}
        groups[COMBINED] = np.concatenate(list(groups.values()))
        for signal, values in groups.items():
            fpr, tpr = roc(qcd, values)
            curves.setdefault(signal, {})[run] = (fpr, tpr, float(auc(fpr, tpr)))
    return curves


@_builds
def fig4(models: ModelPredictions, source: str, options: Mapping[str, Any]) -> tuple[Figure, str]:
    """ROC curves per signal and combined."""
    score = options["anomaly_score"]
    curves = roc_curves(models, options["background"], options["signals"], score)
    caption = _caption(
        FIGURES["fig4"].heading,
        source,
        list(models),
        f"Score: {score} (particle-cloud models), image MSE (CNNAE); higher = more anomalous.",
    )
    return roc_figure(
        curves, caption, title="Pre-registered score (fixed in advance, never flipped)"
    ), caption


@_builds
def fig4_paper_protocol(
    models: ModelPredictions, source: str, options: Mapping[str, Any]
) -> tuple[Figure, str]:
    """Fig. 4 under the authors' protocol: per model and signal, the ROC of the best of the family's
    scores, labels flipped where its AUC is below 0.5 (a post-hoc selection)."""
    background, signals = options["background"], options["signals"]
    curves: dict[str, dict[ModelRun, tuple[np.ndarray, np.ndarray, float]]] = {}
    notes: dict[str, dict[ModelRun, str]] = {}
    for run, predictions in models.items():
        family = family_of(run.model)
        scores = {c: paper_scores(p, family, options.get("emd", True)) for c, p in predictions.items()}
        for signal, (key, fpr, tpr, area, flipped) in best_rocs(scores, background, signals).items():
            curves.setdefault(signal, {})[run] = (fpr, tpr, area)
            notes.setdefault(signal, {})[run] = f"best: {key}{', labels flipped' if flipped else ''}"
    shown = FIGURES["fig4_paper_protocol"]
    caption = _caption(
        f"{shown.label}, {PROTOCOL_NAME}: {shown.caption}",
        source,
        list(models),
        "Each curve is the best of its family's scores for that signal, chosen after looking at the test "
        "labels (docs/paper_protocol.md); a flipped curve counts QCD jets as the signal. Not a measurement "
        "of a score fixed in advance: see Fig. 4 for that.",
    )
    title = "Paper protocol: post-hoc best score per model and signal, labels flipped where AUC < 0.5"
    return roc_figure(curves, caption, notes, title), caption


# ------------------------------------------------------------------------------------------- Figs. 5, 6
@_builds
def fig5(models: ModelPredictions, source: str, options: Mapping[str, Any]) -> tuple[Figure, str]:
    """Summed latent 4-vector (imaginary part) against the jet momentum, QCD test jets."""
    background = options["background"]
    latents, jets = {}, {}
    for run, predictions in models.items():
        parts = [predictions[c] for c in background]
        latents[run] = np.concatenate([p.latent["vectors"] for p in parts])
        jets[run] = np.concatenate([p.p4.astype(np.float64).sum(axis=1) for p in parts])
    caption = _caption(
        FIGURES["fig5"].heading,
        source,
        list(models),
    )
    return correlation_figure(latents, jets, caption), caption


@_builds
def fig6(models: ModelPredictions, source: str, options: Mapping[str, Any]) -> tuple[Figure, str]:
    """Invariant masses of latent vectors 1, 2 and of their total, per class."""
    background, signals = options["background"], options["signals"]
    latents = {}
    for run, predictions in models.items():
        per_class = {"qcd": np.concatenate([predictions[c].latent["vectors"] for c in background])}
        per_class.update({s: predictions[s].latent["vectors"] for s in signals})
        latents[run] = per_class
    caption = _caption(
        FIGURES["fig6"].heading,
        source,
        list(models),
        "Min-Max latents hold the min-selected vectors first, then the max-selected ones. Each panel spans the "
        "0.2 %-99.8 % quantiles of all classes together.",
    )
    return mass_figure(latents, caption), caption


# ------------------------------------------------------------------------------------------- Figs. 7, 9
@_builds
def fig7(runs: Sequence[RunMetrics], source: str) -> tuple[Figure, str]:
    """Median |relative error| of the jet mass against the training fraction, per model over seeds."""
    values: dict[str, dict[float, list[float]]] = {}
    labels = {}
    for run in runs:
        value = run.reconstruction["groups"]["qcd"]["jet"]["mass"]["median_abs"]
        values.setdefault(run.model, {}).setdefault(run.fraction, []).append(value)
        labels[run.model] = model_label(run.model, run.latent)
    paper = None
    if source == "jetnet":
        table = numbers()["fig7"]
        paper = {m: (table["fractions"], table[m]) for m in values if m in table}
    model_runs = sorted({_model_run(r) for r in runs if r.fraction == 1.0}, key=lambda r: (r.model, r.seed))
    epochs = sorted({(r.model, r.fraction, r.info.get("epochs")) for r in runs})
    caption = _caption(
        FIGURES["fig7"].heading,
        source,
        model_runs,
        "Epochs trained per (model, fraction): " + ", ".join(f"{m} {f:g}: {e}" for m, f, e in epochs) + ".",
    )
    return data_efficiency_figure(values, labels, caption, paper), caption


def _model_run(run: RunMetrics) -> ModelRun:
    return ModelRun.trained(run.run, run.info)


@_builds
def fig9(runs: Sequence[RunMetrics], source: str) -> tuple[Figure, str]:
    """Equivariance scans of the trained LGAEs."""
    scans = {_model_run(r): r.equivariance["scans"] for r in runs if r.equivariance["summary"].get("scanned")}
    if not scans:
        raise DataError(
            "fig9 needs equivariance scans of LGAE models (figures.fig9): none of its inputs has one"
        )
    jets = sorted({s["jets"] for s in scans.values()})
    paper = None
    if source == "jetnet":
        boost = numbers()["fig9_boost"]
        paper = (boost["gamma"], boost["deviation"])
    caption = _caption(
        FIGURES["fig9"].heading,
        source,
        list(scans),
        f"QCD test jets per scan: {jets}. Solid: Eq. 13; dashed: strict (max deviation / max component).",
    )
    return equivariance_figure(scans, caption, paper), caption
