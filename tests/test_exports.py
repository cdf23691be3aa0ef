"""Each package's ``__init__`` exports its modules' public names, and importing the library stays light.

A newcomer reads a package's ``__init__`` to learn what it offers (``from lgae.group import boost``); a
name added to a module but not to its package is invisible there, and a name left in ``__all__`` after
it moved breaks ``from lgae.pipeline import *``. The library (group, jets, nn, models, losses,
equivariance) is what others import into their own code: it must not pull in the pipeline's and the
figures' dependencies (matplotlib, h5py, Snakemake), nor must the pipeline's and the paper's packages
import anything before a name of theirs is asked for (src/lgae/__init__.py).
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import lgae

PACKAGE = Path(lgae.__file__).resolve().parent
PACKAGES = sorted(
    ".".join(("lgae", *init.parent.relative_to(PACKAGE).parts)) for init in PACKAGE.glob("*/**/__init__.py")
)
#: public names a package does not export, and why
NOT_EXPORTED = {
    # a function named as its module would hide the module: `from lgae.group import clebsch_gordan`
    ("lgae.group", "clebsch_gordan"),
    ("lgae.models", "cnnae"),  # build("cnnae")
    ("lgae.pipeline.data", "download"),
}
#: the CLI exports its subcommands' modules, whose `add` and `run` share their names; common is theirs
CLI = "lgae.cli"
LIBRARY = ["lgae.group", "lgae.nn", "lgae.models", "lgae.jets", "lgae.equivariance", "lgae.losses"]
HEAVY = ("matplotlib", "h5py", "snakemake")
#: lgae.group too: the data steps use its Minkowski geometry on numpy, without torch
LAZY = [
    "lgae.group",
    "lgae.pipeline",
    "lgae.pipeline.data",
    "lgae.paper",
    "lgae.paper.evaluation",
    "lgae.paper.plots",
]


def public_names(module: Path) -> list[str]:
    """A module's ``__all__`` where it declares one, else its top-level functions and classes without a
    leading underscore (read from the source: nothing is imported)."""
    tree = ast.parse(module.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_")
    ]


def unexported(package_dir: Path, exported: set[str], package: str = "") -> list[str]:
    """``module.name`` for every public name of the package's own modules that its ``__all__`` lacks."""
    missing = []
    for module in sorted(package_dir.glob("*.py")):
        if module.name.startswith("_"):
            continue
        missing += [
            f"{module.stem}.{name}"
            for name in public_names(module)
            if name not in exported and (package, name) not in NOT_EXPORTED
        ]
    return missing


def defined_names(module: Path) -> set[str]:
    """What a module defines at its top level: functions, classes and assigned names (not its imports)."""
    names = set()
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {
                name.id for target in targets for name in ast.walk(target) if isinstance(name, ast.Name)
            }
    return names


def sources(init: Path, package: str) -> list[tuple[str, str]]:
    """(module, name) for every name an ``__init__`` takes from a module: its ``from lgae.x import y``
    imports and the mapping it gives :func:`lgae.lazy_exports`."""
    found = []
    for node in ast.walk(ast.parse(init.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(f"{package}."):
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_exports":
            exports = ast.literal_eval(node.args[1])
            found += [
                (f"{package}{module}" if module.startswith(".") else module, name)
                for module, names in exports.items()
                for name in names
            ]
    return found


def _directory(package: str) -> Path:
    return PACKAGE.joinpath(*package.split(".")[1:])


def _run(code: str) -> dict:
    """Run ``code`` in a fresh interpreter (this one has imported everything) and read its JSON."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_package_is_checked() -> None:
    assert {*LIBRARY[:4], *LAZY, CLI} == set(PACKAGES)


@pytest.mark.parametrize("package", ["lgae", *PACKAGES])
def test_every_exported_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__, f"{package} exports nothing"
    assert len(set(module.__all__)) == len(module.__all__), f"{package}: a name is exported twice"
    unresolved = [name for name in module.__all__ if not hasattr(module, name)]
    assert not unresolved, f"{package}.__all__ names what it does not hold: {unresolved}"
    assert set(module.__all__) <= set(dir(module))


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != CLI])
def test_a_package_exports_the_public_names_of_its_modules(package: str) -> None:
    exported = set(importlib.import_module(package).__all__)
    missing = unexported(_directory(package), exported, package)
    assert not missing, f"add to {package}'s __init__ (or to NOT_EXPORTED, with the reason): {missing}"


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_takes_each_name_from_the_module_that_defines_it(package: str) -> None:
    """Not from one that imports it: ``from lgae.pipeline import TrainSettings`` must not load the
    training module (and torch) when the settings' own module has none."""
    misplaced = [
        f"{module}.{name}"
        for module, name in sources(_directory(package) / "__init__.py", package)
        if not (PACKAGE.parent.joinpath(*module.split(".")).with_suffix(".py")).is_file()
        or name not in defined_names(PACKAGE.parent.joinpath(*module.split(".")).with_suffix(".py"))
    ]
    assert not misplaced, f"{package} takes names from a module that does not define them: {misplaced}"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_exported_name_hides_a_module(package: str) -> None:
    """``from lgae.group import lorentz`` must give the module, whatever the package exports."""
    module = importlib.import_module(package)
    directory = _directory(package)
    submodules = {p.stem for p in directory.glob("*.py")} | {
        p.parent.name for p in directory.glob("*/__init__.py")
    }
    for name in set(module.__all__) & submodules:
        assert getattr(module, name) is importlib.import_module(f"{package}.{name}"), f"{package}.{name}"


def test_the_cli_exports_its_entry_point_and_every_subcommand() -> None:
    cli = importlib.import_module(CLI)
    commands = {p.stem for p in _directory(CLI).glob("*.py") if "add" in public_names(p)}
    assert {"main", "parser", *commands} <= set(cli.__all__)
    assert {add.__module__.rsplit(".", 1)[1] for add in cli.SUBCOMMANDS} == commands


def test_the_library_imports_neither_the_pipeline_nor_its_dependencies() -> None:
    """Also through the top package's exports (``lgae.build``...), which must stay within the library."""
    loaded = _run(
        "import json, sys\n"
        f"import {', '.join(LIBRARY)}\n"
        "import lgae\n"
        "for name in lgae.__all__: getattr(lgae, name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY]
    above = [
        m for m in loaded if m.split(".")[:2] in (["lgae", "pipeline"], ["lgae", "paper"], ["lgae", "cli"])
    ]
    assert not heavy, f"the library imports {heavy}"
    assert not above, f"the library (or lgae's exports) imports a layer above it: {above}"
    assert "lgae.models.lgae" in loaded  # the check ran: the models were imported


def test_the_lazy_packages_load_their_names_on_first_use() -> None:
    loaded = _run(
        "import json, sys\n"
        f"import {', '.join(LAZY)}\n"
        "before = sorted(sys.modules)\n"
        "from lgae.pipeline import train\n"
        "print(json.dumps({'before': before, 'after': sorted(sys.modules)}))\n"
    )
    before, after = set(loaded["before"]), set(loaded["after"])
    assert not {m for m in before if m.split(".")[0] in ("torch", *HEAVY)}
    assert not {m for m in before if m.startswith("lgae.") and m not in LAZY}
    assert "lgae.pipeline.training" in after
    assert not {m for m in after if m.split(".")[0] == "matplotlib"}, "training pulled in the plots"


def test_lazy_exports() -> None:
    from lgae.pipeline import training

    pipeline = importlib.import_module("lgae.pipeline")
    assert pipeline.train is training.train
    assert "train" in dir(pipeline)
    with pytest.raises(AttributeError, match=r"lgae\.pipeline.*no_such_name"):
        pipeline.no_such_name  # noqa: B018
    with pytest.raises(ValueError, match=r"'x' is exported by both \.a and \.b"):
        lgae.lazy_exports("lgae", {".a": ["x"], ".b": ["x"]})


def test_the_export_check_sees_a_missing_name(tmp_path: Path) -> None:
    """A negative control: a public function that ``__all__`` lacks is found; private ones and a module's
    own ``__all__`` are respected."""
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "shapes.py").write_text(
        "def cube():\n    pass\n\n\ndef _helper():\n    pass\n\n\nclass Ball:\n    pass\n"
    )
    (tmp_path / "steps.py").write_text(
        '__all__ = ["run"]\n\n\ndef run():\n    pass\n\n\ndef step():\n    pass\n'
    )
    assert unexported(tmp_path, {"Ball"}) == ["shapes.cube", "steps.run"]
    assert unexported(tmp_path, {"Ball", "cube", "run"}) == []
