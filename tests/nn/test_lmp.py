"""The LMP layer: equivariance, fast path = general CG path, masking, permutations."""

from __future__ import annotations

import pytest
import torch

from lgae import lorentz
from lgae.group.irreps import SCALAR, VECTOR, Irrep, cartesian_matrix, rep_matrix
from lgae.models.lgae import canonical_to_pairs, pairs_to_canonical
from lgae.nn.lmp import LMPLayer, Pairs, edge_mask, pair_invariants


def _jets(batch: int = 4, n: int = 12, n_real: int = 9, seed: int = 0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    pt = 0.01 + 0.3 * torch.rand(batch, n, generator=gen, dtype=torch.float64)
    eta = 0.2 * torch.randn(batch, n, generator=gen, dtype=torch.float64)
    phi = 0.2 * torch.randn(batch, n, generator=gen, dtype=torch.float64)
    p4 = lorentz.p4_from_ptetaphi(pt, eta, phi)
    mask = torch.zeros(batch, n, dtype=torch.bool)
    mask[:, :n_real] = True
    p4 = p4 * mask.unsqueeze(-1)
    return p4.to(dtype), mask


def _features(p4: torch.Tensor, channels: int, seed: int) -> Pairs:
    """Random equivariant features: scalars invariant, vectors linear combinations of the momenta."""
    gen = torch.Generator().manual_seed(seed)
    batch, n, _ = p4.shape
    s = torch.randn(batch, 2, channels, n, generator=gen, dtype=torch.float64).to(p4.dtype)
    w = torch.randn(2, channels, n, n, generator=gen, dtype=torch.float64).to(p4.dtype) / n
    v = torch.einsum("rcij,bjm->brcim", w, p4)
    return Pairs(s, v)


def _transform(feats: Pairs, lam: torch.Tensor) -> Pairs:
    return Pairs(feats.s, lorentz.apply(lam, feats.v))


@pytest.mark.parametrize("harmonics", [(SCALAR, VECTOR), (VECTOR,)], ids=["scalar+vector", "vector"])
@pytest.mark.parametrize("seed", range(3))
def test_layer_is_lorentz_equivariant(harmonics, seed):
    torch.manual_seed(seed)
    layer = LMPLayer(3, 4, edge_harmonics=harmonics).double()
    p4, mask = _jets(seed=seed)
    feats = _features(p4, 3, seed)
    lam = lorentz.random_lorentz(seed, max_rapidity=3.0)

    def run(feats: Pairs, x: torch.Tensor) -> Pairs:
        return layer(feats, x, pair_invariants(x), edge_mask(mask), mask)

    out = run(feats, p4)
    out_t = run(_transform(feats, lam), lorentz.apply(lam, p4))
    expected_v = lorentz.apply(lam, out.v)
    assert (out_t.v - expected_v).abs().max() <= 1e-9 * expected_v.abs().max()
    assert (out_t.s - out.s).abs().max() <= 1e-9 * out.s.abs().max()


@pytest.mark.parametrize("complex_positions", [False, True])
@pytest.mark.parametrize("harmonics", [(SCALAR, VECTOR), (VECTOR,)], ids=["scalar+vector", "vector"])
def test_fast_path_equals_general_cg_path(harmonics, complex_positions):
    torch.manual_seed(1)
    layer = LMPLayer(3, 2, edge_harmonics=harmonics, scalar_mlp_depth=2).double()
    p4, mask = _jets(seed=2)
    feats = _features(p4, 3, 5)
    x = p4
    if complex_positions:
        x = torch.stack([p4, 0.3 * p4.flip(1)], dim=1)
    dist = pair_invariants(x)
    edges = edge_mask(mask)
    fast = layer(feats, x, dist, edges, mask)
    x_pairs = x if complex_positions else torch.stack([x, torch.zeros_like(x)], dim=1)
    general = canonical_to_pairs(layer.forward_general(pairs_to_canonical(feats), x_pairs, dist, edges, mask))
    for a, b in zip(fast, general, strict=True):
        assert (a - b).abs().max() <= 1e-12 * b.abs().max()


@torch.no_grad()
def test_general_path_with_higher_irreps_is_equivariant():
    """Two layers that keep (1,0), (0,1) and (1,1) as well: every irrep transforms by its own D(Λ)."""
    torch.manual_seed(3)
    bound = Irrep(2, 2)
    first = LMPLayer(2, 2, bound=bound).double()
    second = LMPLayer(2, 2, in_irreps=first.out_irreps, bound=bound).double()
    assert set(first.out_irreps) == {Irrep(0, 0), Irrep(0, 2), Irrep(1, 1), Irrep(2, 0), Irrep(2, 2)}
    assert not first.fast_path_ok
    p4, mask = _jets(seed=4)
    feats = _features(p4, 2, 6)
    gen = torch.Generator().manual_seed(4)
    theta, zeta = (
        torch.randn(3, generator=gen, dtype=torch.float64),
        torch.randn(3, generator=gen, dtype=torch.float64),
    )
    lam = cartesian_matrix(theta, zeta)

    def run(feats: Pairs, x: torch.Tensor) -> dict:
        pairs = torch.stack([x, torch.zeros_like(x)], dim=1)
        general = pairs_to_canonical(feats)
        for layer in (first, second):
            general = layer.forward_general(general, pairs, pair_invariants(x), edge_mask(mask), mask)
        return general

    out = run(feats, p4)
    out_t = run(_transform(feats, lam), lorentz.apply(lam, p4))
    assert set(out) == set(second.out_irreps)
    for irrep, value in out.items():
        expected = value @ rep_matrix(irrep, theta, zeta).T
        assert (out_t[irrep] - expected).abs().max() <= 1e-9 * expected.abs().max(), str(irrep)


def test_padded_nodes_send_and_receive_nothing():
    torch.manual_seed(0)
    layer = LMPLayer(3, 3).double()
    p4, mask = _jets(seed=7)
    feats = _features(p4, 3, 8)
    out = layer(feats, p4, pair_invariants(p4), edge_mask(mask), mask)
    assert out.s[..., ~mask[0]].abs().max() == 0
    assert out.v[:, :, :, ~mask[0]].abs().max() == 0
    # garbage in padded slots (positions and features) changes nothing for real nodes
    garbage_p4 = p4.clone()
    garbage_p4[~mask] = torch.randn(int((~mask).sum()), 4, dtype=p4.dtype) * 5
    garbage = Pairs(feats.s.clone(), feats.v.clone())
    garbage.s[..., ~mask[0]] = 7.0
    garbage.v[:, :, :, ~mask[0]] = -3.0
    out_g = layer(garbage, garbage_p4, pair_invariants(garbage_p4), edge_mask(mask), mask)
    assert torch.equal(out_g.s, out.s)
    assert torch.equal(out_g.v, out.v)


def test_layer_is_permutation_equivariant():
    torch.manual_seed(0)
    layer = LMPLayer(3, 3).double()
    p4, mask = _jets(seed=9)
    feats = _features(p4, 3, 10)
    perm = torch.randperm(p4.shape[1])
    out = layer(feats, p4, pair_invariants(p4), edge_mask(mask), mask)
    pf = Pairs(feats.s[..., perm], feats.v[:, :, :, perm])
    pp, pm = p4[:, perm], mask[:, perm]
    out_p = layer(pf, pp, pair_invariants(pp), edge_mask(pm), pm)
    assert torch.allclose(out_p.s, out.s[..., perm], atol=1e-14)
    assert torch.allclose(out_p.v, out.v[:, :, :, perm], atol=1e-14)
