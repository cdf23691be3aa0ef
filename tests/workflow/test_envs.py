"""The software environments the jobs run in.

conda cannot be installed on these machines, so the conda env files are checked statically: they parse,
pin exactly the versions `envs/constraints.txt` pins for everything the package needs at run time, and a
virtual environment built from their package list alone imports every module of the package. The rules
run the interpreter of the job's environment, not whichever `python` comes first on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))
RUNTIME_EXTRAS = ("gen",)  # what the rules need besides the core dependencies (Pythia generation)
# torch is installed explicitly with the package (CPU wheel here, a CUDA build on a GPU machine), so the
# constraints file leaves it out; the env pins the version the tests use
TORCH = "torch==2.13.0"
BASE = {"pip", "wheel"}  # come with the env's python


# imports every module of the package, prints each subcommand's help (in this one process: a process
# per subcommand costs seconds of start-up each), then lists the subcommands of the `lgae` command
PROBE = """
import argparse, contextlib, importlib, io, json, pkgutil
import lgae, lgae.cli
for module in pkgutil.walk_packages(lgae.__path__, "lgae."):
    if not module.name.endswith("__main__"):
        importlib.import_module(module.name)
parser = lgae.cli.parser()
(sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
for command in sub.choices:
    helped = io.StringIO()
    with contextlib.redirect_stdout(helped):
        try:
            parser.parse_args([command, "--help"])
        except SystemExit as exit:
            assert exit.code == 0, (command, exit.code)
    assert helped.getvalue().startswith(f"usage: lgae {command}"), (command, helped.getvalue()[:200])
print(json.dumps(sorted(sub.choices)))
"""


def _constraints() -> dict[str, str]:
    """The tested versions: envs/constraints.txt, plus setuptools (torch needs it; pip freeze omits it)."""
    pins = {"setuptools": metadata.version("setuptools")}
    for line in (REPO / "envs/constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def _runtime_closure() -> set[str]:
    """Every distribution that `lgae` with the runtime extras needs, from the installed metadata."""
    needed: set[str] = set()
    todo = [(Requirement(r), e) for r in metadata.requires("lgae") or [] for e in ("", *RUNTIME_EXTRAS)]
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        if name in needed and not requirement.extras:
            continue
        needed.add(name)
        for extra_of_dep in ("", *requirement.extras):
            todo += [(Requirement(r), extra_of_dep) for r in metadata.requires(name) or []]
    return needed - {"lgae", *BASE}


def _pip_section(env: dict) -> list[str]:
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "expected one pip: section"
    return sections[0]


def _conda_directives() -> dict[str, list[str]]:
    """env file -> rules using it, from every `conda:` directive of the workflow."""
    used: dict[str, list[str]] = {}
    for smk in (REPO / "workflow/rules").glob("*.smk"):
        for rule, path in re.findall(
            r'^rule (\w+):.*?\n    conda:\n        "([^"]+)"', smk.read_text(), re.M | re.S
        ):
            used.setdefault(str((smk.parent / path).resolve().relative_to(REPO)), []).append(rule)
    return used


def test_every_conda_directive_names_an_env_file_here():
    used = _conda_directives()
    assert used, "no conda: directives found"
    for path, rules in used.items():
        assert (REPO / path).is_file(), f"{rules} use {path}, which does not exist"
        assert path.startswith("envs/"), path


@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_env_file_pins_exactly_what_the_tests_use(env_file):
    env = yaml.safe_load(env_file.read_text())
    assert env["channels"][0] == "conda-forge"
    assert "nodefaults" in env["channels"]
    conda_packages = [d for d in env["dependencies"] if isinstance(d, str)]
    assert f"python={sys.version_info.major}.{sys.version_info.minor}" in conda_packages
    assert "pip" in conda_packages
    pins = _constraints()
    listed = {}
    for entry in _pip_section(env):
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[^=\s]+", entry), f"{env_file.name}: {entry!r} is not pinned"
        name, _, version = entry.partition("==")
        listed[canonicalize_name(name)] = version
    assert listed.pop("torch") == TORCH.split("==")[1]
    wrong = {n: (v, pins.get(n)) for n, v in listed.items() if pins.get(n) != v}
    assert not wrong, f"{env_file.name} pins differ from envs/constraints.txt (env, constraints): {wrong}"
    needed = _runtime_closure() - {"torch"}
    assert not needed - set(listed), f"{env_file.name} misses run-time dependencies: {needed - set(listed)}"
    assert not set(listed) - needed, f"{env_file.name} lists what nothing needs: {set(listed) - needed}"


def _link_distributions(packages: list[str], site_packages: Path) -> int:
    """Fill ``site_packages`` with links to exactly the files that the listed distributions installed
    in this environment (their RECORD), and nothing else; returns how many.

    This environment installed the same versions from PyPI (`pip install ... -c envs/constraints.txt`,
    which the env pins equal, as the test above checks), so linking them is the same as installing them
    again with `pip install --no-deps`, without the minutes that unpacking torch a second time took.
    """
    made: set[str] = set()
    for entry in packages:
        name, _, version = entry.partition("==")
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            pytest.fail(
                f"{name} (listed in the env) is not installed here: pip install -c envs/constraints.txt"
            )
        # torch's local version (+cpu here, +cu128 from a CUDA index) names the build, not the release
        assert Version(dist.version).public == Version(version).public, (name, dist.version, version)
        installed_in = str(dist.locate_file(""))
        for path in dist.files or ():
            relative = str(path)
            source = os.path.join(installed_in, relative)
            if relative.startswith("..") or relative in made or not os.path.isfile(source):
                continue  # scripts in bin/; a file RECORD lists twice
            link = os.path.join(site_packages, relative)
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(source, link)
            made.add(relative)
    return len(made)


@pytest.mark.slow
@pytest.mark.parametrize("env_file", ENV_FILES, ids=lambda p: p.name)
def test_a_venv_from_the_env_file_alone_runs_every_module(env_file, tmp_path):
    """What a conda job gets: only the env's packages, its `python` first on PATH, no inherited
    PYTHONPATH (Snakemake strips it), the package from src/ as the rules run it."""
    venv = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    (site_packages,) = venv.glob("lib/python3*/site-packages")
    packages = _pip_section(yaml.safe_load(env_file.read_text()))
    # the list alone: it must be complete; `pip check` then proves it is consistent
    assert _link_distributions(packages, site_packages) > 1000
    check = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", str(venv / "bin/python"),
         "check"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No broken requirements found" in check.stdout
    job_env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "MPLCONFIGDIR": str(tmp_path / "mpl"),
    }

    def in_env(command: str) -> subprocess.CompletedProcess[str]:
        """``command`` as a job runs it: the env's python, the package from src/."""
        return subprocess.run(
            ["bash", "-c", f"PYTHONPATH={REPO}/src {command}"],
            env=job_env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    result = in_env(f"python {probe}")
    assert result.returncode == 0, result.stderr[-3000:]
    commands = json.loads(result.stdout)
    assert {"download", "generate", "preprocess", "train"} <= set(commands)
    helped = in_env("python -m lgae --help")  # and the entry point the rules call
    assert helped.returncode == 0, helped.stderr[-2000:]
    assert all(command in helped.stdout for command in commands)


def _copy_workflow(out: Path) -> Path:
    shutil.copy(REPO / "Snakefile", out / "Snakefile")
    for folder in ("workflow", "config", "envs", "src"):
        shutil.copytree(
            REPO / folder, out / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
        )
    return out


@pytest.mark.gen
def test_jobs_run_the_interpreter_that_runs_snakemake(tmp_path):
    """`.venv/bin/snakemake` without an activated venv: the jobs must not pick another `python`."""
    workflow = _copy_workflow(tmp_path)
    config = yaml.safe_load((REPO / "config/quick.yaml").read_text())
    config["data"]["pythia"].update(jets_per_class=20, chunk_size=20)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(config))
    snakemake = Path(sys.executable).parent / "snakemake"
    path_without_venv = "/usr/bin:/bin"
    assert shutil.which("python", path=path_without_venv) != sys.executable
    target = "results/data/raw/pythia/g.hdf5"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = path_without_venv
    result = subprocess.run(
        [str(snakemake), target, "--cores", "1", "--configfile", "tiny.yaml", "--printshellcmds"],
        cwd=workflow,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = workflow / "results/logs/generate/g.log"
    assert result.returncode == 0, result.stderr[-2000:] + (log.read_text() if log.exists() else "")
    assert f"{sys.executable} -m lgae generate" in result.stdout + result.stderr
    assert (workflow / target).is_file()
