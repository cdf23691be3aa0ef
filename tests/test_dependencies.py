"""Every dependency declared is used, and every import is declared (pyproject.toml, from the installed
metadata): the package and the workflow against the core dependencies and the ``gen`` extra, the tests
against those plus the ``test`` and ``jetnet`` extras, the benchmarks against the core and the ``jetnet``
extra."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
#: the modules a Snakefile may import without declaring them: Snakemake runs it, so it is there
SNAKEMAKE_ITSELF = {"snakemake"}
#: declared, used without an import statement of ours: pandas imports them for the table writers
USED_THROUGH_PANDAS = {"tabulate": "to_markdown", "jinja2": "to_latex"}
#: the distribution of a module that is not installed here (the jetnet extra lives in a numpy-1 venv)
NOT_INSTALLED_HERE = {"jetnet": "jetnet", "energyflow": "energyflow"}


def _declared(extra: str = "") -> set[str]:
    """The distributions ``lgae`` requires: the core ones, or those of one extra."""
    names = set()
    for line in metadata.requires("lgae") or []:
        requirement = Requirement(line)
        in_extra = requirement.marker is not None and requirement.marker.evaluate({"extra": extra})
        if in_extra if extra else requirement.marker is None:
            names.add(canonicalize_name(requirement.name))
    return names


def _imported_modules(paths: list[Path]) -> dict[str, set[str]]:
    """Top-level module -> the files importing it (absolute imports only; Snakemake files by regex)."""
    found: dict[str, set[str]] = {}
    for path in paths:
        text = path.read_text()
        if path.suffix == ".py":
            modules = [
                alias.name
                for node in ast.walk(ast.parse(text))
                if isinstance(node, ast.Import)
                for alias in node.names
            ] + [
                node.module
                for node in ast.walk(ast.parse(text))
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
            ]
        else:
            modules = re.findall(r"^\s*(?:import|from)\s+([\w.]+)", text, re.M)
        for module in modules:
            found.setdefault(module.split(".")[0], set()).add(str(path.relative_to(REPO)))
    return found


def _third_party(found: dict[str, set[str]], local: set[str]) -> dict[str, set[str]]:
    """Distribution -> files, for every import that is neither the standard library nor our own code."""
    owners = metadata.packages_distributions()
    by_distribution: dict[str, set[str]] = {}
    for module, files in found.items():
        if module in sys.stdlib_module_names or module in local or module == "lgae":
            continue
        names = owners.get(module) or [NOT_INSTALLED_HERE.get(module, module)]
        by_distribution.setdefault(canonicalize_name(names[0]), set()).update(files)
    return by_distribution


def _files(*patterns: str) -> list[Path]:
    return sorted(p for pattern in patterns for p in REPO.glob(pattern) if "__pycache__" not in p.parts)


PIPELINE = _files("src/lgae/**/*.py", "workflow/**/*.smk", "Snakefile")


def test_every_import_of_the_package_and_the_workflow_is_declared() -> None:
    imported = _third_party(_imported_modules(PIPELINE), set())
    undeclared = set(imported) - _declared() - _declared("gen") - SNAKEMAKE_ITSELF
    assert not undeclared, {name: sorted(imported[name]) for name in undeclared}


def test_every_core_dependency_is_used_by_the_package_or_the_workflow() -> None:
    imported = set(_third_party(_imported_modules(PIPELINE), set()))
    for name, writer in USED_THROUGH_PANDAS.items():
        assert any(f".{writer}(" in p.read_text() for p in PIPELINE), f"{name}: nothing calls {writer}"
    unused = _declared() - imported - set(USED_THROUGH_PANDAS)
    assert not unused, f"declared in pyproject.toml, imported nowhere in src/, workflow/: {sorted(unused)}"


#: test-extra tools that run as commands or plug-ins, not imports: where each is put to work
USED_AS_TOOLS = {
    "pytest-xdist": ("pyproject.toml", "-n auto"),
    "snakemake-executor-plugin-slurm": ("workflow/profiles/slurm/config.yaml", "executor: slurm"),
    "snakefmt": ("tests/workflow/test_workflow.py", '["snakefmt", "--check"'),
    "ruff": ("pyproject.toml", "[tool.ruff]"),
}


@pytest.mark.parametrize("extra", ["gen", "jetnet", "test"])
def test_every_extra_is_used(extra: str) -> None:
    imported = set(_third_party(_imported_modules([*PIPELINE, *_files("tests/**/*.py")]), {"conftest"}))
    for name, (path, evidence) in USED_AS_TOOLS.items():
        assert evidence in (REPO / path).read_text(), f"{name}: {evidence!r} is no longer in {path}"
    # the jetnet extra also holds numpy and pyarrow back (numpy 1 for energyflow's wasserstein)
    unused = _declared(extra) - imported - set(USED_AS_TOOLS) - {"numpy", "pyarrow"}
    assert not unused, f"the {extra} extra declares what nothing uses: {sorted(unused)}"


def test_every_import_of_the_tests_and_benchmarks_is_declared() -> None:
    tests = _third_party(_imported_modules(_files("tests/**/*.py")), {"conftest"})
    allowed = _declared() | _declared("gen") | _declared("test") | _declared("jetnet")
    assert set(tests) <= allowed, {n: sorted(tests[n]) for n in set(tests) - allowed}
    local = {p.stem for p in _files("benchmarks/**/*.py")}
    benchmarks = _third_party(_imported_modules(_files("benchmarks/**/*.py")), local)
    # bench_emd.py times energyflow where it imports; the anomaly experiment generates jets (gen)
    allowed = _declared() | _declared("gen") | _declared("jetnet")
    assert set(benchmarks) <= allowed, {n: sorted(benchmarks[n]) for n in set(benchmarks) - allowed}
