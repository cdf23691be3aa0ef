"""SO+(3,1) representation theory: irreps (m, n) in the canonical basis, SU(2) and Lorentz
Clebsch–Gordan coefficients, and channel-wise tensor products with truncation. Knows nothing of models."""

from __future__ import annotations
