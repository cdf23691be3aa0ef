"""Anomaly detection (paper Table 4, Fig. 4): ROC curves, AUCs and signal efficiencies at fixed ε_b.

The score direction is fixed in advance: a higher score (a worse reconstruction) means more anomalous,
and it is never flipped after looking at a result, even if an AUC comes out below 0.5 (the authors' code
flipped labels in that case). The background is the QCD test set (the background classes together);
each signal class is tested on its own and all together ("combined", Table 4). ROC curves are
scikit-learn's; ε_s at a given ε_b is read off the ROC by linear interpolation between its points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import auc as sklearn_auc
from sklearn.metrics import roc_curve

from lgae.errors import DataError

__all__ = ["BACKGROUND_EFFICIENCIES", "anomaly_metrics", "roc", "signal_efficiency"]

#: the background efficiencies of Table 4
BACKGROUND_EFFICIENCIES: tuple[float, ...] = (1e-1, 1e-2, 1e-3)
COMBINED = "combined"


def _checked(scores: np.ndarray, what: str) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if scores.size == 0:
        raise DataError(f"{what}: no scores")
    bad = ~np.isfinite(scores)
    if bad.any():
        raise DataError(
            f"{what}: {int(bad.sum())} scores are NaN or inf (first at jet {int(np.argmax(bad))}); the model "
            "reconstructs those jets as non-finite numbers: retrain it, then rerun predict"
        )
    return scores


def roc(background: np.ndarray, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC curve: the background and signal efficiencies of every threshold on the score.

    Args:
        background: Scores of background jets ``[Nb]`` (higher = more anomalous).
        signal: Scores of signal jets ``[Ns]``.

    Returns:
        ``(ε_b, ε_s)``, each ``[T]``.
    """
    background = _checked(background, "background")
    signal = _checked(signal, "signal")
    labels = np.concatenate([np.zeros(background.size), np.ones(signal.size)])
    fpr, tpr, _ = roc_curve(labels, np.concatenate([background, signal]), drop_intermediate=False)
    return fpr, tpr


def signal_efficiency(fpr: np.ndarray, tpr: np.ndarray, background_efficiency: float) -> float:
    """ε_s at ε_b, linearly interpolated on the ROC (at a vertical step: its top).

    Args:
        fpr: ε_b of the ROC ``[T]``, ascending.
        tpr: ε_s of the ROC ``[T]``.
        background_efficiency: The ε_b at which to read ε_s.

    Returns:
        ε_s.
    """
    # fpr is non-decreasing; np.interp takes the last point at or below ε_b and the first above it,
    # i.e. it follows the straight segments of the curve and the top of a vertical step
    return float(np.interp(background_efficiency, fpr, tpr))


def anomaly_metrics(
    scores: Mapping[str, Mapping[str, np.ndarray]],
    background: Sequence[str],
    signals: Sequence[str],
    efficiencies: Sequence[float] = BACKGROUND_EFFICIENCIES,
) -> dict[str, Any]:
    """AUC and ε_s(ε_b) of every score, per signal class and for the signals combined.

    Args:
        scores: ``scores[class][score]`` = per-jet values ``[N_class]``.
        background: The background classes, taken together.
        signals: The signal classes.
        efficiencies: The ε_b at which to report ε_s.

    Returns:
        Per score and signal (and ``"combined"``): the AUC and ε_s at each ε_b.
    """
    names = sorted(set.intersection(*(set(scores[c]) for c in (*background, *signals)))) if signals else []
    out: dict[str, Any] = {"background": list(background), "signals": list(signals), "scores": {}}
    for name in names:
        qcd = np.concatenate([scores[c][name] for c in background])
        groups = {s: scores[s][name] for s in signals}
        if len(signals) > 1:
            groups[COMBINED] = np.concatenate([scores[s][name] for s in signals])
        per_signal = {}
        for signal, values in groups.items():
            try:
                fpr, tpr = roc(qcd, values)
            except DataError as exc:
                raise DataError(f"score {name!r}, {signal} against {'+'.join(background)}: {exc}") from exc
            per_signal[signal] = {
                "auc": float(sklearn_auc(fpr, tpr)),
                "signal_efficiency": {f"{e:g}": signal_efficiency(fpr, tpr, e) for e in efficiencies},
                "jets": int(np.asarray(values).size),
            }
        out["scores"][name] = {"background_jets": int(qcd.size), "signals": per_signal}
    return out
