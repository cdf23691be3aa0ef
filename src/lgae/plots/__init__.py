"""The paper's figures: one module per figure family, data in → matplotlib figure out, no paths.

:mod:`~lgae.plots.style` (HEP style, model names and colours, the provenance footer),
:mod:`~lgae.plots.images` (Fig. 2), :mod:`~lgae.plots.features` (Fig. 3), :mod:`~lgae.plots.roc` (Fig. 4),
:mod:`~lgae.plots.latent` (Figs. 5, 6), :mod:`~lgae.plots.data_efficiency` (Fig. 7),
:mod:`~lgae.plots.equivariance` (Fig. 9).
"""

from __future__ import annotations
