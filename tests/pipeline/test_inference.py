"""Inference: prediction files hold what the metrics need; a perfect model scores zero everywhere."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from lgae.losses import reconstruction_loss
from lgae.models import build
from lgae.models.base import JetAutoencoder
from lgae.paper.evaluation.reconstruction import reconstruction_metrics
from lgae.pipeline.data.preprocess import load_processed
from lgae.pipeline.inference import JET_FEATURES, predict_class, read_predictions, write_predictions

SMALL = {"encoder_channels": [2, 2], "decoder_channels": [2, 2], "num_basis": 4}


class PerfectAutoencoder(JetAutoencoder):
    """Reconstructs its input exactly: every error and every score must be zero."""

    def __init__(self) -> None:
        super().__init__(num_particles=30)
        self.one = nn.Parameter(torch.ones((), dtype=torch.float64))

    def encode(self, p4: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return p4 * mask.unsqueeze(-1) * self.one

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        return latent

    @property
    def latent_size(self) -> int:
        return 120


@pytest.fixture(scope="module")
def gluons(processed_jets_dir):
    return load_processed(processed_jets_dir / "g_test.h5")


def test_a_perfect_model_has_zero_scores_and_errors(gluons):
    predictions = predict_class(PerfectAutoencoder(), gluons, batch_size=16, progress=False)
    for name, values in predictions.scores.items():
        assert np.abs(values).max() < 1e-12, name
    metrics = reconstruction_metrics({"g": predictions}, ["g"])["groups"]["qcd"]
    for summary in [*metrics["jet"].values(), *metrics["particle"].values()]:
        assert abs(summary["median"]) < 1e-6  # float32 storage of p4
        assert summary["iqr"] < 1e-6
    assert set(predictions.scores) == {"chamfer", "mse", "hungarian", "emd"}


def test_jet_features_of_a_hand_made_jet(gluons):
    jets = dataclasses.replace(gluons, p4=gluons.p4.copy(), mask=gluons.mask.copy())
    jets.p4[0] = 0.0
    jets.mask[0] = False
    jets.p4[0, :2] = [[1.0, 0.6, 0.0, 0.8], [1.0, 0.6, 0.0, -0.8]]  # massless; sum (2, 1.2, 0, 0)
    jets.mask[0, :2] = True
    predictions = predict_class(PerfectAutoencoder(), jets, batch_size=16, progress=False, with_emd=False)
    features = dict(zip(JET_FEATURES, predictions.jet_features[0], strict=True))
    assert features == pytest.approx({"mass": 1.6, "pt": 1.2, "eta": 0.0, "phi": 0.0})


def test_lgae_predictions_round_trip_and_match_the_losses(gluons, tmp_path):
    torch.manual_seed(0)
    model = build("lgae-min-max", latent_vectors=2, **SMALL).double()
    predictions = predict_class(model, gluons, batch_size=32, progress=False, attrs={"model": "lgae-min-max"})
    n = len(gluons)
    assert predictions.recon_p4.shape == (n, 30, 4)
    assert (predictions.recon_p4[~gluons.mask] == 0).all()
    assert predictions.latent["vectors"].shape == (n, 4, 4)
    assert np.iscomplexobj(predictions.latent["vectors"])
    assert predictions.latent["scalars"].shape == (n, 2)
    p4, mask = torch.as_tensor(gluons.p4[:5]), torch.as_tensor(gluons.mask[:5])
    with torch.no_grad():
        expected = reconstruction_loss(
            "chamfer", model(p4, mask), model.target(p4, mask), mask, reduction="none"
        )
    assert predictions.scores["chamfer"][:5] == pytest.approx(expected.numpy(), rel=1e-10)
    write_predictions(tmp_path / "g.h5", predictions)
    back = read_predictions(tmp_path / "g.h5")
    assert back.attrs == {"model": "lgae-min-max"}
    assert np.array_equal(back.latent["vectors"], predictions.latent["vectors"])
    assert np.array_equal(back.scores["emd"], predictions.scores["emd"])
    assert back.recon_images is None


def test_cnnae_predictions_keep_images_not_particles(gluons):
    torch.manual_seed(0)
    model = build("cnnae", latent_dim=8, channels=4)
    predictions = predict_class(model, gluons, batch_size=64, progress=False)
    assert predictions.recon_p4 is None
    assert set(predictions.scores) == {"image_mse"}
    assert predictions.recon_images.shape == (len(predictions.image_index), 40, 40)
    assert predictions.recon_image_mean.sum() == pytest.approx(1.0)
    assert np.isfinite(predictions.recon_jet_features).all()


def test_a_missing_prediction_file_names_the_fix(tmp_path):
    from lgae.errors import DataError

    with pytest.raises(DataError, match="rerun the predict step"):
        read_predictions(tmp_path / "g.h5")
