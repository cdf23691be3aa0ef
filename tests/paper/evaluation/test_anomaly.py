"""ROC, AUC and signal efficiency at fixed background efficiency, by hand and against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from lgae.errors import DataError
from lgae.paper.evaluation.anomaly import anomaly_metrics, roc, signal_efficiency


def test_perfect_separation_and_no_separation():
    fpr, tpr = roc(np.arange(100.0), np.arange(100.0) + 1000)
    assert signal_efficiency(fpr, tpr, 1e-2) == 1.0
    metrics = anomaly_metrics({"g": {"s": np.zeros(50)}, "t": {"s": np.zeros(50)}}, ["g"], ["t"])
    assert metrics["scores"]["s"]["signals"]["t"]["auc"] == pytest.approx(0.5)


def test_signal_efficiency_is_interpolated_on_a_hand_made_roc():
    # 10 background jets scored 0..9, 4 signal jets scored 9, 9.5, 10, 11: above 9 no background
    # passes and 3 of 4 signals do (ε_s = 0.75 at ε_b = 0); at 9 one background and the 4th signal
    # pass together, a diagonal segment to (0.1, 1)
    background = np.arange(10.0)
    signal = np.array([9.0, 9.5, 10.0, 11.0])
    fpr, tpr = roc(background, signal)
    assert signal_efficiency(fpr, tpr, 0.0) == pytest.approx(0.75)
    assert signal_efficiency(fpr, tpr, 0.1) == pytest.approx(1.0)
    assert signal_efficiency(fpr, tpr, 0.05) == pytest.approx(0.875)  # halfway along the diagonal
    # a vertical step: 8.5 is a signal below the background at 9, so at ε_b = 0.1 the ROC jumps
    fpr, tpr = roc(background, np.array([8.5, 9.5, 10.0, 11.0]))
    assert signal_efficiency(fpr, tpr, 0.05) == pytest.approx(0.75)  # flat from (0, .75) to (.1, .75)
    assert signal_efficiency(fpr, tpr, 0.1) == pytest.approx(1.0)  # the top of the step


def test_auc_and_efficiencies_agree_with_scikit_learn():
    rng = np.random.default_rng(1)
    scores = {"g": {"a": rng.normal(size=3000)}, "q": {"a": rng.normal(size=2000)}}
    scores["t"] = {"a": rng.normal(1.0, size=1000)}
    scores["w"] = {"a": rng.normal(0.3, size=1000)}
    metrics = anomaly_metrics(scores, ["g", "q"], ["t", "w"])["scores"]["a"]["signals"]
    qcd = np.concatenate([scores["g"]["a"], scores["q"]["a"]])
    for name, signal in (
        ("t", scores["t"]["a"]),
        ("combined", np.concatenate([scores["t"]["a"], scores["w"]["a"]])),
    ):
        labels = np.concatenate([np.zeros(qcd.size), np.ones(signal.size)])
        expected = roc_auc_score(labels, np.concatenate([qcd, signal]))
        assert metrics[name]["auc"] == pytest.approx(expected, abs=1e-12)
        # ε_s at ε_b = 0.1: the fraction of signal above the background's 90 % quantile
        threshold = np.quantile(qcd, 0.9)
        assert metrics[name]["signal_efficiency"]["0.1"] == pytest.approx(
            (signal > threshold).mean(), abs=2e-3
        )
    assert metrics["t"]["auc"] > metrics["w"]["auc"] > 0.5


def test_the_score_direction_is_never_flipped():
    metrics = anomaly_metrics({"g": {"s": np.ones(10)}, "t": {"s": np.zeros(10)}}, ["g"], ["t"])
    assert metrics["scores"]["s"]["signals"]["t"]["auc"] == 0.0


def test_nan_scores_are_refused():
    with pytest.raises(DataError, match="NaN"):
        roc(np.array([0.0, np.nan]), np.array([1.0]))
