"""Latent-space measures: Pearson r of known data, invariant masses of known vectors."""

from __future__ import annotations

import numpy as np
import pytest

from lgae.paper.evaluation.latent import pearson, vector_masses


def test_pearson_of_known_data():
    x = np.linspace(-1, 1, 101)
    assert pearson(x, 2 * x + 1) == pytest.approx(1.0)
    assert pearson(x, -x) == pytest.approx(-1.0)
    assert pearson(x, x**2) == pytest.approx(0.0, abs=1e-12)  # symmetric: uncorrelated
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 5000))
    assert pearson(a, 0.6 * a + 0.8 * b) == pytest.approx(0.6, abs=0.02)
    assert np.isnan(pearson(x, np.ones_like(x)))


def test_invariant_masses_of_known_vectors():
    vectors = np.zeros((1, 2, 4), complex)
    vectors[0, 0] = 1j * np.array([5.0, 3.0, 0.0, 0.0])  # imaginary part: m² = 25 - 9 = 16
    vectors[0, 1] = 1j * np.array([5.0, -3.0, 0.0, 0.0]) + np.array([1.0, 0, 0, 0])
    each, total = vector_masses(vectors, "imag")
    assert each.tolist() == [[16.0, 16.0]]
    assert total.tolist() == [100.0]  # (10, 0, 0, 0)
    each_re, _ = vector_masses(vectors, "real")
    assert each_re.tolist() == [[0.0, 1.0]]
