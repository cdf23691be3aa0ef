"""Optional ``torch.compile`` of a model's forward pass, with a logged fallback to eager execution.

Why: the LGAE's step is many small element-wise passes over [B, N, …] tensors (benchmarks/README.md);
inductor fuses them into a few loops. Compilation is optional: where it cannot run (no C++ compiler for
inductor's CPU code, no triton on a GPU, an inductor error) the model runs eagerly, and the reason is
logged and reported, never raised.

Determinism: inductor's code is generated from the graph alone, so the same model, shapes, dtype, device
and thread count give the same kernels and the same numbers in every process, which is what a resumed
training needs. Compiled and eager numbers agree to rounding, not bit for bit (fused loops round
differently): a run keeps one mode throughout (``TrainSettings.compile`` is part of its fingerprint).
"""

from __future__ import annotations

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
    """What became of a request to compile: ``active`` when the compiled forward runs."""

    requested: bool
    active: bool = False
    reason: str = ""
    #: wall seconds of the calls that compiled (first call per new input shape or grad mode)
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
    """Why ``torch.compile`` cannot run on ``device`` here, or None when it can (as far as we can tell
    without compiling)."""
    if not hasattr(torch, "compile"):
        return f"torch {torch.__version__} has no torch.compile"
    if device.type == "cpu":
        if not any(shutil.which(cc) for cc in ("g++", "c++", "clang++")):
            return "no C++ compiler on PATH (inductor's CPU code needs g++ or clang++)"
    elif device.type == "cuda":
        try:
            import triton  # noqa: F401
        except ImportError:
            return "triton is not installed (inductor's GPU code needs it)"
    else:
        return f"compilation is not supported here on {device.type}"
    return None


class _CompiledForward:
    """``model.forward`` through ``torch.compile``, falling back to eager on the first failure."""

    def __init__(self, model: nn.Module, report: CompileReport) -> None:
        self.eager = model.forward
        self.compiled = torch.compile(self.eager, dynamic=None)
        self.report = report
        self.seen: set[tuple] = set()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.report.active:
            return self.eager(*args, **kwargs)
        key = (torch.is_grad_enabled(), *(tuple(a.shape) for a in args if isinstance(a, torch.Tensor)))
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
        return out


def compile_model(model: nn.Module, enabled: bool = True) -> CompileReport:
    """Make ``model(...)`` run its forward through ``torch.compile`` where possible (in place: the
    parameters, state dict and eager methods are untouched). Returns what happened."""
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
    model.forward = _CompiledForward(model, report)  # type: ignore[method-assign]
    return report
