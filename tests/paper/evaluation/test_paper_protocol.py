"""The authors' anomaly scores on hand-computed jets, and their protocol: flip below AUC 0.5, best of all."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment

from lgae.errors import ConfigError, DataError
from lgae.jets import absolute_p4, relative_coordinates
from lgae.losses import chamfer as training_chamfer
from lgae.paper.evaluation.anomaly import anomaly_metrics
from lgae.paper.evaluation.paper_protocol import (
    SCORES,
    chamfer,
    emd_relative,
    family_of,
    flipped_roc,
    gnnae_scores,
    hungarian,
    lgae_scores,
    mse,
    paper_protocol_metrics,
    paper_scores,
)
from lgae.pipeline.inference import Predictions, predict_class


def _massless(pt: float, eta: float, phi: float) -> list[float]:
    return [pt * np.cosh(eta), pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)]


def _jets(n: int, slots: int = 30, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pt, eta, phi = (
        rng.uniform(0.01, 0.3, (n, slots)),
        rng.normal(0, 0.2, (n, slots)),
        rng.normal(1, 0.2, (n, slots)),
    )
    return np.stack([pt * np.cosh(eta), pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)], axis=-1)


# ------------------------------------------------------------------------------------------ distances
def test_chamfer_is_the_mean_unsquared_nearest_distance_both_ways():
    recon = torch.tensor([[[0.0, 0.0], [3.0, 4.0]]])
    target = torch.tensor([[[0.0, 0.0], [6.0, 8.0]]])
    # recon → target: 0 and 5 (mean 2.5); target → recon: 0 and 5 (mean 2.5); not squared (it would be 25)
    assert chamfer(recon, target).item() == pytest.approx(5.0)


def test_hungarian_pairs_on_the_distance_and_scores_the_squared_distance():
    recon = torch.tensor([[[0.0, 0.0], [3.0, 4.0]]])
    target = torch.tensor([[[6.0, 8.0], [0.0, 0.0]]])
    # the pairs (0,0)-(0,0) and (3,4)-(6,8): squared distances 0 and 25, mean over 2 slots
    assert hungarian(recon, target).item() == pytest.approx(12.5)


def test_hungarian_uses_the_optimal_pairs_not_the_authors_inverse_permutation():
    """A reconstruction that is the target in another order (a 3-cycle, not its own inverse) scores 0;
    the authors' ``p[col_ind]`` pairs it with the inverse permutation and would give 20/3."""
    target = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [0.0, 3.0]]])
    recon = target[:, [1, 2, 0]]
    assert hungarian(recon, target).item() == pytest.approx(0.0)
    _, columns = linear_sum_assignment(torch.cdist(recon, target)[0].numpy())
    authors = recon[0, columns]  # their p_shuffle: the recon indexed by the matched target columns
    assert ((authors - target[0]) ** 2).sum(-1).mean().item() == pytest.approx(20 / 3)


def test_mse_compares_slot_with_slot():
    recon = torch.tensor([[[1.0, 0.0], [0.0, 0.0]]])
    target = torch.tensor([[[0.0, 0.0], [0.0, 2.0]]])
    assert mse(recon, target).item() == pytest.approx(2.5)  # (1 + 4) / 2 slots
    assert chamfer(recon, target).item() == pytest.approx(1.5)  # (1 + 0)/2 + (0 + 2)/2


def test_emd_relative_is_energyflows_with_r_1():
    target = np.array([[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]])  # a padded zero-pT slot weighs nothing
    recon = np.array([[[1.0, 0.1, 0.0], [0.0, 0.0, 0.0]]])
    assert emd_relative(recon, target) == pytest.approx([0.1])  # Δη = 0.1, R = 1 (ours: 0.8)
    assert emd_relative(target, target) == pytest.approx([0.0])
    # φ is not periodic in energyflow's default: 3.1 and -3.1 are 6.2 apart, not 2π - 6.2
    across = np.array([[[1.0, 0.0, 3.1]]]), np.array([[[1.0, 0.0, -3.1]]])
    assert emd_relative(*across) == pytest.approx([6.2])


# ------------------------------------------------------------------------------------------ the LGAE set
def test_lgae_set_has_every_authors_score_once_in_their_order():
    p4 = _jets(5)
    scores = lgae_scores(p4 * 1.01, p4)
    assert list(scores) == list(SCORES["lgae"])
    assert len(scores) == 21  # 15 particle scores, jet Cartesian, 4 Lorentz ones, EMD
    assert "jet_polar" not in scores  # the authors' "jet, polar" is a copy of "jet, Cartesian"
    assert list(lgae_scores(p4 * 1.01, p4, with_emd=False)) == list(SCORES["lgae"])[:-1]


def test_a_perfect_reconstruction_scores_zero_except_the_minkowski_matchings():
    p4 = _jets(20)
    scores = lgae_scores(p4, p4)
    nonzero = {k for k, v in scores.items() if np.abs(v).max() > 1e-12}
    assert nonzero == {"chamfer_lorentz", "hungarian_lorentz"}


def test_lorentz_chamfer_of_a_perfect_reconstruction_is_minus_the_jet_mass_squared():
    """Two massless particles reconstructed exactly: every min over the Minkowski squares (Δp)² = −2 p_i·p_j
    picks the other particle, so the score is −4 m²/slots, a jet-mass tagger (the issue's AUC 0.35 from
    a perfect reconstruction), while our pre-registered Chamfer is 0."""
    masses = []
    values = []
    for angle in (0.05, 0.1, 0.2, 0.4):
        jet = np.array([[_massless(0.5, 0.0, 0.0), _massless(0.3, angle, 0.0), [0.0] * 4]])  # 1 padded slot
        total = jet[0].sum(0)
        masses.append(total[0] ** 2 - (total[1:] ** 2).sum())
        values.append(lgae_scores(jet, jet, with_emd=False)["chamfer_lorentz"][0])
        assert values[-1] == pytest.approx(-4 * masses[-1] / 3, rel=1e-9)
        zero = training_chamfer(torch.as_tensor(jet), torch.as_tensor(jet), reduction="none")
        assert zero.item() == 0.0
    assert np.all(np.diff(masses) > 0)
    assert np.all(np.diff(values) < 0)  # the heavier the jet, the lower its score


def test_lorentz_chamfer_of_perfect_pythia_reconstructions_is_a_jet_mass_tagger(processed_jets_dir):
    """On generated jets of every class, the input as its own reconstruction: the pre-registered Chamfer
    is 0 for every jet, the authors' Lorentz Chamfer ranks the jets as −m² does (issue 25: AUC 0.35 for
    both on the quick run), so the flip turns it into a mass tagger that knows nothing of any autoencoder."""
    from scipy.stats import spearmanr

    from lgae.pipeline.data.preprocess import load_processed

    p4 = np.concatenate([load_processed(processed_jets_dir / f"{c}_test.h5").p4 for c in "gqtwz"])
    p4 = p4.astype(np.float64)
    lorentz = lgae_scores(p4, p4, with_emd=False)["chamfer_lorentz"]
    total = p4.sum(1)
    mass_squared = total[:, 0] ** 2 - (total[:, 1:] ** 2).sum(-1)
    assert (lorentz < 0).all()
    assert spearmanr(lorentz, -mass_squared).statistic > 0.9


def test_jet_level_scores_by_hand():
    jet = np.array([[_massless(0.5, 0.0, 0.0), _massless(0.3, 0.2, 0.1)]])
    shifted = jet.copy()
    shifted[0, 1] += [0.03, 0.0, 0.0, 0.0]  # 30 GeV more energy in one particle
    scores = lgae_scores(shifted, jet, with_emd=False)
    assert scores["jet_cartesian"][0] == pytest.approx(0.03**2)
    assert scores["jet_lorentz"][0] == pytest.approx(0.03**2)  # a pure energy difference: (ΔE)²
    assert scores["mse_cartesian"][0] == pytest.approx(0.03**2 / 2)
    assert scores["mse_lorentz"][0] == pytest.approx(0.03**2 / 2)


def test_normalised_spaces_divide_by_the_inputs_largest_component():
    p4 = _jets(10)
    recon = p4 * 1.05
    base, scaled = lgae_scores(recon, p4, with_emd=False), lgae_scores(recon * 7, p4 * 7, with_emd=False)
    for key in ("chamfer", "hungarian", "mse"):
        # invariant under a common scale; the TeV-space Chamfer grows with it, the MSE with its square
        np.testing.assert_allclose(scaled[f"{key}_normalised_cartesian"], base[f"{key}_normalised_cartesian"])
        np.testing.assert_allclose(scaled[f"{key}_relative_polar"], base[f"{key}_relative_polar"], atol=1e-12)
    np.testing.assert_allclose(scaled["chamfer_cartesian"], 7 * base["chamfer_cartesian"])
    np.testing.assert_allclose(scaled["mse_cartesian"], 49 * base["mse_cartesian"])
    # by hand: one jet whose largest |p^μ| is an energy of 2 TeV
    jet = np.array([[[2.0, 0.0, 0.0, 2.0], [1.0, 1.0, 0.0, 0.0]]])
    moved = jet + np.array([[[0.0] * 4, [0.2, 0.0, 0.0, 0.0]]])
    assert lgae_scores(moved, jet, with_emd=False)["mse_normalised_cartesian"][0] == pytest.approx(
        (0.2 / 2) ** 2 / 2
    )


def test_polar_and_relative_polar_by_hand():
    jet = np.array([[_massless(0.5, 0.0, 3.1), _massless(0.5, 0.0, -3.1)]])  # across φ = ±π
    moved = np.array([[_massless(0.5, 0.1, 3.1), _massless(0.5, 0.0, -3.1)]])
    scores = lgae_scores(moved, jet, with_emd=False)
    # polar: (E, pT, η, φ); particle 1 changes E by 0.5 (cosh 0.1 − 1) and η by 0.1
    d_energy = 0.5 * (np.cosh(0.1) - 1)
    assert scores["mse_polar"][0] == pytest.approx((d_energy**2 + 0.1**2) / 2)
    # relative, each cloud against its own axis: both axes at φ = π (φ_rel = ∓0.0416, wrapped), the same
    # pT; the moved cloud's axis rises to η_J, so its particles sit at 0.1 − η_J and −η_J
    eta_jet = np.arcsinh(0.5 * np.sinh(0.1) / abs(np.cos(3.1)))
    assert scores["mse_relative_polar"][0] == pytest.approx(((0.1 - eta_jet) ** 2 + eta_jet**2) / 2)


# ------------------------------------------------------------------------------------------ other families
def test_gnnae_set_in_its_output_space():
    target = np.array([[[0.6, 0.0, 0.0], [0.4, 0.1, -0.1], [0.0, 0.0, 0.0]]])
    recon = target.copy()
    recon[0, 1, 1] = 0.2  # η_rel of one particle off by 0.1
    scores = gnnae_scores(recon, target)
    assert list(scores) == list(SCORES["gnnae"])
    assert scores["mse_relative_polar"][0] == pytest.approx(0.01 / 3)
    assert scores["hungarian_relative_polar"][0] == pytest.approx(0.01 / 3)
    assert scores["emd_relative"][0] == pytest.approx(0.4 * 0.1)


def test_every_score_is_defined_in_the_docs():
    from pathlib import Path

    text = (Path(__file__).parents[3] / "docs" / "paper_protocol.md").read_text()
    for family, scores in SCORES.items():
        for key, definition in scores.items():
            assert f"| `{key}` |" in text, (family, key)
            assert definition.definition


def test_family_and_missing_inputs_give_clear_errors():
    assert [family_of(m) for m in ("lgae-mix", "lgae-min-max", "gnnae-jl", "gnnae-pl", "cnnae")] == [
        "lgae",
        "lgae",
        "gnnae",
        "gnnae",
        "cnnae",
    ]
    with pytest.raises(ConfigError, match="pca"):
        family_of("pca")
    p4 = _jets(3, 4).astype(np.float32)
    old_gnnae_file = Predictions(
        "g",
        np.zeros(3),
        np.arange(3),
        p4,
        np.ones((3, 4), bool),
        np.zeros((3, 4)),
        np.zeros((3, 4)),
        {},
        {},
        p4,
    )
    with pytest.raises(DataError, match=r"recon_relative.*predict"):
        paper_scores(old_gnnae_file, "gnnae")
    with pytest.raises(DataError, match="non-finite"):
        lgae_scores(np.full((1, 2, 4), np.nan), np.zeros((1, 2, 4)))


def test_scores_from_prediction_files_of_each_family(processed_jets_dir):
    """Small untrained models through predict: the GNNAE keeps its relative output (pT_rel clamped, as
    recon_p4), padded slots are zero in every space, and the CNNAE's score is its summed image error."""
    from lgae.models import build
    from lgae.pipeline.data.preprocess import load_processed

    jets = load_processed(processed_jets_dir / "t_test.h5")
    torch.manual_seed(0)
    gnnae = build("gnnae-pl", latent_dim=2).double()
    predictions = predict_class(gnnae, jets, 64, with_emd=False, progress=False)
    relative = predictions.recon_relative
    assert relative is not None
    assert relative.shape == (*predictions.mask.shape, 3)
    assert (relative[..., 0] >= 0).all()
    assert (relative[~predictions.mask] == 0).all()
    _, pt, eta, phi = relative_coordinates(torch.as_tensor(jets.p4), torch.as_tensor(jets.mask))
    back = absolute_p4(
        torch.as_tensor(relative, dtype=torch.float64), pt, eta, phi, torch.as_tensor(jets.mask)
    )
    np.testing.assert_allclose(back.numpy(), predictions.recon_p4, atol=1e-5)
    scores = paper_scores(predictions, "gnnae")
    assert set(scores) == set(SCORES["gnnae"])
    assert all(v.shape == (len(jets),) for v in scores.values())

    lgae = build("lgae-mix", latent_vectors=2, encoder_channels=[2, 2], decoder_channels=[2, 2], num_basis=4)
    predictions = predict_class(lgae.double(), jets, 64, with_emd=False, progress=False)
    assert predictions.recon_relative is None  # its native space is the 4-momenta
    predictions.recon_p4[~predictions.mask] = 5.0  # whatever a padded slot holds, it is read as zero
    scores = paper_scores(predictions, "lgae", with_emd=False)
    predictions.recon_p4[~predictions.mask] = 0.0
    np.testing.assert_array_equal(
        scores["mse_cartesian"], paper_scores(predictions, "lgae", False)["mse_cartesian"]
    )

    cnnae = build("cnnae", latent_dim=8, channels=4).double()
    predictions = predict_class(cnnae, jets, 64, with_emd=False, progress=False)
    np.testing.assert_allclose(
        paper_scores(predictions, "cnnae")["image_sse"], predictions.scores["image_mse"] * 1600
    )


# ------------------------------------------------------------------------------------------ the protocol
def _scores_with_auc_03_and_06() -> dict[str, dict[str, np.ndarray]]:
    """Background 0..9; score a puts every top jet at 2.5 (AUC 0.3), score b every top jet at 4.5 (0.5)
    and every W jet at 5.5 (0.6 against W)."""
    background = np.arange(10.0)
    return {
        "g": {"a": background[:5], "b": background[:5]},
        "q": {"a": background[5:], "b": background[5:]},
        "t": {"a": np.full(4, 2.5), "b": np.full(4, 4.5)},
        "w": {"a": np.full(4, 2.5), "b": np.full(4, 5.5)},
    }


def test_flip_turns_auc_03_into_07_on_the_swapped_labels():
    fpr, tpr, area, flipped = flipped_roc(np.arange(10.0), np.full(4, 2.5))
    assert flipped
    assert area == pytest.approx(0.7)
    # labels swapped: QCD jets are the "signal"; 7 of the 10 lie above every top jet, at ε_b = 0
    assert np.interp(0.0, fpr, tpr) == pytest.approx(0.7)
    assert flipped_roc(np.arange(10.0), np.full(4, 5.5))[2:] == (pytest.approx(0.6), False)


def test_the_paper_protocol_names_the_flipped_winner_and_the_pre_registered_auc_stays():
    scores = _scores_with_auc_03_and_06()
    paper = paper_protocol_metrics(scores, ["g", "q"], ["t", "w"], "lgae")
    assert paper["post_hoc"] is True
    assert paper["scores_compared"] == 2
    top = paper["best"]["t"]
    assert (top["score"], top["flipped"], top["auc"]) == ("a", True, pytest.approx(0.7))
    assert top["signal_efficiency"]["0.01"] == pytest.approx(0.7)
    assert paper["scores"]["a"]["signals"]["t"] == {
        "auc": pytest.approx(0.7),
        "auc_before_flip": pytest.approx(0.3),
        "flipped": True,
    }
    w = paper["best"]["w"]  # a: 0.7 flipped, b: 0.6 → a; the winner is chosen per signal
    assert (w["score"], w["auc"]) == ("a", pytest.approx(0.7))
    assert paper["best"]["combined"]["score"] == "a"
    # the pre-registered view of the same score is untouched
    pre = anomaly_metrics(scores, ["g", "q"], ["t", "w"])
    assert pre["scores"]["a"]["signals"]["t"]["auc"] == pytest.approx(0.3)
    assert pre["scores"]["a"]["signals"]["combined"]["auc"] == pytest.approx(0.3)


def test_a_better_unflipped_score_wins_and_ties_go_to_the_first():
    scores = _scores_with_auc_03_and_06()
    scores["t"]["b"] = np.full(4, 9.5)  # b against top: 1.0
    paper = paper_protocol_metrics(scores, ["g", "q"], ["t"], "lgae")
    assert set(paper["best"]) == {"t"}  # one signal: no "combined"
    assert (paper["best"]["t"]["score"], paper["best"]["t"]["flipped"]) == ("b", False)
    tie = paper_protocol_metrics(
        {c: {"x": v["a"], "y": v["a"]} for c, v in scores.items()}, ["g", "q"], ["t"], "lgae"
    )
    assert tie["best"]["t"]["score"] == "x"


def test_lgae_evaluate_writes_both_views(processed_jets_dir, tmp_path):
    """`lgae evaluate` on real prediction files (a small untrained GNNAE-PL, every class, written and read
    back): anomaly.json keeps the pre-registered scores as they were and adds the paper protocol."""
    import json

    from lgae.cli import main
    from lgae.models import build
    from lgae.names import CLASSES
    from lgae.pipeline.data.preprocess import load_processed
    from lgae.pipeline.inference import read_predictions, write_predictions

    torch.manual_seed(0)
    model = build("gnnae-pl", latent_dim=2)
    info = {"model": "gnnae-pl", "latent": 2, "seed": 1, "fraction": 1.0, "source": "pythia"}
    for jet_class in CLASSES:
        jets = load_processed(processed_jets_dir / f"{jet_class}_test.h5")
        write_predictions(
            tmp_path / "p" / f"{jet_class}.h5",
            predict_class(model, jets, 64, with_emd=False, progress=False, attrs=info),
        )
    (tmp_path / "p" / "equivariance.json").write_text(
        json.dumps({**info, "scanned": False, "reason": "baseline"})
    )
    back = read_predictions(tmp_path / "p" / "t.h5")
    assert back.recon_relative is not None
    assert back.recon_relative.dtype == np.float32
    assert main(["evaluate", "--predictions-dir", str(tmp_path / "p"), "--out-dir", str(tmp_path / "m")]) == 0
    anomaly = json.loads((tmp_path / "m" / "anomaly.json").read_text())
    assert set(anomaly["scores"]) == {"chamfer", "mse", "hungarian"}  # the pre-registered view, unchanged
    paper = anomaly["paper_protocol"]
    assert paper["family"] == "gnnae"
    assert set(paper["scores"]) == set(SCORES["gnnae"])  # EMD included by default
    assert set(paper["best"]) == {"t", "w", "z", "combined"}
    for best in paper["best"].values():
        assert best["auc"] >= 0.5
        assert best["score"] in SCORES["gnnae"]
        entry = paper["scores"][best["score"]]["signals"]
        assert any(e["auc"] == best["auc"] for e in entry.values())
    # any model with reconstructed 4-momenta can be given the LGAE's score set (e.g. a control model)
    out = tmp_path / "as-lgae"
    arguments = ["--predictions-dir", str(tmp_path / "p"), "--out-dir", str(out), "--paper-family", "lgae"]
    assert main(["evaluate", *arguments, "--no-emd"]) == 0
    paper = json.loads((out / "anomaly.json").read_text())["paper_protocol"]
    assert paper["family"] == "lgae"
    assert set(paper["scores"]) == set(SCORES["lgae"]) - {"emd_relative"}
