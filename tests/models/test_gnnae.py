"""GNNAE-JL / GNNAE-PL, their MPNN layer and the relative-coordinate helpers they stand on."""

from __future__ import annotations

import math

import pytest
import torch

import lgae.models
from lgae.equivariance import assert_equivariant, lorentz_tolerance
from lgae.errors import ConfigError
from lgae.group.lorentz import apply, boost, p4_from_ptetaphi, rotation
from lgae.jets import absolute_p4, jet_features, relative_coordinates
from lgae.models.gnnae import LAYER_WIDTHS, GNNAEJetLevel, GNNAEParticleLevel
from lgae.nn.mpnn import MPNNLayer, pairwise_distance

JL_LATENTS = (10, 30, 40, 45, 55, 80, 90)
PL_LATENTS = (2, 3)
DTYPES = (torch.float32, torch.float64)


def make_jets(
    batch: int = 4, num: int = 30, dtype: torch.dtype = torch.float64, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Massless particles around random jet axes (TeV), with padded slots scattered (not a prefix)."""
    gen = torch.Generator().manual_seed(seed)
    pt = 0.5 * torch.rand(batch, num, generator=gen, dtype=torch.float64) ** 2 + 1e-3
    eta = 0.15 * torch.randn(batch, num, generator=gen, dtype=torch.float64) + torch.linspace(
        -1.5, 1.5, batch
    )[:, None].to(torch.float64)
    phi = 0.15 * torch.randn(batch, num, generator=gen, dtype=torch.float64) + torch.linspace(
        -3.0, 3.0, batch
    )[:, None].to(torch.float64)
    p4 = p4_from_ptetaphi(pt, eta, phi)
    counts = torch.tensor([num, max(num * 2 // 3, 1), 3, 1] * batch)[:batch]
    mask = torch.zeros(batch, num, dtype=torch.bool)
    for b in range(batch):
        mask[b, torch.randperm(num, generator=gen)[: counts[b]]] = True
    p4 = torch.where(mask[..., None], p4, torch.zeros(()))
    return p4.to(dtype), mask


def with_garbage(p4: torch.Tensor, mask: torch.Tensor, seed: int = 1) -> torch.Tensor:
    """Padded slots filled with large random numbers, one NaN and one inf."""
    gen = torch.Generator().manual_seed(seed)
    junk = 1e3 * torch.randn(p4.shape, generator=gen, dtype=torch.float64).to(p4.dtype)
    out = torch.where(mask[..., None], p4, junk)
    pad = (~mask).nonzero()
    out[pad[0][0], pad[0][1], 0] = float("nan")
    out[pad[-1][0], pad[-1][1], 2] = float("inf")
    return out


def mlp_parameters(in_features: int, widths: tuple[int, ...]) -> int:
    total, previous = 0, in_features
    for width in widths:
        total += (previous + 1) * width
        previous = width
    return total


def expected_stack_parameters(out_features: int) -> int:
    """Parameters of the paper's 3 MPNN layers (Eqs. 10–12) ending in ``out_features``."""
    total = 0
    for k, (node_in, edge_widths, node_hidden) in enumerate(LAYER_WIDTHS):
        node_widths = (*node_hidden, out_features) if k == len(LAYER_WIDTHS) - 1 else node_hidden
        total += mlp_parameters(2 * node_in + 1, edge_widths)
        total += mlp_parameters(node_in + edge_widths[-1], node_widths)
    return total


# --------------------------------------------------------------------------------------------------
# relative coordinates (lgae.jets)
# --------------------------------------------------------------------------------------------------


def test_relative_coordinates_round_trip_float64() -> None:
    p4, mask = make_jets(batch=6, dtype=torch.float64)
    rel, jet_pt, jet_eta, jet_phi = relative_coordinates(with_garbage(p4, mask), mask)
    assert rel.shape == (6, 30, 3)
    assert torch.all(rel[~mask] == 0)
    assert torch.all(rel[..., 2][mask] >= -math.pi)
    assert torch.all(rel[..., 2][mask] < math.pi)
    back = absolute_p4(rel, jet_pt, jet_eta, jet_phi, mask)
    torch.testing.assert_close(back, p4, rtol=0, atol=1e-10)
    # the jet axis is that of the summed real particles
    features = jet_features(p4, mask)
    torch.testing.assert_close(jet_pt, features["pt"], rtol=1e-12, atol=0)
    torch.testing.assert_close(jet_eta, features["eta"], rtol=0, atol=1e-12)
    torch.testing.assert_close(jet_phi, features["phi"], rtol=0, atol=1e-12)


def test_relative_coordinates_hand_made_jet_across_phi_boundary() -> None:
    # two equal-pT particles at η = ±a, φ = π ± b: the jet is at η = 0, φ = π (the ±π seam)
    a, b, pt = 0.3, 0.1, 0.7
    p4 = p4_from_ptetaphi(
        torch.tensor([[pt, pt]], dtype=torch.float64),
        torch.tensor([[a, -a]], dtype=torch.float64),
        torch.tensor([[math.pi - b, -math.pi + b]], dtype=torch.float64),
    )
    rel, jet_pt, jet_eta, _ = relative_coordinates(p4, torch.ones(1, 2, dtype=torch.bool))
    torch.testing.assert_close(jet_pt, torch.tensor([2 * pt * math.cos(b)], dtype=torch.float64))
    assert abs(float(jet_eta)) < 1e-14
    expected = torch.tensor(
        [[[1 / (2 * math.cos(b)), a, -b], [1 / (2 * math.cos(b)), -a, b]]], dtype=torch.float64
    )
    torch.testing.assert_close(rel, expected, rtol=0, atol=1e-12)


def test_relative_coordinates_gradients_are_finite_with_garbage_and_empty_jets() -> None:
    p4, mask = make_jets(batch=4)
    mask[3] = False  # an empty jet
    p4 = with_garbage(p4, mask).requires_grad_(True)
    rel, jet_pt, _, _ = relative_coordinates(p4, mask)
    assert torch.all(torch.isfinite(rel))
    assert float(jet_pt[3].detach()) == 1.0
    rel.sum().backward()
    assert torch.all(torch.isfinite(p4.grad))
    assert torch.all(p4.grad[~mask] == 0)


# --------------------------------------------------------------------------------------------------
# MPNN layer
# --------------------------------------------------------------------------------------------------


def naive_mpnn(layer: MPNNLayer, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Eqs. 8–9 written as loops over the real particles of each jet."""
    out = torch.zeros(x.shape[0], x.shape[1], layer.node_out, dtype=x.dtype)
    for b in range(x.shape[0]):
        real = mask[b].nonzero().flatten().tolist()
        for i in real:
            message = 0
            for j in real:
                if j == i and not layer.self_loops:
                    continue
                d = torch.linalg.vector_norm(x[b, i] - x[b, j]).reshape(1)
                message = message + layer.edge_net(torch.cat([x[b, i], x[b, j], d]))
            out[b, i] = layer.node_net(torch.cat([x[b, i], message]))
    return out


@pytest.mark.parametrize("self_loops", [True, False])
def test_mpnn_layer_matches_the_equations(self_loops: bool) -> None:
    torch.manual_seed(0)
    layer = MPNNLayer(5, (7, 6), (4, 3), self_loops=self_loops).double()
    x = torch.randn(3, 8, 5, dtype=torch.float64)
    mask = torch.rand(3, 8) < 0.6
    mask[:, 0] = True
    garbage = torch.where(mask[..., None], x, torch.full_like(x, float("nan")))
    out = layer(garbage, mask)
    torch.testing.assert_close(out, naive_mpnn(layer, x, mask), rtol=1e-12, atol=1e-12)
    assert torch.all(out[~mask] == 0)


def test_mpnn_self_loop_option_changes_the_messages() -> None:
    torch.manual_seed(0)
    with_loops = MPNNLayer(4, (6,), (3,)).double()
    without = MPNNLayer(4, (6,), (3,), self_loops=False).double()
    without.load_state_dict(with_loops.state_dict())
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    assert not torch.allclose(with_loops(x), without(x))


def test_pairwise_distance_value_and_zero_safe_gradient() -> None:
    x = torch.tensor([[[0.0, 0.0], [3.0, 4.0], [3.0, 4.0]]], dtype=torch.float64, requires_grad=True)
    d = pairwise_distance(x)
    expected = torch.tensor([[[0.0, 5.0, 5.0], [5.0, 0.0, 0.0], [5.0, 0.0, 0.0]]], dtype=torch.float64)
    torch.testing.assert_close(d, expected, rtol=0, atol=0)  # exact norm, no ε bias
    d.sum().backward()  # diagonal and duplicate particles (d = 0) must not give NaN
    assert torch.all(torch.isfinite(x.grad))
    # d(Σ_ij d_ij)/dx_0 = 2 Σ_j (x_0 − x_j)/|x_0 − x_j| = 2 · 2 · (−3/5, −4/5)
    torch.testing.assert_close(x.grad[0, 0], torch.tensor([-2.4, -3.2], dtype=torch.float64))


# --------------------------------------------------------------------------------------------------
# models: shapes, dtypes, gradients, sizes
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("name", "latent_dim"), [("gnnae-jl", k) for k in JL_LATENTS] + [("gnnae-pl", d) for d in PL_LATENTS]
)
def test_shapes_dtypes_and_backward(name: str, latent_dim: int, dtype: torch.dtype) -> None:
    torch.manual_seed(latent_dim)
    model = lgae.models.build(name, latent_dim=latent_dim).to(dtype)
    p4, mask = make_jets(batch=4, dtype=dtype)
    latent = model.encode(p4, mask)
    if name == "gnnae-jl":
        assert latent.shape == (4, latent_dim)
    else:
        assert latent.shape == (4, 30, latent_dim)
        assert torch.all(latent[~mask] == 0)
    output = model(p4, mask)
    target = model.target(p4, mask)
    assert output.shape == target.shape == (4, 30, 3)
    assert output.dtype == target.dtype == latent.dtype == dtype
    assert model.output_to_p4(output, p4, mask).shape == (4, 30, 4)
    loss = (output - target).pow(2).sum()
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.all(torch.isfinite(g)) for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0
    # every f_n / f_e of the encoder and decoder receives gradient
    for stack in (model.encoder_layers, model.decoder_layers):
        for layer in stack:
            for net in (layer.node_net, layer.edge_net):
                linears = [m for m in net if isinstance(m, torch.nn.Linear)]
                assert all(float(m.weight.grad.abs().sum()) > 0 for m in linears)


@pytest.mark.parametrize(
    ("name", "latent_dim"), [("gnnae-jl", k) for k in JL_LATENTS] + [("gnnae-pl", d) for d in PL_LATENTS]
)
def test_parameter_counts(name: str, latent_dim: int) -> None:
    model = lgae.models.build(name, latent_dim=latent_dim)
    encoder = expected_stack_parameters(latent_dim)
    decoder = expected_stack_parameters(3)
    decoder_input = (latent_dim + 1) * 30 * (30 if name == "gnnae-jl" else 1)
    assert model.num_parameters() == encoder + decoder + decoder_input
    print(f"{name} latent_dim={latent_dim}: {model.num_parameters()} parameters")


def test_paper_layer_widths() -> None:
    model = lgae.models.build("gnnae-jl", latent_dim=55)
    widths = [
        [(m.in_features, m.out_features) for m in net if isinstance(m, torch.nn.Linear)]
        for layer in model.encoder_layers
        for net in (layer.node_net, layer.edge_net)
    ]
    assert widths == [
        [(60, 30), (30, 15)],
        [(61, 50), (50, 40), (40, 30)],
        [(45, 15), (15, 8)],
        [(31, 30), (30, 30), (30, 30)],
        [(38, 8), (8, 55)],
        [(17, 16), (16, 20), (20, 30)],
    ]
    # LeakyReLU(0.2) after every linear layer but the encoder's and decoder's very last one
    for stack in (model.encoder_layers, model.decoder_layers):
        for k, layer in enumerate(stack):
            assert isinstance(layer.edge_net[-1], torch.nn.LeakyReLU)
            assert layer.edge_net[-1].negative_slope == 0.2
            assert isinstance(layer.node_net[-1], torch.nn.LeakyReLU) == (k < 2)
    assert model.decoder_layers[-1].node_net[-1].out_features == 3
    literal = lgae.models.build("gnnae-jl", latent_dim=55, final_activation=True)
    assert isinstance(literal.encoder_layers[-1].node_net[-1], torch.nn.LeakyReLU)


@pytest.mark.parametrize(
    ("name", "latent_dim", "rate"),
    [("gnnae-jl", 10, 10 / 90), ("gnnae-jl", 55, 55 / 90), ("gnnae-pl", 2, 60 / 90), ("gnnae-pl", 3, 1.0)],
)
def test_compression_rates(name: str, latent_dim: int, rate: float) -> None:
    model = lgae.models.build(name, latent_dim=latent_dim)
    assert model.compression_rate("text") == pytest.approx(rate, abs=1e-12)
    assert model.compression_rate("table") == pytest.approx(rate, abs=1e-12)
    assert round(100 * model.compression_rate(), 2) == {10: 11.11, 55: 61.11, 2: 66.67, 3: 100.0}[latent_dim]


def test_build_defaults_and_errors() -> None:
    jl, pl = lgae.models.build("gnnae-jl"), lgae.models.build("gnnae-pl")
    assert isinstance(jl, GNNAEJetLevel)
    assert jl.latent_size == 55
    assert isinstance(pl, GNNAEParticleLevel)
    assert pl.latent_size == 60
    assert jl.output_space == pl.output_space == "relative"
    with pytest.raises(ConfigError, match="bogus"):
        lgae.models.build("gnnae-jl", bogus=1)
    with pytest.raises(ConfigError):
        lgae.models.build("gnnae-pl", embedding="conv")
    with pytest.raises(ConfigError):
        lgae.models.build("gnnae-jl", latent_dim=0)


# --------------------------------------------------------------------------------------------------
# symmetries (paper Table 1) and padding
# --------------------------------------------------------------------------------------------------


def permute(
    p4: torch.Tensor, mask: torch.Tensor, seed: int = 3
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    perm = torch.randperm(p4.shape[1], generator=torch.Generator().manual_seed(seed))
    return p4[:, perm], mask[:, perm], perm


@pytest.mark.parametrize("embedding", ["pad", "linear"])
def test_jl_latent_is_permutation_invariant(embedding: str) -> None:
    torch.manual_seed(0)
    model = lgae.models.build("gnnae-jl", latent_dim=30, embedding=embedding).double()
    p4, mask = make_jets()
    p4_perm, mask_perm, _ = permute(p4, mask)
    latent = model.encode(p4, mask)
    torch.testing.assert_close(model.encode(p4_perm, mask_perm), latent, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(model(p4_perm, mask_perm), model(p4, mask), rtol=1e-12, atol=1e-12)
    # not trivially constant: a different jet gives a different latent
    assert not torch.allclose(latent[0], latent[1])


def test_pl_latent_and_output_are_permutation_equivariant() -> None:
    torch.manual_seed(0)
    model = lgae.models.build("gnnae-pl", latent_dim=3).double()
    p4, mask = make_jets()
    p4_perm, mask_perm, perm = permute(p4, mask)
    torch.testing.assert_close(model.encode(p4_perm, mask_perm), model.encode(p4, mask)[:, perm])
    torch.testing.assert_close(model(p4_perm, mask_perm), model(p4, mask)[:, perm])
    output = model(p4, mask)
    assert torch.all(output[~mask] == 0)
    # particle outputs depend on the other particles (message passing), so this is not per-particle
    p4_moved = p4.clone()
    first_real, other = mask[0].nonzero().flatten()[:2].tolist()
    p4_moved[0, other] *= 1.5
    change = (model(p4_moved, mask)[0, first_real] - output[0, first_real]).abs().max()
    assert float(change.detach()) > 1e-9  # float64 noise is ~1e-16


@pytest.mark.parametrize("name", ["gnnae-jl", "gnnae-pl"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_padded_values_change_nothing(name: str, dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    model = lgae.models.build(name).to(dtype)
    p4, mask = make_jets(dtype=dtype)
    dirty = with_garbage(p4, mask)
    assert torch.equal(model.encode(dirty, mask), model.encode(p4, mask))
    assert torch.equal(model(dirty, mask), model(p4, mask))
    assert torch.equal(model.target(dirty, mask), model.target(p4, mask))
    out = model(p4, mask)
    assert torch.equal(model.output_to_p4(out, dirty, mask), model.output_to_p4(out, p4, mask))


@pytest.mark.parametrize("name", ["gnnae-jl", "gnnae-pl"])
def test_azimuthal_rotation_invariance_and_output_equivariance(name: str) -> None:
    """η–φ translation symmetry (Table 1): rotating every particle about the beam axis moves the jet
    axis only, so the latent is unchanged and the reconstructed 4-momenta rotate along."""
    torch.manual_seed(3)  # at this seed both models emit positive pT (seed 0: GNNAE-JL's output is all 0)
    model = lgae.models.build(name).double()
    p4, mask = make_jets()
    rot = rotation(1.234, (0.0, 0.0, 1.0))
    moved = lambda p4, mask: (apply(rot, p4), mask)  # noqa: E731
    tolerance = lorentz_tolerance(torch.float64, rot, 100.0)  # measured ≤ 16 ε
    assert_equivariant(model.encode, (p4, mask), moved, tolerance=tolerance, what=f"{name} latent")
    assert_equivariant(
        lambda p4, mask: model.output_to_p4(model(p4, mask), p4, mask),
        (p4, mask),
        moved,
        lambda out: apply(rot, out),
        tolerance=tolerance,
        what=f"{name} output",
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_gnnae_jl_is_not_lorentz_equivariant(dtype: torch.dtype) -> None:
    """Negative control (paper Table 1): under a boost across the beam the jet axis moves and the relative
    coordinates change, so GNNAE-JL's reconstruction does not follow. The shared helper must say so."""
    torch.manual_seed(3)
    model = lgae.models.build("gnnae-jl").to(dtype)
    p4, mask = make_jets(dtype=dtype)
    lam = boost(1.0, (1.0, 0.0, 0.0))
    with pytest.raises(AssertionError, match="not equivariant") as error:
        assert_equivariant(
            lambda p4, mask: model.output_to_p4(model(p4, mask), p4, mask),
            (p4, mask),
            lambda p4, mask: (apply(lam.to(dtype), p4), mask),
            lambda out: apply(lam.to(dtype), out),
            tolerance=lorentz_tolerance(dtype, lam, 3e4 if dtype == torch.float64 else 1e4),  # the LGAE's
        )
    assert float(str(error.value).split("deviation ")[1].split(" ")[0]) > 0.1  # broken, not rounding


@pytest.mark.parametrize("name", ["gnnae-jl", "gnnae-pl"])
def test_target_maps_back_to_the_input(name: str) -> None:
    model = lgae.models.build(name).double()
    p4, mask = make_jets()
    target = model.target(with_garbage(p4, mask), mask)
    torch.testing.assert_close(model.output_to_p4(target, p4, mask), p4, rtol=0, atol=1e-10)
    # negative pt_rel in an output is read as a zero-pT particle
    negative = target.clone()
    negative[..., 0] = -negative[..., 0]
    assert torch.all(model.output_to_p4(negative, p4, mask) == 0)


def test_pl_decode_without_mask_treats_every_slot_as_a_particle() -> None:
    torch.manual_seed(0)
    model = lgae.models.build("gnnae-pl").double()
    p4, mask = make_jets()
    latent = model.encode(p4, mask)
    full = torch.ones_like(mask)
    torch.testing.assert_close(model.decode(latent), model.decode(latent, full))
    assert not torch.allclose(model.decode(latent)[mask], model(p4, mask)[mask])
    assert torch.equal(model.decode(latent, mask), model(p4, mask))
