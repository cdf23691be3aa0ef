"""Reconstruction losses and per-jet distances: Chamfer, MSE, Hungarian, EMD.

Every loss takes batches (output first, target second) and returns the batch mean by default, or
per-jet values ``[B]`` with ``reduction="none"``: the anomaly score of a jet is its per-jet loss.
Particle sets are ``[B, N, D]`` (any feature space: 4-momenta for the LGAE, (pt_rel, eta_rel,
phi_rel) for the GNNAE) with bool masks ``[B, N]`` (True = real particle). Padded particles never
matter, whatever they hold (even NaN or inf): they are replaced by zeros with ``torch.where`` before
any arithmetic, so neither values nor gradients can be contaminated.

Normalisation, chosen so that a value does not depend on how many particles a jet has:

- **Chamfer**: per jet ``½ (mean over real targets of the squared distance to the nearest real output
  + mean over real outputs of the squared distance to the nearest real target)``, then the mean over
  jets. The distance is the squared Euclidean distance summed over features (no sqrt: its gradient is
  NaN at zero distance). The authors' code (reference §4) instead *summed* ``½ Σ min`` over particles
  and jets, padded zeros included; for a full 30-particle jet ours is theirs divided by 30 (and by the
  batch size). A jet whose targets are real but whose outputs are all masked (or vice versa) has no
  nearest neighbour: its value is ``inf``. Two empty sets give 0.
- **MSE**: per jet the mean over real particles × features (ordered: slot i against slot i); images
  ``[B, C, H, W]`` the mean over pixels. Jets without real particles give 0.
- **Hungarian**: the optimal one-to-one assignment of real outputs to real targets on the squared
  Euclidean cost (``scipy.optimize.linear_sum_assignment``), then the MSE (mean over matched pairs ×
  features) of the matched pairs, so it equals :func:`mse` when the order is already optimal and is
  never larger. With different counts only ``min(n_out, n_target)`` pairs are matched and the left-over
  particles do not contribute (unlike Chamfer, which would charge them). Note the scale differs from
  Chamfer by the number of features (mean vs sum over features).
- **EMD**: the exact energy mover's distance in (pT, η, φ) as energyflow defines it, ``R = 0.8`` (the jet
  radius), so ``EMD = min Σ f_ij ΔR_ij / R + |Σ pT − Σ pT'|`` in units of pT; solved by POT's network
  simplex (energyflow's solver, ``wasserstein``, has numpy-1 wheels only), its values checked against
  energyflow's on the same jets.

Why no differentiable EMD training loss: the only maintained one from the field, ``jetnet.losses.EMDLoss``,
needs ``qpth`` and ``cvxpy`` (``jetnet[emdloss]``: 7 more packages; qpth pins numpy < 2). Measured here on
CPU (2 cores, 30 particles): 0.47 s forward for one jet pair and 2.2 s for four, i.e. roughly two minutes
per 256-jet batch, with O(B·N⁴) memory (its QP has N² flows per jet). Its values agree with the exact EMD
at R = 1 (5 digits), but it is far too slow for training here, and the paper reports it trained worse
than Chamfer/MSE. So ``emd`` is for evaluation and anomaly scores only: it is exact, not differentiable,
and its result carries no gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from lgae.errors import ConfigError
from lgae.jets import ptetaphi

__all__ = [
    "LOSSES",
    "PAPER_LOSSES",
    "ReconstructionLoss",
    "chamfer",
    "emd",
    "get_loss",
    "hungarian",
    "mse",
    "paper_loss",
    "reconstruction_loss",
]

Reduction = Literal["mean", "sum", "none"]
OutputMask = Literal["input", "first", "all"]
REDUCTIONS = ("mean", "sum", "none")
SPACES = ("p4", "relative", "image")
OUTPUT_MASKS = ("input", "first", "all")
#: the EMD's R: JetNet jets are anti-kT R = 0.8, so two particles of two jets around the same axis are
#: at most 1.6 apart and R ≥ half the largest ground distance, which keeps EMD a metric
EMD_R = 0.8


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def _reduce(per_jet: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return per_jet.mean()
    if reduction == "sum":
        return per_jet.sum()
    if reduction == "none":
        return per_jet
    raise ValueError(f"unknown reduction {reduction!r}; use one of {REDUCTIONS}")


def _particle_mask(mask: torch.Tensor | None, particles: torch.Tensor, what: str) -> torch.Tensor:
    """``mask`` as bool [B, N] on the particles' device (all True when None), shape-checked."""
    if mask is None:
        return torch.ones(particles.shape[:-1], dtype=torch.bool, device=particles.device)
    mask = torch.as_tensor(mask, device=particles.device)
    if mask.dtype != torch.bool:
        mask = mask != 0
    if mask.shape != particles.shape[:-1]:
        raise ValueError(f"{what} has shape {tuple(mask.shape)}, expected {tuple(particles.shape[:-1])}")
    return mask


def _sanitize(particles: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Padded particles set to zero without touching their (possibly NaN) values in the graph."""
    return torch.where(
        mask.unsqueeze(-1), particles, torch.zeros((), dtype=particles.dtype, device=particles.device)
    )


def _check_sets(output: torch.Tensor, target: torch.Tensor) -> None:
    if output.dim() != 3 or target.dim() != 3:
        raise ValueError(
            f"particle sets must be [B, N, D]; got output {tuple(output.shape)}, target {tuple(target.shape)}"
        )
    if output.shape[0] != target.shape[0] or output.shape[-1] != target.shape[-1]:
        raise ValueError(
            f"output {tuple(output.shape)} and target {tuple(target.shape)} differ in batch size or features"
        )


def _prepared(
    output: torch.Tensor,
    target: torch.Tensor,
    output_mask: torch.Tensor | None,
    target_mask: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    _check_sets(output, target)
    om = _particle_mask(output_mask, output, "output_mask")
    tm = _particle_mask(target_mask, target, "target_mask").to(output.device)
    return _sanitize(output, om), _sanitize(target.to(output.device), tm), om, tm


def _squared_distances(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """[B, N, M] squared Euclidean distances, from explicit differences (exactly 0 for equal points,
    never negative, unlike the ‖a‖² + ‖b‖² − 2a·b expansion)."""
    return (output.unsqueeze(2) - target.unsqueeze(1)).pow(2).sum(dim=-1)


# --------------------------------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------------------------------


def chamfer(
    output: torch.Tensor,
    target: torch.Tensor,
    output_mask: torch.Tensor | None = None,
    target_mask: torch.Tensor | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Symmetric nearest-neighbour (Chamfer) distance between two particle sets.

    Per jet: ``½ (mean_j min_i d_ij + mean_i min_j d_ij)`` over real particles, d the squared Euclidean
    distance; masked particles are nobody's neighbour. Invariant to the order of either set and
    differentiable through the selected minima (ties share the gradient, ``amin``).

    Args:
        output: Output particles ``[B, N, D]``.
        target: Target particles ``[B, M, D]``.
        output_mask: Real outputs ``[B, N]`` (bool); ``None``: all.
        target_mask: Real targets ``[B, M]`` (bool); ``None``: all.
        reduction: ``"mean"`` or ``"sum"`` over jets, or ``"none"`` for per-jet values ``[B]``.

    Returns:
        A scalar, or ``[B]`` with ``reduction="none"``. A jet with real particles on one side only
        gives ``inf``; two empty sets give 0.
    """
    out, tgt, om, tm = _prepared(output, target, output_mask, target_mask)
    inf = torch.full((), float("inf"), dtype=out.dtype, device=out.device)
    d = torch.where(om.unsqueeze(2) & tm.unsqueeze(1), _squared_distances(out, tgt), inf)
    zero = torch.zeros((), dtype=out.dtype, device=out.device)
    to_output = torch.where(tm, d.amin(dim=1), zero).sum(dim=-1)  # each target to its nearest output
    to_target = torch.where(om, d.amin(dim=2), zero).sum(dim=-1)  # each output to its nearest target
    n_t = tm.sum(dim=-1).clamp(min=1).to(out.dtype)
    n_o = om.sum(dim=-1).clamp(min=1).to(out.dtype)
    return _reduce(0.5 * (to_output / n_t + to_target / n_o), reduction)


def mse(
    output: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Ordered mean squared error: slot i of the output against slot i of the target.

    Args:
        output: ``[B, N, D]`` particles, or an image ``[B, C, H, W]``.
        target: The same shape.
        mask: Real particles ``[B, N]``: per jet the mean over them × features; ``None``: the mean over
            every entry (images).
        reduction: ``"mean"`` or ``"sum"`` over jets, or ``"none"`` for per-jet values ``[B]``.

    Returns:
        A scalar, or ``[B]`` with ``reduction="none"``. A jet without real particles gives 0.
    """
    if output.shape != target.shape:
        raise ValueError(f"output {tuple(output.shape)} and target {tuple(target.shape)} differ in shape")
    target = target.to(output.device)
    if mask is None:
        return _reduce((output - target).pow(2).flatten(start_dim=1).mean(dim=-1), reduction)
    if output.dim() != 3:
        raise ValueError(f"a particle mask needs particle sets [B, N, D], got {tuple(output.shape)}")
    m = _particle_mask(mask, output, "mask")
    sq = (_sanitize(output, m) - _sanitize(target, m)).pow(2).sum(dim=(-2, -1))
    count = (m.sum(dim=-1) * output.shape[-1]).clamp(min=1).to(output.dtype)
    return _reduce(sq / count, reduction)


def hungarian(
    output: torch.Tensor,
    target: torch.Tensor,
    output_mask: torch.Tensor | None = None,
    target_mask: torch.Tensor | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """MSE after the optimal one-to-one matching of real outputs to real targets, per jet.

    The assignment (squared Euclidean cost, ``scipy.optimize.linear_sum_assignment``) is solved without
    gradient on CPU per jet; the matched pairs are then gathered by indexing, so gradients flow to the
    matched values. With different counts only ``min(n_out, n_target)`` pairs are matched.

    Args:
        output: Output particles ``[B, N, D]``.
        target: Target particles ``[B, M, D]``.
        output_mask: Real outputs ``[B, N]`` (bool); ``None``: all.
        target_mask: Real targets ``[B, M]`` (bool); ``None``: all.
        reduction: ``"mean"`` or ``"sum"`` over jets, or ``"none"`` for per-jet values ``[B]``.

    Returns:
        A scalar, or ``[B]`` with ``reduction="none"``.
    """
    out, tgt, om, tm = _prepared(output, target, output_mask, target_mask)
    batch = out.shape[0]
    with torch.no_grad():
        cost = _squared_distances(out.detach(), tgt.detach()).cpu().numpy()
    om_np, tm_np = om.cpu().numpy(), tm.cpu().numpy()
    jets, rows, cols = [], [], []
    for b in range(batch):
        real_out, real_tgt = np.flatnonzero(om_np[b]), np.flatnonzero(tm_np[b])
        if real_out.size == 0 or real_tgt.size == 0:
            continue
        r, c = linear_sum_assignment(cost[b][np.ix_(real_out, real_tgt)])
        jets.append(np.full(r.size, b))
        rows.append(real_out[r])
        cols.append(real_tgt[c])
    per_jet = torch.zeros(batch, dtype=out.dtype, device=out.device)
    if jets:
        b_idx, o_idx, t_idx = (
            torch.from_numpy(np.concatenate(a)).to(out.device, torch.long) for a in (jets, rows, cols)
        )
        sq = (out[b_idx, o_idx] - tgt[b_idx, t_idx]).pow(2).sum(dim=-1)
        pairs = torch.bincount(b_idx, minlength=batch).to(out.dtype)
        per_jet = per_jet.index_add(0, b_idx, sq) / (pairs * out.shape[-1]).clamp(min=1)
    return _reduce(per_jet, reduction)


def _ground_distances(ev_out: np.ndarray, ev_tgt: np.ndarray, periodic_phi: bool = True) -> np.ndarray:
    """ΔR in (η, φ) between every output and target particle, ``[B, N, M]``; with ``periodic_phi``
    |Δφ| is taken modulo 2π (at most π)."""
    d_eta = ev_out[:, :, None, 1] - ev_tgt[:, None, :, 1]
    d_phi = np.abs(ev_out[:, :, None, 2] - ev_tgt[:, None, :, 2])
    if periodic_phi:
        d_phi = d_phi % (2 * np.pi)
        d_phi = np.minimum(d_phi, 2 * np.pi - d_phi)
    return np.hypot(d_eta, d_phi)


def _emd_one(weights_out: np.ndarray, weights_tgt: np.ndarray, cost: np.ndarray) -> float:
    """``min Σ f_ij cost_ij + |Σ w − Σ w'|`` as a balanced transport problem (POT's exact network simplex).

    The lighter jet gets one extra particle holding the pT difference, at cost 1 from everything, so
    moving pT costs ``ΔR / R`` and creating or destroying it costs 1 per unit: energyflow's definition.
    """
    import ot  # ~1 s import (it loads scikit-learn), only needed here

    surplus = weights_out.sum() - weights_tgt.sum()
    if weights_out.size == 0 or weights_tgt.size == 0:
        return float(abs(surplus))
    if surplus > 0:  # the target is lighter: a target particle receives the surplus
        weights_tgt, cost = np.append(weights_tgt, surplus), np.hstack([cost, np.ones((cost.shape[0], 1))])
    elif surplus < 0:
        weights_out, cost = np.append(weights_out, -surplus), np.vstack([cost, np.ones((1, cost.shape[1]))])
    # balanced by construction (to rounding), so POT's marginal check (half the time) is skipped
    return float(ot.emd2(weights_out, weights_tgt, cost, check_marginals=False, center_dual=False))


def emd(
    output: torch.Tensor,
    target: torch.Tensor,
    output_mask: torch.Tensor | None = None,
    target_mask: torch.Tensor | None = None,
    reduction: Reduction = "mean",
    *,
    coordinates: Literal["p4", "ptetaphi"] = "p4",
    R: float = EMD_R,
    periodic_phi: bool = True,
) -> torch.Tensor:
    """Exact energy mover's distance per jet, as energyflow's ``emd.emd`` defines it.

    ``EMD = min Σ f_ij ΔR_ij / R + |Σ pT − Σ pT'|`` (β = 1, unnormalised, periodic φ), solved exactly
    by POT's network simplex (``ot.emd2``); checked against energyflow's values on the same jets
    (``tests/test_losses.py``, ``tests/test_against_jetnet.py``). Negative pT (an unconstrained
    decoder output) is clamped to 0. Not differentiable: the result carries no gradient.

    Args:
        output: Reconstructed particles ``[B, N, 4]`` (E, px, py, pz) or ``[B, N, 3]`` (pT, η, φ).
        target: Input particles ``[B, M, 4]`` or ``[B, M, 3]``, in the same coordinates.
        output_mask: Real output particles ``[B, N]`` (bool); ``None``: all are real.
        target_mask: Real target particles ``[B, M]`` (bool); ``None``: all are real.
        reduction: ``"mean"`` or ``"sum"`` over jets, or ``"none"`` for per-jet values ``[B]``.
        coordinates: ``"p4"`` converts 4-momenta to (pT, η, φ); ``"ptetaphi"`` takes them as given,
            in any frame (e.g. the GNNAE's relative coordinates).
        R: The jet radius, the EMD's R parameter (it must be at least half the largest ΔR).
        periodic_phi: Take |Δφ| modulo 2π, as for absolute φ (energyflow's ``periodic_phi``; its
            default is ``False``, which the authors' relative-coordinate score keeps).

    Returns:
        The EMD in units of pT: a scalar, or ``[B]`` with ``reduction="none"``, in the output's dtype
        and device.
    """
    out, tgt, om, tm = _prepared(output, target, output_mask, target_mask)

    def events(particles: torch.Tensor) -> np.ndarray:
        particles = particles.detach()
        if coordinates == "p4":
            if particles.shape[-1] != 4:
                raise ValueError(f"coordinates='p4' needs [B, N, 4] particles, got {tuple(particles.shape)}")
            pt, eta, phi = ptetaphi(particles)
        elif coordinates == "ptetaphi":
            if particles.shape[-1] != 3:
                raise ValueError(f"coordinates='ptetaphi' needs [B, N, 3], got {tuple(particles.shape)}")
            pt, eta, phi = particles.unbind(dim=-1)
        else:
            raise ValueError(f"unknown coordinates {coordinates!r}; use 'p4' or 'ptetaphi'")
        return torch.stack([pt.clamp(min=0), eta, phi], dim=-1).to("cpu", torch.float64).numpy()

    ev_out, ev_tgt = events(out), events(tgt)
    om_np, tm_np = om.cpu().numpy(), tm.cpu().numpy()
    cost = _ground_distances(ev_out, ev_tgt, periodic_phi) / R
    values = [
        _emd_one(ev_out[b, om_np[b], 0], ev_tgt[b, tm_np[b], 0], cost[b][np.ix_(om_np[b], tm_np[b])])
        for b in range(out.shape[0])
    ]
    per_jet = torch.tensor(values, dtype=out.dtype, device=out.device)
    return _reduce(per_jet, reduction)


# --------------------------------------------------------------------------------------------------
# registry and dispatch on the model's native output
# --------------------------------------------------------------------------------------------------

LOSSES: dict[str, Callable[..., torch.Tensor]] = {
    "chamfer": chamfer,
    "mse": mse,
    "hungarian": hungarian,
    "emd": emd,
}

#: the loss each model of the paper trains with (App. B; CNNAE: its Keras code, S5)
PAPER_LOSSES: dict[str, str] = {
    "lgae-min-max": "chamfer",
    "lgae-mean": "chamfer",
    "lgae-mix": "mse",
    "gnnae-jl": "chamfer",
    "gnnae-pl": "mse",
    "cnnae": "mse",
}


def get_loss(name: str) -> Callable[..., torch.Tensor]:
    """The loss function called ``name`` (case-insensitive).

    Args:
        name: One of ``LOSSES``: chamfer, mse, hungarian, emd.

    Returns:
        The function, e.g. [`chamfer`][lgae.losses.chamfer].

    Raises:
        ConfigError: An unknown name; the message lists the valid ones.
    """
    key = str(name).lower()
    if key not in LOSSES:
        raise ConfigError(f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}")
    return LOSSES[key]


def paper_loss(model_name: str) -> str:
    """The training loss the paper uses for a model.

    Args:
        model_name: One of the model registry's names (``lgae-min-max``, …).

    Returns:
        The loss's name (``"chamfer"`` or ``"mse"``).

    Raises:
        ConfigError: An unknown model.
    """
    key = str(model_name).lower()
    if key not in PAPER_LOSSES:
        raise ConfigError(f"unknown model {model_name!r}; choose one of: {', '.join(PAPER_LOSSES)}")
    return PAPER_LOSSES[key]


def _infer_space(output: torch.Tensor) -> str:
    if output.dim() == 4:
        return "image"
    if output.dim() == 3 and output.shape[-1] == 4:
        return "p4"
    if output.dim() == 3 and output.shape[-1] == 3:
        return "relative"
    raise ValueError(f"cannot tell the output space of a tensor of shape {tuple(output.shape)}; pass space=")


def _output_mask(
    output: torch.Tensor, mask: torch.Tensor | None, output_mask: OutputMask | torch.Tensor | None
) -> torch.Tensor | None:
    """Resolve the output-mask policy of :func:`reconstruction_loss` to a [B, N_out] mask (None = all)."""
    if output_mask is None or isinstance(output_mask, torch.Tensor):
        return output_mask
    if output_mask not in OUTPUT_MASKS:
        raise ConfigError(f"unknown output_mask {output_mask!r}; use one of {OUTPUT_MASKS} or a tensor")
    if output_mask == "all" or mask is None:
        return None
    mask = torch.as_tensor(mask, device=output.device)
    mask = mask if mask.dtype == torch.bool else mask != 0
    if output_mask == "input":
        if mask.shape != output.shape[:-1]:
            raise ValueError(
                f"output_mask='input' needs as many output slots as input slots: mask {tuple(mask.shape)}, "
                f"output {tuple(output.shape)}; use output_mask='first'"
            )
        return mask
    count = mask.sum(dim=-1, keepdim=True)
    return torch.arange(output.shape[1], device=output.device).unsqueeze(0) < count


def reconstruction_loss(
    name: str,
    output: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor | None = None,
    space: str | None = None,
    *,
    output_mask: OutputMask | torch.Tensor | None = "input",
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Loss ``name`` between a model's native output and ``model.target(p4, mask)``.

    Which output slots are particles (Chamfer, Hungarian, EMD): by default (``output_mask="input"``)
    the slots where the input is real. Our decoders emit 30 ordered slots and JetNet pads at the end, so
    this compares the first n outputs with the n real inputs, as MPGAN-style set models do;
    ``"first"`` says exactly that for any padding layout, ``"all"`` (or None) counts every output slot
    (the authors' Chamfer, which also kept the padded zero targets), and a tensor gives the mask.
    MSE is ordered (slot i against slot i) and uses the input mask, or every slot with ``"all"``
    (padded targets then count as zeros, like the authors' ``nn.MSELoss``). Images have no particle mask:
    ``mask`` is ignored and only ``"mse"`` applies.

    Args:
        name: The loss: chamfer, mse, hungarian or emd.
        output: The model's output: ``[B, N, 4]`` 4-momenta, ``[B, N, 3]`` relative coordinates or an
            image ``[B, C, H, W]``.
        target: The target in the same space.
        mask: The *input* particle mask ``[B, N]``: it marks the real targets.
        space: The model's ``output_space`` (``"p4"``, ``"relative"``, ``"image"``); None: from the shape.
        output_mask: ``"input"``, ``"first"``, ``"all"``/None, or a bool tensor ``[B, N]``.
        reduction: ``"mean"`` or ``"sum"`` over jets, or ``"none"`` for per-jet values ``[B]``.

    Returns:
        A scalar, or ``[B]`` with ``reduction="none"``.

    Raises:
        ConfigError: An unknown loss, a loss that does not apply to the space, or ``"emd"`` on an output
            that requires grad (it would silently train nothing).
    """
    loss = get_loss(name)
    space = _infer_space(output) if space is None else space
    if space not in SPACES:
        raise ConfigError(f"unknown output space {space!r}; use one of {SPACES}")
    if space == "image":
        if loss is not mse:
            raise ConfigError(f"loss {name!r} needs particle outputs; image outputs support only 'mse'")
        return mse(output, target, None, reduction)
    out_mask = _output_mask(output, mask, output_mask)
    if loss is mse:
        if isinstance(output_mask, torch.Tensor):
            raise ValueError("MSE is ordered and uses the input mask; an explicit output mask is ambiguous")
        if mask is not None and output_mask in ("all", None):  # every slot, padded targets as zeros
            return mse(output, _sanitize(target, _particle_mask(mask, target, "mask")), None, reduction)
        return mse(output, target, mask, reduction)
    if loss is emd:
        if output.requires_grad and torch.is_grad_enabled():
            raise ConfigError(
                "the 'emd' loss is exact but not differentiable (a linear program), so it cannot train a model; "
                "use it for evaluation (under torch.no_grad()) or train with chamfer, mse or hungarian"
            )
        coordinates = "p4" if space == "p4" else "ptetaphi"
        return emd(output, target, out_mask, mask, reduction, coordinates=coordinates)
    return loss(output, target, out_mask, mask, reduction)


@dataclass(frozen=True)
class ReconstructionLoss:
    """A configured [`reconstruction_loss`][lgae.losses.reconstruction_loss], called as
    ``loss(output, target, mask)`` in training.

    Args:
        name: The loss's name (checked when the object is made).
        space: The model's output space, or None to infer it from the shape.
        output_mask: Which output slots are particles (see ``reconstruction_loss``).
        reduction: How per-jet values are reduced.
    """

    name: str
    space: str | None = None
    output_mask: OutputMask | None = "input"
    reduction: Reduction = "mean"

    def __post_init__(self) -> None:
        get_loss(self.name)  # fail at configuration time, not at the first batch

    def __call__(
        self, output: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        return reconstruction_loss(
            self.name,
            output,
            target,
            mask,
            space=self.space,
            output_mask=self.output_mask,
            reduction=self.reduction,
        )
