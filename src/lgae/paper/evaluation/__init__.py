"""Evaluation: inference on the test splits, then pure functions of its outputs.

:mod:`~lgae.pipeline.inference` is the only part that runs a model (one job per trained model, on a GPU
where there is one); it writes one prediction file per class. Everything else is arrays in, numbers out:
:mod:`~lgae.paper.evaluation.matching` (particle pairing), :mod:`~lgae.paper.evaluation.reconstruction` (Tables 2, 3,
Fig. 7), :mod:`~lgae.paper.evaluation.anomaly` (Table 4, Fig. 4), :mod:`~lgae.paper.evaluation.latent` (Figs. 5, 6),
:mod:`~lgae.paper.evaluation.equivariance` (Fig. 9).
"""

from __future__ import annotations
