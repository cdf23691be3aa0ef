"""Inference: every test jet of a class through a trained model, with all that metrics and figures need.

Per jet a prediction file holds the class label, the input and the reconstruction as absolute 4-momenta
(TeV; the reconstruction masked with the input mask, so that it has the input's real slots, which is what
the losses train), the jet features (mass, pT, η, φ) of both computed in float64, the latent, and the
per-jet anomaly scores:

- ``chamfer``, ``mse``, ``hungarian``: the losses of :mod:`lgae.losses` in the model's native space (the
  LGAE's 4-momenta, the GNNAE's relative coordinates), as in training;
- ``emd``: the exact EMD (energyflow's definition, POT's solver) between input and reconstruction in
  (pT, η, φ), the same for every particle model (optional: it costs ~1 ms per jet on a CPU core);
- ``image_mse``: the CNNAE's MSE between input and reconstructed image (its training loss).

A model whose output space is relative coordinates (the GNNAE) also keeps that output
(``recon_relative``: pT_rel clamped at 0 as in ``output_to_p4``, η_rel and φ_rel as output, zero where
padded): the paper-protocol scores (:mod:`lgae.paper.evaluation.paper_protocol`) are computed in that space,
and ``recon_p4`` loses the direction of a slot whose pT_rel was clamped.

The CNNAE reconstructs images, not particles: its file holds no reconstructed 4-momenta, but its jet
features (from the pixels, Table 3's footnote), the mean reconstructed image and the images of a fixed
seeded sample of jets (the ones Fig. 2 may show).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
from tqdm.auto import tqdm

from lgae.errors import DataError
from lgae.io import atomic_path
from lgae.jets import jet_features, nonnegative_pt, sanitize_p4
from lgae.losses import emd, reconstruction_loss
from lgae.models.base import JetAutoencoder
from lgae.names import CLASSES
from lgae.pipeline.data.preprocess import ProcessedJets
from lgae.pipeline.seeding import rng
from lgae.pipeline.settings import INFERENCE_BATCH_SIZE

log = logging.getLogger(__name__)

__all__ = [
    "IMAGE_SAMPLE",
    "JET_FEATURES",
    "PARTICLE_SCORES",
    "Predictions",
    "image_sample",
    "predict_class",
    "read_predictions",
    "write_predictions",
]

#: columns of ``jet_features`` and ``recon_jet_features`` (TeV; mass signed, see lorentz.mass_from_p4)
JET_FEATURES: tuple[str, ...] = ("mass", "pt", "eta", "phi")
#: scores of particle-cloud models, each its loss of the same name per jet (``emd`` is optional)
PARTICLE_SCORES: tuple[str, ...] = ("chamfer", "mse", "hungarian")
IMAGE_SCORE = "image_mse"
#: jets per class whose reconstructed image a CNNAE prediction file keeps (Fig. 2 picks among them)
IMAGE_SAMPLE = 100
FORMAT_VERSION = 1


def image_sample(n_jets: int, jet_class: str, size: int = IMAGE_SAMPLE) -> np.ndarray:
    """A fixed seeded sample of row indices of a class's test jets (the same for every model)."""
    return np.sort(rng(0, "image_sample", jet_class).permutation(n_jets)[: min(size, n_jets)])


@dataclass
class Predictions:
    """One model on one class's test split (arrays per jet; see the module docstring)."""

    jet_class: str
    label: np.ndarray  # [N] int, the class index in lgae.names.CLASSES
    index: np.ndarray  # [N] int, row in the raw class file
    p4: np.ndarray  # [N, P, 4] float32, input (E, px, py, pz) in TeV
    mask: np.ndarray  # [N, P] bool
    jet_features: np.ndarray  # [N, 4] float64, JET_FEATURES of the input
    recon_jet_features: np.ndarray  # [N, 4] float64, JET_FEATURES of the reconstruction
    scores: dict[str, np.ndarray]  # name -> [N] float64
    latent: dict[str, np.ndarray]  # name -> [N, ...] (complex for the LGAE)
    recon_p4: np.ndarray | None = None  # [N, P, 4] float32, zero where ~mask (particle models)
    recon_relative: np.ndarray | None = None  # [N, P, 3] float32, zero where ~mask (GNNAE)
    image_index: np.ndarray | None = None  # [K] rows of ``recon_images`` (CNNAE)
    recon_images: np.ndarray | None = None  # [K, npix, npix] float32 (CNNAE)
    recon_image_mean: np.ndarray | None = None  # [npix, npix] float64 (CNNAE)
    attrs: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.label)


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to("cpu").numpy()


def _features(p4: torch.Tensor, mask: torch.Tensor | None) -> np.ndarray:
    features = jet_features(p4.to(torch.float64), mask)
    return np.stack([_numpy(features[name]) for name in JET_FEATURES], axis=-1)


def predict_class(
    model: JetAutoencoder,
    jets: ProcessedJets,
    batch_size: int = INFERENCE_BATCH_SIZE,
    device: torch.device | str = "cpu",
    with_emd: bool = True,
    progress: bool = True,
    attrs: dict[str, Any] | None = None,
) -> Predictions:
    """Run a model on every jet of one class's split, in batches, without gradients.

    Args:
        model: A trained autoencoder.
        jets: The processed jets of one class and split.
        batch_size: Jets per forward pass.
        device: Where the model runs.
        with_emd: Also score every jet with the exact EMD (on the CPU).
        progress: Show a progress bar.
        attrs: Provenance stored with the predictions.

    Returns:
        Per jet: the input, the reconstruction, jet features, latent and anomaly scores.
    """
    if len(jets) == 0:
        raise DataError(f"class {jets.jet_class} ({jets.split}): no jets to predict")
    if jets.p4.shape[1] != model.num_particles:
        raise DataError(
            f"class {jets.jet_class}: the data hold {jets.p4.shape[1]} particles per jet, the model "
            f"{model.num_particles}; preprocess with the model's data.num_particles"
        )
    model = model.eval()
    dtype = next(model.parameters()).dtype
    image_model = model.output_space == "image"
    sample = image_sample(len(jets), jets.jet_class) if image_model else None
    parts: dict[str, list[np.ndarray]] = {}
    image_sum: torch.Tensor | None = None

    def keep(name: str, value: np.ndarray) -> None:
        parts.setdefault(name, []).append(value)

    starts = range(0, len(jets), batch_size)
    for start in tqdm(starts, desc=f"predict {jets.jet_class}", unit="batch", disable=not progress):
        rows = slice(start, start + batch_size)
        p4 = torch.as_tensor(jets.p4[rows], dtype=dtype, device=device)
        mask = torch.as_tensor(jets.mask[rows], device=device)
        with torch.inference_mode():
            latent, output = model.reconstruct(p4, mask)
            target = model.target(p4, mask)
            recon = model.output_to_p4(output, p4, mask)
            keep("jet_features", _features(p4, mask))
            if image_model:
                keep("recon_jet_features", _features(recon, None))
                keep(IMAGE_SCORE, _numpy(reconstruction_loss("mse", output, target, reduction="none")))
                images = output[:, 0].to(torch.float64)
                image_sum = images.sum(0) if image_sum is None else image_sum + images.sum(0)
                local = sample[(sample >= start) & (sample < start + len(p4))] - start
                keep("recon_images", _numpy(images[torch.as_tensor(local, device=images.device)]))
            else:
                recon = sanitize_p4(recon, mask)
                keep("recon_p4", _numpy(recon).astype(np.float32))
                if model.output_space == "relative":
                    relative = sanitize_p4(nonnegative_pt(output), mask)
                    keep("recon_relative", _numpy(relative).astype(np.float32))
                keep("recon_jet_features", _features(recon, mask))
                for name in PARTICLE_SCORES:
                    score = reconstruction_loss(
                        name, output, target, mask, model.output_space, reduction="none"
                    )
                    keep(name, _numpy(score).astype(np.float64))
                if with_emd:
                    keep(
                        "emd", _numpy(emd(recon.to(torch.float64), p4.to(torch.float64), mask, mask, "none"))
                    )
            for name, value in model.latent_arrays(latent).items():
                keep(f"latent/{name}", _numpy(value))
    stacked = {name: np.concatenate(values) for name, values in parts.items()}
    score_names = [IMAGE_SCORE] if image_model else [*PARTICLE_SCORES, *(["emd"] if with_emd else [])]
    return Predictions(
        jet_class=jets.jet_class,
        label=np.full(len(jets), CLASSES.index(jets.jet_class), dtype=np.int64),
        index=jets.index.astype(np.int64),
        p4=jets.p4.astype(np.float32),
        mask=jets.mask.astype(bool),
        jet_features=stacked["jet_features"],
        recon_jet_features=stacked["recon_jet_features"],
        scores={name: stacked[name] for name in score_names},
        latent={k.split("/", 1)[1]: v for k, v in stacked.items() if k.startswith("latent/")},
        recon_p4=stacked.get("recon_p4"),
        recon_relative=stacked.get("recon_relative"),
        image_index=sample,
        recon_images=stacked["recon_images"].astype(np.float32) if image_model else None,
        recon_image_mean=_numpy(image_sum / len(jets)) if image_sum is not None else None,
        attrs=dict(attrs or {}),
    )


# ------------------------------------------------------------------------------------------ files
_COMPRESS = {"compression": "gzip", "compression_opts": 4, "shuffle": True}
_REQUIRED = ("label", "index", "p4", "mask", "jet_features", "recon_jet_features")
_OPTIONAL = ("recon_p4", "recon_relative", "image_index", "recon_images", "recon_image_mean")


def write_predictions(path: str | os.PathLike[str], predictions: Predictions) -> None:
    """Write one prediction file (HDF5, compressed), atomically."""
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        for name in (*_REQUIRED, *_OPTIONAL):
            value = getattr(predictions, name)
            if value is not None:
                big = np.ndim(value) >= 2 and np.size(value) > 1024
                handle.create_dataset(name, data=value, **(_COMPRESS if big else {}))
        for group, values in (("scores", predictions.scores), ("latent", predictions.latent)):
            sub = handle.create_group(group)
            for name, value in values.items():
                sub.create_dataset(name, data=value, **(_COMPRESS if np.ndim(value) >= 2 else {}))
        handle.attrs["jet_class"] = predictions.jet_class
        handle.attrs["format_version"] = FORMAT_VERSION
        handle.attrs["jet_feature_names"] = json.dumps(list(JET_FEATURES))
        handle.attrs["meta"] = json.dumps(predictions.attrs, default=str)


def read_predictions(path: str | os.PathLike[str], jet_class: str | None = None) -> Predictions:
    """Read one prediction file; a missing, damaged or inconsistent file is a DataError naming it and
    the fix. ``jet_class``: the class the file must hold (its name says so)."""
    path = Path(path)
    fix = "rerun the predict step (`lgae predict`, or the Snakemake rule `predict`)"
    if not path.is_file():
        raise DataError(f"{path}: prediction file not found; {fix}")
    try:
        with h5py.File(path, "r") as handle:
            if handle.attrs.get("format_version") != FORMAT_VERSION:
                raise DataError(f"{path}: not a prediction file of this version; {fix}")
            arrays = {name: handle[name][...] for name in (*_REQUIRED, *_OPTIONAL) if name in handle}
            scores = {name: data[...] for name, data in handle["scores"].items()}
            latent = {name: data[...] for name, data in handle["latent"].items()}
            stated_class = str(handle.attrs["jet_class"])
            meta = json.loads(handle.attrs["meta"])
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise DataError(f"{path}: not a readable prediction file ({exc}); delete it and {fix}") from exc
    missing = [name for name in _REQUIRED if name not in arrays]
    if missing:
        raise DataError(f"{path}: datasets {missing} missing; {fix}")
    predictions = Predictions(jet_class=stated_class, scores=scores, latent=latent, attrs=meta, **arrays)
    _check_predictions(path, predictions, jet_class, fix)
    return predictions


def _check_predictions(path: Path, p: Predictions, jet_class: str | None, fix: str) -> None:
    """What every reader relies on: one class, labelled as such; one row per jet in every array; the
    scores of the model's kind, all finite."""
    if p.jet_class not in CLASSES or (jet_class is not None and p.jet_class != jet_class):
        raise DataError(
            f"{path}: its attribute says class {p.jet_class!r}, its name {jet_class!r}; the file was "
            f"renamed or copied over another: delete it and {fix}"
        )
    if not isinstance(p.attrs, dict):
        raise DataError(f"{path}: its 'meta' attribute is not a JSON object; delete it and {fix}")
    n_jets = len(p.label)
    per_jet = {
        **{name: getattr(p, name) for name in ("index", "p4", "mask", "jet_features", "recon_jet_features")},
        **({"recon_p4": p.recon_p4} if p.recon_p4 is not None else {}),
        **{f"scores/{k}": v for k, v in p.scores.items()},
        **{f"latent/{k}": v for k, v in p.latent.items()},
    }
    wrong = {name: list(np.shape(v)) for name, v in per_jet.items() if np.ndim(v) == 0 or len(v) != n_jets}
    if wrong:
        raise DataError(
            f"{path}: {n_jets} labels, but per-jet datasets of other lengths {wrong}; delete it and {fix}"
        )
    label = CLASSES.index(p.jet_class)
    if np.any(p.label != label):
        raise DataError(
            f"{path}: holds class {p.jet_class!r} (label {label}), but {int(np.sum(p.label != label))} of its "
            f"labels say otherwise; delete it and {fix}"
        )
    inputs = {"p4": p.p4, "jet_features": p.jet_features, **{f"latent/{k}": v for k, v in p.latent.items()}}
    for name, values in inputs.items():  # the reconstruction may be non-finite (counted), not these
        bad = ~np.isfinite(values)
        if bad.any():
            raise DataError(
                f"{path}: {name} holds {int(bad.sum())} non-finite values (first at jet {int(np.argwhere(bad)[0][0])}); "
                f"delete it and {fix}"
            )
    expected = [IMAGE_SCORE] if p.recon_p4 is None else list(PARTICLE_SCORES)
    absent = [f"scores/{name}" for name in expected if name not in p.scores]
    if absent:
        raise DataError(f"{path}: the score datasets {absent} are missing; delete it and {fix}")
    for name, values in p.scores.items():
        bad = ~np.isfinite(np.asarray(values, dtype=np.float64))
        if bad.any():
            raise DataError(
                f"{path}: scores/{name} holds {int(bad.sum())} non-finite values (NaN or inf; first at jet "
                f"{int(np.argmax(bad))}); the model reconstructs those jets as non-finite numbers: retrain "
                f"it (e.g. with a lower training.lr), then {fix}"
            )


def read_class_predictions(
    directory: str | os.PathLike[str], classes: Sequence[str]
) -> dict[str, Predictions]:
    """The prediction files ``<directory>/<class>.h5`` of several classes, all of one model."""
    from lgae.pipeline.identity import same_model

    predictions = {c: read_predictions(Path(directory) / f"{c}.h5", c) for c in classes}
    same_model(
        {str(Path(directory) / f"{c}.h5"): p.attrs for c, p in predictions.items()},
        "prediction files",
        "a predict step was interrupted or files were copied: delete the directory's files and rerun the "
        "predict step",
    )
    return predictions
