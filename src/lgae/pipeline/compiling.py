"""Optional ``torch.compile`` of a model's forward pass, with a logged fallback to eager execution.

Why: an LGAE step is many element-wise passes over [.., B, N] tensors between matrix products
(benchmarks/README.md); inductor fuses them into a few loops. Compilation is optional: where it cannot run
(no C++ compiler for inductor's CPU code, no triton on a GPU, an inductor error) the model runs eagerly,
and the reason is logged and reported, never raised.

What it costs: a compile of the forward and backward graphs at the first training step, and of the
forward graph at the first validation pass (a minute or two on a CPU; inductor keeps its results in a
cache on disk, so that later processes on the same machine compile in seconds). The jet axis is marked
dynamic, so that the smaller last batch of an epoch does not compile again.

Determinism: inductor's code is generated from the graph alone, so the same model, shapes, dtype, device
and thread count give the same kernels and the same numbers in every process, which is what a resumed
training needs. Compiled and eager numbers agree to rounding, not bit for bit (fused loops round
differently): a run resumed in another mode continues correctly but not bit for bit.
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import shutil
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

log = logging.getLogger(__name__)


@dataclass
class CompileReport:
    """What became of a request to compile: ``active`` while the compiled forward runs."""

    requested: bool
    active: bool = False
    reason: str = ""
    #: wall seconds of the calls that compiled (the first call per grad mode and input rank)
    seconds: float = 0.0
    graphs: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "active": self.active,
            "reason": self.reason,
            "seconds": round(self.seconds, 3),
            "graphs": self.graphs,
        }


def unavailable_reason(device: torch.device) -> str | None:
    """Why ``torch.compile`` cannot run on ``device`` here, or None when it can, as far as can be told
    without compiling."""
    if device.type == "cpu":
        if not any(shutil.which(cc) for cc in ("g++", "c++", "clang++")):
            return "no C++ compiler on PATH (inductor's CPU code needs g++ or clang++)"
    elif device.type == "cuda":
        # triton comes with torch's CUDA builds, not with us: probed, not imported
        if importlib.util.find_spec("triton") is None:
            return "triton is not installed (inductor's GPU code needs it)"
    else:
        return f"no compiled code for device type {device.type!r}"
    return None


class _CompiledForward:
    """``model.forward`` through ``torch.compile``, falling back to eager on the first failure."""

    def __init__(self, forward: Any, report: CompileReport) -> None:
        self.eager = forward
        self.compiled = torch.compile(forward)
        self.report = report
        self.seen: set[tuple] = set()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.report.active:
            return self.eager(*args, **kwargs)
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        for tensor in tensors:  # one graph for every batch size (not for a batch of one jet)
            torch._dynamo.maybe_mark_dynamic(tensor, 0)
        key = (torch.is_grad_enabled(), *(t.dim() for t in tensors))
        if key in self.seen:
            return self.compiled(*args, **kwargs)
        start = time.perf_counter()
        try:
            out = self.compiled(*args, **kwargs)
        except Exception as exc:  # inductor raises many types; any of them means: run eagerly
            self.report.active = False
            self.report.reason = f"compilation failed, running eagerly: {type(exc).__name__}: {exc}"[:500]
            log.warning("torch.compile failed; running eagerly (%s)", self.report.reason)
            return self.eager(*args, **kwargs)
        self.report.seconds += time.perf_counter() - start
        self.report.graphs += 1
        self.seen.add(key)
        log.info("compiled a graph in %.1f s (%d so far)", time.perf_counter() - start, self.report.graphs)
        # compilation leaves ~1e6 long-lived Python objects that every full garbage collection would
        # traverse again (5-7 % of a step, measured): freeze them out of the collector's sight
        gc.collect()
        gc.freeze()
        return out


def compile_model(model: nn.Module, enabled: bool = True) -> CompileReport:
    """Make ``model(...)`` run its forward pass through ``torch.compile`` where possible, in place (the
    parameters, the state dict and every other method are untouched). Returns what happened."""
    report = CompileReport(requested=enabled)
    if not enabled:
        return report
    device = next(model.parameters()).device
    reason = unavailable_reason(device)
    if reason is not None:
        report.reason = reason
        log.warning("torch.compile unavailable; running eagerly (%s)", reason)
        return report
    report.active = True
    model.forward = _CompiledForward(model.forward, report)  # type: ignore[method-assign]
    return report
