"""The convergence study's bookkeeping (benchmarks/fidelity): which runs it plans, and how its tables
merge the runs here with the record of earlier sessions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

STUDY = Path(__file__).resolve().parents[2] / "benchmarks" / "fidelity"


@pytest.fixture
def study(import_scripts):
    """plan and summarise, imported as the study's scripts import each other (from their folder)."""
    scripts = import_scripts(STUDY, "plan", "summarise")
    return scripts["plan"], scripts["summarise"]


@pytest.fixture
def config() -> dict:
    return yaml.safe_load((STUDY / "config.yaml").read_text())


def test_more_seeds_add_seeds_to_one_variant_only(study, config):
    plan, _ = study
    config |= {"ablation_seeds": [1], "more_seeds": {"min-max+per-layer-bells": [2, 3, 1]}}
    runs = {variant: seeds for variant, _, _, seeds in plan.planned_runs(config, with_reference=False)}
    assert runs["min-max+per-layer-bells"] == [1, 2, 3]  # a seed already planned is not run twice
    assert runs["mix+per-layer-bells"] == [1]
    assert runs["min-max"] == config["seeds"]
    assert not any(variant.startswith("reference-") for variant in runs)
    with_reference = plan.planned_runs(config, with_reference=True)
    assert ("reference-mix", "mix", "authors' code", config["reference"]["seeds"]) in with_reference


def test_an_unknown_variant_in_more_seeds_is_an_error_naming_it(study, config):
    plan, _ = study
    config["more_seeds"] = {"min-max+per-layer-bell": [2]}
    with pytest.raises(ValueError, match=r"more_seeds.*'min-max\+per-layer-bell'"):
        plan.planned_runs(config, with_reference=False)


def _finished_run(run_dir: Path, valid_loss: float, mass_median: float) -> None:
    """The files `lgae train` and `lgae evaluate` leave for one run, with chosen figures."""
    (run_dir / "metrics").mkdir(parents=True)
    meta = {"parameters": 2774, "epochs": 120, "best_epoch": 95, "stopped_by": "early stopping"}
    meta |= {"seconds_training": 600.0, "best_valid_loss": valid_loss}
    (run_dir / "meta.json").write_text(json.dumps(meta))
    jet = {"mass": {"median": mass_median, "iqr": 0.07}, "pt": {"median": -0.08, "iqr": 0.1}}
    reconstruction = {"groups": {"qcd": {"jet": jet, "particle": {"pt_rel": {"iqr": 0.8}}}}}
    (run_dir / "metrics" / "reconstruction.json").write_text(json.dumps(reconstruction))
    anomaly = {"scores": {"chamfer": {"signals": {"combined": {"auc": 0.55}}}}}
    (run_dir / "metrics" / "anomaly.json").write_text(json.dumps(anomaly))


def test_runs_of_an_earlier_session_fill_the_tables_and_are_marked_so(study, config, tmp_path):
    _, summarise = study
    config |= {"seeds": [1, 2, 3], "ablation_seeds": [1], "more_seeds": {}}
    earlier = pd.DataFrame(
        [
            {"base": "min-max", "ablation": "default", "seed": seed, "status": "done", "valid_loss": loss}
            | {"mass_median": median, "mass_iqr": 0.07, "auc": 0.5, "epochs": 200, "pt_median": -0.08}
            | {"pt_iqr": 0.1, "ptrel_iqr": 0.8}
            for seed, loss, median in ((1, 3.0e-4, -0.05), (2, 2.5e-4, -0.03), (3, 2.0e-4, -0.06))
        ]
    )
    record = tmp_path / "measured.csv"
    earlier.to_csv(record, index=False)
    runs = tmp_path / "runs"
    _finished_run(runs / "min-max+per-layer-bells" / "seed1", valid_loss=1.5e-4, mass_median=-0.01)
    _finished_run(runs / "min-max" / "seed2", valid_loss=2.6e-4, mass_median=-0.04)  # rerun here

    frame = summarise.collect(runs, config, False, summarise.read_earlier(record))
    defaults = frame[(frame.base == "min-max") & (frame.ablation == "default")].set_index("seed")
    assert defaults.status.to_dict() == {1: "earlier", 2: "done", 3: "earlier"}
    assert defaults.valid_loss[2] == pytest.approx(2.6e-4)  # a run here wins over the record
    assert defaults.valid_loss[3] == pytest.approx(2.0e-4)
    mix = frame[(frame.base == "mix") & (frame.ablation == "default")]
    assert set(mix.status) == {"pending"}  # not in the record either

    table = summarise.ablation_table(frame)
    bells = next(line for line in table.splitlines() if "per-layer-bells" in line and "min-max" in line)
    # valid loss 1.5e-4 is below the seeds' 2.0-3.0e-4, |median| 0.01 below 0.03-0.06: better on both
    assert bells.count("better") == 2
    assert "| done " in bells
    assert re.search(r"\| min-max \|\s+3 \| earlier\s+\|", summarise.defaults_table(frame))


def test_a_record_that_is_not_a_summary_is_refused_by_name(study, tmp_path):
    _, summarise = study
    wrong = tmp_path / "wrong.csv"
    pd.DataFrame({"base": ["min-max"], "seed": [1]}).to_csv(wrong, index=False)
    with pytest.raises(SystemExit, match=r"wrong\.csv.*lacks"):
        summarise.read_earlier(wrong)
    with pytest.raises(SystemExit, match="no such file"):
        summarise.read_earlier(tmp_path / "absent.csv")
