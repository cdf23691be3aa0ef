"""workflow/profiles/slurm on a real scheduler: a single-node SLURM cluster on localhost.

.ci/slurm/start.sh installs SLURM from Debian's packages and starts it with a GPU resource declared (a
node shaped like a GPU node: 48 CPUs, 128 GB, 4 GPUs); stop.sh stops exactly what it started. The
quick configuration, shrunk, then runs through the repository's profile as a user would run it, with
the two settings a cluster without slurmdbd needs: data, then training, prediction and metrics of
three runs (an LGAE, a baseline and a data-efficiency point; every model runs end to end locally in
tests/workflow/test_workflow.py, and a model changes no rule or request). Its jobs must be submitted with the
profile's partitions, GPU, CPU, memory and walltime requests, succeed, and leave their logs where the
README says; the local rules (preprocessing: seconds) must run where Snakemake runs, not through SLURM.
Then one training job is given a first-attempt walltime shorter than it needs: SLURM kills it
(TIMEOUT), Snakemake resubmits it, and the second attempt resumes from the checkpoint.

Needs root and apt (skipped otherwise, with the reason); CI has both, so there it runs. 10 minutes on
its own on a slow 2-core machine (2026-12-02: the three runs 5.3 minutes, each SLURM job costing ~20 s
of start-up; the walltime 4.4, whose status checks back off by 10 s per round while a single job
runs), 13 beside the rest of the suite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.slow, pytest.mark.gen]

REPO = Path(__file__).resolve().parents[2]
CLUSTER = REPO / ".ci/slurm"
# What runs through the profile: the metrics of three runs of the quick config (an LGAE, a baseline and
# a data-efficiency point), so data, training, prediction and evaluation; each SLURM job costs ~15 s of
# start-up on a 2-core machine (a Snakemake job step, then the command), so not all ten. And the rules
# whose jobs must ask for a GPU
RUNS = ("lgae-mix/9/seed1/frac1", "gnnae-jl/55/seed1/frac1", "cnnae/55/seed1/frac0.01")
TARGETS = tuple(
    f"results/metrics/{run}/{name}.json" for run in RUNS for name in ("reconstruction", "anomaly")
)
GPU_RULES = ("train", "predict")
# rules that never go through SLURM (`localrule: True` in workflow/rules/)
LOCAL_RULES = ("preprocess",)
# The settings of a cluster without slurmdbd: job states from squeue, first look after 5 s, not 40
WITHOUT_SLURMDBD = ("--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "5")
LONG_JOB = "results/models/lgae-mix/9/seed2/frac1"
# Training time the long job is given, at its fastest epoch: SLURM ends a 1-minute job 60-90 s after it
# starts (it checks limits every 30 s), and training starts ~20 s into the job, so the first attempt is
# killed part of the way, with checkpoints made, and the second has less than a minute left to train
LONG_JOB_SECONDS = 100


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root: it installs SLURM with apt and starts the SLURM daemons"
    if shutil.which("apt-get") is None:
        return "needs apt-get (Debian/Ubuntu) to install SLURM"
    return None


def _free_port_pair() -> int:
    """A port p with p and p + 1 free (slurmctld, slurmd)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 65535:
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise RuntimeError("no two consecutive free ports")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """A running single-node cluster; the environment its clients run in."""
    reason = _why_not()
    if reason:
        pytest.skip(reason)
    directory = tmp_path_factory.mktemp("slurm")
    env = {**os.environ, "LGAE_SLURM_DIR": str(directory), "LGAE_SLURM_PORT": str(_free_port_pair())}
    # what a run killed before stop.sh leaves: its configuration, naming a cluster that no longer runs
    left_behind = Path("/etc/slurm/slurm.conf")
    planted = not left_behind.exists()
    if planted:
        left_behind.parent.mkdir(parents=True, exist_ok=True)
        left_behind.write_text(f"# written by .ci/slurm/start.sh for {directory.parent / 'killed'}\n")
    try:
        started = subprocess.run(
            ["bash", str(CLUSTER / "start.sh")], env=env, capture_output=True, text=True, timeout=900
        )
        assert started.returncode == 0, started.stdout + started.stderr
        if planted:
            assert "replacing /etc/slurm/slurm.conf left by an earlier cluster" in started.stdout
        print(started.stdout)
        yield env
    finally:
        stopped = subprocess.run(
            ["bash", str(CLUSTER / "stop.sh")], env=env, capture_output=True, text=True, timeout=300
        )
        print(stopped.stdout + stopped.stderr)


def _copy_workflow(out: Path) -> Path:
    shutil.copy(REPO / "Snakefile", out / "Snakefile")
    for folder in ("workflow", "config", "envs", "src"):
        shutil.copytree(
            REPO / folder, out / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
        )
    return out


def _write_config(path: Path, **training: int) -> Path:
    """The quick configuration, shrunk: 200 jets per class, 2 epochs, a small equivariance scan."""
    config = yaml.safe_load((REPO / "config/quick.yaml").read_text())
    config["data"]["pythia"].update(jets_per_class=200, chunk_size=100)
    config["training"].update({"max_epochs": 2, "batch_size": 64, **training})
    for spec in config["models"].values():
        spec.pop("max_epochs", None)
    config["evaluation"].update(equivariance_jets=40, emd=False)
    path.write_text(yaml.safe_dump(config))
    return path


def _planned(output: str) -> dict[str, int]:
    """Jobs per rule from a dry run's job stats."""
    table = output.split("Job stats:")[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


def _snakemake(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )


def _jobs(env: dict[str, str], workdir: Path) -> list[dict[str, str]]:
    """SLURM's own record of every job run from ``workdir`` (kept for MinJobAge, an hour here)."""
    shown = subprocess.run(
        ["scontrol", "show", "job", "-o"], env=env, capture_output=True, text=True, timeout=60
    )
    records = []
    for line in shown.stdout.splitlines():
        record = dict(re.findall(r"(\w[\w/:]*)=(\S*)", line))
        if record.get("WorkDir") == str(workdir):
            records.append(record)
    return sorted(records, key=lambda r: int(r["JobId"]))


def _rule(record: dict[str, str]) -> str:
    """The rule of a job, from the comment the SLURM plugin gives it (rule_<name>_wildcards_...)."""
    return re.match(r"rule_(\w+?)(_wildcards|$)", record["Comment"]).group(1)


def _minutes(limit: str) -> int:
    days, _, clock = limit.rpartition("-")
    hours, minutes, _ = (int(x) for x in clock.split(":"))
    return (int(days) if days else 0) * 1440 + hours * 60 + minutes


@pytest.fixture(scope="module")
def quick_run(cluster, tmp_path_factory: pytest.TempPathFactory):
    """The quick configuration's jobs, planned (dry run), then run through the repository's SLURM profile."""
    workdir = _copy_workflow(tmp_path_factory.mktemp("workflow"))
    _write_config(workdir / "slurm.yaml")
    args = (*TARGETS, "--workflow-profile", "workflow/profiles/slurm", *WITHOUT_SLURMDBD)
    plan = _snakemake(*args, "-n", "--configfile", "slurm.yaml", cwd=workdir, env=cluster)
    assert plan.returncode == 0, plan.stderr[-3000:]
    planned = {rule: n for rule, n in _planned(plan.stdout).items() if rule not in ("metrics", "total")}
    assert set(LOCAL_RULES) <= set(planned)
    started = time.monotonic()
    result = _snakemake(*args, "--configfile", "slurm.yaml", cwd=workdir, env=cluster)
    print(f"quick run through SLURM: {time.monotonic() - started:.0f} s")
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir, planned, _jobs(cluster, workdir)


def test_jobs_are_submitted_with_the_profiles_requests_and_succeed(quick_run):
    workdir, planned, jobs = quick_run
    profile = yaml.safe_load((REPO / "workflow/profiles/slurm/config.yaml").read_text())
    by_rule: dict[str, list[dict[str, str]]] = {}
    for record in jobs:
        by_rule.setdefault(_rule(record), []).append(record)
    # every planned job but the local ones went through SLURM, once: data generation, training and
    # prediction of every model, metrics; the local ones ran (their outputs are there), but not in SLURM
    remote = {rule: n for rule, n in planned.items() if rule not in LOCAL_RULES}
    assert {rule: len(records) for rule, records in by_rule.items()} == remote
    assert len(list(workdir.glob("results/data/processed/pythia/*.h5"))) == 3 * planned["preprocess"]
    assert set(GPU_RULES) <= set(planned)
    assert planned["train"] == planned["predict"] == len(RUNS)
    assert {r["JobState"] for r in jobs} == {"COMPLETED"}
    for rule in GPU_RULES:
        wanted = profile["set-resources"][rule]
        for record in by_rule[rule]:
            assert record["Partition"] == wanted["slurm_partition"]
            assert record["TresPerJob"] == f"gres:gpu:{wanted['gpu']}"
            assert record["CpusPerTres"] == f"gres:gpu:{wanted['cpus_per_gpu']}"
            if "mem_mb" in wanted:
                assert record["MinMemoryNode"] == f"{wanted['mem_mb']}M"
            if "runtime" in wanted:
                assert _minutes(record["TimeLimit"]) == wanted["runtime"]
    for rule in set(by_rule) - set(GPU_RULES):
        for record in by_rule[rule]:
            assert record["Partition"] == profile["default-resources"]["slurm_partition"], rule
            assert "TresPerJob" not in record, rule  # no GPU for CPU jobs
    models = sorted(workdir.glob("results/models/*/*/seed1/frac*/model.pt"))
    assert [str(m.parent.relative_to(workdir / "results/models")) for m in models] == sorted(RUNS)


def test_logs_land_where_the_readme_says(quick_run):
    workdir, planned, jobs = quick_run
    readme = (REPO / "README.md").read_text()
    assert "results/logs/slurm/rule_<rule>/" in readme
    for record in jobs:
        rule = _rule(record)
        logs = list(workdir.glob(f"results/logs/slurm/rule_{rule}/**/{record['JobId']}.log"))
        assert len(logs) == 1, f"no SLURM log for job {record['JobId']} ({rule})"
    for rule in LOCAL_RULES:
        assert len(list(workdir.glob(f"results/logs/{rule}/*.log"))) == planned[rule]
        assert not (workdir / f"results/logs/slurm/rule_{rule}").exists()
    for rule in GPU_RULES:
        logs = list(workdir.glob(f"results/logs/{rule}/*.log"))
        assert len(logs) == planned[rule]
        for log in logs:
            # SLURM gave the job one of the node's GPUs; this CPU build of torch then runs on the CPU
            text = log.read_text()
            assert re.search(r"device: cpu \(no CUDA device visible; CUDA_VISIBLE_DEVICES=[0-3]\)", text), log


def test_a_finished_run_submits_nothing_again(quick_run, cluster):
    workdir, _, _ = quick_run
    again = _snakemake(
        *TARGETS, "-n", "--workflow-profile", "workflow/profiles/slurm", *WITHOUT_SLURMDBD,
        "--configfile", "slurm.yaml", cwd=workdir, env=cluster,
    )  # fmt: skip
    assert "Nothing to be done" in again.stdout + again.stderr


def _epochs_lasting(seconds: float, workdir: Path, tmp_path: Path) -> int:
    """How many epochs of the long job's model take ``seconds`` on this machine now (timed locally)."""
    trial = tmp_path / "trial"
    subprocess.run(
        [sys.executable, "-m", "lgae", "train", "--model", "lgae-mix", "--latent", "9", "--seed", "3",
         "--data-dir", str(workdir / "results/data/processed/pythia"), "--out-dir", str(trial),
         "--threads", "2", "--batch-size", "64", "--max-epochs", "6", "--no-progress"],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    rows = (trial / "history.csv").read_text().splitlines()[2:]  # the first epoch warms up
    # the fastest epoch, not the median: a trial slowed by other load would otherwise ask for too few
    # epochs, and the job would finish inside its first minute (seen with a study running beside the CI)
    per_epoch = min(float(row.split(",")[3]) for row in rows)
    return max(50, round(seconds / per_epoch))


def test_a_training_job_killed_by_its_walltime_resumes_from_its_checkpoint(quick_run, cluster, tmp_path):
    workdir, _, before = quick_run
    epochs = _epochs_lasting(LONG_JOB_SECONDS, workdir, tmp_path)
    # the profile as shipped, except that training gets 1 minute on its first attempt (SLURM's minimum)
    profile = tmp_path / "profile"
    shutil.copytree(REPO / "workflow/profiles/slurm", profile)
    settings = yaml.safe_load((profile / "config.yaml").read_text())
    settings["set-resources"]["train"]["runtime"] = "1 if attempt == 1 else 10"
    (profile / "config.yaml").write_text(yaml.safe_dump(settings))
    _write_config(workdir / "long.yaml", max_epochs=epochs, patience=epochs)
    started = time.monotonic()
    result = _snakemake(
        f"{LONG_JOB}/model.pt",
        "--workflow-profile",
        str(profile),
        *WITHOUT_SLURMDBD,
        "--configfile",
        "long.yaml",
        cwd=workdir,
        env=cluster,
    )
    print(f"walltime run through SLURM ({epochs} epochs): {time.monotonic() - started:.0f} s")
    assert result.returncode == 0, result.stderr[-5000:]
    seen = {r["JobId"] for r in before}
    attempts = [r for r in _jobs(cluster, workdir) if r["JobId"] not in seen]
    # killed at 1 minute, resubmitted with 10 (again, should a loaded machine need longer), completed
    states = [(r["JobState"], _minutes(r["TimeLimit"])) for r in attempts]
    assert states[0] == ("TIMEOUT", 1), states
    assert states[-1] == ("COMPLETED", 10), states
    assert all(state == ("TIMEOUT", 10) for state in states[1:-1]), states
    assert result.stderr.count("SLURM status is: 'TIMEOUT'") == len(attempts) - 1
    for killed in attempts[:-1]:
        slurm_log = next(workdir.glob(f"results/logs/slurm/rule_train/**/{killed['JobId']}.log"))
        assert "DUE TO TIME LIMIT" in slurm_log.read_text()
    # the last attempt's log: it resumed from the epoch the one before reached, and trained only the rest
    log = (workdir / "results/logs/train/lgae-mix_9_seed2_frac1.log").read_text()
    resumed = re.search(r"resuming \S+ from epoch (\d+)", log)
    assert resumed, log[-3000:]
    reached = int(resumed.group(1))
    assert 1 <= reached < epochs
    trained = [int(e) for e in re.findall(r"INFO lgae\.pipeline\.training: epoch (\d+):", log)]
    assert trained == list(range(reached + 1, epochs + 1))
    # and the history is whole: every epoch once, from both attempts
    history = (workdir / LONG_JOB / "history.csv").read_text().splitlines()[1:]
    assert [int(row.split(",")[0]) for row in history] == list(range(1, epochs + 1))
    meta = json.loads((workdir / LONG_JOB / "meta.json").read_text())
    assert meta["epochs"] == epochs
    assert meta["seconds_this_call"] < meta["seconds_training"]
