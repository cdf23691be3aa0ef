"""The paper's anomaly-detection protocol, a second view beside the pre-registered score (issue 25).

The pre-registered view (:mod:`lgae.paper.evaluation.anomaly`) scores every jet with one score fixed in the
configuration before any result was seen, and never flips it. The authors' code does three things
instead, which this module reproduces (our own implementation of their definitions, written down in
``docs/paper_protocol.md``):

1. it computes many scores per jet, a set that depends on the model family (:data:`SCORES`):
   the LGAE's ~20 (Chamfer, Hungarian and MSE in five coordinate spaces, jet-level and Minkowski
   variants, EMD), the GNNAE's 4 (in its relative output space), the CNNAE's 1 (the image's summed
   squared error);
2. for every score whose AUC is below 0.5 it flips the labels (signal ↔ background) and uses that ROC;
3. it takes the best AUC over all scores, separately for each signal and for the signals combined.

Steps 2 and 3 choose after looking at the test labels: the result is a **post-hoc selection**, an upper
bound on what any one score achieves, not a measurement of a score fixed in advance.

Two bugs of the authors' code are not reproduced; we compute what was intended and say so: their
batched Chamfer and Hungarian distances set ``q = p`` (the reconstruction is compared with itself, so
these scores are 0 on the batched path their example scripts use), and their Hungarian score pairs the
particles with the inverse of the optimal permutation (right only when the permutation is its own
inverse). Their "jet, polar" score is a copy of "jet, Cartesian" and is listed once.

Our reconstructions are masked with the input mask (our models are not trained on padded slots), so
padded slots are zero in both the target and the reconstruction; every score runs over all slots, as
the authors' (their models were trained to reproduce the zero padding).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import auc as sklearn_auc
from tqdm.auto import tqdm

from lgae.errors import ConfigError, DataError
from lgae.jets import relative_coordinates
from lgae.losses import emd
from lgae.names import PAPER_PROTOCOL_FAMILIES
from lgae.paper.evaluation.anomaly import BACKGROUND_EFFICIENCIES, COMBINED, roc, signal_efficiency

if TYPE_CHECKING:
    from lgae.pipeline.inference import Predictions

__all__ = [
    "FAMILIES",
    "PROTOCOL_NAME",
    "SCORES",
    "ScoreDefinition",
    "best_rocs",
    "cnnae_scores",
    "family_of",
    "flipped_roc",
    "gnnae_scores",
    "lgae_scores",
    "paper_protocol_metrics",
    "paper_scores",
]

PROTOCOL_NAME = "paper protocol (post-hoc: best of several scores, labels flipped where AUC < 0.5)"
#: the authors' ε in (E, pT, η, φ) and in relative coordinates
EPS = 1e-16
#: energyflow's default R, which the authors' EMD score keeps (our pre-registered EMD: R = 0.8)
EMD_R = 1.0
CHUNK = 2048  # jets whose pairwise distances are formed at once
FAMILIES = PAPER_PROTOCOL_FAMILIES


@dataclass(frozen=True)
class ScoreDefinition:
    """One of the authors' scores: our key, their name for it, and its definition per jet."""

    key: str
    authors_name: str
    definition: str


def _definitions(*rows: tuple[str, str, str]) -> dict[str, ScoreDefinition]:
    return {key: ScoreDefinition(key, name, text) for key, name, text in rows}


_SPACES = {
    "cartesian": ("Cartesian", "(E, px, py, pz) in TeV"),
    "polar": ("polar", "(E, pT, η, φ), TeV and radians"),
    "normalised_cartesian": ("normalized Cartesian", "(E, px, py, pz) ÷ the input jet's max |p^μ|"),
    "normalised_polar": ("normalized polar", "(E, pT, η, φ) of the normalised 4-momenta"),
    "relative_polar": ("relative polar", "(pT_rel, η_rel, φ_rel), each cloud against its own jet"),
}


def _particle_rows(spaces: Sequence[str]) -> list[tuple[str, str, str]]:
    rows = []
    for space in spaces:
        name, coordinates = _SPACES[space]
        rows += [
            (
                f"chamfer_{space}",
                f"particle, {name}, Chamfer distance",
                f"mean over slots of the Euclidean (not squared) distance to the nearest slot of the other "
                f"cloud, both directions added; in {coordinates}",
            ),
            (
                f"hungarian_{space}",
                f"particle, {name}, Hungarian distance",
                f"slots paired one-to-one minimising the summed Euclidean distance, then the mean over "
                f"slots of the squared distance of each pair; in {coordinates}",
            ),
            (
                f"mse_{space}",
                f"particle, {name}, MSE",
                f"mean over slots of the squared distance of slot i to slot i; in {coordinates}",
            ),
        ]
    return rows


_EMD = (
    "emd_relative",
    "emd (relative coordinates)",
    "energyflow's exact EMD (R = 1, φ not periodic) between the (pT_rel, η_rel, φ_rel) clouds",
)
#: the scores of each model family, in the authors' order (a tie of AUCs goes to the first)
SCORES: dict[str, dict[str, ScoreDefinition]] = {
    "lgae": _definitions(
        *_particle_rows(list(_SPACES)),
        (
            "jet_cartesian",
            "jet, Cartesian",
            "squared Euclidean distance of the jets' summed (E, px, py, pz); the authors' 'jet, polar' "
            "is a copy of it",
        ),
        (
            "chamfer_lorentz",
            "particle, Lorentz norms, Chamfer distance",
            "as chamfer_cartesian with the Minkowski square (Δp)² = ΔE² − Δp⃗² as the distance (it can be "
            "negative: on a perfect reconstruction of massless particles it is −4 Σ_i max_j p_i·p_j / N)",
        ),
        (
            "hungarian_lorentz",
            "particle, Lorentz norms, Hungarian distance",
            "slots paired minimising the summed Minkowski square (Δp)², then the mean squared Euclidean "
            "distance of the pairs in (E, px, py, pz)",
        ),
        (
            "mse_lorentz",
            "particle, Lorentz norms, MSE",
            "mean over slots of the Minkowski square (p_i − p̂_i)² (can be negative)",
        ),
        ("jet_lorentz", "jet, Lorentz norms", "Minkowski square of the difference of the jets' 4-momenta"),
        _EMD,
    ),
    "gnnae": _definitions(
        *(
            (key, name, text.replace("each cloud against its own jet", "the model's output space"))
            for key, name, text in _particle_rows(["relative_polar"])
        ),
        _EMD,
    ),
    "cnnae": _definitions(
        (
            "image_sse",
            "MSE (Keras script: summed over pixels)",
            "sum over pixels of the squared difference of the normalised input and output images",
        )
    ),
}


def family_of(model: str) -> str:
    """The score set of a model: the LGAEs', the GNNAEs' or the CNNAE's."""
    for family in FAMILIES:
        if model.startswith(family):
            return family
    raise ConfigError(f"model {model!r} has no paper-protocol score set; use one of {FAMILIES}")


# ------------------------------------------------------------------------------------------ coordinates
def _polar(p4: torch.Tensor) -> torch.Tensor:
    """(E, pT, η, φ) as the authors compute it: ε in η and φ, so a zero slot is (0, 0, 0, π/4)."""
    energy, px, py, pz = p4.unbind(-1)
    pt = torch.sqrt(px**2 + py**2)
    return torch.stack([energy, pt, torch.asinh(pz / (pt + EPS)), torch.atan2(py + EPS, px + EPS)], -1)


def _relative_polar(p4: torch.Tensor) -> torch.Tensor:
    """(pT_rel, η_rel, φ_rel) of every slot against the sum of the same cloud, φ wrapped to [−π, π)."""
    particles, jet = _polar(p4), _polar(p4.sum(-2, keepdim=True))
    phi = torch.remainder(particles[..., 3] - jet[..., 3] + torch.pi, 2 * torch.pi) - torch.pi
    return torch.stack(
        [particles[..., 1] / (jet[..., 1] + EPS), particles[..., 2] - jet[..., 2], phi], dim=-1
    )


def _minkowski_square(difference: torch.Tensor) -> torch.Tensor:
    return difference[..., 0] ** 2 - (difference[..., 1:] ** 2).sum(-1)


def _exact_cdist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # not the matrix-product shortcut: it leaves ~1e-8 where two slots coincide
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")


def distances(recon: torch.Tensor, target: torch.Tensor, metric: str = "euclidean") -> torch.Tensor:
    """[B, recon slot, target slot]: the Euclidean distance, or the Minkowski square (Δp)² of 4-vectors."""
    if metric == "euclidean":
        return _exact_cdist(recon, target)
    if metric == "minkowski":
        energy = (recon[..., 0].unsqueeze(-1) - target[..., 0].unsqueeze(-2)) ** 2
        return energy - _exact_cdist(recon[..., 1:], target[..., 1:]) ** 2
    raise ValueError(f"unknown metric {metric!r}; use 'euclidean' or 'minkowski'")


# ------------------------------------------------------------------------------------------ distances
def chamfer(recon: torch.Tensor, target: torch.Tensor, metric: str = "euclidean") -> torch.Tensor:
    """Per jet: mean over slots of the distance to the nearest slot of the other cloud, both ways."""
    return _chamfer(distances(recon, target, metric))


def _chamfer(distance: torch.Tensor) -> torch.Tensor:
    return distance.min(-1).values.mean(-1) + distance.min(-2).values.mean(-1)


def mse(recon: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per jet: mean over slots of the squared Euclidean distance of slot i to slot i."""
    return ((recon - target) ** 2).sum(-1).mean(-1)


def hungarian(
    recon: torch.Tensor, target: torch.Tensor, metric: str = "euclidean", cost: torch.Tensor | None = None
) -> torch.Tensor:
    """Per jet: slots paired one-to-one minimising the summed ``metric`` (or the given ``cost``), then the
    mean squared Euclidean distance of the pairs (the authors pair on one cost and score on another)."""
    cost_np = (distances(recon, target, metric) if cost is None else cost).cpu().numpy()
    paired = torch.empty_like(recon)
    for jet in range(len(cost_np)):
        rows, columns = linear_sum_assignment(cost_np[jet])
        paired[jet, columns] = recon[jet, rows]  # the recon slot matched to each target slot
    return mse(paired, target)


def emd_relative(recon_relative: np.ndarray, target_relative: np.ndarray) -> np.ndarray:
    """Per jet: energyflow's exact EMD between (pT_rel, η_rel, φ_rel) clouds with energyflow's defaults
    (R = 1, φ not periodic), as the authors call it; solved by :func:`lgae.losses.emd`."""
    return (
        emd(
            _as_tensor(recon_relative),
            _as_tensor(target_relative),
            reduction="none",
            coordinates="ptetaphi",
            R=EMD_R,
            periodic_phi=False,
        )
        .cpu()
        .numpy()
    )


# ------------------------------------------------------------------------------------------ score sets
def _chunks(n: int, progress: bool, what: str) -> Any:
    return tqdm(range(0, n, CHUNK), desc=what, unit="chunk", disable=not progress)


def _as_tensor(array: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(array, dtype=np.float64))


def _checked_pair(recon: np.ndarray, target: np.ndarray, features: int, what: str) -> None:
    if recon.shape != target.shape or recon.ndim != 3 or recon.shape[-1] != features:
        raise DataError(
            f"{what}: reconstruction {recon.shape} and target {target.shape} must both be [jets, slots, "
            f"{features}]"
        )
    if not (np.isfinite(recon).all() and np.isfinite(target).all()):
        raise DataError(
            f"{what}: non-finite values in the reconstruction or target; the predictions are broken"
        )


def lgae_scores(
    recon_p4: np.ndarray, p4: np.ndarray, with_emd: bool = True, progress: bool = False
) -> dict[str, np.ndarray]:
    """The LGAE family's scores [N] from reconstructed and input 4-momenta [N, slots, 4] (TeV, padded
    slots zero in both)."""
    _checked_pair(recon_p4, p4, 4, "LGAE paper-protocol scores")
    parts: dict[str, list[np.ndarray]] = {key: [] for key in SCORES["lgae"] if key != "emd_relative"}
    relative: dict[str, list[np.ndarray]] = {"recon": [], "target": []}
    for start in _chunks(len(p4), progress, "paper-protocol scores"):
        recon, target = _as_tensor(recon_p4[start : start + CHUNK]), _as_tensor(p4[start : start + CHUNK])
        scale = target.abs().amax(dim=(-2, -1), keepdim=True) + EPS  # the authors' "overall_max"
        spaces = {
            "cartesian": (recon, target),
            "polar": (_polar(recon), _polar(target)),
            "normalised_cartesian": (recon / scale, target / scale),
            "normalised_polar": (_polar(recon / scale), _polar(target / scale)),
            "relative_polar": (_relative_polar(recon), _relative_polar(target)),
        }
        for space, (r, t) in spaces.items():
            distance = distances(r, t)
            parts[f"chamfer_{space}"].append(_chamfer(distance).numpy())
            parts[f"hungarian_{space}"].append(hungarian(r, t, cost=distance).numpy())
            parts[f"mse_{space}"].append(mse(r, t).numpy())
        jet_difference = recon.sum(-2) - target.sum(-2)
        parts["jet_cartesian"].append((jet_difference**2).sum(-1).numpy())
        minkowski = distances(recon, target, "minkowski")
        parts["chamfer_lorentz"].append(_chamfer(minkowski).numpy())
        parts["hungarian_lorentz"].append(hungarian(recon, target, cost=minkowski).numpy())
        parts["mse_lorentz"].append(_minkowski_square(recon - target).mean(-1).numpy())
        parts["jet_lorentz"].append(_minkowski_square(jet_difference).numpy())
        relative["recon"].append(spaces["relative_polar"][0].numpy())
        relative["target"].append(spaces["relative_polar"][1].numpy())
    scores = {key: np.concatenate(values) for key, values in parts.items()}
    if with_emd:
        scores["emd_relative"] = emd_relative(
            np.concatenate(relative["recon"]), np.concatenate(relative["target"])
        )
    return {key: scores[key] for key in SCORES["lgae"] if key in scores}  # the authors' order


def gnnae_scores(
    recon_relative: np.ndarray, target_relative: np.ndarray, with_emd: bool = True, progress: bool = False
) -> dict[str, np.ndarray]:
    """The GNNAE family's scores [N] in its output space (pT_rel, η_rel, φ_rel) [N, slots, 3], padded
    slots zero in both."""
    _checked_pair(recon_relative, target_relative, 3, "GNNAE paper-protocol scores")
    parts: dict[str, list[np.ndarray]] = {key: [] for key in SCORES["gnnae"] if key != "emd_relative"}
    for start in _chunks(len(target_relative), progress, "paper-protocol scores"):
        recon = _as_tensor(recon_relative[start : start + CHUNK])
        target = _as_tensor(target_relative[start : start + CHUNK])
        distance = distances(recon, target)
        parts["chamfer_relative_polar"].append(_chamfer(distance).numpy())
        parts["hungarian_relative_polar"].append(hungarian(recon, target, cost=distance).numpy())
        parts["mse_relative_polar"].append(mse(recon, target).numpy())
    scores = {key: np.concatenate(values) for key, values in parts.items()}
    if with_emd:
        scores["emd_relative"] = emd_relative(
            np.asarray(recon_relative, np.float64), np.asarray(target_relative, np.float64)
        )
    return scores


def cnnae_scores(image_mse: np.ndarray, pixels: int) -> dict[str, np.ndarray]:
    """The CNNAE's one score: the summed squared error over the image's ``pixels`` (our image_mse is
    its mean)."""
    return {"image_sse": np.asarray(image_mse, dtype=np.float64) * pixels}


def paper_scores(
    predictions: Predictions, family: str, with_emd: bool = True, progress: bool = False
) -> dict[str, np.ndarray]:
    """The authors' scores of one class's prediction file, for a model of ``family`` (:func:`family_of`).

    LGAE: from the stored input and reconstructed 4-momenta. GNNAE: from the stored output in its own
    space (``recon_relative``) against the input's relative coordinates. CNNAE: from its image MSE.
    """
    what = f"class {predictions.jet_class}"
    if family == "cnnae":
        if predictions.recon_image_mean is None or "image_mse" not in predictions.scores:
            raise DataError(f"{what}: no image score in the predictions; is this a CNNAE prediction file?")
        return cnnae_scores(predictions.scores["image_mse"], predictions.recon_image_mean.size)
    if predictions.recon_p4 is None:
        raise DataError(f"{what}: no reconstructed particles; is this a particle-model prediction file?")
    mask = predictions.mask.astype(bool)
    if family == "lgae":
        p4 = np.where(mask[..., None], predictions.p4, 0.0)
        recon = np.where(mask[..., None], predictions.recon_p4, 0.0)
        return lgae_scores(recon, p4, with_emd, progress)
    if family == "gnnae":
        if predictions.recon_relative is None:
            raise DataError(
                f"{what}: the prediction file holds no recon_relative (the GNNAE's output in its own "
                "space, written by `lgae predict` since issue 25); rerun the predict step "
                "(snakemake --forcerun predict, or `lgae predict`)"
            )
        target = relative_coordinates(
            torch.as_tensor(predictions.p4, dtype=torch.float64), torch.as_tensor(mask)
        )
        recon = np.where(mask[..., None], predictions.recon_relative, 0.0)
        return gnnae_scores(recon, target[0].numpy(), with_emd, progress)
    raise ConfigError(f"unknown paper-protocol family {family!r}; use one of {FAMILIES}")


# ------------------------------------------------------------------------------------------ the protocol
def flipped_roc(background: np.ndarray, signal: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """``(ε_b, ε_s, AUC, flipped)`` as the authors compute it: the ROC of the score, or, if its AUC is
    below 0.5, the ROC with the labels exchanged (signal jets counted as background and vice versa)."""
    fpr, tpr = roc(background, signal)
    area = float(sklearn_auc(fpr, tpr))
    if area >= 0.5:
        return fpr, tpr, area, False
    fpr, tpr = roc(signal, background)  # the labels flipped: QCD jets are now the "signal"
    return fpr, tpr, float(sklearn_auc(fpr, tpr)), True


def _groups(
    scores: Mapping[str, Mapping[str, np.ndarray]], key: str, signals: Sequence[str]
) -> dict[str, np.ndarray]:
    groups = {s: np.asarray(scores[s][key]) for s in signals}
    if len(signals) > 1:
        groups[COMBINED] = np.concatenate([groups[s] for s in signals])
    return groups


def _common_keys(scores: Mapping[str, Mapping[str, np.ndarray]], classes: Sequence[str]) -> list[str]:
    first = list(scores[classes[0]])
    return [k for k in first if all(k in scores[c] for c in classes)]


def best_rocs(
    scores: Mapping[str, Mapping[str, np.ndarray]], background: Sequence[str], signals: Sequence[str]
) -> dict[str, tuple[str, np.ndarray, np.ndarray, float, bool]]:
    """Per signal (and combined): ``(score, ε_b, ε_s, AUC, flipped)`` of the score with the best
    flipped AUC (``scores[class][score]`` per jet; ties go to the first score)."""
    best: dict[str, tuple[str, np.ndarray, np.ndarray, float, bool]] = {}
    for key in _common_keys(scores, [*background, *signals]):
        qcd = np.concatenate([scores[c][key] for c in background])
        for group, values in _groups(scores, key, signals).items():
            fpr, tpr, area, flipped = flipped_roc(qcd, values)
            if group not in best or area > best[group][3]:
                best[group] = (key, fpr, tpr, area, flipped)
    return best


def paper_protocol_metrics(
    scores: Mapping[str, Mapping[str, np.ndarray]],
    background: Sequence[str],
    signals: Sequence[str],
    family: str,
    efficiencies: Sequence[float] = BACKGROUND_EFFICIENCIES,
) -> dict[str, Any]:
    """The paper-protocol view of one model: every score's AUC as computed and after the flip, and per
    signal (and combined) the best score, its AUC and ε_s(ε_b) on its (possibly flipped) ROC."""
    if not signals:
        raise ConfigError("the paper protocol needs at least one signal class")
    keys = _common_keys(scores, [*background, *signals])
    if not keys:
        raise DataError("no paper-protocol score is common to every class; rerun `lgae evaluate`")
    per_score: dict[str, Any] = {}
    best: dict[str, Any] = {}
    for key in keys:
        qcd = np.concatenate([scores[c][key] for c in background])
        entry = {}
        for group, values in _groups(scores, key, signals).items():
            fpr, tpr, area, flipped = flipped_roc(qcd, values)
            entry[group] = {
                "auc": area,
                "auc_before_flip": 1.0 - area if flipped else area,
                "flipped": flipped,
            }
            if group not in best or area > best[group]["auc"]:
                best[group] = {
                    "score": key,
                    "authors_name": SCORES[family][key].authors_name if key in SCORES[family] else key,
                    "auc": area,
                    "flipped": flipped,
                    "signal_efficiency": {f"{e:g}": signal_efficiency(fpr, tpr, e) for e in efficiencies},
                    "jets": int(values.size),
                }
        per_score[key] = {"signals": entry}
    return {
        "protocol": PROTOCOL_NAME,
        "family": family,
        "post_hoc": True,
        "scores_compared": len(keys),
        "background_jets": int(sum(np.asarray(scores[c][keys[0]]).size for c in background)),
        "best": best,
        "scores": per_score,
    }
