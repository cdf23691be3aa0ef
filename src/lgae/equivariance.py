"""Measuring Lorentz equivariance: the paper's deviation (Appendix C, Eq. 13) and a strict one.

For a transformation Λ and a map F (the model, a layer, the encoder), compare ``F(Λ p)`` with
``Λ F(p)``:

- :func:`paper_deviation`, Eq. 13: ``|mean(F(Λp)) - mean(Λ F(p))| / |mean(Λ F(p))|``, the means taken
  over every particle, jet and component (signed, so errors of opposite sign cancel);
- :func:`max_deviation`: ``max |F(Λp) - Λ F(p)| / max |Λ F(p)|``, which lets nothing cancel.

The scans reproduce Fig. 9: boosts along z with rapidity α on ``linspace(0, 10, 26)`` (γ up to
cosh 10 ≈ 11013) and rotations about z over [0, 2π] on 26 points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lgae import lorentz


def paper_deviation(transformed_output: torch.Tensor, expected: torch.Tensor) -> float:
    """Eq. 13 of the paper: the relative difference of the means, ``|(mean(got) − mean(expected)) / mean(expected)|``.

    Args:
        transformed_output: ``fn(Λ p)``, any shape.
        expected: ``Λ fn(p)``, the same shape.

    Returns:
        The deviation (a float).
    """
    reference = expected.mean()
    return float(((transformed_output.mean() - reference) / reference).abs())


def max_deviation(transformed_output: torch.Tensor, expected: torch.Tensor) -> float:
    """Largest component-wise difference relative to the largest component.

    Args:
        transformed_output: ``fn(Λ p)``, any shape.
        expected: ``Λ fn(p)``, the same shape.

    Returns:
        ``max |got − expected| / max |expected|``.
    """
    return float((transformed_output - expected).abs().max() / expected.abs().max())


@dataclass(frozen=True)
class ScanPoint:
    """Deviation of one transformation (rapidity or angle) of a scan."""

    parameter: float
    gamma: float
    paper: float
    strict: float


def transform_deviation(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    p4: torch.Tensor,
    mask: torch.Tensor,
    lam: torch.Tensor,
    output: torch.Tensor | None = None,
) -> tuple[float, float]:
    """(paper, strict) deviations of ``fn(Λ p, mask)`` from ``Λ fn(p, mask)``.

    Args:
        fn: The map under test, ``fn(p4 [B, N, 4], mask [B, N]) -> 4-vectors [B, ..., 4]``.
        p4: Input 4-momenta ``[B, N, 4]``.
        mask: Real particles ``[B, N]``.
        lam: Λ ``[4, 4]``.
        output: ``fn(p4, mask)`` when the caller has it already (a scan computes it once).

    Returns:
        ``(paper_deviation, max_deviation)``.
    """
    with torch.no_grad():
        expected = lorentz.apply(lam, fn(p4, mask) if output is None else output)
        got = fn(lorentz.apply(lam, p4), mask)
    return paper_deviation(got, expected), max_deviation(got, expected)


def _scan(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    p4: torch.Tensor,
    mask: torch.Tensor,
    transforms: Sequence[tuple[float, float, torch.Tensor]],
) -> list[ScanPoint]:
    with torch.no_grad():
        output = fn(p4, mask)  # the untransformed output, shared by every point
    return [
        ScanPoint(parameter, gamma, *transform_deviation(fn, p4, mask, lam, output))
        for parameter, gamma, lam in transforms
    ]


def boost_scan(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    p4: torch.Tensor,
    mask: torch.Tensor,
    rapidities: Sequence[float] = tuple(np.linspace(0.0, 10.0, 26)),
    direction: Sequence[float] = (0.0, 0.0, 1.0),
) -> list[ScanPoint]:
    """Deviations under boosts along ``direction`` (the paper: z, rapidity 0 … 10).

    Args:
        fn: The map under test, ``fn(p4 [B, N, 4], mask [B, N]) -> 4-vectors [B, ..., 4]``.
        p4: Input 4-momenta ``[B, N, 4]``.
        mask: Real particles ``[B, N]``.
        rapidities: The boost rapidities to scan.
        direction: The boost direction, a 3-vector.

    Returns:
        One [`ScanPoint`][lgae.equivariance.ScanPoint] per rapidity (γ = cosh rapidity).
    """
    transforms = [(float(a), float(np.cosh(a)), lorentz.boost(float(a), direction)) for a in rapidities]
    return _scan(fn, p4, mask, transforms)


def rotation_scan(
    fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    p4: torch.Tensor,
    mask: torch.Tensor,
    angles: Sequence[float] = tuple(np.linspace(0.0, 2 * np.pi, 26)),
    axis: Sequence[float] = (0.0, 0.0, 1.0),
) -> list[ScanPoint]:
    """Deviations under rotations about ``axis`` (the paper: z, angle 0 … 2π).

    Args:
        fn: The map under test, ``fn(p4 [B, N, 4], mask [B, N]) -> 4-vectors [B, ..., 4]``.
        p4: Input 4-momenta ``[B, N, 4]``.
        mask: Real particles ``[B, N]``.
        angles: The rotation angles to scan, in radians.
        axis: The rotation axis, a 3-vector.

    Returns:
        One [`ScanPoint`][lgae.equivariance.ScanPoint] per angle (γ = 1).
    """
    return _scan(fn, p4, mask, [(float(t), 1.0, lorentz.rotation(float(t), axis)) for t in angles])
