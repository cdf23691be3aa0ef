"""One training step of the authors' LGAE against ours, on the same batch, side by side in one process.

What it measures: one training step (encoder forward, decoder forward, an MSE loss of the reconstruction
against the input 4-momenta, backward, and an Adam update with lr 1e-3) on one batch of 64 jets with 30
particle slots of which 25 are real (the rest zero-padded), massless particles at TeV scale (the synthetic
jets of ``bench_lgae_step.jets``), each jet divided by its largest |p^μ| as the authors' training loop does
(outside the timed region). float64, 2 threads, CPU. The implementations take turns, ``--repeats``
steps each per round for ``--rounds`` rounds, so that a change of the machine's load falls on all of
them; the speed-up is the median over rounds of the paired ratios (and the ratio of the medians).
Compared, on that one batch:

- the authors' ``LGNEncoder`` + ``LGNDecoder`` (zichunhao/lgn-autoencoder at 66620d0) with the paper's
  ``main.py`` settings: channels 3 3 4 4 / 4 4 3 3, maxdim 2, 10 basis functions, scalar MLP width 6 and
  depth 6, one latent scalar, τ_(1/2,1/2) = 4 for "min&max" and 9 for "mix", real output = Re + Im (their
  ``--get-real-method sum``). Their parameter counts are 62,976 and 65,336;
- ours: ``lgae.models.build("lgae-min-max", latent_vectors=4)`` and ``build("lgae-mix", latent_vectors=9)``,
  called as training calls them (``model(p4, mask)``), eagerly (``ours``) and through ``torch.compile``
  (``ours-compiled``, :mod:`lgae.pipeline.compiling`; its compile time is reported, not timed in the steps).

Each implementation gets ``--warmup`` untimed steps first; one JSON line per implementation (median and
min of the step, its split into forward / backward + update, parameter counts) and one per configuration
with the speed-ups (theirs / ours). ``--profile`` also prints the top operators of one step of their
models to stderr.

The reference code is not part of this repository and is never copied into it; it is imported, read-only,
from the clone given on the command line (no bytecode is written into it)::

    git clone https://github.com/zichunhao/lgn-autoencoder /tmp/lgnref
    git -C /tmp/lgnref checkout 66620d0
    python benchmarks/bench_reference.py --reference-repo /tmp/lgnref

It needs only torch, numpy, scipy and tqdm at import time. Their ``main.py`` turns on
``torch.autograd.set_detect_anomaly``; importing the models does not, and it is switched off here anyway.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from bench_lgae_step import jets
from lgae.models import build
from lgae.pipeline.compiling import compile_model

REFERENCE_COMMIT = "66620d0"
CONFIGS = (("min&max", "lgae-min-max", 4), ("mix", "lgae-mix", 9))

Step = Callable[[], tuple[float, float, torch.Tensor]]


def load_reference(repo: str | None) -> tuple[type, type, str]:
    """The authors' LGNEncoder and LGNDecoder classes from the clone at ``repo``, and its commit."""
    hint = (
        "pass --reference-repo PATH to a clone of https://github.com/zichunhao/lgn-autoencoder "
        f"(git clone https://github.com/zichunhao/lgn-autoencoder && git checkout {REFERENCE_COMMIT})"
    )
    if not repo:
        raise SystemExit(f"error: no reference code given; {hint}")
    root = Path(repo).expanduser().resolve()
    if not (root / "lgn" / "models" / "lgn_encoder.py").is_file():
        raise SystemExit(
            f"error: {root} is not a clone of lgn-autoencoder (no lgn/models/lgn_encoder.py); {hint}"
        )
    clash = importlib.util.find_spec("lgn")
    if clash is not None and not any(
        Path(p).resolve() == root / "lgn" for p in clash.submodule_search_locations or []
    ):
        raise SystemExit(
            f"error: another package named 'lgn' is importable ({clash.origin}); run in a clean env"
        )
    sys.dont_write_bytecode = True  # leave their clone untouched
    sys.path.insert(0, str(root))
    try:
        encoder_module = importlib.import_module("lgn.models.lgn_encoder")
        decoder_module = importlib.import_module("lgn.models.lgn_decoder")
    except Exception as exc:
        raise SystemExit(f"error: cannot import the reference models from {root}: {exc!r}; {hint}") from exc
    finally:
        sys.path.remove(str(root))
    for module in (encoder_module, decoder_module):
        if not Path(module.__file__).resolve().is_relative_to(root):
            raise SystemExit(f"error: {module.__name__} was imported from {module.__file__}, not from {root}")
    torch.autograd.set_detect_anomaly(False)
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return encoder_module.LGNEncoder, decoder_module.LGNDecoder, commit


def reference_models(
    encoder_cls: type, decoder_cls: type, map_to_latent: str, latent_vectors: int
) -> tuple[torch.nn.Module, torch.nn.Module]:
    """Their encoder and decoder as ``utils/initialize.py::initialize_autoencoder`` builds them (paper flags)."""
    common: dict[str, Any] = {
        "maxdim": 2,
        "max_zf": [1],
        "weight_init": "randn",
        "level_gain": [1.0],
        "num_basis_fn": 10,
        "activation": "leakyrelu",
        "mlp": True,
        "mlp_depth": 6,
        "mlp_width": 6,
        "device": torch.device("cpu"),
        "dtype": torch.float64,
    }
    encoder = encoder_cls(
        num_input_particles=30,
        tau_input_scalars=1,
        tau_input_vectors=1,
        map_to_latent=map_to_latent,
        tau_latent_scalars=1,
        tau_latent_vectors=latent_vectors,
        num_channels=[3, 3, 4, 4],
        scale=1.0,
        jet_features=False,
        **common,
    )
    mult = len(map_to_latent.split("&")) if "&" in map_to_latent else 1
    decoder = decoder_cls(
        tau_latent_scalars=mult,
        tau_latent_vectors=mult * latent_vectors,
        num_output_particles=30,
        tau_output_scalars=1,
        tau_output_vectors=1,
        num_channels=[4, 4, 3, 3],
        cg_dict=encoder.cg_dict,
        **common,
    )
    return encoder, decoder


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def make_step(forward: Callable[[], torch.Tensor], target: torch.Tensor, params: list) -> Step:
    """One training step; returns (forward + loss, backward + Adam update) seconds and the loss."""
    optimizer = torch.optim.Adam(params, lr=1e-3)

    def step() -> tuple[float, float, torch.Tensor]:
        optimizer.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        loss = torch.mean((forward() - target) ** 2)
        t1 = time.perf_counter()
        loss.backward()
        optimizer.step()
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, loss.detach()

    return step


def summary(splits: list[tuple[float, float]], loss: torch.Tensor, params: list) -> dict[str, Any]:
    totals = [sum(s) for s in splits]
    return {
        "median_ms": 1e3 * statistics.median(totals),
        "min_ms": 1e3 * min(totals),
        "forward_loss_median_ms": 1e3 * statistics.median(s[0] for s in splits),
        "backward_update_median_ms": 1e3 * statistics.median(s[1] for s in splits),
        "steps": len(splits),
        "loss": float(loss),
        "finite": bool(torch.isfinite(loss))
        and all(torch.isfinite(p.grad).all() for p in params if p.grad is not None),
    }


def profile(step: Step, label: str, rows: int = 15) -> None:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)
    print(f"--- profile of one step: {label} ---\n{table}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reference-repo", help="path to a clone of zichunhao/lgn-autoencoder (66620d0)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2, help="steps of each implementation per round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--profile", action="store_true", help="print their top operators to stderr")
    parser.add_argument(
        "--ours", nargs="+", default=["eager", "compiled"], choices=["eager", "compiled"], help="our modes"
    )
    parser.add_argument(
        "--ours-scalar-mlp-depth", type=int, default=None, help="override our scalar_mlp_depth (theirs: 6)"
    )
    args = parser.parse_args()
    encoder_cls, decoder_cls, commit = load_reference(args.reference_repo)
    torch.set_num_threads(args.threads)

    p4, mask = jets(args.batch, 30, 25, torch.float64)
    # per-jet overall-max normalisation, as their training loop does before the encoder
    p4 = p4 / (p4.abs().amax(dim=(-1, -2), keepdim=True) + 1e-16)
    labels = mask.to(torch.float64)
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "reference_commit": commit,
                "batch": args.batch,
                "slots": 30,
                "real": 25,
                "dtype": "float64",
                "anomaly_detection": torch.is_anomaly_enabled(),
            }
        ),
        flush=True,
    )

    for map_to_latent, name, latent in CONFIGS:
        runs: dict[str, dict[str, Any]] = {}
        torch.manual_seed(0)
        encoder, decoder = reference_models(encoder_cls, decoder_cls, map_to_latent, latent)
        params = [*encoder.parameters(), *decoder.parameters()]

        def their_forward(
            encoder: torch.nn.Module = encoder, decoder: torch.nn.Module = decoder
        ) -> torch.Tensor:
            out = decoder(encoder({"p4": p4, "labels": labels}))  # (2, B, N, 4): real and imaginary parts
            return out[0] + out[1]  # their --get-real-method sum

        runs["reference"] = {
            "step": make_step(their_forward, p4, params),
            "params": params,
            "info": {
                "impl": "reference",
                "model": map_to_latent,
                "latent_vectors": latent,
                "parameters": count(encoder) + count(decoder),
                "encoder_parameters": count(encoder),
                "decoder_parameters": count(decoder),
            },
        }
        options: dict[str, Any] = {"latent_vectors": latent}
        if args.ours_scalar_mlp_depth is not None:
            options["scalar_mlp_depth"] = args.ours_scalar_mlp_depth
        for mode in args.ours:
            torch.manual_seed(0)
            model = build(name, **options).double()
            info: dict[str, Any] = {"impl": "lgae" if mode == "eager" else "lgae-compiled", "model": name}
            if mode == "compiled":
                report = compile_model(model)
                info["compile"] = report
            target = model.target(p4, mask)
            runs[info["impl"]] = {
                "step": make_step(lambda model=model: model(p4, mask), target, list(model.parameters())),
                "params": list(model.parameters()),
                "info": {
                    **info,
                    "latent_vectors": latent,
                    "parameters": model.num_parameters(),
                    "path": model.path,
                    **{k: v for k, v in options.items() if k != "latent_vectors"},
                },
            }
        for run in runs.values():  # warm-up (and compilation), untimed
            for _ in range(args.warmup):
                run["last"] = run["step"]()[2]
            run["splits"], run["round_medians"] = [], []
        for _ in range(args.rounds):
            for run in runs.values():
                splits = []
                for _ in range(args.repeats):
                    *times, run["last"] = run["step"]()
                    splits.append(tuple(times))
                run["splits"] += splits
                run["round_medians"].append(statistics.median(sum(s) for s in splits))
        for run in runs.values():
            info = dict(run["info"])
            if "compile" in info:
                info["compile"] = info["compile"].as_dict()
            run["summary"] = {**info, **summary(run["splits"], run["last"], run["params"])}
            print(json.dumps(run["summary"]), flush=True)
        theirs = runs["reference"]
        for impl, run in runs.items():
            if impl == "reference":
                continue
            paired = [t / o for t, o in zip(theirs["round_medians"], run["round_medians"], strict=True)]
            print(
                json.dumps(
                    {
                        "comparison": f"{map_to_latent} τ={latent}: reference / {impl}",
                        "speedup_median_of_rounds": statistics.median(paired),
                        "speedup_of_medians": theirs["summary"]["median_ms"] / run["summary"]["median_ms"],
                        "speedup_min": theirs["summary"]["min_ms"] / run["summary"]["min_ms"],
                    }
                ),
                flush=True,
            )
        if args.profile:
            profile(theirs["step"], f"reference {map_to_latent} τ={latent}")


if __name__ == "__main__":
    main()
