"""The Snakemake workflow: dry runs for both configs, lint, config validation, and the installed stack."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lgae.errors import ConfigError
from lgae.pipeline import config as lgae_config
from lgae.pipeline.targets import FIGURE_MODEL_KEYS, FIGURES, SNAKEMAKE_TARGETS, TABLES

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def _copy_workflow(out: Path) -> Path:
    shutil.copy(REPO / "Snakefile", out / "Snakefile")
    for folder in ("workflow", "config", "envs", "src"):
        ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
        shutil.copytree(REPO / folder, out / folder, ignore=ignore)
    return out


@pytest.fixture(scope="module")
def workflow_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the workflow without any results, so that dry runs list every job."""
    return _copy_workflow(tmp_path_factory.mktemp("workflow"))


def _snakemake(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # a guard against a hang, not a speed test: the tiny end-to-end run takes ~4 min, and over 5 with
    # other load, on a machine 3.4x slower than the one it was written on (benchmarks/README.md)
    return subprocess.run([*SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=1200)


def _job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


def test_dry_run_paper_config_lists_every_job_of_the_paper(workflow_dir):
    result = _snakemake("-n", "--cores", "1", cwd=workflow_dir)
    assert result.returncode == 0, result.stderr + result.stdout
    counts = _job_counts(result.stdout)
    assert counts["download"] == 5
    assert counts["preprocess"] == 5
    assert "generate" not in counts
    # Tables 2-4 / Figs. 2-4: Min-Max τ ∈ {2,4,7}, Mix τ ∈ {2,4,7,9,13}, GNNAE-JL 6 sizes, GNNAE-PL 2, CNNAE 1
    # = 17 models, plus Fig. 7: 3 models × 20 fractions × 5 seeds = 300, of which the 3 at fraction 1
    # with seed 1 are main models already
    assert counts["train"] == 17 + 300 - 3
    listed = result.stdout  # each job with its outputs
    for path in (
        "results/models/lgae-min-max/7/seed1/frac1/model.pt",
        "results/models/lgae-mix/13/seed1/frac1/model.pt",
        "results/models/gnnae-jl/90/seed1/frac1/model.pt",
        "results/models/gnnae-pl/3/seed1/frac1/model.pt",
        "results/models/cnnae/55/seed5/frac0.0001/model.pt",
        "results/models/lgae-min-max/4/seed3/frac0.07/model.pt",
    ):
        assert path in listed, path


def test_dry_run_quick_config_generates_with_pythia(workflow_dir):
    result = _snakemake("-n", "--cores", "2", "--configfile", "config/quick.yaml", cwd=workflow_dir)
    assert result.returncode == 0, result.stderr + result.stdout
    counts = _job_counts(result.stdout)
    assert counts["generate"] == 5
    assert counts["preprocess"] == 5
    assert counts["train"] == 7 + 3  # Min-Max and Mix at τ = 2 and one more, a baseline each; scan at 0.01
    assert "download" not in counts


def _one_model_config(path: Path) -> Path:
    """The quick config with one model, LGAE-Mix τ = 2, trained on the full split and on 10 % of it."""
    cfg = yaml.safe_load((REPO / "config/quick.yaml").read_text())
    cfg["models"] = {"lgae-mix": {"latents": [2], "loss": "mse", "hyperparameters": {}}}
    cfg["data_efficiency"] = {"models": {"lgae-mix": 2}, "fractions": [0.1, 1.0], "seeds": [1]}
    for figure in FIGURE_MODEL_KEYS:
        cfg["figures"][figure] = {"lgae-mix": 2}
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_a_user_config_alone_decides_the_jobs(workflow_dir, tmp_path):
    """--configfile is not merged onto config/config.yaml: a config listing one model plans that model."""
    config = _one_model_config(tmp_path / "one.yaml")
    result = _snakemake(
        "-n", "--cores", "1", "--configfile", str(config), "--printshellcmds", cwd=workflow_dir
    )
    assert result.returncode == 0, result.stderr + result.stdout
    counts = _job_counts(result.stdout)
    assert counts["train"] == 2
    assert counts["generate"] == 5
    planned = sorted(set(re.findall(r"results/models/[^ ]+/model\.pt", result.stdout)))
    assert planned == [
        "results/models/lgae-mix/2/seed1/frac0.1/model.pt",
        "results/models/lgae-mix/2/seed1/frac1/model.pt",
    ]
    assert "--max-minutes" not in result.stdout  # no time budget unless the config sets one


def test_a_time_budget_per_training_reaches_the_train_command(workflow_dir, tmp_path):
    """training.max_minutes, and a model's own max_minutes over it, become `lgae train --max-minutes`."""
    config = _one_model_config(tmp_path / "budget.yaml")
    cfg = yaml.safe_load(config.read_text())
    for model_budget, expected in ((None, "--max-minutes 7.5 "), (2, "--max-minutes 2 ")):
        cfg["training"]["max_minutes"] = 7.5
        if model_budget is not None:
            cfg["models"]["lgae-mix"]["max_minutes"] = model_budget
        config.write_text(yaml.safe_dump(cfg))
        result = _snakemake(
            "-n", "--cores", "1", "--configfile", str(config), "--printshellcmds", cwd=workflow_dir
        )
        assert result.returncode == 0, result.stderr + result.stdout
        commands = [line for line in result.stdout.splitlines() if "-m lgae train " in line]
        assert len(commands) == 2, result.stdout
        assert all(expected in command for command in commands), commands


def test_config_overrides_apply_on_top_of_either_config(workflow_dir):
    paper = _job_counts(
        _snakemake("-n", "--cores", "1", "--config", "data={source: pythia}", cwd=workflow_dir).stdout
    )
    assert (paper.get("generate"), paper.get("download"), paper["train"]) == (5, None, 314)
    quick = _snakemake(
        "-n",
        "--cores",
        "1",
        "--configfile",
        "config/quick.yaml",
        "--config",
        "data={source: jetnet}",
        cwd=workflow_dir,
    )
    counts = _job_counts(quick.stdout)
    assert (counts.get("download"), counts.get("generate"), counts["train"]) == (5, None, 10)


def test_config_errors_stop_the_dry_run(workflow_dir, tmp_path):
    """Per-model hyperparameters are checked at `snakemake -n` time, not in the first training job."""
    cfg = yaml.safe_load((REPO / "config/quick.yaml").read_text())
    cfg["models"]["lgae-mix"]["hyperparameters"] = {"num_basis": "ten"}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = _snakemake("-n", "--cores", "1", "--configfile", str(path), cwd=workflow_dir)
    assert result.returncode != 0
    assert "models.lgae-mix.hyperparameters.num_basis = 'ten': model 'lgae-mix' expects an integer" in (
        result.stdout + result.stderr
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda c: c["models"]["lgae-mix"]["hyperparameters"].update(encoder_channels=[3, -4, 4]),
            "models.lgae-mix (latent 2, seed 1, fraction 1): model 'lgae-mix'",
        ),
        (lambda c: c["data_efficiency"].update(fractions=[]), "data_efficiency.fractions"),
    ],
    ids=["negative channels", "no scan fractions"],
)
def test_what_a_job_would_refuse_stops_the_dry_run(workflow_dir, tmp_path, edit, message):
    """Snakemake deletes a job's finished outputs before it runs it: a value only the job refused used to
    cost model.pt, history.csv, meta.json (and Fig. 7) of finished runs. Now nothing runs."""
    cfg = yaml.safe_load((REPO / "config/quick.yaml").read_text())
    edit(cfg)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = _snakemake("-n", "--cores", "1", "--configfile", str(path), cwd=workflow_dir)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    if "channels" in message:  # a job's own check holds up only the targets that need that job
        data = _snakemake("-n", "--cores", "1", "--configfile", str(path), "data", cwd=workflow_dir)
        assert data.returncode == 0, data.stderr[-2000:]


def test_a_config_file_with_a_key_given_twice_stops_the_dry_run(workflow_dir, tmp_path):
    """It used to train with whichever of two `max_epochs` came last, without a word."""
    text = (REPO / "config/quick.yaml").read_text()
    assert text.count("\n  max_epochs: 30 ") == 1
    path = tmp_path / "twice.yaml"
    path.write_text(text.replace("\n  max_epochs: 30 ", "\n  max_epochs: 3\n  max_epochs: 30 "))
    result = _snakemake("-n", "--cores", "1", "--configfile", str(path), cwd=workflow_dir)
    assert result.returncode != 0
    assert "the key 'max_epochs' is given twice" in result.stdout + result.stderr


def test_every_step_that_reads_a_run_is_told_which_run_to_expect(workflow_dir):
    result = _snakemake("-n", "-p", "--cores", "1", "--configfile", "config/quick.yaml", cwd=workflow_dir)
    assert result.returncode == 0, result.stderr + result.stdout
    commands = [line for line in result.stdout.splitlines() if " -m lgae " in line]
    predict = next(c for c in commands if "lgae predict" in c and "lgae-mix/9/seed1/frac1/" in c)
    expected = json.loads(re.search(r"--expect '(\{.*?\})'", predict).group(1))
    assert (expected["model"], expected["latent"], expected["seed"], expected["train_fraction"]) == (
        "lgae-mix",
        9,
        1,
        1.0,
    )
    assert expected["hyperparameters"] == {"encoder_channels": [3, 4, 4], "decoder_channels": [4, 3, 3]}
    assert (expected["loss"], expected["max_epochs"], expected["background"]) == ("mse", 30, ["g", "q"])
    for step in ("lgae evaluate", "lgae figure", "lgae table", "lgae claims"):
        assert all("--expect " in c for c in commands if step in c), step
    table = next(c for c in commands if "lgae table" in c)
    assert "--expect lgae-min-max:2:1:1 lgae-min-max:4:1:1 lgae-mix:2:1:1" in table
    claims = next(c for c in commands if "lgae claims" in c)
    assert "--scan-expect lgae-mix:9:1:0.01 lgae-mix:9:1:1 lgae-min-max:4:1:0.01" in claims


def test_each_run_is_trained_where_its_paths_say_with_the_settings_its_model_must_carry(workflow_dir):
    """The train jobs a dry run plans are the configuration's runs at their paths (Run.model_file), and
    each train command, read by `lgae train`, gives the settings the predict step of that run expects."""
    from lgae.cli import parser
    from lgae.cli.train import settings_from_args
    from lgae.pipeline.settings import TrainSettings

    result = _snakemake("-n", "-p", "--cores", "1", "--configfile", "config/quick.yaml", cwd=workflow_dir)
    assert result.returncode == 0, result.stderr + result.stdout
    commands = [line for line in result.stdout.splitlines() if " -m lgae " in line]
    config = yaml.safe_load((REPO / "config" / "quick.yaml").read_text())
    runs = lgae_config.main_runs(config) + lgae_config.scan_runs(config)
    trained, expected = {}, {}
    for command in commands:
        command = re.sub(r"\$\(dirname ([^)]+)\)", lambda m: os.path.dirname(m.group(1)), command)
        words = shlex.split(command.split(" > ")[0])
        if "train" in words:
            settings = settings_from_args(parser().parse_args(words[words.index("train") :]))
            trained[words[words.index("--out-dir") + 1] + "/model.pt"] = settings
        elif "predict" in words:
            model_file = words[words.index("--model-file") + 1]
            expected[model_file] = TrainSettings(**json.loads(words[words.index("--expect") + 1]))
    assert sorted(trained) == sorted(expected) == sorted({run.model_file() for run in runs})
    for run in runs:
        assert trained[run.model_file()] == expected[run.model_file()], run
        assert trained[run.model_file()].run == run


def test_train_rule_asks_for_a_gpu_and_records_logs_and_timings(workflow_dir):
    result = _snakemake(
        "-n",
        "--cores",
        "2",
        "--configfile",
        "config/quick.yaml",
        "--printshellcmds",
        "results/models/lgae-mix/9/seed1/frac1/model.pt",
        cwd=workflow_dir,
    )
    out = result.stdout
    assert "gpu=1" in out
    assert "results/logs/train/lgae-mix_9_seed1_frac1.log" in out
    assert "lgae train --model lgae-mix --latent 9 --seed 1 --fraction 1" in out
    assert "--loss mse" in out
    assert "--max-epochs 3" in out


def test_more_seeds_in_the_config_give_more_jobs(workflow_dir, tmp_path):
    cfg = yaml.safe_load((REPO / "config/quick.yaml").read_text())
    cfg["training"]["seeds"] = [1, 2, 3]
    path = tmp_path / "seeds.yaml"
    path.write_text(yaml.safe_dump(cfg))
    counts = _job_counts(_snakemake("-n", "--cores", "1", "--configfile", str(path), cwd=workflow_dir).stdout)
    assert counts["train"] == 7 * 3 + 3


def test_lint_is_clean(workflow_dir):
    result = _snakemake("--lint", cwd=workflow_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_is_clean():
    if shutil.which("snakefmt") is None:
        pytest.skip("snakefmt not installed (test extra)")
    result = subprocess.run(
        ["snakefmt", "--check", "."], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_unknown_config_key_is_named(workflow_dir, tmp_path):
    cfg = yaml.safe_load((REPO / "config/quick.yaml").read_text())
    cfg["data"]["pythia"]["jets_per_clas"] = 10
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    result = _snakemake("-n", "--cores", "1", "--configfile", str(bad), cwd=workflow_dir)
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
        (lambda c: c["training"].update(max_minutes=0), "max_minutes"),
        (lambda c: c["models"]["lgae-mix"].update(max_minutes=-1), "max_minutes"),
        (lambda c: c["data"]["pythia"].update(jet_pt_min=2000.0), "jet_pt_min"),
        (lambda c: c["data"].update(split=[1.0, 0.0, 0.0]), "the valid and test split would be empty"),
        (
            lambda c: c["data"]["pythia"].update(jets_per_class=2),
            "= 2 split [0.6, 0.2, 0.2] leaves the valid",
        ),
        (
            lambda c: c["models"]["cnnae"].update(loss="chamfer"),
            "models.cnnae.loss = chamfer: cnnae trains with mse",
        ),
        (
            lambda c: c["models"]["lgae-mix"].update(hyperparameters={"num_basi": 4}),
            "models.lgae-mix.hyperparameters: model 'lgae-mix' has no hyperparameter 'num_basi'; valid ones:",
        ),
        (
            lambda c: c["models"]["gnnae-jl"].update(hyperparameters={"latent_dim": 30}),
            "models.gnnae-jl.hyperparameters.latent_dim: the latent size is set by models.gnnae-jl.latents",
        ),
        (
            lambda c: c["models"]["lgae-mix"].update(hyperparameters={"num_particles": 20}),
            "models.lgae-mix.hyperparameters.num_particles = 20, but the data has data.num_particles = 30",
        ),
    ],
)
def test_bad_config_values_are_reported_with_their_key(tmp_path, edit, message):
    cfg = yaml.safe_load((REPO / "config/quick.yaml").read_text())
    edit(cfg)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match=re.escape(message)):
        lgae_config.load(path)


@pytest.mark.parametrize("name", ["config.yaml", "quick.yaml", "cpu.yaml"])
def test_shipped_configs_validate(name):
    lgae_config.load(REPO / "config" / name)


def test_the_laptop_config_trains_every_model_of_the_paper():
    """config/cpu.yaml is the CPU-scale answer to the paper's claims: every model and latent size of the
    paper's tables and figures, the paper's Fig. 4 selection, and the 1 % point of Fig. 7's claim."""
    paper = lgae_config.load(REPO / "config" / "config.yaml")
    cpu = lgae_config.load(REPO / "config" / "cpu.yaml")
    assert {m: s["latents"] for m, s in cpu["models"].items()} == {
        m: s["latents"] for m, s in paper["models"].items()
    }
    assert {m: s["loss"] for m, s in cpu["models"].items()} == {
        m: s["loss"] for m, s in paper["models"].items()
    }
    assert cpu["figures"] == {**paper["figures"]}
    assert cpu["data_efficiency"]["models"] == paper["data_efficiency"]["models"]
    assert {0.01, 1.0} <= set(cpu["data_efficiency"]["fractions"])
    assert cpu["data"]["source"] == "pythia"


def test_the_laptop_config_caps_its_training_minutes_to_fit_two_hours_on_two_cores():
    """Machines here differ 2-3x in speed, so cpu.yaml's epochs alone cannot bound its wall time: every
    training (data-efficiency points included) has a budget of minutes, and together they fit."""
    cpu = lgae_config.load(REPO / "config" / "cpu.yaml")
    trainings = {  # (model, latent, seed, fraction) as the DAG plans them; 1.0 is shared
        (m, latent, seed, 1.0)
        for m, s in cpu["models"].items()
        for latent in s["latents"]
        for seed in cpu["training"]["seeds"]
    } | {
        (m, latent, seed, fraction)
        for m, latent in cpu["data_efficiency"]["models"].items()
        for seed in cpu["data_efficiency"]["seeds"]
        for fraction in cpu["data_efficiency"]["fractions"]
    }
    budgets = [cpu["models"][m].get("max_minutes", cpu["training"]["max_minutes"]) for m, *_ in trainings]
    assert len(trainings) == 23
    assert None not in budgets
    assert sum(budgets) / 2 <= 110  # job-minutes on two cores, leaving the rest of two hours to the DAG


@pytest.mark.parametrize(
    "module",
    [
        "ot",
        "torch",
        "numpy",
        "scipy",
        "pandas",
        "matplotlib",
        "seaborn",
        "mplhep",
        "h5py",
        "sympy",
        "sklearn",
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
    """`pip check` is blind to a numpy-ABI break (as jetnet's wasserstein has under numpy 2): import for real."""
    importlib.import_module(module)


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", "2 errors"), ("", "2 skipped")], ids=["ci", "developer"]
)
def test_physics_tests_fail_under_ci_without_the_gen_extra(tmp_path, ci, outcome):
    """Without pythia8mc and fastjet a developer's run skips the physics tests, a CI run fails on them."""
    for module in ("pythia8mc", "fastjet"):  # shadow the installed modules: as if not installed
        (tmp_path / f"{module}.py").write_text(f"raise ModuleNotFoundError('hidden', name={module!r})\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "LGAE_REQUIRE_GEN")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), *filter(None, [env.get("PYTHONPATH")])])
    if ci:
        env["CI"] = ci
    tests = [
        "tests/pipeline/data/test_generate.py::test_output_depends_on_the_seed_only",  # marked `gen`
        "tests/pipeline/data/test_preprocess.py::test_momenta_are_massless_in_tev_and_padding_is_zero",  # the fixture
    ]
    result = subprocess.run(
        # -n 0: in this process, not on workers (addopts' -n auto): their start-up cost a minute per run
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", *tests],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert outcome in result.stdout, result.stdout[-2000:]
    assert (result.returncode != 0) == bool(ci)
    if ci:
        assert "CI must run the physics tests, not skip them" in result.stdout


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


def test_a_figure_target_plans_only_what_the_figure_needs(workflow_dir):
    result = _snakemake("-n", "--cores", "1", "fig4", "--configfile", "config/quick.yaml", cwd=workflow_dir)
    assert result.returncode == 0, result.stderr + result.stdout
    counts = _job_counts(result.stdout)
    # the five models of figures.fig4 (Min-Max τ=4, Mix τ=2, GNNAE-JL 55, GNNAE-PL 2, CNNAE 55) and their
    # predictions, drawn twice (the pre-registered score and the paper's protocol); no metrics, no other
    # figure, no scan
    assert counts == {
        "generate": 5,
        "preprocess": 5,
        "train": 5,
        "predict": 5,
        "figure": 2,
        "fig4": 1,
        "total": 23,
    }
    seven = _job_counts(
        _snakemake("-n", "--cores", "1", "fig7", "--configfile", "config/quick.yaml", cwd=workflow_dir).stdout
    )
    assert seven["train"] == seven["predict"] == seven["evaluate"] == 6  # the scan: 3 models × 2 fractions
    claims = _job_counts(
        _snakemake(
            "-n", "--cores", "1", "claims", "--configfile", "config/quick.yaml", cwd=workflow_dir
        ).stdout
    )
    assert claims["check_claims"] == 1
    assert claims["evaluate"] == 10
    assert "figure" not in claims


def test_the_named_targets_are_the_registrys_figures_and_tables(workflow_dir):
    """One rule per target of lgae.pipeline.targets (`snakemake fig4`), asking for the figures and tables
    the registry says it makes; dry-running them all plans every figure and table, and only those."""
    plan = _snakemake(
        "-n", "--cores", "1", *SNAKEMAKE_TARGETS, "--configfile", "config/quick.yaml", cwd=workflow_dir
    )
    assert plan.returncode == 0, plan.stderr + plan.stdout
    asked = dict(re.findall(r"^rule (\w+):\n    input: (.*)$", plan.stdout, re.MULTILINE))
    for name, made in SNAKEMAKE_TARGETS.items():
        files = [
            f"results/{'figures' if m in FIGURES else 'tables'}/{m}.{'pdf' if m in FIGURES else 'md'}"
            for m in made
        ]
        assert sorted(asked[name].split(", ")) == sorted(files), name
    assert sorted(re.findall(r"output: results/figures/(\w+)\.png", plan.stdout)) == sorted(FIGURES)
    assert sorted(re.findall(r"output: results/tables/(\w+)\.html", plan.stdout)) == sorted(TABLES)


@pytest.mark.slow
def test_tiny_quick_workflow_runs_end_to_end(tmp_path):
    """The quick configuration, shrunk: data, every training, prediction and metric, every figure and
    table, the claims and the report really run."""
    (tmp_path / "copy").mkdir()
    workflow_dir = _copy_workflow(tmp_path / "copy")
    cfg = yaml.safe_load((REPO / "config/quick.yaml").read_text())
    cfg["data"]["pythia"].update(jets_per_class=120, chunk_size=60)
    cfg["training"].update(max_epochs=1, batch_size=64)
    cfg["evaluation"].update(equivariance_jets=40, emd=False)
    # seven trainings, not quick's ten: one latent per LGAE (τ = 2 is the one of Figs. 4-6) and a scan of
    # two models, which still covers an LGAE, a baseline and both fractions
    for lgae in ("lgae-min-max", "lgae-mix"):
        cfg["models"][lgae]["latents"] = [2]
    cfg["data_efficiency"]["models"] = {"lgae-mix": 2, "cnnae": 55}
    for figure in FIGURE_MODEL_KEYS:
        cfg["figures"][figure] = {
            model: 2 if model.startswith("lgae") else latent
            for model, latent in cfg["figures"][figure].items()
        }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = _snakemake("--cores", "2", "--configfile", str(path), cwd=workflow_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    models = sorted((workflow_dir / "results" / "models").glob("*/*/seed1/frac*/model.pt"))
    assert len(models) == 7
    meta = json.loads((workflow_dir / "results/models/lgae-mix/2/seed1/frac1/meta.json").read_text())
    assert meta["settings"]["loss"] == "mse"
    assert meta["train_jets"] == 2 * round(0.6 * 120)
    scan = json.loads((workflow_dir / "results/models/cnnae/55/seed1/frac0.01/meta.json").read_text())
    assert scan["train_jets"] == max(1, round(0.01 * 2 * round(0.6 * 120)))
    assert (workflow_dir / "results/logs/train/gnnae-jl_55_seed1_frac1.log").read_text()
    results = workflow_dir / "results"
    for figure in ("fig2", "fig3", "fig4", "fig4_paper_protocol", "fig5", "fig6", "fig7", "fig9"):
        for extension in ("pdf", "png", "txt"):
            assert (results / "figures" / f"{figure}.{extension}").stat().st_size > 0, (figure, extension)
        assert "Pythia" in (results / "figures" / f"{figure}.txt").read_text()
    assert "post-hoc" in (results / "figures" / "fig4_paper_protocol.txt").read_text()
    table4 = (results / "tables" / "table4.md").read_text()
    assert "AUC (ours, pre-registered)" in table4
    assert "AUC (ours, paper protocol, post-hoc)" in table4
    for table in ("table2", "table3", "table4"):
        text = (results / "tables" / f"{table}.md").read_text()
        assert "NOT comparable" in text
        assert "ours − paper" not in text  # no difference column on Pythia data
        assert "not trained" in text  # e.g. LGAE-Mix τ=13 is a paper row this config does not train
    claims = json.loads((results / "claims.json").read_text())
    assert len(claims["claims"]) >= 6
    anomaly_claims = [c for c in claims["claims"] if c["paper_protocol_verdict"]]
    assert {c["key"] for c in anomaly_claims} >= {"lgae_efficiency_beats_baselines"}
    assert all(c["holds_under"] for c in anomaly_claims)
    assert {c["verdict"] for c in claims["claims"]} <= {
        "holds",
        "does not hold",
        "not measurable in this configuration",
    }
    report = _snakemake("--report", "results/report.html", "--configfile", str(path), cwd=workflow_dir)
    assert report.returncode == 0, report.stderr[-3000:]
    html = (results / "report.html").read_text()
    assert "4.4 Anomaly detection" in html
    assert "App. C Equivariance" in html
    # where the time went, from the run's own records (benchmarks/dag_time.py)
    spec = importlib.util.spec_from_file_location("dag_time", REPO / "benchmarks" / "dag_time.py")
    dag_time = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dag_time)
    jobs = dag_time.job_seconds(results)
    assert jobs.groupby("rule").size().to_dict() == {
        "evaluate": 7,
        "figure": 8,  # Fig. 4 twice: the pre-registered score and the paper's protocol
        "generate": 5,
        "predict": 7,
        "train": 7,
    }
    per_model = dag_time.per_model(results, jobs).set_index(["model", "latent", "fraction"])
    assert len(per_model) == 7
    assert per_model["train s"].gt(0).all()
    assert per_model["predict s"].gt(0).all()
    assert per_model["evaluate s"].gt(0).all()
    assert per_model.loc[("lgae-mix", 2, 1.0), "epochs"] == meta["epochs"]
    # a second run has nothing left to do
    again = _snakemake("-n", "--cores", "2", "--configfile", str(path), cwd=workflow_dir)
    assert "Nothing to be done" in again.stdout + again.stderr
    # changing one model's settings reruns that model's trainings (CNNAE: main and scan) and what
    # depends on them, nothing else
    cfg["models"]["cnnae"]["dtype"] = "float64"
    path.write_text(yaml.safe_dump(cfg))
    changed = _snakemake(
        "-n", "--cores", "2", "--configfile", str(path), "--printshellcmds", cwd=workflow_dir
    )
    counts = _job_counts(changed.stdout)
    assert counts["train"] == 2, changed.stdout
    assert not {"generate", "preprocess"} & set(counts)
    assert "--model cnnae --latent 55 --seed 1 --fraction 1 " in changed.stdout
    assert "--model cnnae --latent 55 --seed 1 --fraction 0.01 " in changed.stdout
    cfg["models"]["cnnae"]["dtype"] = "float32"
    # another data.seed: the data is preprocessed again and the model trained afresh on it, never
    # resumed from the old data's finished checkpoint
    cfg["data"]["seed"] = 7
    path.write_text(yaml.safe_dump(cfg))
    run = "results/models/lgae-mix/2/seed1/frac1"
    rerun = _snakemake(f"{run}/model.pt", "--cores", "2", "--configfile", str(path), cwd=workflow_dir)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    log = (workflow_dir / "results/logs/train/lgae-mix_2_seed1_frac1.log").read_text()
    assert "resuming" not in log
    assert "made with other data" in log
    meta = json.loads((workflow_dir / run / "meta.json").read_text())
    assert (meta["resumed_from_epoch"], meta["epochs_this_call"]) == (0, 1)
    assert {f["seed"] for f in meta["data"]["files"].values()} == {7}


# --- the convergence study (benchmarks/fidelity), planned from an empty directory
STUDY = REPO / "benchmarks" / "fidelity" / "Snakefile"


def _plan_study(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A dry run of the study, with its shell commands, in an empty directory."""
    plan = _snakemake(
        "-n", "-p", "-s", str(STUDY), "-d", str(directory), "--cores", "2", *args, cwd=directory
    )
    assert plan.returncode == 0, plan.stderr + plan.stdout
    return plan


def test_the_convergence_study_plans_every_seed_and_ablation_and_the_reference_only_when_given(tmp_path):
    defaults = _plan_study(tmp_path, "defaults")
    assert _job_counts(defaults.stdout)["train"] == 2 * 3  # two models, three seeds
    everything = _plan_study(tmp_path, "--config", "earlier_runs=")
    counts = _job_counts(everything.stdout)
    # and seven ablations of each (six departures and one more), one seed, and two more seeds for three
    # of the fourteen (more_seeds)
    assert counts["train"] == 2 * 3 + 2 * 7 + 3 * 2
    assert "train_reference" not in counts
    assert counts["evaluate"] == counts["train"] == counts["predict"]
    plan = _plan_study(tmp_path, "--config", "reference_repo=/x", "earlier_runs=")
    assert _job_counts(plan.stdout)["train_reference"] == 2
    record = tmp_path / "record.csv"  # what an earlier session finished, or saw diverge, is not made again
    record.write_text(
        "base,ablation,seed,status,valid_loss,mass_median,mass_iqr,pt_median,pt_iqr,ptrel_iqr,auc\n"
        "min-max,default,1,done,3e-4,-0.05,0.07,-0.08,0.1,0.8,0.6\n"
        "mix,three-layers,1,diverged,,,,,,,\n"
        "mix,re-plus-im,1,pending,,,,,,,\n"
    )
    resumed = _plan_study(tmp_path, "--config", f"earlier_runs={record}")
    assert _job_counts(resumed.stdout)["train"] == counts["train"] - 2
    assert "runs/min-max/seed1/model.pt" not in resumed.stdout
    assert "runs/mix+re-plus-im/seed1/model.pt" in resumed.stdout
    assert "--reference-repo /x --aggregation min-max --latent 4 --loss chamfer" in plan.stdout
    # every run of the study is built as it was measured: four layers unless the ablation says three
    four = '"encoder_channels":[3,3,4,4],"decoder_channels":[4,4,3,3]'
    assert f"""--hyperparameters '{{{four},"input_normalisation":"max-abs"}}'""" in plan.stdout
    assert f"""--model lgae-mix --latent 9 --loss mse --hyperparameters '{{{four}}}'""" in plan.stdout
    assert '--hyperparameters \'{"encoder_channels":[3,4,4],"decoder_channels":[4,3,3]}\'' in plan.stdout
    assert "--model lgae-mix --latent 9 --loss mse" in plan.stdout
    data = "--data-dir benchmarks/fidelity/results/data/processed "
    for command in ("-m lgae train", "-m lgae predict", "train_reference.py"):
        lines = [line for line in plan.stdout.splitlines() if command in line]
        assert lines, command
        assert all(data in line for line in lines), command


@pytest.mark.gen
@pytest.mark.slow
def test_changing_the_detector_regenerates_the_data(tmp_path):
    """data.pythia.detector reaches the generate rule's parameters: changing it reruns the generation."""
    (tmp_path / "copy").mkdir()
    workflow_dir = _copy_workflow(tmp_path / "copy")
    cfg = yaml.safe_load((REPO / "config/quick.yaml").read_text())
    cfg["data"]["pythia"].update(jets_per_class=10, chunk_size=10)
    particle_level, detector_level = tmp_path / "particles.yaml", tmp_path / "detector.yaml"
    particle_level.write_text(yaml.safe_dump(cfg))
    cfg["data"]["pythia"]["detector"] = "cms"
    detector_level.write_text(yaml.safe_dump(cfg))
    target = "results/data/raw/pythia/w.hdf5"
    run = _snakemake(target, "--cores", "1", "--configfile", str(particle_level), cwd=workflow_dir)
    assert run.returncode == 0, run.stderr[-3000:]
    same = _snakemake(target, "-n", "--cores", "1", "--configfile", str(particle_level), cwd=workflow_dir)
    assert "Nothing to be done" in same.stdout + same.stderr
    changed = _snakemake(target, "-n", "--cores", "1", "--configfile", str(detector_level), cwd=workflow_dir)
    assert changed.returncode == 0, changed.stderr[-3000:]
    assert "Params have changed" in changed.stdout
    assert "--detector cms" in changed.stdout
