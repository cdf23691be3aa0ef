"""The LGAE on a CUDA device: the fast path against the general path and against the CPU, compiled
against eager, a training step in both precisions. Skipped without CUDA (``benchmarks/gpu_check.sh`` runs
them on a GPU machine). Synthetic jets, so that no Pythia is needed there."""

from __future__ import annotations

import pytest
import torch

from lgae.group import lorentz
from lgae.losses import reconstruction_loss
from lgae.models import build
from lgae.pipeline.compiling import compile_model

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")

MODELS = {"lgae-min-max": 4, "lgae-mix": 9}


def _jets(batch: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    pt = 0.01 + 0.2 * torch.rand(batch, 30, generator=gen, dtype=torch.float64)
    eta, phi = (0.1 * torch.randn(batch, 30, generator=gen, dtype=torch.float64) for _ in range(2))
    mask = torch.arange(30) < torch.randint(10, 31, (batch, 1), generator=gen)
    return lorentz.p4_from_ptetaphi(pt, eta, phi) * mask.unsqueeze(-1), mask


def _model(name: str, **options) -> torch.nn.Module:
    torch.manual_seed(0)
    return build(name, latent_vectors=MODELS[name], **options).double()


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.cpu() - b.cpu()).abs().max() / b.cpu().abs().max())


@pytest.mark.parametrize("name", list(MODELS))
def test_fast_path_on_cuda_equals_the_general_path_and_the_cpu(name):
    p4, mask = _jets()
    cpu = _model(name)
    fast, general = _model(name).cuda(), _model(name, path="general").cuda()
    out = fast(p4.cuda(), mask.cuda())
    assert out.is_cuda
    assert _rel(out, general(p4.cuda(), mask.cuda())) <= 1e-12
    expected = cpu(p4, mask)
    assert _rel(out, expected) <= 1e-12
    (out - p4.cuda()).pow(2).sum().backward()
    (expected - p4).pow(2).sum().backward()
    for (key, a), (_, b) in zip(fast.named_parameters(), cpu.named_parameters(), strict=True):
        assert torch.isfinite(a.grad).all(), key
        assert _rel(a.grad, b.grad) <= 1e-9, key


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_compiled_on_cuda_equals_eager(dtype):
    p4, mask = _jets()
    p4, mask = p4.to("cuda", dtype), mask.cuda()
    compiled, eager = _model("lgae-mix").to("cuda", dtype), _model("lgae-mix").to("cuda", dtype)
    report = compile_model(compiled)
    out = compiled(p4, mask)
    assert report.active, report.reason
    assert _rel(out, eager(p4, mask)) <= (1e-12 if dtype == torch.float64 else 1e-4)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(MODELS))
def test_a_training_step_on_cuda(name, dtype):
    p4, mask = _jets(32)
    p4, mask = p4.to("cuda", dtype), mask.cuda()
    model = _model(name).to("cuda", dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_name = "chamfer" if name == "lgae-min-max" else "mse"
    before = reconstruction_loss(loss_name, model(p4, mask), model.target(p4, mask), mask)
    for _ in range(5):
        loss = reconstruction_loss(loss_name, model(p4, mask), model.target(p4, mask), mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = reconstruction_loss(loss_name, model(p4, mask), model.target(p4, mask), mask)
    assert torch.isfinite(after)
    assert after < before
