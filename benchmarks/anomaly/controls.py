"""The anomaly experiment's controls: autoencoders that train in seconds, scored like the pipeline's models.

If these simple models separate t, W, Z from QCD on jets where the LGAE does not, the LGAE's
implementation is the suspect; if they do not either, the data or the score are. Each control trains on
exactly the QCD jets `lgae train --fraction` would use (same split files, same seeded subset), and writes
prediction files in the format of `lgae predict`, so that `lgae evaluate` scores it with the same
pre-registered score and the same paper protocol (``--paper-family lgae`` for particle lists, ``cnnae``
for images).

- ``pca-relative``: PCA (a linear autoencoder) of the flattened pT-ordered particle list in relative
  coordinates, (pT_rel, η_rel, φ_rel) per slot, padded slots zero (90 numbers per jet).
- ``pca-p4``: the same in absolute (E, px, py, pz) in TeV, the LGAE's input space (120 numbers).
- ``mlp-relative``: a small MLP autoencoder of the relative list, trained on the same mean squared error.
- ``pca-image``: PCA of the CNNAE's jet images (its pixel grid and window, pT fractions summing to 1).

The pre-registered score of a particle control is the Chamfer distance in its own output space (as for
the pipeline's particle models); of the image control, the image MSE (as for the CNNAE).

Run: ``python benchmarks/anomaly/controls.py --control pca-relative --latent 18 --data-dir D --fraction F
--out-dir RUN`` (writes RUN/predictions/<class>.h5, RUN/predictions/equivariance.json, RUN/meta.json).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn

from lgae.errors import ConfigError, DataError, LGAEError
from lgae.io import write_json
from lgae.jets import absolute_p4, jet_features, nonnegative_pt, relative_coordinates, sanitize_p4
from lgae.jets.images import DEFAULT_MAX_R, DEFAULT_NPIX, image_jet_features, jet_images_from_p4
from lgae.losses import reconstruction_loss
from lgae.names import CLASSES
from lgae.pipeline.data.preprocess import ProcessedJets, load_classes, load_processed, read_attrs
from lgae.pipeline.inference import (
    IMAGE_SCORE,
    JET_FEATURES,
    PARTICLE_SCORES,
    Predictions,
    image_sample,
    write_predictions,
)
from lgae.pipeline.seeding import derive_seed
from lgae.pipeline.training import training_subset

log = logging.getLogger("controls")

#: control name -> (input representation, model)
CONTROLS: dict[str, tuple[str, str]] = {
    "pca-relative": ("relative", "pca"),
    "pca-p4": ("p4", "pca"),
    "mlp-relative": ("relative", "mlp"),
    "pca-image": ("image", "pca"),
}
#: features per particle slot of each list representation
LIST_FEATURES = {"relative": 3, "p4": 4}


# ------------------------------------------------------------------------------------- representations
def particle_lists(p4: np.ndarray, mask: np.ndarray, coordinates: str) -> np.ndarray:
    """The pT-ordered particle lists as they are stored, flattened: ``[N, P·F]`` float64, zero where padded.

    ``relative``: (pT_rel, η_rel, φ_rel) about each jet's axis (the sum of its particles); ``p4``: (E, px,
    py, pz) in TeV.
    """
    p4_t = torch.as_tensor(p4, dtype=torch.float64)
    mask_t = torch.as_tensor(mask, dtype=torch.bool)
    if coordinates == "relative":
        lists = relative_coordinates(p4_t, mask_t)[0]
    elif coordinates == "p4":
        lists = sanitize_p4(p4_t, mask_t)
    else:
        raise ConfigError(
            f"unknown particle-list coordinates {coordinates!r}; use one of {list(LIST_FEATURES)}"
        )
    return lists.reshape(len(p4), -1).numpy()


def list_output(flat: np.ndarray, coordinates: str, num_particles: int) -> torch.Tensor:
    """A flattened reconstruction back to ``[N, P, F]`` (the model's output space)."""
    return torch.as_tensor(flat, dtype=torch.float64).reshape(
        len(flat), num_particles, LIST_FEATURES[coordinates]
    )


def list_output_to_p4(
    output: torch.Tensor, coordinates: str, p4: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Absolute 4-momenta of a list reconstruction, masked with the input mask (as `lgae predict`'s).

    Relative coordinates sit around the *input* jet's axis with negative pT_rel clamped at 0, as the
    GNNAE's output (`GNNAE.output_to_p4`).
    """
    if coordinates == "p4":
        return sanitize_p4(output, mask)
    _, jet_pt, jet_eta, jet_phi = relative_coordinates(p4, mask)
    return absolute_p4(nonnegative_pt(output), jet_pt, jet_eta, jet_phi, mask)


def images(
    p4: np.ndarray, mask: np.ndarray, npix: int = DEFAULT_NPIX, max_r: float = DEFAULT_MAX_R
) -> np.ndarray:
    """The CNNAE's input images, flattened: ``[N, npix²]`` pT fractions (rows φ_rel, columns η_rel)."""
    pictures = jet_images_from_p4(np.asarray(p4, dtype=np.float64), np.asarray(mask, dtype=bool), npix, max_r)
    return pictures.reshape(len(p4), -1)


# ------------------------------------------------------------------------------------------- models
def fit_pca(train: np.ndarray, components: int) -> PCA:
    """PCA with ``components`` components: the optimal linear autoencoder of that size in squared error.

    The exact covariance eigendecomposition (no random projections), so the fit is deterministic.
    """
    if not 1 <= components <= min(train.shape):
        raise ConfigError(
            f"--latent {components}: PCA needs 1 <= components <= min(jets, features) = {min(train.shape)}"
        )
    return PCA(n_components=components, svd_solver="covariance_eigh").fit(train)


def pca_reconstruct(pca: PCA, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(latent [N, k], reconstruction [N, F])`` of data by a fitted PCA."""
    latent = pca.transform(data)
    return latent, pca.inverse_transform(latent)


class MLPAutoencoder(nn.Module):
    """A small fully connected autoencoder: features → 128 → 64 → latent → 64 → 128 → features (ReLU).

    Inputs are standardised per feature with the training set's mean and standard deviation; the
    output is mapped back, so the loss is the squared error in the original units (as PCA's).
    """

    def __init__(self, n_features: int, latent: int, mean: np.ndarray, scale: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        self.encoder = nn.Sequential(
            nn.Linear(n_features, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, latent)
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, 64), nn.ReLU(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, n_features)
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder((x - self.mean) / self.scale)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z) * self.scale + self.mean

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


@dataclass(frozen=True)
class MLPSettings:
    """The MLP control's training: Adam, early stopping on the validation split's squared error."""

    lr: float = 1e-3
    batch_size: int = 256
    max_epochs: int = 200
    patience: int = 10


def fit_mlp(
    train: np.ndarray, valid: np.ndarray, latent: int, seed: int, settings: MLPSettings = MLPSettings()
) -> tuple[MLPAutoencoder, list[dict[str, float]]]:
    """Train the MLP autoencoder; returns the model of the best validation epoch and the history.

    Deterministic by ``seed`` (initialisation and batch order) for a given number of torch threads.
    """
    scale = train.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)  # a feature that never varies (e.g. an always-padded slot)
    torch.manual_seed(derive_seed(seed, "mlp_control", "init"))
    model = MLPAutoencoder(train.shape[1], latent, train.mean(axis=0), scale)
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.lr)
    x_train = torch.as_tensor(train, dtype=torch.float32)
    x_valid = torch.as_tensor(valid, dtype=torch.float32)
    order_rng = np.random.default_rng(derive_seed(seed, "mlp_control", "batches"))
    best = (math.inf, -1, {k: v.clone() for k, v in model.state_dict().items()})
    history: list[dict[str, float]] = []
    for epoch in range(settings.max_epochs):
        model.train()
        order = torch.as_tensor(order_rng.permutation(len(x_train)))
        total = 0.0
        for start in range(0, len(order), settings.batch_size):
            batch = x_train[order[start : start + settings.batch_size]]
            loss = ((model(batch) - batch) ** 2).sum(dim=1).mean()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        model.eval()
        with torch.no_grad():
            valid_loss = float(((model(x_valid) - x_valid) ** 2).sum(dim=1).mean())
        history.append({"epoch": epoch + 1, "train_loss": total / len(x_train), "valid_loss": valid_loss})
        if valid_loss < best[0]:
            best = (valid_loss, epoch + 1, {k: v.clone() for k, v in model.state_dict().items()})
        elif epoch + 1 - best[1] >= settings.patience:
            break
    model.load_state_dict(best[2])
    return model.eval(), history


def mlp_reconstruct(model: MLPAutoencoder, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(latent, reconstruction)`` of data by a trained MLP autoencoder, float64 arrays."""
    with torch.no_grad():
        z = model.encode(torch.as_tensor(data, dtype=torch.float32))
        recon = model.decode(z)
    return z.double().numpy(), recon.double().numpy()


# ------------------------------------------------------------------------------------------ predictions
def _features(p4: torch.Tensor, mask: torch.Tensor | None) -> np.ndarray:
    features = jet_features(p4, mask)
    return np.stack([features[name].numpy() for name in JET_FEATURES], axis=-1)


def _common(jets: ProcessedJets, attrs: dict[str, Any]) -> dict[str, Any]:
    p4 = torch.as_tensor(jets.p4, dtype=torch.float64)
    mask = torch.as_tensor(jets.mask, dtype=torch.bool)
    return {
        "jet_class": jets.jet_class,
        "label": np.full(len(jets), CLASSES.index(jets.jet_class), dtype=np.int64),
        "index": jets.index.astype(np.int64),
        "p4": jets.p4.astype(np.float32),
        "mask": jets.mask.astype(bool),
        "jet_features": _features(p4, mask),
        "attrs": {**attrs, "split": "test"},
    }


def list_predictions(
    jets: ProcessedJets, coordinates: str, latent: np.ndarray, flat_recon: np.ndarray, attrs: dict[str, Any]
) -> Predictions:
    """The prediction file of a particle-list control on one class's test jets."""
    p4 = torch.as_tensor(jets.p4, dtype=torch.float64)
    mask = torch.as_tensor(jets.mask, dtype=torch.bool)
    output = list_output(flat_recon, coordinates, jets.p4.shape[1])
    target = relative_coordinates(p4, mask)[0] if coordinates == "relative" else sanitize_p4(p4, mask)
    space = "relative" if coordinates == "relative" else "p4"
    scores = {
        name: reconstruction_loss(name, output, target, mask, space, reduction="none")
        .numpy()
        .astype(np.float64)
        for name in PARTICLE_SCORES
    }
    recon = list_output_to_p4(output, coordinates, p4, mask)
    relative = None
    if coordinates == "relative":
        relative = sanitize_p4(nonnegative_pt(output), mask).numpy().astype(np.float32)
    return Predictions(
        **_common(jets, attrs),
        recon_jet_features=_features(recon, mask),
        scores=scores,
        latent={"values": latent},
        recon_p4=recon.numpy().astype(np.float32),
        recon_relative=relative,
    )


def image_predictions(
    jets: ProcessedJets,
    latent: np.ndarray,
    flat_recon: np.ndarray,
    npix: int,
    max_r: float,
    attrs: dict[str, Any],
) -> Predictions:
    """The prediction file of the image control on one class's test jets (the CNNAE's layout)."""
    p4 = torch.as_tensor(jets.p4, dtype=torch.float64)
    mask = torch.as_tensor(jets.mask, dtype=torch.bool)
    target = torch.as_tensor(images(jets.p4, jets.mask, npix, max_r)).reshape(len(jets), 1, npix, npix)
    output = torch.as_tensor(flat_recon, dtype=torch.float64).reshape(len(jets), 1, npix, npix)
    score = reconstruction_loss("mse", output, target, space="image", reduction="none").numpy()
    _, jet_pt, jet_eta, jet_phi = relative_coordinates(p4, mask)
    recon_features = image_jet_features(output, jet_pt, jet_eta, jet_phi, max_r)
    sample = image_sample(len(jets), jets.jet_class)
    return Predictions(
        **_common(jets, attrs),
        recon_jet_features=np.stack([recon_features[name].numpy() for name in JET_FEATURES], axis=-1),
        scores={IMAGE_SCORE: score.astype(np.float64)},
        latent={"values": latent},
        image_index=sample,
        recon_images=output[sample, 0].numpy().astype(np.float32),
        recon_image_mean=output[:, 0].mean(dim=0).numpy(),
    )


# ----------------------------------------------------------------------------------------------- run
def _representation(jets: ProcessedJets, kind: str, npix: int, max_r: float) -> np.ndarray:
    if kind == "image":
        return images(jets.p4, jets.mask, npix, max_r)
    return particle_lists(jets.p4, jets.mask, kind)


def run_control(
    control: str,
    latent_size: int,
    data_dir: Path,
    out_dir: Path,
    fraction: float = 1.0,
    seed: int = 1,
    classes: Sequence[str] = ("g", "q", "t", "w", "z"),
    background: Sequence[str] = ("g", "q"),
    npix: int = DEFAULT_NPIX,
    max_r: float = DEFAULT_MAX_R,
    mlp: MLPSettings = MLPSettings(),
) -> dict[str, Any]:
    """Fit one control on the QCD training jets and write its predictions on every class's test jets.

    Returns the run's record (also written to ``out_dir/meta.json``).
    """
    if control not in CONTROLS:
        raise ConfigError(f"unknown control {control!r}; use one of {list(CONTROLS)}")
    if not 0.0 < fraction <= 1.0:
        raise ConfigError(f"--fraction {fraction}: must be in (0, 1]")
    kind, model_kind = CONTROLS[control]
    started, cpu_started = time.perf_counter(), time.process_time()
    train_jets = load_classes(data_dir, background, "train")
    subset = training_subset(len(train_jets), fraction, seed)  # the jets `lgae train --fraction` uses
    train = _representation(train_jets, kind, npix, max_r)[subset]
    record: dict[str, Any] = {
        "model": control,
        "latent": latent_size,
        "seed": seed,
        "fraction": fraction,
        "train_jets": len(subset),
        "representation": kind,
        "source": str(read_attrs(data_dir / f"{classes[0]}_test.h5").get("source", "unknown")),
        "data_dir": str(data_dir),
    }
    if model_kind == "pca":
        pca = fit_pca(train, latent_size)
        record |= {
            "explained_variance": float(pca.explained_variance_ratio_.sum()),
            "stopped_by": "closed form",
        }

        def reconstruct(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return pca_reconstruct(pca, data)

    else:
        valid = _representation(load_classes(data_dir, background, "valid"), kind, npix, max_r)
        network, history = fit_mlp(train, valid, latent_size, seed, mlp)
        best = min(history, key=lambda row: row["valid_loss"])
        stopped = "epoch limit" if len(history) == mlp.max_epochs else "early stopping"
        record |= {
            "epochs": len(history),
            "best_epoch": int(best["epoch"]),
            "best_valid_loss": best["valid_loss"],
        }
        record["stopped_by"] = stopped

        def reconstruct(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return mlp_reconstruct(network, data)

    record["fit_seconds"] = time.perf_counter() - started
    predictions_dir = out_dir / "predictions"
    for jet_class in classes:
        jets = load_processed(data_dir / f"{jet_class}_test.h5")
        if len(jets) == 0:
            raise DataError(f"{data_dir / f'{jet_class}_test.h5'}: no test jets")
        latent, recon = reconstruct(_representation(jets, kind, npix, max_r))
        if kind == "image":
            predictions = image_predictions(jets, latent, recon, npix, max_r, record)
        else:
            predictions = list_predictions(jets, kind, latent, recon, record)
        write_predictions(predictions_dir / f"{jet_class}.h5", predictions)
    reason = f"{control} is a control of the anomaly experiment, not Lorentz equivariant"
    write_json(predictions_dir / "equivariance.json", {**record, "scanned": False, "reason": reason})
    record |= {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu_started}
    write_json(out_dir / "meta.json", record)
    log.info("%s: %s", control, json.dumps(record))
    return record


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--control", required=True, choices=list(CONTROLS))
    parser.add_argument("--latent", type=int, required=True, help="PCA components / MLP latent size")
    parser.add_argument("--data-dir", type=Path, required=True, help="processed split files")
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument(
        "--fraction", type=float, default=1.0, help="of the QCD training split, as lgae train"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--classes", nargs="+", default=["g", "q", "t", "w", "z"], choices=CLASSES)
    parser.add_argument("--background", nargs="+", default=["g", "q"], choices=CLASSES)
    parser.add_argument("--npix", type=int, default=DEFAULT_NPIX, help="image pixels per side (the CNNAE's)")
    parser.add_argument("--max-r", type=float, default=DEFAULT_MAX_R, help="image half-width (the CNNAE's)")
    parser.add_argument("--mlp-max-epochs", type=int, default=MLPSettings.max_epochs)
    parser.add_argument("--mlp-patience", type=int, default=MLPSettings.patience)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (results depend on it); numpy's BLAS (the PCA) follows OMP_NUM_THREADS, which the DAG sets",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    torch.set_num_threads(args.threads)
    try:
        run_control(
            args.control,
            args.latent,
            args.data_dir,
            args.out_dir,
            args.fraction,
            args.seed,
            args.classes,
            args.background,
            args.npix,
            args.max_r,
            MLPSettings(max_epochs=args.mlp_max_epochs, patience=args.mlp_patience),
        )
    except LGAEError as exc:  # a missing or damaged input, a wrong argument: the message says the fix
        print(f"controls.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
