"""What the anomaly experiment runs: read by its DAG (Snakefile) and by summarise.py alike.

Standard library only, so that the Snakefile can import it in whatever Python runs Snakemake.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("train", "control")


@dataclass(frozen=True)
class Run:
    """One model trained on one data variant with one training size."""

    variant: str
    model: str
    size: str  # a key of train_sizes (small, large)
    jets: int  # QCD training jets

    @property
    def path(self) -> str:
        """The run's folder under results/runs."""
        return f"{self.variant}/{self.model}/n{self.jets}"


#: the name of a detector variant's particle-level companion: the same events, row by row
PAIRS_SUFFIX = "-particles"


def variants(config: dict) -> dict[str, dict]:
    """Every data variant; a detector variant brings its particle-level companion (``paired_with``)."""
    out = {}
    for name, spec in config["data"]["variants"].items():
        if spec.get("detector", "none") not in ("none", "cms"):
            raise ValueError(f"data.variants.{name}.detector = {spec['detector']!r}: use none or cms")
        out[name] = {"detector": "none", **spec}
        if out[name]["detector"] != "none":
            out[name + PAIRS_SUFFIX] = {**out[name], "detector": "none", "paired_with": name}
    return out


def generated(config: dict) -> tuple[list[str], list[str]]:
    """``(particle, detector)``: the variants generated at particle level, and with the detector."""
    specs = variants(config)
    particle = [v for v, s in specs.items() if s["detector"] == "none" and "paired_with" not in s]
    return particle, [v for v, s in specs.items() if s["detector"] != "none"]


def split_sizes(n_jets: int, fractions: list[float]) -> tuple[int, int, int]:
    """Jets per split, rounded as `lgae preprocess` rounds them (lgae.pipeline.data.preprocess.split_sizes)."""
    n_train, n_valid = round(fractions[0] * n_jets), round(fractions[1] * n_jets)
    return n_train, n_valid, n_jets - n_train - n_valid


def class_split(config: dict, jet_class: str) -> list[float]:
    """The train / valid / test fractions of a class (background or signal)."""
    data = config["data"]
    return data["split"]["background" if jet_class in data["background"] else "signal"]


def qcd_train_jets(config: dict) -> int:
    """The QCD training jets of a variant: the train splits of the background classes together."""
    data = config["data"]
    return sum(split_sizes(data["jets"][c], class_split(config, c))[0] for c in data["background"])


def fraction(config: dict, jets: int) -> float:
    """The `lgae train --fraction` that keeps exactly ``jets`` of the QCD training split."""
    available = qcd_train_jets(config)
    if not 0 < jets <= available:
        raise ValueError(
            f"train_sizes: {jets} QCD training jets asked, the split holds {available}; raise data.jets "
            "or lower train_sizes"
        )
    chosen = jets / available
    if max(1, round(chosen * available)) != jets:  # what lgae.pipeline.training.training_subset keeps
        raise ValueError(f"train_sizes: {jets} of {available} jets is not a fraction lgae train can keep")
    return chosen


def planned_runs(config: dict) -> list[Run]:
    """Every (variant, model, training size) of the config, with checks of the names it uses."""
    known = variants(config)
    sizes = config["train_sizes"]
    runs = []
    for model, spec in config["models"].items():
        if spec.get("kind") not in KINDS:
            raise ValueError(f"models.{model}.kind = {spec.get('kind')!r}: use one of {list(KINDS)}")
        unknown = sorted(set(spec["variants"]) - set(known))
        if unknown:
            raise ValueError(f"models.{model}.variants: unknown variant(s) {unknown}; known: {sorted(known)}")
        if spec["kind"] == "train":
            missing = sorted(set(sizes) - set(spec.get("max_epochs", {})))
            if missing:
                raise ValueError(f"models.{model}.max_epochs: no cap for training size(s) {missing}")
        for variant in spec["variants"]:
            for size, jets in sizes.items():
                fraction(config, jets)  # checked here, before any job runs
                runs.append(Run(variant, model, size, jets))
    return runs
