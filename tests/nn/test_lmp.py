"""The LMP layer: equivariance (float64 and float32, with a broken layer as negative control), fast path =
general CG path, masking, permutations.

Equivariance bounds are in units of ε γ² (:func:`lgae.equivariance.lorentz_tolerance`). Measured on these
inputs (rapidity ≤ 3), one layer: float64 12–210, float32 4–100 (the bounds below leave 5–80×
and 6–100×); two general-path layers with irreps up to (1,1): 666.
"""

from __future__ import annotations

import pytest
import torch

from lgae.equivariance import assert_equivariant, lorentz_tolerance
from lgae.group import lorentz
from lgae.group.irreps import SCALAR, VECTOR, Irrep, cartesian_matrix, rep_matrix
from lgae.models.lgae import canonical_to_cartesian, cartesian_to_canonical_features
from lgae.nn.edge import LorentzianBells
from lgae.nn.lmp import LMPLayer, LMPStack, NodeFeatures, edge_mask, pair_invariants


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


def _features(p4: torch.Tensor, channels: int, seed: int) -> NodeFeatures:
    """Random equivariant features: scalars invariant, vectors complex combinations of the momenta;
    zero on padded particles (zero momenta), as the layers expect. Complex of the momenta's precision."""
    gen = torch.Generator().manual_seed(seed)
    batch, n, _ = p4.shape
    real = (p4 != 0).any(-1, keepdim=True)
    s = torch.randn(batch, n, channels, generator=gen, dtype=torch.complex128) * real
    w = torch.randn(channels, n, n, generator=gen, dtype=torch.complex128) / n
    v = torch.einsum("cij,bjm->bimc", w, p4.to(torch.complex128)) * real.unsqueeze(-1)
    cdtype = torch.complex64 if p4.dtype == torch.float32 else torch.complex128
    return NodeFeatures(s.to(cdtype), v.to(cdtype))


def _transform(feats: NodeFeatures, lam: torch.Tensor) -> NodeFeatures:
    return NodeFeatures(feats.s, torch.einsum("mk,bnkc->bnmc", lam.to(feats.v.dtype), feats.v))


#: bounds on one layer's deviation, in units of ε γ²
LAYER_BOUND = {torch.float64: 1e3, torch.float32: 6e2}
BELLS = {torch.float64: LorentzianBells().double(), torch.float32: LorentzianBells().float()}


def _edges(layer: LMPLayer, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The layer's edge weights for node 4-vectors x and particle mask."""
    return layer.edges(BELLS[x.real.dtype](pair_invariants(x), edge_mask(mask)))


def _layer_equivariance(layer: LMPLayer, dtype: torch.dtype, seed: int) -> float:
    """Assert that ``layer`` is Lorentz equivariant on random jets and features; the deviation."""
    p4, mask = _jets(seed=seed, dtype=dtype)
    feats = _features(p4, layer.in_channels, seed)
    lam = lorentz.random_lorentz(seed, max_rapidity=3.0)

    def run(feats: NodeFeatures, x: torch.Tensor) -> NodeFeatures:
        return layer(feats, x, _edges(layer, x, mask), mask)

    return assert_equivariant(
        run,
        (feats, p4),
        lambda f, x: (_transform(f, lam), lorentz.apply(lam.to(dtype), x)),
        lambda out: _transform(out, lam),
        tolerance=lorentz_tolerance(dtype, lam, LAYER_BOUND[dtype]),
        what=f"LMP layer ({dtype})",
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("complex_edges", [False, True], ids=["real-f", "complex-f"])
@pytest.mark.parametrize("per_channel", [False, True], ids=["shared-f", "per-channel-f"])
@pytest.mark.parametrize("harmonics", [(SCALAR, VECTOR), (VECTOR,)], ids=["scalar+vector", "vector"])
@pytest.mark.parametrize("seed", range(3))
def test_layer_is_lorentz_equivariant(harmonics, seed, per_channel, complex_edges, dtype):
    torch.manual_seed(seed)
    layer = LMPLayer(
        3, 4, edge_harmonics=harmonics, edge_per_channel=per_channel, complex_edges=complex_edges
    ).to(dtype)
    _layer_equivariance(layer, dtype, seed)


class _BrokenLayer(LMPLayer):
    """An LMP layer with a small term that is not Lorentz invariant: each particle's energy, times
    ``strength``, added to its output scalars."""

    strength = 1e-6

    def forward(self, feats, x, f, node_mask, x_low=None):
        out = super().forward(feats, x, f, node_mask, x_low)
        return NodeFeatures(out.s + self.strength * x[..., :1].to(out.s.dtype), out.v)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_a_broken_layer_is_caught(dtype):
    """Negative control: the helper must fail on a layer with a non-invariant term, even a small one."""
    torch.manual_seed(0)
    layer = _BrokenLayer(3, 4).to(dtype)
    # deviations 5e-9 (float64) and 5e-2 (float32), ~1000x and ~30x the tolerances
    layer.strength = 1e-8 if dtype == torch.float64 else 1e-1
    with pytest.raises(AssertionError, match=r"LMP layer .*not equivariant"):
        _layer_equivariance(layer, dtype, seed=0)
    layer.strength = 0.0  # the same layer without the term passes: the failure was the term
    _layer_equivariance(layer, dtype, seed=0)


@pytest.mark.parametrize("complex_edges", [False, True], ids=["real-f", "complex-f"])
@pytest.mark.parametrize("per_channel", [False, True], ids=["shared-f", "per-channel-f"])
@pytest.mark.parametrize("complex_positions", [False, True])
@pytest.mark.parametrize("harmonics", [(SCALAR, VECTOR), (VECTOR,)], ids=["scalar+vector", "vector"])
def test_fast_path_equals_general_cg_path(harmonics, complex_positions, per_channel, complex_edges):
    torch.manual_seed(1)
    layer = LMPLayer(
        3,
        2,
        edge_harmonics=harmonics,
        scalar_mlp_depth=2,
        edge_per_channel=per_channel,
        complex_edges=complex_edges,
    ).double()
    p4, mask = _jets(seed=2)
    feats = _features(p4, 3, 5)
    x = torch.complex(p4, 0.3 * p4.flip(1) * mask.unsqueeze(-1)) if complex_positions else p4
    f = _edges(layer, x, mask)
    fast = layer(feats, x, f, mask)
    general = canonical_to_cartesian(
        layer.forward_general(cartesian_to_canonical_features(feats), x, f, mask)
    )
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

    def run(feats: NodeFeatures, x: torch.Tensor) -> dict:
        general = cartesian_to_canonical_features(feats)
        for layer in (first, second):
            general = layer.forward_general(general, x, _edges(layer, x, mask), mask)
        return general

    assert set(run(feats, p4)) == set(second.out_irreps)
    assert_equivariant(
        run,
        (feats, p4),
        lambda f, x: (_transform(f, lam), lorentz.apply(lam, x)),
        lambda out: {irrep: value @ rep_matrix(irrep, theta, zeta).T for irrep, value in out.items()},
        tolerance=lorentz_tolerance(torch.float64, lam, 5e3),  # measured 666
        what="general path",
    )


@pytest.mark.parametrize("mlp", [0, 2])
def test_padded_nodes_send_and_receive_nothing(mlp):
    torch.manual_seed(0)
    stack = LMPStack([3, 3], scalar_mlp_depth=mlp).double()
    p4, mask = _jets(seed=7)
    feats = _features(p4, 3, 8)
    edges = edge_mask(mask)
    out = stack(feats, p4, edges, mask)
    assert out.s[:, ~mask[0]].abs().max() == 0
    assert out.v[:, ~mask[0]].abs().max() == 0
    # garbage in padded slots (positions and features, even inf and nan) changes nothing
    garbage_p4 = p4.clone()
    garbage_p4[~mask] = torch.randn(int((~mask).sum()), 4, dtype=p4.dtype) * 5
    garbage_p4[0, -1, 0] = float("nan")
    garbage = NodeFeatures(feats.s.clone(), feats.v.clone())
    garbage.s[:, ~mask[0]] = 7.0
    garbage.v[:, ~mask[0]] = float("inf")
    out_g = stack(garbage, garbage_p4, edges, mask)
    assert torch.equal(out_g.s, out.s)
    assert torch.equal(out_g.v, out.v)


def test_layer_is_permutation_equivariant():
    torch.manual_seed(0)
    layer = LMPLayer(3, 3).double()
    p4, mask = _jets(seed=9)
    feats = _features(p4, 3, 10)
    perm = torch.randperm(p4.shape[1])
    out = layer(feats, p4, _edges(layer, p4, mask), mask)
    pf = NodeFeatures(feats.s[:, perm], feats.v[:, perm])
    pp, pm = p4[:, perm], mask[:, perm]
    out_p = layer(pf, pp, _edges(layer, pp, pm), pm)
    assert torch.allclose(out_p.s, out.s[:, perm], atol=1e-14)
    assert torch.allclose(out_p.v, out.v[:, perm], atol=1e-14)


def test_stack_shares_one_bell_basis_and_matches_layer_by_layer():
    torch.manual_seed(5)
    stack = LMPStack([3, 4, 2], edge_harmonics=(SCALAR, VECTOR)).double()
    p4, mask = _jets(seed=11)
    feats = _features(p4, 3, 12)
    out = stack(feats, p4, edge_mask(mask), mask)
    basis = stack.bells(pair_invariants(p4), edge_mask(mask))
    expected = feats
    for layer in stack:
        expected = layer(expected, p4, layer.edges(basis), mask)
    assert torch.allclose(out.s, expected.s, rtol=1e-13, atol=0)
    assert torch.allclose(out.v, expected.v, rtol=1e-13, atol=0)
    assert len([name for name, _ in stack.named_parameters() if name.endswith(".c")]) == 1


def test_edge_functions_gradient_matches_finite_differences():
    """The hand-written backward of the bells and edge weights, against numerical derivatives, and its
    value against the basis formed explicitly."""
    from lgae.nn.edge import _EdgeFunctions

    gen = torch.Generator().manual_seed(0)
    dist = torch.rand(2, 5, 5, generator=gen, dtype=torch.float64).requires_grad_(True)
    c2 = torch.tensor([0.5, 2.0, 30.0, 0.0], dtype=torch.float64, requires_grad=True)
    weight = torch.randn(3, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    mask = (torch.rand(2, 5, 5, generator=gen) > 0.3).to(torch.float64)
    assert torch.autograd.gradcheck(lambda d, c, w: _EdgeFunctions.apply(d, mask, c, w), (dist, c2, weight))
    basis = mask.view(2, 1, 25) / (1 + c2.view(1, -1, 1) * dist.view(2, 1, 25))  # [B, K+1, N²]
    expected = torch.einsum("ak,bkn->abn", weight, basis).view(3, 2, 5, 5)
    assert torch.allclose(_EdgeFunctions.apply(dist, mask, c2, weight), expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("complex_positions", [False, True])
def test_pair_invariants_gradient_matches_finite_differences(complex_positions):
    """The hand-written backward of d_ij = |<x_i − x_j, x_i − x_j>|, against numerical derivatives, and
    its value against the complex formula."""
    from lgae.nn.lmp import _PairInvariants, positions_of

    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 6, 4, generator=gen, dtype=torch.float64)
    if complex_positions:
        x = torch.complex(x, torch.randn(2, 6, 4, generator=gen, dtype=torch.float64))
    x_fast = positions_of(x).requires_grad_(True)
    assert torch.autograd.gradcheck(_PairInvariants.apply, (x_fast,))
    diff = x.unsqueeze(2) - x.unsqueeze(1)
    expected = (diff * diff * torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=torch.float64)).sum(-1).abs()
    assert torch.allclose(_PairInvariants.apply(x_fast), expected, rtol=1e-14, atol=1e-15)
