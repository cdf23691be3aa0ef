"""Train the authors' LGAE (zichunhao/lgn-autoencoder 66620d0) with the pipeline's own training loop.

Same data, loss, optimiser, batch size and early stopping as `lgae train`, because it *is* `lgae.pipeline.training`
(through its ``model_builder`` hook): only the model differs. The model is their LGNEncoder + LGNDecoder
with the paper's flags (as `benchmarks/bench_reference.py` builds them), fed each jet divided by its
largest |p^μ| and scaled back afterwards, with their Re + Im output, as their training loop does. The
loss is computed on the scaled-back output in TeV, like ours, so the two validation losses compare.

Their implementation is ~30× slower per step than ours on a CPU, so it also takes a wall-clock budget
(the loop's ``max_minutes``): it trains until early stopping, the epoch cap or ``--budget-minutes`` of
training, whichever comes first (resumable: a call continues from the checkpoint, and the minutes are
summed over calls), and says which in meta.json (``stopped_by``). Then it reconstructs the test split of
every class into prediction files that `lgae evaluate` reads, as `lgae predict` would.

    python benchmarks/fidelity/train_reference.py --reference-repo /path/to/lgn-autoencoder \\
        --aggregation min-max --latent 4 --data-dir DIR --out-dir RUN --budget-minutes 30

Nothing of their code is copied here; it is imported read-only from the clone.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: bench_reference
from bench_reference import load_reference, reference_models
from lgae.io import write_json
from lgae.models.base import TABLE_FEATURES_PER_PARTICLE, JetAutoencoder
from lgae.models.io import load_plain
from lgae.pipeline.data.preprocess import load_processed
from lgae.pipeline.inference import predict_class, write_predictions
from lgae.pipeline.seeding import derive_seed
from lgae.pipeline.training import TrainPaths, TrainSettings, train

log = logging.getLogger("train_reference")
THEIR_AGGREGATION = {"min-max": "min&max", "mix": "mix"}


class ReferenceLGAE(JetAutoencoder):
    """Their encoder and decoder behind the pipeline's model interface (4-momenta in, 4-momenta out)."""

    output_space = "p4"
    table_features_per_particle = TABLE_FEATURES_PER_PARTICLE

    def __init__(self, encoder: torch.nn.Module, decoder: torch.nn.Module, aggregation: str, latent: int):
        super().__init__(num_particles=30)
        self.encoder, self.decoder = encoder, decoder
        self.aggregation, self.latent_vectors = aggregation, latent
        self.hyperparameters = {"name": f"reference-{aggregation}", "latent_vectors": latent}

    def encode(self, p4: torch.Tensor, mask: torch.Tensor) -> tuple[Any, torch.Tensor]:
        p4 = p4 * mask.unsqueeze(-1).to(p4.dtype)
        scale = p4.detach().abs().amax(dim=(1, 2)).clamp_min(1e-16)  # their per-jet max |p^μ|
        features = self.encoder({"p4": p4 / scale.view(-1, 1, 1), "labels": mask.to(p4.dtype)})
        return features, scale

    def decode(self, latent: tuple[Any, torch.Tensor]) -> torch.Tensor:
        features, scale = latent
        out = self.decoder(features)  # (2, B, N, 4): real and imaginary parts
        return (out[0] + out[1]) * scale.view(-1, 1, 1)  # their --get-real-method sum

    def latent_arrays(self, latent: tuple[Any, torch.Tensor]) -> dict[str, torch.Tensor]:
        del latent  # their latent is a dict of irreps; the study does not analyse it
        return {}

    @property
    def latent_size(self) -> int:
        factor = 2 if self.aggregation == "min-max" else 1
        return factor * 2 * (1 + 4 * self.latent_vectors)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reference-repo", required=True)
    parser.add_argument("--aggregation", choices=sorted(THEIR_AGGREGATION), required=True)
    parser.add_argument("--latent", type=int, required=True)
    parser.add_argument("--loss", choices=("chamfer", "mse"), required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--classes", nargs="+", default=["g", "q", "t", "w", "z"])
    parser.add_argument("--background", nargs="+", default=["g", "q"])
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-epochs", type=int, default=300)
    parser.add_argument("--patience", type=int, default=25)
    parser.add_argument("--budget-minutes", type=float, required=True)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    encoder_cls, decoder_cls, commit = load_reference(args.reference_repo)
    ours = (
        f"lgae-{args.aggregation}"  # the settings (loss choices, fingerprint) of the model it stands beside
    )

    def builder(settings: TrainSettings) -> JetAutoencoder:
        torch.manual_seed(derive_seed(settings.seed, "init", "reference", args.aggregation))
        encoder, decoder = reference_models(
            encoder_cls, decoder_cls, THEIR_AGGREGATION[args.aggregation], args.latent
        )
        return ReferenceLGAE(encoder, decoder, args.aggregation, args.latent).double()

    paths = TrainPaths(args.data_dir, args.out_dir)
    common: dict[str, Any] = {
        "model": ours,
        "latent": args.latent,
        "seed": args.seed,
        "loss": args.loss,
        "lr": args.lr,
        "batch_size": args.batch_size,
        "patience": args.patience,
        "background": tuple(args.background),
    }
    settings = TrainSettings(**common, max_epochs=args.max_epochs, max_minutes=args.budget_minutes)
    meta = train(settings, paths, "cpu", args.threads, progress=False, model_builder=builder)
    meta["reference_commit"] = commit
    write_json(paths.meta, meta)

    model = builder(TrainSettings(**common, max_epochs=1))
    model.load_state_dict(load_plain(paths.model)["state_dict"])
    info = {
        "model": f"reference-{args.aggregation}",
        "latent": args.latent,
        "seed": args.seed,
        "fraction": 1.0,
        "loss": args.loss,
        "dtype": "float64",
        "epochs": meta["epochs"],
        "best_epoch": meta["best_epoch"],
        "stopped_by": meta["stopped_by"],
        "source": "pythia",
        "reference_commit": commit,
        "compression_rate": meta["compression_rate"],
    }
    out = args.out_dir / "predictions"
    for jet_class in args.classes:
        jets = load_processed(args.data_dir / f"{jet_class}_test.h5")
        predictions = predict_class(model, jets, 256, "cpu", True, False, {**info, "split": "test"})
        write_predictions(out / f"{jet_class}.h5", predictions)
    reason = "the authors' pipeline divides each jet by its max |p^μ|, which is not Lorentz invariant"
    write_json(out / "equivariance.json", {**info, "scanned": False, "reason": reason})
    log.info("wrote %s", json.dumps({"meta": str(paths.meta), "predictions": str(out)}))


if __name__ == "__main__":
    main()
