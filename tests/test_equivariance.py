"""The shared equivariance assertion (lgae.equivariance): what it measures, and that it can fail."""

from __future__ import annotations

import math

import pytest
import torch

from lgae.equivariance import assert_equivariant, deviation, lorentz_tolerance, per_sample_deviation
from lgae.group import lorentz


def _p4(seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(6, 5, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


def test_a_covariant_map_passes_and_its_deviation_is_returned():
    lam = lorentz.random_lorentz(0, max_rapidity=2.0)
    measured = assert_equivariant(
        lambda p: p * lorentz.minkowski_norm2(p).unsqueeze(-1),  # covariant, and not exact in rounding
        (_p4(),),
        lambda p: (lorentz.apply(lam, p),),
        lambda out: lorentz.apply(lam, out),
        tolerance=lorentz_tolerance(torch.float64, lam, 10.0),
    )
    assert 0 < measured < 10 * torch.finfo(torch.float64).eps * float(lam[0, 0]) ** 2


def test_an_invariant_that_is_not_is_caught():
    lam = lorentz.boost(0.5, (1.0, 0.0, 0.0))
    with pytest.raises(AssertionError, match="energy: not equivariant: max relative deviation"):
        assert_equivariant(
            lambda p: p[..., 0],  # the energy is not Lorentz invariant
            (_p4(),),
            lambda p: (lorentz.apply(lam, p),),
            tolerance=1e-6,
            what="energy",
        )


def test_parts_are_compared_one_by_one():
    """A small scalar part is not hidden behind a large vector part."""
    got = {"s": torch.tensor([1e-3, 2e-3]), "v": torch.tensor([1e3, 2e3])}
    expected = {"s": torch.tensor([1e-3, 1e-3]), "v": torch.tensor([1e3, 2e3])}
    assert deviation(got, expected) == pytest.approx(1.0)
    assert deviation(got["v"], expected["v"]) == 0


def test_nan_and_all_zero_outputs_fail():
    with pytest.raises(AssertionError, match="deviation nan"):
        assert_equivariant(lambda p: p * math.nan, (_p4(),), lambda p: (p,), tolerance=1.0)
    with pytest.raises(AssertionError, match="exactly zero, so the test proves nothing"):
        assert_equivariant(lambda p: 0 * p, (_p4(),), lambda p: (2 * p,), tolerance=1.0)


def test_median_bounds_the_typical_sample():
    got, expected = torch.ones(5, 3), torch.ones(5, 3)
    got[0] = 3.0  # one sample off by a factor 3
    assert per_sample_deviation(got, expected).tolist() == [2.0, 0, 0, 0, 0]
    assert_equivariant(lambda x: x, (expected,), lambda _x: (got,), tolerance=1e-12, reduce="median")
    with pytest.raises(AssertionError, match="max relative deviation 2"):
        assert_equivariant(lambda x: x, (expected,), lambda _x: (got,), tolerance=1e-12)


def test_tolerance_scales_with_precision_and_gamma_squared():
    lam = lorentz.boost(math.acosh(3.0), (0.0, 1.0, 0.0))
    assert lorentz_tolerance(torch.float64, lam, 1.0) == pytest.approx(9 * 2.0**-52)
    assert lorentz_tolerance(torch.complex64, None, 2.0) == pytest.approx(2 * 2.0**-23)


def test_a_given_output_stands_for_the_untransformed_one():
    """A scan passes the model's output once; the assertion then compares against it, not a recomputation."""
    lam = lorentz.boost(0.5, (0.0, 0.0, 1.0))
    p4 = _p4()
    calls = []

    def covariant(p: torch.Tensor) -> torch.Tensor:
        calls.append(p)
        return 2 * p

    def move(p: torch.Tensor) -> tuple[torch.Tensor]:
        return (lorentz.apply(lam, p),)

    def boost(out: torch.Tensor) -> torch.Tensor:
        return lorentz.apply(lam, out)

    assert_equivariant(covariant, (p4,), move, boost, tolerance=1e-12, output=2 * p4)
    assert len(calls) == 1  # only the transformed input ran
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(covariant, (p4,), move, boost, tolerance=1e-12, output=3 * p4)
