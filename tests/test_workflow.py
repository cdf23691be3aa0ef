"""The Snakemake workflow: dry runs for both configs, lint, config validation, and the installed stack."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lgae import config as lgae_config
from lgae.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def _snakemake(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def _job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


def test_dry_run_paper_config_lists_the_data_jobs():
    result = _snakemake("-n", "--cores", "1")
    assert result.returncode == 0, result.stderr + result.stdout
    counts = _job_counts(result.stdout)
    assert counts["download"] == 5
    assert counts["preprocess"] == 5
    assert "generate" not in counts


def test_dry_run_quick_config_generates_with_pythia():
    result = _snakemake("-n", "--cores", "2", "--configfile", "config/quick.yaml")
    assert result.returncode == 0, result.stderr + result.stdout
    counts = _job_counts(result.stdout)
    assert counts["generate"] == 5
    assert counts["preprocess"] == 5
    assert "download" not in counts


def test_lint_is_clean():
    result = _snakemake("--lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_is_clean():
    if shutil.which("snakefmt") is None:
        pytest.skip("snakefmt not installed (test extra)")
    result = subprocess.run(
        ["snakefmt", "--check", "."], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_unknown_config_key_is_named(tmp_path):
    cfg = yaml.safe_load((REPO / "config/quick.yaml").read_text())
    cfg["data"]["pythia"]["jets_per_clas"] = 10
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    result = _snakemake("-n", "--cores", "1", "--configfile", str(bad))
    assert result.returncode != 0
    assert "jets_per_clas" in result.stdout + result.stderr
    with pytest.raises(ConfigError, match="jets_per_clas"):
        lgae_config.load(bad)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["data"].update(source="zenodo"), "zenodo"),
        (lambda c: c["data"].update(classes=["g", "x"]), "'x'"),
        (lambda c: c["data"].update(background=["g", "q"], classes=["g", "t"]), "data.background"),
        (lambda c: c["data"].update(split=[0.5, 0.3, 0.3]), "data.split"),
        (lambda c: c["data"]["pythia"].update(jet_pt_min=2000.0), "jet_pt_min"),
    ],
)
def test_bad_config_values_are_reported_with_their_key(tmp_path, edit, message):
    cfg = yaml.safe_load((REPO / "config/quick.yaml").read_text())
    edit(cfg)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match=re.escape(message)):
        lgae_config.load(path)


@pytest.mark.parametrize("name", ["config.yaml", "quick.yaml"])
def test_shipped_configs_validate(name):
    lgae_config.load(REPO / "config" / name)


@pytest.mark.parametrize(
    "module",
    [
        "jetnet",
        "jetnet.utils",
        "energyflow",
        "torch",
        "numpy",
        "scipy",
        "pandas",
        "matplotlib",
        "seaborn",
        "mplhep",
        "h5py",
        "tqdm",
        "snakemake",
        "pythia8mc",
        "fastjet",
        "awkward",
        "lgae.cli",
        "lgae.models",
    ],
)
def test_everything_the_pipeline_imports_imports(module):
    """`pip check` is blind to the numpy-ABI break of jetnet's wasserstein dependency: import for real."""
    importlib.import_module(module)


def test_cli_help_says_what_each_step_reads_and_writes():
    for command in ("download", "generate", "preprocess"):
        result = subprocess.run(
            [sys.executable, "-m", "lgae", command, "--help"], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0
        assert "Reads:" in result.stdout
        assert "Writes:" in result.stdout


def test_cli_reports_user_errors_without_traceback(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lgae",
            "preprocess",
            "--input",
            str(tmp_path / "missing.hdf5"),
            "--class",
            "g",
            "--out-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "file not found" in result.stderr
    assert "Traceback" not in result.stderr
