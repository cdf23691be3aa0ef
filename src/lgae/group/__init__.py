"""SO+(3,1) and the space it acts on: Minkowski geometry and coordinates (:mod:`lgae.group.lorentz`), its
irreps (m, n) in the canonical basis (:mod:`lgae.group.irreps`), SU(2) and Lorentz Clebsch–Gordan
coefficients (:mod:`lgae.group.su2`, :mod:`lgae.group.clebsch_gordan`), and channel-wise tensor products
with truncation (:mod:`lgae.group.tensor_product`). Knows nothing of models.

The function :func:`~lgae.group.clebsch_gordan.clebsch_gordan` is imported from its module
(``from lgae.group.clebsch_gordan import clebsch_gordan``): exported here under its module's name, it
would hide the module.
"""

from __future__ import annotations

from lgae.group.clebsch_gordan import coupling_constant_scalar_from_vectors
from lgae.group.irreps import (
    SCALAR,
    VECTOR,
    Irrep,
    algebra,
    cartesian_matrix,
    cartesian_to_canonical,
    decompose,
    product_to_canonical,
    rep_matrix,
)
from lgae.group.lorentz import (
    apply,
    boost,
    generators,
    is_lorentz,
    mass_from_p4,
    metric,
    minkowski_dot,
    minkowski_norm2,
    p4_from_ptetaphi,
    ptetaphi_from_p4,
    random_lorentz,
    rotation,
    wrap_phi,
)
from lgae.group.su2 import su2_cg_matrix, su2_generators
from lgae.group.tensor_product import apply_representation, cg_product, concatenate, product_multiplicities

__all__ = [
    "SCALAR",
    "VECTOR",
    "Irrep",
    "algebra",
    "apply",
    "apply_representation",
    "boost",
    "cartesian_matrix",
    "cartesian_to_canonical",
    "cg_product",
    "concatenate",
    "coupling_constant_scalar_from_vectors",
    "decompose",
    "generators",
    "is_lorentz",
    "mass_from_p4",
    "metric",
    "minkowski_dot",
    "minkowski_norm2",
    "p4_from_ptetaphi",
    "product_multiplicities",
    "product_to_canonical",
    "ptetaphi_from_p4",
    "random_lorentz",
    "rep_matrix",
    "rotation",
    "su2_cg_matrix",
    "su2_generators",
    "wrap_phi",
]
