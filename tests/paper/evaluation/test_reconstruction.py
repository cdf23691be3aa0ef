"""Relative errors: zero for a perfect reconstruction, matching undoes a permutation, conventions, φ wrap."""

from __future__ import annotations

import numpy as np
import pytest

from lgae.group.lorentz import p4_from_ptetaphi
from lgae.paper.evaluation.reconstruction import error_summary, jet_errors, particle_errors, relative_error


def _jets(n_jets: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pt = rng.exponential(0.05, size=(n_jets, 30)) + 0.001
    eta = 0.3 + rng.normal(0, 0.1, size=(n_jets, 30))
    phi = 3.1 + rng.normal(0, 0.1, size=(n_jets, 30))  # straddles ±π
    p4 = p4_from_ptetaphi(pt, eta, phi)
    mask = np.arange(30)[None, :] < rng.integers(5, 31, size=n_jets)[:, None]
    p4[~mask] = 0.0
    return p4, mask


@pytest.mark.parametrize("matching", ["hungarian", "ordered"])
def test_a_perfect_reconstruction_has_zero_errors(matching):
    p4, mask = _jets()
    errors = particle_errors(p4, mask, p4.copy(), matching=matching)
    for values in errors.values():
        assert np.abs(values).max() < 1e-12
    assert sum(len(v) for v in errors.values()) == 3 * mask.sum()


def test_matching_undoes_a_permutation_of_the_output():
    p4, mask = _jets()
    perm = np.stack([np.random.default_rng(b).permutation(30) for b in range(len(p4))])
    shuffled = np.take_along_axis(p4, perm[..., None], axis=1)
    shuffled_mask = np.take_along_axis(mask, perm, axis=1)
    matched = particle_errors(p4, mask, shuffled, shuffled_mask, matching="hungarian")
    assert max(np.abs(v).max() for v in matched.values()) < 1e-12
    ordered = particle_errors(p4, mask, shuffled, shuffled_mask, matching="ordered")
    assert max(np.abs(v).max() for v in ordered.values()) > 0.1


def test_conventions_and_the_wrapped_azimuth():
    assert relative_error(np.array([1.1]), np.array([1.0]))[0] == pytest.approx(0.1)
    assert relative_error(np.array([1.1]), np.array([1.0]), "authors")[0] == pytest.approx(0.1 / 1.1)
    # a reconstruction at φ = -π + 0.01 of a target at π - 0.01 is off by 0.02, not by 2π - 0.02
    assert relative_error(np.array([-np.pi + 0.01]), np.array([np.pi - 0.01]), periodic=True)[
        0
    ] == pytest.approx(0.02 / (np.pi - 0.01))
    with pytest.raises(ValueError, match="convention"):
        relative_error(np.ones(1), np.ones(1), "other")


def test_jet_errors_and_their_summary():
    features = np.array([[0.1, 1.0, 0.5, 3.0], [0.2, 1.2, -0.5, -3.1]])
    recon = features * np.array([1.1, 1.0, 1.0, 1.0])
    errors = jet_errors(features, recon)
    assert errors["mass"] == pytest.approx([0.1, 0.1])
    assert np.abs(errors["pt"]).max() == 0.0
    summary = error_summary(np.array([-1.0, 0.0, 1.0, 2.0, np.inf]))
    assert summary["median"] == 0.5
    assert summary["iqr"] == pytest.approx(1.5)  # q75 = 1.25, q25 = -0.25
    assert summary["median_abs"] == 1.0
    assert (summary["n"], summary["non_finite"]) == (4, 1)


@pytest.mark.parametrize("matching", ["hungarian", "ordered"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_reconstructed_particle_is_counted_and_moves_no_median(matching, bad):
    """One NaN (or inf) in a reconstructed particle: every error of that jet is non-finite, counted as
    such, and the statistics are those of the other jets (it used to move the median while
    non_finite stayed 0, or to stop the Hungarian matching with a traceback)."""
    from lgae.paper.evaluation.reconstruction import reconstruction_metrics
    from lgae.pipeline.inference import Predictions

    p4, mask = _jets()
    recon = p4 * 1.0 + 0.002 * np.random.default_rng(3).normal(size=p4.shape) * mask[..., None]
    features = np.zeros((len(p4), 4))

    def predictions(recon_p4: np.ndarray, rows: slice = slice(None)) -> Predictions:
        return Predictions(
            jet_class="g",
            label=np.zeros(len(p4[rows]), int),
            index=np.arange(len(p4[rows])),
            p4=p4[rows],
            mask=mask[rows],
            jet_features=features[rows] + 1.0,
            recon_jet_features=features[rows] + 1.1,
            scores={},
            latent={},
            recon_p4=recon_p4[rows],
        )

    broken = recon.copy()
    broken[7, 0, 2] = bad
    metrics = reconstruction_metrics({"g": predictions(broken)}, ["g"], matching)["groups"]["qcd"]
    others = np.arange(len(p4)) != 7
    clean = reconstruction_metrics({"g": predictions(recon, others)}, ["g"], matching)["groups"]["qcd"]
    for feature, summary in metrics["particle"].items():
        assert summary["non_finite"] == mask[7].sum(), feature
        assert summary["n"] == clean["particle"][feature]["n"]
        assert summary["median"] == pytest.approx(clean["particle"][feature]["median"], abs=1e-15)
        assert summary["iqr"] == pytest.approx(clean["particle"][feature]["iqr"], abs=1e-15)
    for feature, summary in metrics["jet"].items():
        assert summary["non_finite"] == 1, feature
        assert summary["median"] == pytest.approx(clean["jet"][feature]["median"])
