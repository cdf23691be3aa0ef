"""lgae.jets: relative coordinates read as particles."""

from __future__ import annotations

import torch

from lgae.jets import nonnegative_pt


def test_a_negative_pt_rel_becomes_zero_and_the_angles_stay() -> None:
    rel = torch.tensor([[[-0.2, 0.1, -0.3], [0.5, -0.2, 0.4]]], dtype=torch.float64, requires_grad=True)
    out = nonnegative_pt(rel)
    assert out.tolist() == [[[0.0, 0.1, -0.3], [0.5, -0.2, 0.4]]]
    out.sum().backward()  # no gradient through a clamped pT, the rest passes through
    assert rel.grad.tolist() == [[[0.0, 1.0, 1.0], [1.0, 1.0, 1.0]]]
