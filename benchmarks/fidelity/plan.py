"""Which runs the convergence study makes: read by its DAG (common.smk) and by summarise.py alike.

Standard library only, so that the Snakefile can import it in whatever Python runs Snakemake.
"""

from __future__ import annotations

import csv
from pathlib import Path


def planned_runs(config: dict, with_reference: bool) -> list[tuple[str, str, str, list[int]]]:
    """(variant, base, ablation, seeds) of every run; `more_seeds` adds seeds to chosen variants.

    One seed per ablation is the plan; an ablation whose effect is unclear on one seed gets more
    without every other ablation getting them too.
    """
    kinds = [("default", config["seeds"])]
    kinds += [(ablation, config["ablation_seeds"]) for ablation in config["ablations"]]
    kinds += [("authors' code", config["reference"]["seeds"])]
    variants = [
        (variant_name(base, ablation), base, ablation, seeds)
        for ablation, seeds in kinds
        for base in config["base"]
    ]
    more = config.get("more_seeds") or {}
    unknown = sorted(set(more) - {variant for variant, *_ in variants})
    if unknown:
        raise ValueError(
            f"more_seeds in the study's config: unknown variant(s) {unknown}; a key is a base "
            f"({', '.join(config['base'])}), base+ablation or reference-base"
        )
    return [
        (variant, base, ablation, [*seeds, *(s for s in more.get(variant, []) if s not in seeds)])
        for variant, base, ablation, seeds in variants
        if with_reference or ablation != "authors' code"
    ]


def variant_name(base: str, ablation: str) -> str:
    """The run folder's name of a (base, ablation) pair, as the DAG and the summary CSV both use it."""
    return {"default": base, "authors' code": f"reference-{base}"}.get(ablation, f"{base}+{ablation}")


def recorded_runs(record: Path) -> set[tuple[str, int]]:
    """(variant, seed) of the runs an earlier session finished (or saw diverge), from its summary CSV."""
    with record.open(newline="") as handle:
        return {
            (variant_name(row["base"], row["ablation"]), int(row["seed"]))
            for row in csv.DictReader(handle)
            if row["status"] != "pending"
        }
