"""Particle matching: a known permutation is recovered, padded particles never take part."""

from __future__ import annotations

import numpy as np

from lgae.paper.evaluation.matching import match_particles


def test_a_known_permutation_is_recovered():
    rng = np.random.default_rng(0)
    target = rng.normal(size=(50, 12, 3))
    mask = np.ones((50, 12), bool)
    mask[:, 9:] = False  # three padded slots per jet, holding garbage
    target[~mask] = 1e6
    perms = np.stack([np.concatenate([rng.permutation(9), np.arange(9, 12)]) for _ in range(50)])
    output = np.take_along_axis(target, perms[..., None], axis=1) + 1e-6 * rng.normal(size=target.shape)
    jet, t_slot, o_slot = match_particles(target, output, mask, mask[np.arange(50)[:, None], perms])
    assert len(jet) == 50 * 9
    assert np.array_equal(perms[jet, o_slot], t_slot)  # output slot o holds target particle perms[o]
    assert (t_slot < 9).all()


def test_unequal_counts_match_the_smaller_set_and_empty_jets_contribute_nothing():
    target = np.zeros((2, 4, 2))
    target[0, :3] = [[0, 0], [1, 0], [5, 5]]
    output = np.zeros((2, 4, 2))
    output[0, :2] = [[5.1, 5], [0.9, 0]]
    target_mask = np.array([[1, 1, 1, 0], [0, 0, 0, 0]], bool)
    output_mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    jet, t_slot, o_slot = match_particles(target, output, target_mask, output_mask)
    assert jet.tolist() == [0, 0]
    assert dict(zip(o_slot.tolist(), t_slot.tolist(), strict=True)) == {0: 2, 1: 1}
