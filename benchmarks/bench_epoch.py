"""Time one training epoch of every model on the quick configuration's data (issue: training speed).

Reads ``results/data/processed/pythia`` (run the quick pipeline's data stage first:
``snakemake --cores all --configfile config/quick.yaml data``). Each model trains for one epoch on the
full QCD training split of that sample (g + q) and evaluates the validation split, with the latent size
of the paper's reconstruction figures, batch 256, in the dtype given.
``--fraction`` trains on that fraction of the training split (the data-efficiency scan; the validation
split is evaluated whole). Run: ``python benchmarks/bench_epoch.py [--dtype float64] [--threads 2]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from lgae.pipeline.training import TrainPaths, TrainSettings, train

LATENTS = {"lgae-min-max": 4, "lgae-mix": 9, "gnnae-jl": 55, "gnnae-pl": 2, "cnnae": 55}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("results/data/processed/pythia"))
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=list(LATENTS))
    parser.add_argument("--fraction", type=float, default=1.0, help="fraction of the training split")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for name in args.models:
        settings = TrainSettings(
            model=name,
            latent=LATENTS[name],
            train_fraction=args.fraction,
            max_epochs=1,
            batch_size=256,
            dtype=args.dtype,
        )
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            meta = train(settings, TrainPaths(args.data_dir, Path(out)), device="cpu", progress=False)
            total = time.perf_counter() - start
        print(
            json.dumps(
                {
                    "model": name,
                    "latent": LATENTS[name],
                    "dtype": args.dtype,
                    "fraction": args.fraction,
                    "threads": args.threads,
                    "train_jets": meta["train_jets"],
                    "valid_jets": meta["valid_jets"],
                    "epoch_seconds": round(meta["seconds_training"], 2),
                    "total_seconds": round(total, 2),
                    "parameters": meta["parameters"],
                }
            )
        )


if __name__ == "__main__":
    main()
