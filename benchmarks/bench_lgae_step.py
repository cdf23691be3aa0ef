"""Time of one training step: forward, the paper's loss, backward and the Adam update.

Setting (issues 3 and 27): jets of 30 slots with 25 real particles (``jets``), LGAE-Min-Max τ=4 (Chamfer
loss) and LGAE-Mix τ=9 (MSE), float64 and float32, 2 threads, CPU unless ``--device`` says otherwise.
Every figure is the median over ``--repeats`` steps after ``--warmup`` untimed ones; ``per_jet_us`` is
the median divided by the batch size. With ``--compile`` the model runs through ``torch.compile``
(``lgae.pipeline.compiling``) and ``compile_s`` is the first step's time less the median step: the compile cost.

It uses nothing but ``lgae.models.build`` and ``lgae.losses.reconstruction_loss``, so that
``bench_ab.py`` can time an older checkout of the library with it (``--compile`` needs this one).

Run: ``python benchmarks/bench_lgae_step.py [--batch 64 256] [--dtype float64 float32] [--compile]
[--profile]``; one JSON line per (model, dtype, batch, mode).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

import lgae
from lgae.group import lorentz
from lgae.losses import reconstruction_loss
from lgae.models import build

#: model -> (latent option, training loss): the paper's reconstruction models (and the GNNAEs, issue 27)
MODELS = {
    "lgae-min-max": ({"latent_vectors": 4}, "chamfer"),
    "lgae-mix": ({"latent_vectors": 9}, "mse"),
    "gnnae-jl": ({"latent_dim": 55}, "chamfer"),
    "gnnae-pl": ({"latent_dim": 2}, "mse"),
}


def jets(
    batch: int, n_slots: int, n_real: int, dtype: torch.dtype, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Synthetic massless jets at TeV scale: pT 0.01–0.21, η and φ spread 0.1 around the axis."""
    gen = torch.Generator().manual_seed(seed)
    pt = 0.01 + 0.2 * torch.rand(batch, n_real, generator=gen, dtype=torch.float64)
    eta = 0.1 * torch.randn(batch, n_real, generator=gen, dtype=torch.float64)
    phi = 0.1 * torch.randn(batch, n_real, generator=gen, dtype=torch.float64)
    p4 = torch.zeros(batch, n_slots, 4, dtype=torch.float64)
    p4[:, :n_real] = lorentz.p4_from_ptetaphi(pt, eta, phi)
    mask = torch.zeros(batch, n_slots, dtype=torch.bool)
    mask[:, :n_real] = True
    return p4.to(dtype), mask


def training_step(
    name: str,
    dtype: torch.dtype,
    batch: int,
    device: str,
    compiled: bool,
    path: str = "auto",
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[Callable[[], float], torch.nn.Module, dict]:
    """A closure running one training step of a freshly seeded model; the model; how it runs."""
    latent, loss_name = MODELS[name]
    torch.manual_seed(0)
    options = latent if path == "auto" else {**latent, "path": path}
    model = build(name, **options).to(device=device, dtype=dtype)
    p4, mask = jets(batch, 30, 25, dtype)
    p4, mask = p4.to(device), mask.to(device)
    target = model.target(p4, mask)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    mode = {"compiled": False}
    if compiled:
        from lgae.pipeline.compiling import compile_model  # only in checkouts that have it

        report = compile_model(model)
        mode = {"compiled": report.active, "compile_note": report.reason}
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def step() -> float:
        sync()
        start = clock()
        loss = reconstruction_loss(loss_name, model(p4, mask), target, mask, model.output_space)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sync()
        return clock() - start

    return step, model, mode


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def measure(
    name: str,
    dtype: torch.dtype,
    batch: int,
    device: str,
    compiled: bool,
    warmup: int,
    repeats: int,
    clock: str = "wall",
) -> dict:
    step, model, mode = training_step(name, dtype, batch, device, compiled, clock=CLOCKS[clock])
    first = step()
    for _ in range(max(warmup - 1, 0)):
        step()
    times = [step() for _ in range(repeats)]
    median = statistics.median(times)
    return {
        "model": name,
        **MODELS[name][0],
        "dtype": str(dtype).replace("torch.", ""),
        "batch": batch,
        "device": device,
        "threads": torch.get_num_threads(),
        "clock": clock,
        **mode,
        "parameters": sum(p.numel() for p in model.parameters()),
        "median_ms": 1e3 * median,
        "min_ms": 1e3 * min(times),
        "per_jet_us": 1e6 * median / batch,
        "first_step_s": first,
        "compile_s": first - median if compiled else None,
        "repeats": repeats,
        "lgae": str(Path(lgae.__file__).resolve().parent),
    }


def profile(name: str, dtype: torch.dtype, batch: int, device: str, compiled: bool, rows: int) -> None:
    """The top operators (self time) of five steps, to stderr."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    step, _, _ = training_step(name, dtype, batch, device, compiled)
    for _ in range(3):
        step()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.startswith("cuda") else [])
    # with_flops: the matrix products' floating-point operations, so that their rate can be read off
    with torch_profile(activities=activities, with_flops=True) as prof:
        for _ in range(5):
            step()
    sort = "self_cuda_time_total" if device.startswith("cuda") else "self_cpu_time_total"
    table = prof.key_averages().table(sort_by=sort, row_limit=rows, max_name_column_width=60)
    print(f"--- {name} {dtype} batch {batch} compiled={compiled}: 5 steps ---\n{table}", file=sys.stderr)


def serve(clock: str) -> None:
    """Answer measurement requests, one JSON line each on stdin, with the step times (``bench_ab.py``).
    Each configuration's model is built (and compiled) once and kept, so that requests can alternate
    between processes without paying the set-up again."""
    steps: dict[tuple, Callable[[], float]] = {}
    print(json.dumps({"ready": True, "lgae": str(Path(lgae.__file__).resolve().parent)}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        key = (request["model"], request["dtype"], request["batch"], request["device"], request["compiled"])
        reply: dict = {}
        if key not in steps:
            start = time.perf_counter()
            step, _, mode = training_step(
                request["model"],
                getattr(torch, request["dtype"]),
                request["batch"],
                request["device"],
                request["compiled"],
                clock=CLOCKS[clock],
            )
            first = step()
            reply = {"setup_s": time.perf_counter() - start, "first_step_s": first, **mode}
            steps[key] = step
        step = steps[key]
        for _ in range(request["warmup"]):
            step()
        reply["times"] = [step() for _ in range(request["repeats"])]
        print(json.dumps(reply), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=list(MODELS)[:2], choices=list(MODELS))
    parser.add_argument("--dtype", nargs="+", default=["float64", "float32"], choices=["float64", "float32"])
    parser.add_argument("--batch", nargs="+", type=int, default=[64])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--clock",
        default="wall",
        choices=list(CLOCKS),
        help="wall time, or the process's CPU time (steadier on a shared machine with one thread)",
    )
    parser.add_argument(
        "--compile", action="store_true", help="through torch.compile (lgae.pipeline.compiling)"
    )
    parser.add_argument("--profile", action="store_true", help="print the top operators to stderr")
    parser.add_argument("--rows", type=int, default=25, help="rows of the profile")
    parser.add_argument("--serve", action="store_true", help="answer requests on stdin (bench_ab.py)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.serve:
        serve(args.clock)
        return
    for name in args.models:
        for dtype_name in args.dtype:
            for batch in args.batch:
                dtype = getattr(torch, dtype_name)
                if args.profile:
                    profile(name, dtype, batch, args.device, args.compile, args.rows)
                    continue
                row = measure(
                    name, dtype, batch, args.device, args.compile, args.warmup, args.repeats, args.clock
                )
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
