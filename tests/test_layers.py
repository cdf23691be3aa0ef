"""The package's layers: each imports only from itself and the layers below it, so that the tree shows
the architecture (src/lgae/__init__.py) and the library can be used without the pipeline."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "lgae"
#: the layers from the bottom up; a module's layer is that of the first name of its path under lgae
LAYERS: tuple[tuple[str, ...], ...] = (
    ("names", "errors", "io"),  # shared by every layer
    ("group", "jets", "nn", "models", "losses", "equivariance"),  # the equivariant library
    ("pipeline",),
    ("paper",),
    ("cli", "__main__"),
)
#: modules at the top of src/lgae (the issue's bound: the rest lives in packages)
MAX_TOP_LEVEL_MODULES = 8


def _layer(parts: tuple[str, ...]) -> int:
    head = parts[0] if parts else "__init__"
    if head == "__init__":
        return 0
    for index, names in enumerate(LAYERS):
        if head in names:
            return index
    raise AssertionError(f"lgae.{'.'.join(parts)} belongs to no layer: add it to LAYERS")


def _lgae_imports(path: Path) -> list[tuple[str, ...]]:
    """The lgae modules a file imports (absolute imports, at any depth of the file)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
        else:
            continue
        found += [tuple(m.split(".")[1:]) for m in modules if m == "lgae" or m.startswith("lgae.")]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_from_a_layer_above_its_own(path: Path) -> None:
    own = _layer(path.relative_to(PACKAGE).with_suffix("").parts)
    above = [".".join(("lgae", *parts)) for parts in _lgae_imports(path) if parts and _layer(parts) > own]
    assert not above, f"{path.relative_to(PACKAGE)} (layer {own}) imports from a layer above: {above}"


def test_the_top_of_the_package_holds_few_modules() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """A negative control: an import from the pipeline into a model module is found."""
    module = tmp_path / "bad.py"
    module.write_text("from lgae.pipeline.training import train\nimport lgae.paper.figures\n")
    layers = [_layer(parts) for parts in _lgae_imports(module)]
    assert layers == [2, 3]
    assert _layer(("models", "lgae")) < min(layers)
