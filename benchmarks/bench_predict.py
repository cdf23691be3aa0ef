"""Time prediction + metrics of one LGAE on a JetNet-sized test set (issue: evaluation speed).

JetNet's test split is 20 % of 177k jets per class, ~35k per class and 177k in all. We build such a set by
repeating the quick configuration's Pythia test jets (``results/data/processed/pythia``, run the quick
pipeline's data stage first) to ``--jets-per-class``, then time the two steps as the pipeline runs them:
``lgae predict --no-emd`` (inference of every class, the jet features and the Chamfer/MSE/Hungarian
scores, the equivariance scans on 3,000 QCD jets) and ``lgae evaluate`` (matching, relative errors, ROCs,
latent correlations). The EMD's cost (POT, one jet at a time) is measured on ``--emd-jets`` jets and scaled to the whole set.
The model is an untrained LGAE-Mix τ=9 (the cost does not depend on the weights).
Run: ``python benchmarks/bench_predict.py [--threads 2] [--jets-per-class 35000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import torch

from lgae.losses import emd
from lgae.models import build
from lgae.models.io import save_model
from lgae.names import CLASSES
from lgae.pipeline.data.preprocess import load_processed


def _tile(source: Path, target: Path, n_jets: int) -> None:
    """A processed test file with the jets of ``source`` repeated to ``n_jets``."""
    with h5py.File(source, "r") as src, h5py.File(target, "w") as dst:
        n = len(src["p4"])
        rows = np.arange(n_jets) % n
        for key in src:
            dst.create_dataset(key, data=src[key][...][rows])
        dst.attrs.update(dict(src.attrs))


def _timed(command: list[str], threads: int) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("results/data/processed/pythia"))
    parser.add_argument("--jets-per-class", type=int, default=35_400)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--emd-jets", type=int, default=2000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "data"
        data.mkdir()
        for jet_class in CLASSES:
            _tile(args.data_dir / f"{jet_class}_test.h5", data / f"{jet_class}_test.h5", args.jets_per_class)
        torch.manual_seed(0)
        model = build("lgae-mix").double()
        settings = {"dtype": "float64", "latent": 9, "seed": 1, "train_fraction": 1.0, "loss": "mse"}
        save_model(work / "model.pt", model, {"settings": settings, "epochs": 0})
        lgae = [sys.executable, "-m", "lgae"]
        predict = _timed(
            [
                *lgae,
                "predict",
                "--model-file",
                str(work / "model.pt"),
                "--data-dir",
                str(data),
                "--out-dir",
                str(work / "pred"),
                "--no-emd",
                "--threads",
                str(args.threads),
                "--no-progress",
                "--device",
                "cpu",
            ],
            args.threads,
        )
        evaluate = _timed(
            [*lgae, "evaluate", "--predictions-dir", str(work / "pred"), "--out-dir", str(work / "metrics")],
            args.threads,
        )
        size = sum(f.stat().st_size for f in (work / "pred").iterdir())
        jets = load_processed(data / "g_test.h5")
        p4 = torch.as_tensor(jets.p4[: args.emd_jets])
        mask = torch.as_tensor(jets.mask[: args.emd_jets])
        # a reconstruction 5 % off in every momentum: EMD's cost depends on the clouds, not on the model
        recon = p4 * (1 + 0.05 * torch.randn(*p4.shape[:2], 1, generator=torch.Generator().manual_seed(0)))
        start = time.perf_counter()
        emd(recon, p4, mask, mask, "none")
        emd_per_jet = (time.perf_counter() - start) / len(p4)
    total_jets = args.jets_per_class * len(CLASSES)
    print(
        json.dumps(
            {
                "test_jets": total_jets,
                "threads": args.threads,
                "predict_seconds_without_emd": round(predict, 1),
                "evaluate_seconds": round(evaluate, 1),
                "predict_plus_evaluate_seconds": round(predict + evaluate, 1),
                "prediction_files_MB": round(size / 1e6, 1),
                "emd_ms_per_jet": round(1e3 * emd_per_jet, 3),
                "emd_seconds_for_all_jets": round(emd_per_jet * total_jets, 1),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
