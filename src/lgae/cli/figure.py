"""``lgae figure``: draw one of the paper's figures from prediction or metrics files."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np

from lgae.cli.common import add_expect, check_runs, read_metrics, runs_source
from lgae.errors import DataError, LGAEError
from lgae.names import CLASSES
from lgae.pipeline.targets import FIGURES, Target, target

log = logging.getLogger("lgae")


def _run(info: dict[str, Any]) -> Any:
    from lgae.paper.plots.style import ModelRun
    from lgae.pipeline.identity import Run

    return ModelRun.trained(Run.from_record(info), info)


def _save_figure(fig: Any, prefix: Path, caption: str) -> None:
    import matplotlib.pyplot as plt

    from lgae.io import atomic_path

    for extension in ("pdf", "png"):
        with atomic_path(prefix.with_suffix(f".{extension}")) as tmp:
            fig.savefig(tmp, format=extension, dpi=150)
    with atomic_path(prefix.with_suffix(".txt")) as tmp:
        tmp.write_text(caption + "\n")
    plt.close(fig)
    log.info("wrote %s.{pdf,png,txt}", prefix)


def add(sub: argparse._SubParsersAction) -> None:
    reading = {
        kind: ", ".join(f.name for f in FIGURES.values() if f.reads == kind)
        for kind in ("predictions", "metrics")
    }
    p = sub.add_parser(
        "figure",
        help="draw one of the paper's figures from prediction or metrics files",
        description=(
            f"Reads: prediction directories ({reading['predictions']}: <dir>/<class>.h5) or metrics directories "
            f"({reading['metrics']}: <dir>/*.json), one per model. Writes: <out-prefix>.pdf, .png and .txt (its "
            "caption: the data, the models with their epochs, the seeds)."
        ),
    )
    p.add_argument("name", choices=FIGURES)
    p.add_argument("--inputs", type=Path, nargs="+", required=True, help="one directory per model")
    p.add_argument("--out-prefix", type=Path, required=True, help="e.g. results/figures/fig4")
    p.add_argument("--background", nargs="+", default=["g", "q"], choices=CLASSES)
    p.add_argument("--signals", nargs="+", default=["t", "w", "z"], choices=CLASSES)
    p.add_argument("--anomaly-score", default="chamfer", help="score of the particle-cloud models (Fig. 4)")
    p.add_argument(
        "--emd",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the authors' EMD among the paper-protocol scores (fig4_paper_protocol; as `lgae evaluate`)",
    )
    p.add_argument("--image-max-r", type=float, default=0.5, help="Fig. 2: half-width of the image window")
    p.add_argument("--image-npix", type=int, default=40, help="Fig. 2: pixels per axis")
    p.add_argument("--sample-jets", type=int, default=5, help="Fig. 2: single jets shown")
    p.add_argument("--sample-seed", type=int, default=0, help="Fig. 2: seed of their choice")
    add_expect(p)
    p.set_defaults(handler=run)


def _check_figure_models(shown: Target, inputs: list[Path], infos: list[dict[str, Any]]) -> None:
    """Figures of the Lorentz latent or of equivariance show LGAEs only."""
    if shown.lgae_only:
        others = [
            f"{d} ({i.get('model')})"
            for d, i in zip(inputs, infos, strict=True)
            if not str(i.get("model")).startswith("lgae")
        ]
        if others:
            raise LGAEError(
                f"{shown.name} shows the Lorentz latent or equivariance of LGAE models only, not "
                f"{', '.join(others)}; give LGAE directories ({shown.models})"
            )


def run(args: argparse.Namespace) -> None:
    from lgae.paper import figures

    if args.image_npix < 4 or not args.image_max_r > 0 or args.sample_jets < 1:
        raise LGAEError(
            f"--image-npix {args.image_npix}, --image-max-r {args.image_max_r}, --sample-jets {args.sample_jets}: "
            "Fig. 2 needs at least 4 pixels, a positive half-width and one jet (figures.image_npix, "
            "figures.image_max_r, figures.sample_jets)"
        )

    shown = target(args.name, "figure")
    if shown.reads == "metrics":
        runs = [read_metrics(d) for d in args.inputs]
        infos = [r.info for r in runs]
        check_runs(args.inputs, infos, args.expect, "--expect")
        _check_figure_models(shown, args.inputs, infos)
        fig, caption = figures.builder(args.name)(runs, runs_source(infos))
    else:
        from lgae.pipeline.inference import IMAGE_SAMPLE, read_class_predictions

        classes = [*args.background, *args.signals] if shown.signals else args.background
        if args.name == "fig4" and not args.signals:
            raise LGAEError("fig4 needs at least one signal class (--signals, data.signals)")
        models = [read_class_predictions(d, classes) for d in args.inputs]
        infos = [next(iter(m.values())).attrs for m in models]
        check_runs(args.inputs, infos, args.expect, "--expect")
        _check_figure_models(shown, args.inputs, infos)
        for jet_class in classes:  # every model on the same test jets: a figure overlays them
            for directory, model in zip(args.inputs[1:], models[1:], strict=True):
                if not np.array_equal(model[jet_class].index, models[0][jet_class].index):
                    raise DataError(
                        f"{directory / f'{jet_class}.h5'} and {args.inputs[0] / f'{jet_class}.h5'}: predictions "
                        "of different test jets; predict every model on the same processed data"
                    )
        if args.name == "fig4":
            from lgae.paper.results import anomaly_score_name

            for directory, info, model in zip(args.inputs, infos, models, strict=True):
                name = anomaly_score_name(str(info.get("model")), args.anomaly_score)
                missing = [c for c in classes if name not in model[c].scores]
                if missing:
                    raise DataError(
                        f"{directory / f'{missing[0]}.h5'}: has no {name!r} scores; choose another "
                        "--anomaly-score (evaluation.anomaly_score) or predict with it (evaluation.emd for 'emd')"
                    )
        if args.name == "fig2":
            candidates = sum(min(IMAGE_SAMPLE, len(models[0][c])) for c in args.background)
            if args.sample_jets > candidates:
                raise LGAEError(
                    f"--sample-jets {args.sample_jets} (figures.sample_jets): Fig. 2 picks among the "
                    f"{candidates} QCD test jets whose images every model keeps; ask for at most {candidates}"
                )
        options = {
            "background": args.background,
            "signals": args.signals,
            "anomaly_score": args.anomaly_score,
            "emd": args.emd,
            "max_r": args.image_max_r,
            "npix": args.image_npix,
            "sample_jets": args.sample_jets,
            "sample_seed": args.sample_seed,
        }
        fig, caption = figures.builder(args.name)(
            {_run(i): m for i, m in zip(infos, models, strict=True)}, runs_source(infos), options
        )
    _save_figure(fig, args.out_prefix, caption)
