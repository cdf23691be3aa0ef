"""Forward + backward time of one LGAE training step at the paper configuration.

Setting (issue 3): 64 jets of 30 slots with 25 real particles, LGAE-Min-Max τ=4 and LGAE-Mix τ=9,
float64 and float32, 2 threads, CPU. The loss is a plain MSE to keep the benchmark about the model.
Run: ``python benchmarks/bench_lgae_step.py [--repeats 30] [--path fast|general]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from lgae import lorentz
from lgae.models import build


def jets(
    batch: int, n_slots: int, n_real: int, dtype: torch.dtype, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    pt = 0.01 + 0.2 * torch.rand(batch, n_real, generator=gen, dtype=torch.float64)
    eta = 0.1 * torch.randn(batch, n_real, generator=gen, dtype=torch.float64)
    phi = 0.1 * torch.randn(batch, n_real, generator=gen, dtype=torch.float64)
    p4 = torch.zeros(batch, n_slots, 4, dtype=torch.float64)
    p4[:, :n_real] = lorentz.p4_from_ptetaphi(pt, eta, phi)
    mask = torch.zeros(batch, n_slots, dtype=torch.bool)
    mask[:, :n_real] = True
    return p4.to(dtype), mask


def time_step(name: str, dtype: torch.dtype, path: str, repeats: int, latent: int) -> dict[str, float]:
    torch.manual_seed(0)
    model = build(name, latent_vectors=latent, path=path).to(dtype)
    p4, mask = jets(64, 30, 25, dtype)
    target = p4 * mask.unsqueeze(-1)
    times = []
    for i in range(repeats + 3):
        start = time.perf_counter()
        out = model(p4, mask)
        loss = torch.mean((out - target) ** 2)
        model.zero_grad(set_to_none=True)
        loss.backward()
        if i >= 3:  # warm-up excluded
            times.append(time.perf_counter() - start)
    return {
        "model": name,
        "latent_vectors": latent,
        "dtype": str(dtype).replace("torch.", ""),
        "path": model.path,
        "parameters": model.num_parameters(),
        "median_ms": 1e3 * statistics.median(times),
        "min_ms": 1e3 * min(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--path", default="auto", choices=["auto", "fast", "general"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for name, latent in (("lgae-min-max", 4), ("lgae-mix", 9)):
        for dtype in (torch.float64, torch.float32):
            print(json.dumps(time_step(name, dtype, args.path, args.repeats, latent)))


if __name__ == "__main__":
    main()
