"""SO+(3,1) and the space it acts on: Minkowski geometry and coordinates (:mod:`lgae.group.lorentz`), its
irreps (m, n) in the canonical basis (:mod:`lgae.group.irreps`), SU(2) and Lorentz Clebsch–Gordan
coefficients (:mod:`lgae.group.su2`, :mod:`lgae.group.clebsch_gordan`), and channel-wise tensor products
with truncation (:mod:`lgae.group.tensor_product`). Knows nothing of models.

The names are exported lazily (:func:`lgae.lazy_exports`), unlike the other library packages': the data
steps use :mod:`~lgae.group.lorentz` on numpy arrays, and must not import torch with the irreps. The
function :func:`~lgae.group.clebsch_gordan.clebsch_gordan` is imported from its module
(``from lgae.group.clebsch_gordan import clebsch_gordan``): exported here under its module's name, it
would hide the module.
"""

from __future__ import annotations

from lgae import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".clebsch_gordan": ["coupling_constant_scalar_from_vectors"],
        ".irreps": [
            "SCALAR",
            "VECTOR",
            "Irrep",
            "algebra",
            "cartesian_matrix",
            "cartesian_to_canonical",
            "decompose",
            "product_to_canonical",
            "rep_matrix",
        ],
        ".lorentz": [
            "apply",
            "boost",
            "generators",
            "is_lorentz",
            "mass_from_p4",
            "metric",
            "minkowski_dot",
            "minkowski_norm2",
            "p4_from_ptetaphi",
            "ptetaphi_from_p4",
            "random_lorentz",
            "rotation",
            "wrap_phi",
        ],
        ".su2": ["su2_cg_matrix", "su2_generators"],
        ".tensor_product": ["apply_representation", "cg_product", "concatenate", "product_multiplicities"],
    },
)
