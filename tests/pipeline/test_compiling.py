"""Optional compilation of a model (lgae.pipeline.compiling): same numbers as eager, a logged fallback where it
cannot compile, one graph for every batch size."""

from __future__ import annotations

import logging

import pytest
import torch

import lgae.pipeline.compiling as compiling
from lgae.group import lorentz
from lgae.models import build
from lgae.pipeline.compiling import compile_model

SMALL = {"encoder_channels": [2, 3], "decoder_channels": [3, 2], "num_basis": 4}


def _jets(batch: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    pt = 0.01 + 0.2 * torch.rand(batch, 30, generator=gen, dtype=torch.float64)
    eta, phi = (0.1 * torch.randn(batch, 30, generator=gen, dtype=torch.float64) for _ in range(2))
    mask = torch.arange(30) < torch.randint(5, 31, (batch, 1), generator=gen)
    return lorentz.p4_from_ptetaphi(pt, eta, phi) * mask.unsqueeze(-1), mask


def _model(name: str = "lgae-mix") -> torch.nn.Module:
    torch.manual_seed(0)
    return build(name, latent_vectors=2, **SMALL).double()


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b).abs().max() / b.abs().max()).detach())


def test_without_a_compiler_the_model_runs_eagerly_and_says_why(monkeypatch, caplog):
    monkeypatch.setattr(compiling.shutil, "which", lambda _name: None)
    model, reference = _model(), _model()
    with caplog.at_level(logging.WARNING, logger="lgae.pipeline.compiling"):
        report = compile_model(model)
    assert not report.active
    assert "C++ compiler" in report.reason
    assert "running eagerly" in caplog.text
    p4, mask = _jets(4)
    assert torch.equal(model(p4, mask), reference(p4, mask))


def test_a_failing_compilation_falls_back_to_eager(monkeypatch, caplog):
    def broken(_function):
        def call(*_args, **_kwargs):
            raise RuntimeError("inductor exploded")

        return call

    monkeypatch.setattr(compiling.torch, "compile", broken)
    model, reference = _model(), _model()
    report = compile_model(model)
    assert report.active
    p4, mask = _jets(4)
    with caplog.at_level(logging.WARNING, logger="lgae.pipeline.compiling"):
        out = model(p4, mask)
    assert torch.equal(out, reference(p4, mask))
    assert not report.active
    assert "inductor exploded" in report.reason
    assert "torch.compile failed; running eagerly" in caplog.text
    assert torch.equal(model(p4, mask), out)  # and it stays eager


def test_not_requested_changes_nothing():
    model = _model()
    forward = model.forward
    report = compile_model(model, enabled=False)
    assert not report.requested
    assert not report.active
    assert model.forward == forward


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lgae-mix", "lgae-min-max"])
def test_compiled_model_gives_the_eager_numbers_and_gradients(name):
    """Output and every parameter's gradient within 1e-12 of eager (float64), for two batch sizes with one
    compiled graph, and the latent (encode, not compiled) unchanged."""
    compiled, eager = _model(name), _model(name)
    report = compile_model(compiled)
    for batch in (6, 5):
        p4, mask = _jets(batch, seed=batch)
        out_c, out_e = compiled(p4, mask), eager(p4, mask)
        assert _rel(out_c, out_e) <= 1e-12
        ((out_c - p4) ** 2).sum().backward()
        ((out_e - p4) ** 2).sum().backward()
        for (key, a), (_, b) in zip(compiled.named_parameters(), eager.named_parameters(), strict=True):
            assert _rel(a.grad, b.grad) <= 1e-10, key
        compiled.zero_grad()
        eager.zero_grad()
    assert report.active
    assert report.graphs == 1
    assert report.seconds > 0
    with torch.no_grad():
        assert _rel(compiled(p4, mask), eager(p4, mask)) <= 1e-12
    assert report.graphs == 2  # the graph without gradients
