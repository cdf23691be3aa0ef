"""Lorentz equivariance, measured and asserted: one module for the library, the tests and Fig. 9.

For a transformation Λ and a map F (the model, a layer, the encoder), compare ``F(Λ p)`` with
``Λ F(p)``:

- :func:`paper_deviation`, the paper's Eq. 13 (Appendix C): ``|mean(F(Λp)) - mean(Λ F(p))| /
  |mean(Λ F(p))|``, the means taken over every particle, jet and component (signed, so errors of
  opposite sign cancel);
- :func:`deviation`, the strict one: ``max |F(Λp) - Λ F(p)| / max |Λ F(p)|``, which lets nothing
  cancel; a structure of tensors (e.g. scalars and vectors) is compared part by part, so that small
  scalars are not hidden behind large vectors.

:func:`assert_equivariant` (after e3nn's) is the one assertion every test uses: it compares
``fn(T(inputs))`` with ``T'(fn(inputs))`` by the strict deviation and fails above the tolerance; it
returns the deviation, so that a test can also check that something is *not* equivariant (a negative
control). A test states its tolerance for Λ in units of ``ε(dtype) · γ²``, with ``γ = Λ⁰₀``
(:func:`lorentz_tolerance`): rounding of the boosted momenta, relative ``ε γ`` per component, enters the
invariants of nearly collinear particles squared (docs/numerics.md), so one bound holds for every
rapidity. Each test's bound is set from the deviation it measures: at most ~100× the measured value and
a few times its largest value (the numbers are in docs/numerics.md), so that a real break, even a small
one, is caught.

The scans reproduce Fig. 9: boosts along z with rapidity α on ``linspace(0, 10, 26)`` (γ up to
cosh 10 ≈ 11013) and rotations about z over [0, 2π] on 26 points.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from lgae.group import lorentz

__all__ = [
    "ScanPoint",
    "assert_equivariant",
    "boost_scan",
    "deviation",
    "gamma",
    "lorentz_tolerance",
    "paper_deviation",
    "per_sample_deviation",
    "rotation_scan",
    "transform_deviation",
]


def _real_dtype(dtype: torch.dtype) -> torch.dtype:
    return {torch.complex128: torch.float64, torch.complex64: torch.float32}.get(dtype, dtype)


def gamma(lam: torch.Tensor) -> float:
    """The Lorentz factor of Λ (its 00 entry: cosh of the rapidity of its boost part).

    Args:
        lam: Λ ``[4, 4]``.

    Returns:
        γ ≥ 1.
    """
    return float(lam[0, 0])


def lorentz_tolerance(dtype: torch.dtype, lam: torch.Tensor | None, bound: float) -> float:
    """``bound · ε(dtype) · γ(Λ)²``: the tolerance on the strict deviation for transformation ``lam``.

    Args:
        dtype: The dtype the model computes in (its machine ε; complex dtypes use their real part's).
        lam: Λ ``[4, 4]``, or None for γ = 1 (e.g. a pure rotation).
        bound: The measured constant in units of ε γ² (docs/numerics.md).

    Returns:
        The tolerance.
    """
    dtype = _real_dtype(dtype)
    g = 1.0 if lam is None else gamma(lam)
    return bound * torch.finfo(dtype).eps * g * g


def _tensors(value: Any) -> Iterator[torch.Tensor]:
    """The tensors of a structure: a tensor, a (named) tuple or list, a dict or a dataclass of them
    (None, an absent optional tensor, has none, nor has a flag such as LorentzLatent.scale_is_invariant)."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, torch.Tensor):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from _tensors(getattr(value, item.name))
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            yield from _tensors(value[key])
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors(item)
    else:
        raise TypeError(f"cannot compare a {type(value).__name__}: give tensors or structures of tensors")


def _pairs(got: Any, expected: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    got_parts, expected_parts = list(_tensors(got)), list(_tensors(expected))
    if len(got_parts) != len(expected_parts):
        raise AssertionError(f"{len(got_parts)} output tensors against {len(expected_parts)} expected")
    for a, b in zip(got_parts, expected_parts, strict=True):
        if a.shape != b.shape:
            raise AssertionError(f"output shape {tuple(a.shape)} against expected {tuple(b.shape)}")
    return list(zip(got_parts, expected_parts, strict=True))


def deviation(got: Any, expected: Any) -> float:
    """Strict relative deviation, the largest over the parts: ``max |a - b| / max |b|``.

    NaN stays NaN, and an expected part that is exactly zero compares absolutely.

    Args:
        got: A tensor, or a structure of them (tuple, list, dict, dataclass).
        expected: The same structure.

    Returns:
        The largest deviation over the parts.
    """
    worst = 0.0
    for a, b in _pairs(got, expected):
        if a.numel() == 0:
            continue
        scale = float(b.abs().max())
        value = float((a - b).abs().max()) / (scale if scale > 0 else 1.0)
        if math.isnan(value):
            return math.nan
        worst = max(worst, value)
    return worst


def per_sample_deviation(got: torch.Tensor, expected: torch.Tensor) -> torch.Tensor:
    """Strict relative deviation of each sample (leading dimension), e.g. per jet.

    Args:
        got: ``[B, ...]``.
        expected: ``[B, ...]``.

    Returns:
        ``[B]``: ``max |got − expected| / max |expected|`` within each sample.
    """
    diff = (got - expected).abs().flatten(start_dim=1).amax(dim=1)
    return diff / expected.abs().flatten(start_dim=1).amax(dim=1)


def assert_equivariant(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    transform_inputs: Callable[..., Sequence[Any]],
    transform_output: Callable[[Any], Any] | None = None,
    *,
    tolerance: float,
    reduce: Literal["max", "median"] = "max",
    what: str = "",
    output: Any = None,
) -> float:
    """Assert ``fn(*transform_inputs(*inputs)) ≈ transform_output(fn(*inputs))``; return the deviation.

    Args:
        fn: The map under test.
        inputs: Its arguments.
        transform_inputs: Maps the arguments to the transformed ones.
        transform_output: Maps an output to the expected transformed output; None means invariance
            (the output must not change).
        tolerance: The largest deviation allowed (e.g. from [`lorentz_tolerance`][lgae.equivariance.lorentz_tolerance]).
        reduce: ``"max"`` bounds the worst sample; ``"median"`` the median sample (leading dimension) of
            a single-tensor output.
        what: Names the map in the error message.
        output: ``fn(*inputs)`` when the caller has it already: a scan over many transformations then
            runs the model once per transformation, not twice.

    Returns:
        The measured deviation.

    Raises:
        AssertionError: The deviation exceeds ``tolerance`` (or is NaN), or the expected output is exactly
            zero, so that the test would prove nothing.
    """
    with torch.no_grad():
        if output is None:
            output = fn(*inputs)
        expected = output if transform_output is None else transform_output(output)
        got = fn(*transform_inputs(*inputs))
    if all(float(b.abs().max()) == 0 for _, b in _pairs(got, expected) if b.numel()):
        raise AssertionError(
            f"{what or 'output'}: the expected output is exactly zero, so the test proves nothing"
        )
    if reduce == "median":
        ((a, b),) = _pairs(got, expected)
        measured = float(per_sample_deviation(a, b).median())
    else:
        measured = deviation(got, expected)
    if not measured <= tolerance:  # NaN fails too
        label = f"{what}: " if what else ""
        raise AssertionError(
            f"{label}not equivariant: {reduce} relative deviation {measured:.3g} > tolerance {tolerance:.3g}"
        )
    return measured


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
        ``(paper_deviation, deviation)``: Eq. 13 and the strict deviation.
    """
    with torch.no_grad():
        expected = lorentz.apply(lam, fn(p4, mask) if output is None else output)
        got = fn(lorentz.apply(lam, p4), mask)
    return paper_deviation(got, expected), deviation(got, expected)


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
