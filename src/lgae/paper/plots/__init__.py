"""The paper's figures: one module per figure family, data in → matplotlib figure out, no paths.

:mod:`~lgae.paper.plots.style` (HEP style, model names and colours, the provenance footer),
:mod:`~lgae.paper.plots.images` (Fig. 2), :mod:`~lgae.paper.plots.features` (Fig. 3), :mod:`~lgae.paper.plots.roc` (Fig. 4),
:mod:`~lgae.paper.plots.latent` (Figs. 5, 6), :mod:`~lgae.paper.plots.data_efficiency` (Fig. 7),
:mod:`~lgae.paper.plots.equivariance` (Fig. 9).
"""

from __future__ import annotations
