"""Evaluation: inference on the test splits, then pure functions of its outputs.

:mod:`~lgae.pipeline.inference` is the only part that runs a model (one job per trained model, on a GPU
where there is one); it writes one prediction file per class. Everything else is arrays in, numbers out:
:mod:`~lgae.paper.evaluation.matching` (particle pairing), :mod:`~lgae.paper.evaluation.reconstruction`
(Tables 2, 3, Fig. 7), :mod:`~lgae.paper.evaluation.anomaly` (Table 4, Fig. 4),
:mod:`~lgae.paper.evaluation.latent` (Figs. 5, 6), :mod:`~lgae.paper.evaluation.equivariance` (Fig. 9)
and :mod:`~lgae.paper.evaluation.paper_protocol` (the authors' post-hoc anomaly protocol).

Their public names are exported lazily (:func:`lgae.lazy_exports`): scikit-learn and SciPy load with the
module that needs them.
"""

from __future__ import annotations

from lgae import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".anomaly": ["BACKGROUND_EFFICIENCIES", "anomaly_metrics", "roc", "signal_efficiency"],
        ".equivariance": ["scan_model", "summarize"],
        ".latent": ["PARTS", "latent_metrics", "latent_part", "pearson", "vector_masses"],
        ".matching": ["match_particles"],
        ".paper_protocol": [
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
        ],
        ".reconstruction": [
            "PARTICLE_FEATURES",
            "RELATIVE_ERRORS",
            "error_summary",
            "jet_errors",
            "particle_errors",
            "reconstruction_metrics",
            "relative_error",
        ],
    },
)
