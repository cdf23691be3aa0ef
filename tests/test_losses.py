"""Reconstruction losses: hand-computed values, invariances, masking, gradients, dtypes, dispatch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lgae.errors import ConfigError
from lgae.group.lorentz import p4_from_ptetaphi
from lgae.losses import (
    LOSSES,
    ReconstructionLoss,
    chamfer,
    emd,
    get_loss,
    hungarian,
    mse,
    paper_loss,
    reconstruction_loss,
)
from lgae.models.registry import MODEL_NAMES

SET_LOSSES = (chamfer, hungarian)
DTYPES = (torch.float32, torch.float64)


def _batch(
    batch: int = 6, n: int = 8, features: int = 4, dtype: torch.dtype = torch.float64, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two random particle batches and a JetNet-style mask (real particles first, 2..n per jet)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, n, features, generator=g, dtype=dtype)
    y = torch.randn(batch, n, features, generator=g, dtype=dtype)
    counts = torch.randint(2, n + 1, (batch, 1), generator=g)
    mask = torch.arange(n) < counts
    mask[0] = True  # one full jet
    return x, y, mask


def _with_garbage(x: torch.Tensor, mask: torch.Tensor, value: float) -> torch.Tensor:
    return torch.where(mask.unsqueeze(-1), x, torch.full_like(x, value))


def _permute(x: torch.Tensor, mask: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each jet's particles in a random order; the mask moves with them (padding ends up anywhere)."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.stack([torch.randperm(x.shape[1], generator=g) for _ in range(x.shape[0])])
    rows = torch.arange(x.shape[0]).unsqueeze(-1)
    return x[rows, perm], mask[rows, perm]


def _jets(particles: np.ndarray) -> torch.Tensor:
    """[1, N, 4] massless 4-momenta of (pT, η, φ) rows."""
    pt, eta, phi = (torch.tensor(particles[:, k], dtype=torch.float64) for k in range(3))
    return p4_from_ptetaphi(pt, eta, phi).unsqueeze(0)


def _p4(particles: np.ndarray) -> np.ndarray:
    """[..., 4] massless 4-momenta of [..., 3] (pT, η, φ)."""
    pt, eta, phi = (torch.from_numpy(particles[..., k]) for k in range(3))
    return p4_from_ptetaphi(pt, eta, phi).numpy()


# ---- hand-computed values ------------------------------------------------------------------------


def test_hand_values_2d() -> None:
    """target {(0,0), (2,0)}, output {(5,0), (0,1)}: every number below is worked out by hand."""
    target = torch.tensor([[[0.0, 0.0], [2.0, 0.0]]], dtype=torch.float64)
    output = torch.tensor([[[5.0, 0.0], [0.0, 1.0]]], dtype=torch.float64)
    # target→nearest output: 1 (to (0,1)) and 5 (to (0,1)) → mean 3; output→nearest target: 9 and 1 → mean 5
    assert chamfer(output, target).item() == pytest.approx(0.5 * (3 + 5))
    # optimal matching (5,0)↔(2,0) [9] + (0,1)↔(0,0) [1] = 10 over 2 pairs × 2 features
    assert hungarian(output, target).item() == pytest.approx(10 / 4)
    # ordered: (5,0)↔(0,0) [25] + (0,1)↔(2,0) [5] = 30 over 4 entries
    assert mse(output, target).item() == pytest.approx(30 / 4)


def test_chamfer_and_hungarian_differ_on_a_duplicated_point() -> None:
    """target {0, 1}, output {0, 0}: Chamfer charges the unmatched 1 once (from the target side only),
    Hungarian must match 1 ↔ 0."""
    target = torch.tensor([[[0.0], [1.0]]])
    output = torch.tensor([[[0.0], [0.0]]])
    assert chamfer(output, target).item() == pytest.approx(0.5 * (1 / 2 + 0))
    assert hungarian(output, target).item() == pytest.approx(1 / 2)


def test_different_counts_via_masks() -> None:
    """target {0, 1} (third slot padded), output {0, 1, 5}: Chamfer charges the extra output,
    Hungarian matches two pairs and ignores it."""
    target = torch.tensor([[[0.0], [1.0], [123.0]]])
    output = torch.tensor([[[5.0], [1.0], [0.0]]])
    target_mask = torch.tensor([[True, True, False]])
    assert chamfer(output, target, None, target_mask).item() == pytest.approx(0.5 * (0 + 16 / 3))
    assert hungarian(output, target, None, target_mask).item() == 0.0
    # and the other way round (padding on the output side) by symmetry of the definition
    assert chamfer(target, output, target_mask, None).item() == pytest.approx(0.5 * (16 / 3 + 0))


def test_chamfer_without_any_real_output_is_infinite_and_two_empty_sets_are_zero() -> None:
    x = torch.ones(2, 3, 2)
    none = torch.zeros(2, 3, dtype=torch.bool)
    some = torch.tensor([[True, False, False], [False, False, False]])
    assert chamfer(x, x, none, some, reduction="none").tolist() == [math.inf, 0.0]
    assert hungarian(x, x, none, some, reduction="none").tolist() == [0.0, 0.0]


def test_mse_masked_and_images_by_hand() -> None:
    output = torch.tensor([[[1.0, 2.0], [7.0, 7.0]], [[0.0, 0.0], [3.0, 4.0]]])
    target = torch.tensor([[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    mask = torch.tensor([[True, False], [True, True]])
    assert mse(output, target, mask, reduction="none").tolist() == pytest.approx([5 / 2, 25 / 4])
    image = torch.zeros(2, 1, 2, 2)
    image[0, 0, 0, 0] = 1.0
    image[1, 0, 1, 1] = 0.5
    assert mse(image, torch.zeros_like(image), reduction="none").tolist() == pytest.approx([1 / 4, 0.25 / 4])


# ---- zero for identical inputs, invariances, masking ---------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_loss_is_zero_for_identical_jets_with_padding(dtype: torch.dtype) -> None:
    x, _, mask = _batch(dtype=dtype)
    assert not mask.all()
    output = _with_garbage(x, mask, 1e6)
    target = _with_garbage(x, mask, -3.0)
    assert chamfer(output, target, mask, mask, reduction="none").abs().max().item() == 0.0
    assert hungarian(output, target, mask, mask, reduction="none").abs().max().item() == 0.0
    assert mse(output, target, mask, reduction="none").abs().max().item() == 0.0
    assert emd(output, target, mask, mask, reduction="none").abs().max().item() < 1e-6
    image = torch.rand(3, 1, 5, 5, dtype=dtype)
    assert mse(image, image.clone()).item() == 0.0


@pytest.mark.parametrize("loss", [*SET_LOSSES, emd])
def test_set_losses_are_invariant_to_particle_order(loss) -> None:
    output, target, mask = _batch()
    out_mask = mask.clone()
    out_mask[1, :] = True  # let the two sets differ in size in one jet
    reference = loss(output, target, out_mask, mask, reduction="none")
    out_p, out_mask_p = _permute(output, out_mask, seed=1)
    tgt_p, mask_p = _permute(target, mask, seed=2)
    assert not torch.equal(mask_p, mask)  # padding really moved
    for out_args, tgt_args in [
        ((out_p, out_mask_p), (target, mask)),
        ((output, out_mask), (tgt_p, mask_p)),
        ((out_p, out_mask_p), (tgt_p, mask_p)),
    ]:
        permuted = loss(out_args[0], tgt_args[0], out_args[1], tgt_args[1], reduction="none")
        torch.testing.assert_close(permuted, reference, rtol=1e-12, atol=1e-12)


def test_mse_is_not_invariant_to_order_but_hungarian_never_exceeds_it() -> None:
    output, target, mask = _batch(seed=3)
    assert hungarian(output, target, mask, mask).item() < mse(output, target, mask).item()
    per_jet_h = hungarian(output, target, mask, mask, reduction="none")
    per_jet_m = mse(output, target, mask, reduction="none")
    assert bool((per_jet_h <= per_jet_m + 1e-12).all())
    # already in the optimal order → identical to the ordered MSE
    assert hungarian(target + 0.01, target, mask, mask).item() == pytest.approx(
        mse(target + 0.01, target, mask).item()
    )


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("garbage", [math.nan, math.inf, 1e30])
def test_padded_particles_have_no_effect(name: str, garbage: float) -> None:
    output, target, mask = _batch(seed=4)
    loss = get_loss(name)
    args = (mask,) if loss is mse else (mask, mask)
    clean = loss(output, target, *args, reduction="none")
    dirty_out = _with_garbage(output, mask, garbage).requires_grad_(True)
    dirty = loss(dirty_out, _with_garbage(target, mask, -garbage), *args, reduction="none")
    torch.testing.assert_close(dirty, clean, rtol=1e-12, atol=1e-12)
    if name != "emd":
        dirty.sum().backward()
        assert torch.isfinite(dirty_out.grad).all()
        assert dirty_out.grad[~mask].abs().max().item() == 0.0


@pytest.mark.parametrize("loss", SET_LOSSES)
def test_set_losses_match_the_unpadded_computation_jet_by_jet(loss) -> None:
    output, target, mask = _batch(seed=5)
    per_jet = loss(output, target, mask, mask, reduction="none")
    for b in range(output.shape[0]):
        real = mask[b]
        alone = loss(output[b : b + 1, real], target[b : b + 1, real])
        assert per_jet[b].item() == pytest.approx(alone.item(), rel=1e-12)


# ---- gradients, dtypes, reductions ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["chamfer", "mse", "hungarian"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gradients_are_finite_at_zero_distance_and_flow_otherwise(name: str, dtype: torch.dtype) -> None:
    loss = get_loss(name)
    _, target, mask = _batch(dtype=dtype, seed=6)
    args = (mask,) if loss is mse else (mask, mask)
    output = target.clone().requires_grad_(True)  # exactly equal: every distance is 0
    value = loss(output, target, *args)
    value.backward()
    assert value.item() == 0.0
    assert torch.isfinite(output.grad).all()
    assert output.grad.abs().max().item() == 0.0
    moved = (target + 0.1).requires_grad_(True)
    loss(moved, target, *args).backward()
    assert torch.isfinite(moved.grad).all()
    assert bool((moved.grad[mask].abs() > 0).all())  # every real particle is pulled back
    assert moved.grad[~mask].abs().max().item() == 0.0


@pytest.mark.parametrize("loss", SET_LOSSES)
def test_set_losses_pass_gradcheck(loss) -> None:
    output, target, mask = _batch(batch=3, n=5, features=3, seed=7)
    output.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda o: loss(o, target, mask, mask), (output,))


def test_float32_and_float64_agree_and_keep_their_dtype() -> None:
    output, target, mask = _batch(seed=8)
    for name, loss in LOSSES.items():
        args = (mask,) if loss is mse else (mask, mask)
        v64 = loss(output, target, *args)
        v32 = loss(output.float(), target.float(), *args)
        assert v64.dtype == torch.float64, name
        assert v32.dtype == torch.float32, name
        assert v32.item() == pytest.approx(v64.item(), rel=1e-5), name


@pytest.mark.parametrize("name", list(LOSSES))
def test_reductions(name: str) -> None:
    output, target, mask = _batch(batch=5, seed=9)
    loss = get_loss(name)
    args = (mask,) if loss is mse else (mask, mask)
    per_jet = loss(output, target, *args, reduction="none")
    assert per_jet.shape == (5,)
    assert bool((per_jet > 0).all())
    assert loss(output, target, *args).item() == pytest.approx(per_jet.mean().item())
    assert loss(output, target, *args, reduction="sum").item() == pytest.approx(per_jet.sum().item())
    with pytest.raises(ValueError, match="reduction"):
        loss(output, target, *args, reduction="median")


# ---- EMD -----------------------------------------------------------------------------------------


def test_emd_of_a_particle_moved_in_eta_is_pt_delta_over_r() -> None:
    pt, delta = 0.7, 0.3
    before = _jets(np.array([[pt, 0.1, 1.0]]))
    after = _jets(np.array([[pt, 0.1 + delta, 1.0]]))
    assert emd(after, before).item() == pytest.approx(pt * delta / 0.8, rel=1e-9)
    assert emd(after, before, R=0.4).item() == pytest.approx(pt * delta / 0.4, rel=1e-9)


def test_emd_charges_the_pt_difference_and_wraps_phi() -> None:
    same_place = emd(_jets(np.array([[1.0, 0.0, 0.0]])), _jets(np.array([[0.6, 0.0, 0.0]])))
    assert same_place.item() == pytest.approx(0.4, rel=1e-9)
    across_pi = emd(_jets(np.array([[1.0, 0.0, 3.1]])), _jets(np.array([[1.0, 0.0, -3.1]])))
    assert across_pi.item() == pytest.approx((2 * math.pi - 6.2) / 0.8, rel=1e-9)


def test_emd_is_positive_symmetric_and_takes_relative_coordinates() -> None:
    output, target, mask = _batch(seed=10)
    forward = emd(output, target, mask, mask, reduction="none")
    backward = emd(target, output, mask, mask, reduction="none")
    assert bool((forward > 0).all())
    torch.testing.assert_close(forward, backward, rtol=1e-9, atol=1e-12)
    rel = torch.tensor([[[0.6, 0.0, 0.0], [0.4, 0.1, 0.0]]], dtype=torch.float64)
    moved = rel.clone()
    moved[0, 1, 2] = 0.3  # the 0.4 particle moves by 0.3 in φ_rel
    assert emd(moved, rel, coordinates="ptetaphi").item() == pytest.approx(0.4 * 0.3 / 0.8)
    assert reconstruction_loss("emd", moved, rel).item() == pytest.approx(0.4 * 0.3 / 0.8)


def emd_reference_jets(seed: int = 2023) -> tuple[np.ndarray, np.ndarray]:
    """Two sets of 8 jets [2, 8, 30, 3] in (pT, η, φ) around φ = π (so Δφ wraps), with masks [2, 8, 30]
    of 16-27 real particles: built from uniform draws alone, whose stream numpy keeps fixed."""
    u = np.random.default_rng(seed).random((2, 8, 30, 4))
    pt = -0.05 * np.log(u[..., 0])
    eta = 0.3 + 0.8 * (u[..., 1] - 0.5)
    phi = np.pi - 0.4 + 0.8 * u[..., 2]
    phi = np.where(phi >= np.pi, phi - 2 * np.pi, phi)
    return np.stack([pt, eta, phi], axis=-1), u[..., 3] < 0.75


#: energyflow 1.4.0's ``emd.emd(x[i][mx[i]], y[i][my[i]], R=R, periodic_phi=True)`` on
#: ``emd_reference_jets()``, computed with wasserstein 1.1.0 (numpy 1.26) before the EMD moved to POT
ENERGYFLOW_EMD = {
    0.8: [0.534997169454, 0.678739730249, 0.595911977296, 0.44541518199, 0.940946078877, 0.352367270675,
          0.669233812107, 0.384436746577],
    0.4: [0.640638860504, 0.82063764115, 0.698110878579, 0.63640961341, 1.07208685601, 0.606015858087,
          0.859965442339, 0.559169935969],
}  # fmt: skip


@pytest.mark.parametrize("radius", sorted(ENERGYFLOW_EMD))
def test_emd_reproduces_energyflows_values(radius: float) -> None:
    (x, y), (mx, my) = emd_reference_jets()
    assert set(mx.sum(1)) | set(my.sum(1)) <= set(range(16, 28))
    values = emd(*map(torch.from_numpy, (x, y, mx, my)), "none", coordinates="ptetaphi", R=radius)
    np.testing.assert_allclose(values.numpy(), ENERGYFLOW_EMD[radius], rtol=1e-10)
    via_p4 = emd(
        *map(torch.from_numpy, (_p4(x), _p4(y), mx, my)), "none", R=radius
    )  # the same jets as 4-momenta: the (pT, η, φ) conversion round trip costs digits, not the value
    np.testing.assert_allclose(via_p4.numpy(), ENERGYFLOW_EMD[radius], rtol=1e-9)


def test_emd_of_an_empty_jet_is_the_other_jets_pt() -> None:
    """energyflow refuses an empty event; the definition gives the total pT of the other jet."""
    jets = _jets(np.array([[0.7, 0.1, 1.0], [0.2, -0.1, 0.5]]))
    nothing = torch.zeros(1, 2, dtype=torch.bool)
    everything = torch.ones(1, 2, dtype=torch.bool)
    assert emd(jets, jets, nothing, everything).item() == pytest.approx(0.9, rel=1e-12)
    assert emd(jets, jets, everything, nothing).item() == pytest.approx(0.9, rel=1e-12)
    assert emd(jets, jets, nothing, nothing).item() == 0.0


def test_emd_carries_no_gradient_and_refuses_to_train() -> None:
    output, target, mask = _batch(seed=11)
    output.requires_grad_(True)
    assert not emd(output, target, mask, mask).requires_grad
    with pytest.raises(ConfigError, match="not differentiable"):
        reconstruction_loss("emd", output, target, mask)
    with torch.no_grad():
        score = reconstruction_loss("emd", output, target, mask, "p4", reduction="none")
    torch.testing.assert_close(score, emd(output, target, mask, mask, reduction="none"))


# ---- registry, paper choices, dispatch on native outputs -----------------------------------------


def test_get_loss_and_unknown_names() -> None:
    assert get_loss("Chamfer") is chamfer
    assert set(LOSSES) == {"chamfer", "mse", "hungarian", "emd"}
    with pytest.raises(ConfigError, match=r"'bogus'.*chamfer, mse, hungarian, emd"):
        get_loss("bogus")
    with pytest.raises(ConfigError, match="bogus"):
        ReconstructionLoss("bogus")


def test_paper_loss_per_model() -> None:
    expected = {
        "lgae-min-max": "chamfer",
        "lgae-mean": "chamfer",
        "gnnae-jl": "chamfer",
        "lgae-mix": "mse",
        "gnnae-pl": "mse",
        "cnnae": "mse",
    }
    assert {name: paper_loss(name) for name in MODEL_NAMES} == expected
    with pytest.raises(ConfigError, match="unknown model"):
        paper_loss("transformer")


def test_reconstruction_loss_output_mask_policies() -> None:
    output, target, mask = _batch(seed=12)
    target = _with_garbage(target, mask, 0.0)  # as model.target gives it: zeros where padded
    # default: the input mask marks the real outputs too
    assert (
        reconstruction_loss("chamfer", output, target, mask).item()
        == chamfer(output, target, mask, mask).item()
    )
    # JetNet pads at the end, so "first n" is the same thing
    assert reconstruction_loss(
        "hungarian", output, target, mask, output_mask="first"
    ).item() == pytest.approx(hungarian(output, target, mask, mask).item())
    # "all": every output slot is a particle, and is charged for it
    assert reconstruction_loss("chamfer", output, target, mask, output_mask="all").item() == pytest.approx(
        chamfer(output, target, None, mask).item()
    )
    # MSE: ordered over real particles, or (authors) over every slot against zero-padded targets
    assert reconstruction_loss("mse", output, target, mask).item() == pytest.approx(
        mse(output, target, mask).item()
    )
    authors = torch.nn.functional.mse_loss(output, target)  # mean over all B·N·D entries
    assert reconstruction_loss("mse", output, target, mask, output_mask="all").item() == pytest.approx(
        authors.item()
    )
    with pytest.raises(ConfigError, match="output_mask"):
        reconstruction_loss("chamfer", output, target, mask, output_mask="some")


def test_first_differs_from_input_when_padding_is_not_at_the_end() -> None:
    output = torch.tensor([[[0.0], [5.0], [9.0]]])
    target = torch.tensor([[[0.0], [0.0], [1.0]]])
    mask = torch.tensor([[False, True, True]])
    # "input": outputs {5, 9} vs targets {0, 1} → 5↔0, 9↔1; "first": outputs {0, 5} → 0↔0, 5↔1
    assert reconstruction_loss("hungarian", output, target, mask, space="relative").item() == pytest.approx(
        (25 + 64) / 2
    )
    assert reconstruction_loss(
        "hungarian", output, target, mask, space="relative", output_mask="first"
    ).item() == pytest.approx((0 + 16) / 2)


def test_reconstruction_loss_on_images() -> None:
    image = torch.softmax(torch.randn(2, 1, 4, 4).flatten(1), dim=-1).reshape(2, 1, 4, 4)
    target = torch.zeros_like(image)
    mask = torch.ones(2, 30, dtype=torch.bool)  # the particle mask does not apply to pixels
    assert reconstruction_loss("mse", image, target, mask).item() == pytest.approx((image**2).mean().item())
    with pytest.raises(ConfigError, match="image"):
        reconstruction_loss("chamfer", image, target, mask)


@pytest.mark.parametrize("model_name", ["gnnae-pl", "gnnae-jl", "cnnae"])
def test_paper_losses_train_the_models(model_name: str) -> None:
    """End to end on real models: the paper's loss on native outputs backpropagates to every weight."""
    from lgae.models.registry import build

    torch.manual_seed(0)
    model = build(model_name).double()
    pt = torch.rand(3, 30, dtype=torch.float64) + 0.1
    eta, phi = 0.2 * torch.randn(3, 30, dtype=torch.float64), 0.2 * torch.randn(3, 30, dtype=torch.float64)
    p4 = p4_from_ptetaphi(pt, eta, phi)
    mask = torch.arange(30) < torch.tensor([[30], [12], [5]])
    loss_fn = ReconstructionLoss(paper_loss(model_name), space=model.output_space)
    value = loss_fn(model(p4, mask), model.target(p4, mask), mask)
    value.backward()
    assert math.isfinite(value.item())
    assert value.item() > 0
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().max().item() > 0 for g in grads)
