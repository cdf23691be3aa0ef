"""The paper's figures: one module per figure family, data in → matplotlib figure out, no paths.

:mod:`~lgae.paper.plots.style` (HEP style, model names and colours, the provenance footer),
:mod:`~lgae.paper.plots.images` (Fig. 2), :mod:`~lgae.paper.plots.features` (Fig. 3),
:mod:`~lgae.paper.plots.roc` (Fig. 4), :mod:`~lgae.paper.plots.latent` (Figs. 5, 6),
:mod:`~lgae.paper.plots.data_efficiency` (Fig. 7), :mod:`~lgae.paper.plots.equivariance` (Fig. 9).

Their public names are exported lazily (:func:`lgae.lazy_exports`): ``import lgae.paper.plots`` does not
import matplotlib.
"""

from __future__ import annotations

from lgae import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".data_efficiency": ["data_efficiency_figure"],
        ".equivariance": ["equivariance_figure"],
        ".features": ["JET_PANELS", "PARTICLE_PANELS", "feature_figure"],
        ".images": ["ImageColumn", "jet_image_figure", "particle_images"],
        ".latent": ["correlation_figure", "mass_figure"],
        ".roc": ["SIGNAL_TITLES", "roc_figure"],
        ".style": ["COLOURS", "ModelRun", "add_footer", "new_figure"],
        "lgae.names": ["model_label"],  # the style's labels, defined with the names
    },
)
