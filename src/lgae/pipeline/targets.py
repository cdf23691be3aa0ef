"""The paper's figures and tables: one registry that the workflow, the command line, the configuration
check and the figure code all read, so that a figure is added (or renamed) in one place.

It is data, cheap to import (no torch, no matplotlib): the Snakefile reads it at parse time. Each entry
says where the figure sits in the paper, what it shows, which configuration key lists its models, what it
reads, and the name of the function of :mod:`lgae.paper` that draws it (:func:`lgae.paper.figures.builder`
resolves it). Paths stay with the workflow (``workflow/rules/figures.smk``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from lgae.errors import ConfigError

__all__ = [
    "FIGURES",
    "FIGURE_MODEL_KEYS",
    "SNAKEMAKE_TARGETS",
    "TABLES",
    "TARGETS",
    "Target",
    "target",
]

Kind = Literal["figure", "table"]
Reads = Literal["predictions", "metrics"]

#: the values of ``models`` besides ``figures.<key>`` (the first seed, the full training set): the
#: data-efficiency scan, and every model the configuration trains (all seeds)
SCAN = "data_efficiency"
ALL_MODELS = "models"


@dataclass(frozen=True)
class Target:
    """One figure or table of the paper."""

    name: str  # the command-line name, the output file stem, the Snakemake wildcard
    kind: Kind
    section: str  # of the paper; the report's category
    caption: str  # what it shows: its caption's first sentence after "Fig. N: "
    models: str  # the config key that lists its models: figures.<key>, data_efficiency or models
    reads: Reads  # the files of each run it reads: predictions (<dir>/<class>.h5) or metrics (<dir>/*.json)
    builder: str  # the function of lgae.paper.figures (figures) or lgae.paper.tables (tables) that makes it
    signals: bool = False  # shows the signal classes too (else the QCD background only)
    lgae_only: bool = False  # reads the Lorentz latent or scans Lorentz equivariance: LGAE models only
    part_of: str | None = None  # the named Snakemake target that makes it, when not its own name

    @property
    def label(self) -> str:
        """How the paper names it: ``Fig. 4`` (also for a variant, fig4_paper_protocol), ``Table 2``."""
        number = re.fullmatch(r"(?:fig|table)(\d+).*", self.name)
        assert number is not None, self.name
        return f"{'Fig.' if self.kind == 'figure' else 'Table'} {number.group(1)}"

    @property
    def heading(self) -> str:
        """The caption's first sentence, as the output prints it (fig4_paper_protocol's also names the
        protocol after the label)."""
        return f"{self.label}: {self.caption}"

    @property
    def figure_key(self) -> str | None:
        """The key of ``figures:`` in the configuration that lists its models, if one does."""
        prefix = "figures."
        return self.models[len(prefix) :] if self.models.startswith(prefix) else None

    @property
    def shows_scan(self) -> bool:
        """Whether it shows the data-efficiency scan (every model, fraction and seed of it)."""
        return self.models == SCAN

    @property
    def snakemake_target(self) -> str:
        """The named Snakemake target (``snakemake NAME``) that makes it."""
        return self.part_of or self.name


_RECONSTRUCTION = "4.3 Reconstruction"
_ANOMALY = "4.4 Anomaly detection"
_LATENT = "4.5 Latent space"

TARGETS: tuple[Target, ...] = (
    Target(
        "fig2",
        "figure",
        _RECONSTRUCTION,
        "jet images (pT_rel per pixel) of QCD test jets: the average jet (log scale) and single jets",
        models="figures.fig2",
        reads="predictions",
        builder="fig2",
    ),
    Target(
        "fig3",
        "figure",
        _RECONSTRUCTION,
        "particle (pT_rel, η_rel, φ_rel, relative to each cloud's own jet axis) and jet (mass, pT, η) "
        "feature distributions of QCD test jets and their reconstructions",
        models="figures.fig3",
        reads="predictions",
        builder="fig3",
    ),
    Target(
        "fig4",
        "figure",
        _ANOMALY,
        "ROC curves of anomaly detection, signal against QCD test jets",
        models="figures.fig4",
        reads="predictions",
        builder="fig4",
        signals=True,
    ),
    # Fig. 4 under the authors' protocol (a post-hoc selection of the best score): Fig. 4's models,
    # drawn beside it by `snakemake fig4`
    Target(
        "fig4_paper_protocol",
        "figure",
        _ANOMALY,
        "ROC curves of anomaly detection, signal against QCD test jets",
        models="figures.fig4",
        reads="predictions",
        builder="fig4_paper_protocol",
        signals=True,
        part_of="fig4",
    ),
    Target(
        "fig5",
        "figure",
        _LATENT,
        "imaginary part of the summed latent 4-vectors against the jet 3-momentum (TeV), QCD test jets, "
        "with Pearson's r",
        models="figures.fig5",
        reads="predictions",
        builder="fig5",
        lgae_only=True,
    ),
    Target(
        "fig6",
        "figure",
        _LATENT,
        "invariant mass squared of the imaginary parts of latent vectors 1 and 2 and of the sum of all "
        "latent vectors, test jets per class (QCD = gluon + light quark)",
        models="figures.fig6",
        reads="predictions",
        builder="fig6",
        signals=True,
        lgae_only=True,
    ),
    Target(
        "fig7",
        "figure",
        "4.6 Data efficiency",
        "median |relative error| of the jet mass of QCD test jets against the fraction of the training "
        "data; markers: median over seeds, band: their range, dots: each seed",
        models=SCAN,
        reads="metrics",
        builder="fig7",
    ),
    Target(
        "fig9",
        "figure",
        "App. C Equivariance",
        "relative deviation of the trained LGAEs' reconstructed 4-vectors under boosts along z "
        "(rapidity 0…10, γ up to cosh 10) and rotations about z, float64",
        models="figures.fig9",
        reads="metrics",
        builder="fig9",
        lgae_only=True,
    ),
    Target(
        "table2",
        "table",
        _RECONSTRUCTION,
        "particle-feature reconstruction, median and IQR of the relative errors (QCD test jets)",
        models=ALL_MODELS,
        reads="metrics",
        builder="build_table",
    ),
    Target(
        "table3",
        "table",
        _RECONSTRUCTION,
        "jet-feature reconstruction, median and IQR of the relative errors (QCD test jets)",
        models=ALL_MODELS,
        reads="metrics",
        builder="build_table",
    ),
    Target(
        "table4",
        "table",
        _ANOMALY,
        "anomaly detection, top + W + Z combined against QCD (test jets)",
        models=ALL_MODELS,
        reads="metrics",
        builder="build_table",
        signals=True,
    ),
)

#: the figures and the tables by name, in the paper's order
FIGURES: dict[str, Target] = {t.name: t for t in TARGETS if t.kind == "figure"}
TABLES: dict[str, Target] = {t.name: t for t in TARGETS if t.kind == "table"}
#: the keys of ``figures:`` in the configuration that list a figure's models (config/schema.yaml)
FIGURE_MODEL_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(t.figure_key for t in FIGURES.values() if t.figure_key is not None)
)
#: the named Snakemake targets (``snakemake fig4``), each with the figures or tables it makes
SNAKEMAKE_TARGETS: dict[str, tuple[str, ...]] = {
    name: tuple(t.name for t in TARGETS if t.snakemake_target == name)
    for name in dict.fromkeys(t.snakemake_target for t in TARGETS)
}


def target(name: str, kind: Kind | None = None) -> Target:
    """The figure or table ``name`` (of ``kind`` when given); a name the paper lacks is a ConfigError that
    lists those it has."""
    known = FIGURES if kind == "figure" else TABLES if kind == "table" else {**FIGURES, **TABLES}
    if name not in known:
        what = f"{kind}s" if kind else "figures and tables"
        raise ConfigError(
            f"unknown {kind or 'figure or table'} {name!r}; the paper's {what}: {', '.join(known)}"
        )
    return known[name]
