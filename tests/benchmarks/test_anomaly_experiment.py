"""The anomaly experiment of issue 25 (benchmarks/anomaly): its controls, physics references, tables and DAG."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from sklearn.metrics import roc_auc_score

from lgae.cli import main as lgae_main
from lgae.errors import ConfigError
from lgae.group.lorentz import p4_from_ptetaphi
from lgae.pipeline.data.jetnet_format import write_raw
from lgae.pipeline.data.preprocess import load_processed, preprocess_class, split_sizes
from lgae.pipeline.inference import read_predictions

EXPERIMENT = Path(__file__).resolve().parents[2] / "benchmarks" / "anomaly"


@pytest.fixture(scope="module")
def experiment(import_scripts):
    """controls, physics, plan and summarise, imported as the DAG runs them (from their folder)."""
    return import_scripts(EXPERIMENT, "controls", "physics", "plan", "summarise")


def _synthetic_raw(path: Path, n_jets: int, seed: int, prongs: int) -> None:
    """Jets in the JetNet layout: ``prongs`` clusters of particles 0.2 apart, 20-30 real particles each."""
    rng = np.random.default_rng(seed)
    particles = np.zeros((n_jets, 30, 4), dtype=np.float32)
    for jet in range(n_jets):
        n = int(rng.integers(20, 31))
        centre = rng.integers(0, prongs, size=n)
        eta = 0.2 * (centre % 2) + 0.02 * rng.normal(size=n)
        phi = 0.2 * (centre // 2) + 0.02 * rng.normal(size=n)
        pt = np.sort(rng.exponential(1.0, size=n))[::-1]
        particles[jet, :n] = np.stack(
            [eta - eta.mean(), phi - phi.mean(), pt / pt.sum(), np.ones(n)], axis=-1
        )
    jet_eta = rng.normal(0, 1, n_jets)
    # the jet mass of its particles (the raw file's checks refuse a jet lighter than what it holds)
    p4 = p4_from_ptetaphi(1000.0 * particles[..., 2], jet_eta[:, None] + particles[..., 0], particles[..., 1])
    total = (p4 * particles[..., 3:]).sum(1)
    mass = np.sqrt(np.maximum(total[:, 0] ** 2 - (total[:, 1:] ** 2).sum(-1), 0.0))
    jets = np.stack([np.full(n_jets, 1000.0), jet_eta, mass, particles[..., 3].sum(1)], -1)
    write_raw(path, particles, jets)


@pytest.fixture(scope="module")
def processed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthetic one-prong QCD (g, q) and multi-prong signal jets, preprocessed as the pipeline does."""
    raw, out = tmp_path_factory.mktemp("raw"), tmp_path_factory.mktemp("processed")
    for seed, (jet_class, prongs) in enumerate((("g", 1), ("q", 1), ("t", 3), ("w", 2), ("z", 2))):
        _synthetic_raw(raw / f"{jet_class}.hdf5", 200, seed, prongs)
        preprocess_class(raw / f"{jet_class}.hdf5", out, jet_class, seed=42, source="synthetic")
    return out


# ------------------------------------------------------------------------------------------- controls
def test_pca_reconstructs_a_rank_k_dataset_exactly_and_not_with_fewer_components(experiment):
    controls = experiment["controls"]
    rng = np.random.default_rng(0)
    data = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 90)) + rng.normal(size=90)  # rank 4 + offset
    _, exact = controls.pca_reconstruct(controls.fit_pca(data, 4), data)
    np.testing.assert_allclose(exact, data, atol=1e-9)
    _, short = controls.pca_reconstruct(controls.fit_pca(data, 3), data)
    assert np.abs(short - data).max() > 1e-2
    with pytest.raises(ConfigError, match="--latent 91"):
        controls.fit_pca(data, 91)


def test_relative_lists_of_the_input_give_back_the_input_and_zero_scores(experiment, processed_dir):
    controls = experiment["controls"]
    jets = load_processed(processed_dir / "t_test.h5")
    lists = controls.particle_lists(jets.p4, jets.mask, "relative")
    assert lists.shape == (len(jets), 90)
    assert np.all(lists.reshape(len(jets), 30, 3)[~jets.mask] == 0.0)  # padded slots are zero
    p4, mask = torch.as_tensor(jets.p4), torch.as_tensor(jets.mask)
    back = controls.list_output_to_p4(controls.list_output(lists, "relative", 30), "relative", p4, mask)
    np.testing.assert_allclose(back.numpy(), jets.p4, atol=1e-12)
    perfect = controls.list_predictions(jets, "relative", np.zeros((len(jets), 1)), lists, {"model": "x"})
    for name in ("chamfer", "mse", "hungarian"):
        np.testing.assert_allclose(perfect.scores[name], 0.0, atol=1e-12)


@pytest.mark.parametrize("control", ["pca-relative", "pca-p4", "mlp-relative", "pca-image"])
def test_a_control_writes_predictions_that_are_deterministic_by_seed(
    experiment, processed_dir, tmp_path, control
):
    controls = experiment["controls"]
    settings = controls.MLPSettings(max_epochs=3, patience=2)
    torch.set_num_threads(1)
    runs = {}
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        record = controls.run_control(
            control, 5, processed_dir, tmp_path / name, 0.5, seed, npix=16, mlp=settings
        )
        assert record["train_jets"] == 120  # half of the 2 × 120 QCD training jets
        runs[name] = {c: read_predictions(tmp_path / name / "predictions" / f"{c}.h5") for c in "gqtwz"}
    score = "image_mse" if control == "pca-image" else "chamfer"
    for jet_class in "gqtwz":
        np.testing.assert_array_equal(runs["a"][jet_class].scores[score], runs["b"][jet_class].scores[score])
        assert len(runs["a"][jet_class].scores[score]) == len(
            load_processed(processed_dir / f"{jet_class}_test.h5")
        )
    # another seed draws another half of the training jets (and another MLP): other scores
    assert not np.array_equal(runs["a"]["t"].scores[score], runs["c"]["t"].scores[score])
    if control != "pca-image":
        recon = runs["a"]["t"].recon_p4
        assert recon.shape == runs["a"]["t"].p4.shape
        assert np.all(recon[~runs["a"]["t"].mask] == 0.0)
    assert (tmp_path / "a" / "predictions" / "equivariance.json").is_file()


def test_lgae_evaluate_scores_a_control_under_both_protocols(experiment, processed_dir, tmp_path):
    """The DAG's evaluate step on a control's files: the pre-registered Chamfer and the paper protocol."""
    run = tmp_path / "runs" / "particle-r04" / "pca-relative" / "n240"  # the DAG's layout
    experiment["controls"].run_control("pca-relative", 5, processed_dir, run, 1.0, 1)
    evaluate = ["evaluate", "--predictions-dir", str(run / "predictions"), "--out-dir", str(run / "metrics")]
    assert lgae_main([*evaluate, "--paper-family", "lgae", "--no-emd", "--no-progress"]) == 0
    anomaly = json.loads((run / "metrics" / "anomaly.json").read_text())
    assert 0.0 <= anomaly["scores"]["chamfer"]["signals"]["combined"]["auc"] <= 1.0
    assert anomaly["paper_protocol"]["best"]["combined"]["auc"] >= 0.5  # the flip guarantees it
    rows = experiment["summarise"].run_rows(run)
    assert [row["signal"] for row in rows] == ["t", "w", "z", "combined"]
    assert {(row["variant"], row["model"], row["train_jets"], row["score"]) for row in rows} == {
        ("particle-r04", "pca-relative", 240, "chamfer")
    }
    combined = rows[-1]
    assert combined["auc"] == anomaly["scores"]["chamfer"]["signals"]["combined"]["auc"]
    assert combined["paper_auc"] == anomaly["paper_protocol"]["best"]["combined"]["auc"]

    # the table of a run stopped by the budget: every planned run, the unfinished one marked as not run
    config = {
        "results": str(tmp_path),
        "data": {
            "jets": {"g": 150, "q": 150, "t": 50, "w": 50, "z": 50},
            "split": {"background": [0.8, 0.1, 0.1], "signal": [0.1, 0.1, 0.8]},
            "background": ["g", "q"],
            "variants": {"particle-r04": {"jet_radius": 0.4, "detector": "none"}},
        },
        "train_sizes": {"large": 240},
        "models": {
            name: {"kind": "control", "latent": 5, "family": "lgae", "variants": ["particle-r04"]}
            for name in ("pca-relative", "mlp-relative")
        },
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    markdown, table = tmp_path / "summary.md", tmp_path / "summary.csv"
    experiment["summarise"].main(
        ["--config", str(tmp_path / "config.yaml"), "--markdown", str(markdown), "--csv", str(table)]
    )
    lines = markdown.read_text().splitlines()
    finished = [line for line in lines if line.startswith("| particle-r04 | pca-relative | 240 |")]
    assert len(finished) == 5  # t, W, Z, combined and the training record
    assert "| closed form |" in finished[-1]
    assert f"{combined['auc']:.3f} ± " in finished[0]
    assert f"{combined['paper_auc']:.3f} (`{combined['paper_score']}`" in finished[0]
    assert sum("| particle-r04 | mlp-relative | 240 | not run (budget) |" in line for line in lines) == 5


# ------------------------------------------------------------------------------------ physics references
def _prong_jets(centres_per_jet: list[list[tuple[float, float]]]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    p4, mask = np.zeros((len(centres_per_jet), 30, 4)), np.zeros((len(centres_per_jet), 30), bool)
    for jet, centres in enumerate(centres_per_jet):
        per = 30 // len(centres)
        parts = [
            (rng.uniform(0.01, 0.05, per), e + 0.005 * rng.normal(size=per), f + 0.005 * rng.normal(size=per))
            for e, f in centres
        ]
        pt, eta, phi = (np.concatenate(x) for x in zip(*parts, strict=True))
        p4[jet, : len(pt)], mask[jet, : len(pt)] = p4_from_ptetaphi(pt, eta, phi), True
    return p4, mask


@pytest.mark.gen
def test_nsubjettiness_ratios_are_small_for_the_matching_number_of_prongs(experiment):
    physics = experiment["physics"]
    one, two, three = [(0.0, 0.0)], [(0.0, 0.0), (0.3, 0.0)], [(0.0, 0.0), (0.3, 0.0), (0.0, 0.3)]
    p4, mask = _prong_jets([one, two, three])
    taus = physics.nsubjettiness(p4, mask, 3)
    tau21, tau32 = taus[:, 1] / taus[:, 0], taus[:, 2] / taus[:, 1]
    assert tau21[1] < 0.2 < tau21[0]
    assert tau21[1] < tau21[2]
    assert tau32[2] < 0.2 < min(tau32[0], tau32[1])  # three prongs: τ3 << τ2
    # τ1 of a two-prong jet: each half 0.15 from the axis; prongs of equal pT, so τ1 ≈ 0.15
    assert taus[1, 0] == pytest.approx(0.15, abs=0.02)
    few = np.zeros((1, 30, 4))
    few[0, :2] = p4_from_ptetaphi(np.array([0.1, 0.2]), np.array([0.0, 0.1]), np.array([0.0, 0.0]))
    assert physics.nsubjettiness(few, few[..., 0] > 0, 3)[0, 1:].tolist() == [0.0, 0.0]  # N ≥ particles


# ----------------------------------------------------------------------------------------------- tables
def test_the_auc_standard_error_matches_the_spread_of_chance_aucs(experiment):
    summarise = experiment["summarise"]
    rng = np.random.default_rng(0)
    n_background, n_signal = 400, 200
    labels = np.r_[np.zeros(n_background), np.ones(n_signal)]
    aucs = [roc_auc_score(labels, rng.normal(size=labels.size)) for _ in range(400)]
    expected = summarise.auc_standard_error(0.5, n_background, n_signal)
    assert expected == pytest.approx(
        math.sqrt((n_background + n_signal + 1) / (12 * n_background * n_signal))
    )
    assert np.std(aucs) == pytest.approx(expected, rel=0.1)


def test_the_plan_refuses_more_training_jets_than_the_split_holds(experiment):
    plan = experiment["plan"]
    config = yaml.safe_load((EXPERIMENT / "config.yaml").read_text())
    assert plan.qcd_train_jets(config) == 32000
    assert plan.fraction(config, 3000) * 32000 == pytest.approx(3000)
    config["train_sizes"]["large"] = 40000
    with pytest.raises(ValueError, match="40000 QCD training jets asked, the split holds 32000"):
        plan.planned_runs(config)


# ------------------------------------------------------------------------------------------------- DAG
def test_the_dry_run_of_the_tiny_config_plans_every_job(tmp_path):
    """snakemake -n in an empty folder: every variant's data, every model at both sizes, one summary."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(EXPERIMENT / "Snakefile"),
            "-d",
            str(tmp_path),
            "-n",
            "--cores",
            "2",
            "--configfile",
            str(EXPERIMENT / "tiny.yaml"),
            "--printshellcmds",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    table = result.stdout.split("Job stats:")[1]
    counts = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}
    # 3 variants generated (2 at particle level, 1 with the detector and its particle-level pairs) × 5 classes;
    # 4 variants preprocessed; LGAE-Mix on 3 variants, the CNNAE on 1, Min-Max on none (the budget:
    # config.yaml), each at 2 sizes; 4 controls on 4 variants at 2 sizes
    expected = {"generate": 10, "generate_detector": 5, "preprocess": 20, "train": 8, "predict": 8}
    expected |= {"control": 32, "evaluate": 40, "physics": 4, "summary": 1}
    assert {k: counts.get(k) for k in expected} == expected
    # the small size trains on 60 of the 360 QCD training jets, for the tiny config's epochs
    assert "--fraction 0.16666666666666666" in result.stdout
    assert "--max-epochs 2" in result.stdout
    assert "--jet-radius 0.8 --match-dr 0.6 --detector none" in result.stdout
    assert "--detector cms --workers 1" in result.stdout
    assert "--particle-level-out" in result.stdout


def test_the_plans_split_sizes_are_the_pipelines(experiment):
    """plan.py keeps its own copy (standard library only, for the Snakefile); it must round as preprocess."""
    for n_jets in (1, 7, 99, 1250, 20000):
        for fractions in ([0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.6, 0.2, 0.2], [0.35, 0.35, 0.3]):
            assert experiment["plan"].split_sizes(n_jets, fractions) == split_sizes(n_jets, fractions)
