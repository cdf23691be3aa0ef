"""Equivariance scans of whole models: tiny for the LGAE, O(1) for a baseline (a negative control)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lgae.equivariance import boost_scan
from lgae.jets import sanitize_p4
from lgae.models import build
from lgae.paper.evaluation.equivariance import scan_model, summarize
from lgae.pipeline.data.preprocess import load_classes

SMALL = {"encoder_channels": [2, 2], "decoder_channels": [2, 2], "num_basis": 4}


@pytest.fixture(scope="module")
def jets(processed_jets_dir):
    qcd = load_classes(processed_jets_dir, ["g", "q"], "test")
    rows = np.r_[0:24, len(qcd) - 24 : len(qcd)]  # gluons and quarks
    return qcd.p4[rows], qcd.mask[rows]


def test_the_scans_of_an_lgae_are_at_rounding_level(jets):
    torch.manual_seed(0)
    model = build("lgae-mix", latent_vectors=3, **SMALL).float()  # a float32 model is scanned in float64
    scans = scan_model(model, *jets, device="cpu")
    assert len(scans["boost_z"]) == len(scans["rotation_z"]) == 26
    assert scans["boost_z"][-1]["gamma"] == pytest.approx(np.cosh(10.0))
    rotations = [p["paper"] for p in scans["rotation_z"]]
    assert max(rotations) <= 1e-12
    moderate = [p["paper"] for p in scans["boost_z"] if p["gamma"] <= 10]
    assert max(moderate) <= 1e-10
    summary = summarize({"scanned": True, **scans})
    assert summary["boost_z_gamma_max"] == pytest.approx(np.cosh(10.0))
    assert summary["rotation_z_strict_max"] <= 1e-10


def test_gnnae_jl_fails_the_boost_scan(jets):
    """A negative control: a transverse boost changes the GNNAE's relative coordinates, so its output is
    far from the boosted output (boosts along z nearly keep them, hence the x axis here)."""
    torch.manual_seed(0)
    model = build("gnnae-jl", latent_dim=10).double().eval()
    p4, mask = (torch.as_tensor(a) for a in jets)

    def reconstruct(p, m):
        return sanitize_p4(model.output_to_p4(model(p, m), p, m), m)

    points = boost_scan(reconstruct, p4, mask, rapidities=[1.0, 2.0], direction=(1.0, 0.0, 0.0))
    assert min(p.strict for p in points) > 0.1
