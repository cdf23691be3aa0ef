"""File input and output shared by every step.

Output is atomic: written under a temporary name in the target directory, then renamed, so that an
interrupted step never leaves a half-written file under the final name, and Snakemake (or a rerun) sees
either the old file or the complete new one. :func:`atomic_paths` does the same for a set of files that
belong together (the class files of one prediction): they appear all together or not at all. An
operating-system error while writing (a full disk, say) names the file it was writing.

Input of YAML and JSON is strict: a key given twice in one mapping is an error, not "the last one wins"
(a config with two ``max_epochs`` would otherwise train with whichever came last, without a word).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from lgae.errors import ConfigError, DataError, LGAEError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only if the block succeeds."""
    with atomic_paths([path]) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike[str]]) -> Iterator[list[Path]]:
    """Temporary paths next to each of ``paths``, renamed onto them together once the block succeeds.

    Nothing is renamed before everything is written, so a failure leaves every target as it was.
    """
    targets = [Path(p) for p in paths]
    temporaries: list[Path] = []
    try:
        with _naming(targets[0] if targets else Path(".")):
            for target in targets:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
                os.close(fd)
                temporaries.append(Path(name))
                os.chmod(name, 0o666 & ~_umask())  # mkstemp creates 0600; the usual permissions
        try:
            yield temporaries
        except OSError as exc:
            raise _named(exc, targets) from exc
        for tmp, target in zip(temporaries, targets, strict=True):
            with _naming(target):
                os.replace(tmp, target)
    finally:
        for tmp in temporaries:
            if tmp.exists():
                tmp.unlink()


@contextlib.contextmanager
def _naming(target: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise _named(exc, [target]) from exc


def _named(exc: OSError, targets: Sequence[Path]) -> OSError:
    """``exc`` with the file it concerns: a write that fails on a full disk often names none."""
    if exc.filename is not None:
        return exc
    where = ", ".join(str(t) for t in targets)
    return OSError(exc.errno, exc.strerror or str(exc).splitlines()[0], where)


def write_json(path: str | os.PathLike[str], payload: Any) -> None:
    """Write ``payload`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -------------------------------------------------------------------------------------------- input
class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key {key!r} is given twice (lines {seen[key]} and {line}); keep one of them",
                    key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_text(path: str | os.PathLike[str], error: type[LGAEError] = DataError) -> str:
    """A text file's content as UTF-8; a missing, unreadable or non-UTF-8 file is one ``error`` naming it."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: file not found")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8") from exc
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def parse_yaml(text: str, where: str, error: type[LGAEError] = ConfigError) -> Any:
    """YAML ``text`` (from ``where``), with duplicate keys refused."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        at = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise error(f"{where}{at}: not valid YAML ({' '.join(str(problem).split())})") from exc


def read_yaml(path: str | os.PathLike[str], error: type[LGAEError] = ConfigError) -> Any:
    """A YAML file, UTF-8, with duplicate keys refused; every error names the file."""
    return parse_yaml(read_text(path, error), str(path), error)


def parse_json(text: str, where: str, error: type[LGAEError] = DataError) -> Any:
    """JSON ``text`` (from ``where``), with duplicate keys refused."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise error(f"{where}: the key(s) {twice} are given twice in one object; keep one of each")
        return dict(pairs)

    try:
        return json.loads(text, object_pairs_hook=unique)
    except json.JSONDecodeError as exc:
        raise error(f"{where}: not valid JSON ({exc})") from exc


def read_json(path: str | os.PathLike[str], error: type[LGAEError] = DataError) -> Any:
    """A JSON file, UTF-8, with duplicate keys refused; every error names the file."""
    return parse_json(read_text(path, error), str(path), error)
