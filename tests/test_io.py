"""Atomic outputs: complete or absent, never half-written, with ordinary permissions."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from pathlib import Path

import pytest

from lgae.errors import ConfigError, DataError
from lgae.io import atomic_path, atomic_paths, read_json, read_yaml, write_json


def test_interrupted_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:  # noqa: PT012 (the body is the point)
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_rewrite_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"version": 1})
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:  # noqa: PT012
        tmp.write_text("{")
        raise KeyboardInterrupt
    assert json.loads(target.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_atomic_output_has_normal_permissions(tmp_path):
    write_json(tmp_path / "a.json", {"x": 1})
    mode = stat.S_IMODE(os.stat(tmp_path / "a.json").st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


def test_files_that_belong_together_appear_all_together_or_not_at_all(tmp_path):
    """A predict step writes one file per class: a failure in the last one leaves none of the new ones,
    and the old set as it was."""
    targets = [tmp_path / f"{c}.h5" for c in "gqt"]
    for target in targets:
        target.write_text("old")
    with pytest.raises(RuntimeError), atomic_paths(targets) as temporaries:  # noqa: PT012
        temporaries[0].write_text("new")
        temporaries[1].write_text("new")
        raise RuntimeError("the last class failed")
    assert [t.read_text() for t in targets] == ["old"] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.h5", "q.h5", "t.h5"]
    with atomic_paths(targets) as temporaries:
        for tmp in temporaries:
            tmp.write_text("new")
    assert [t.read_text() for t in targets] == ["new"] * 3


def test_a_full_disk_names_the_file_being_written(tmp_path, capsys):
    """A write that fails with ENOSPC often carries no file name: the error names the output, and the
    command says it in one line."""
    from lgae import cli

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    target = tmp_path / "out" / "metrics.json"
    with pytest.raises(OSError, match="No space left on device") as error, atomic_path(target) as tmp:
        full(tmp)
    assert error.value.filename == str(target)
    assert not target.exists()
    # through the command line: `lgae table` writing its outputs on a full disk
    original = Path.write_text
    try:
        Path.write_text = full  # type: ignore[method-assign]
        code = cli.main(["table", "table2", "--source", "pythia", "--out-prefix", str(tmp_path / "t2")])
    finally:
        Path.write_text = original  # type: ignore[method-assign]
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert str(tmp_path / "t2.csv") in err[0]
    assert "No space left on device; free space on that disk" in err[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", "the key 'a' is given twice (lines 1 and 3)"),
        ("top:\n  x: 1\n  y: 2\n  x: 1\n", "the key 'x' is given twice (lines 2 and 4)"),
        ("a: [1, 2\n", "not valid YAML"),
    ],
)
def test_yaml_with_a_key_given_twice_is_refused(tmp_path, text, message):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)) as error:
        read_yaml(path)
    assert str(path) in str(error.value)
    assert "\n" not in str(error.value)


def test_non_utf8_and_missing_files_are_one_clear_error(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"data:\n  source: \xff\xfe\n")
    with pytest.raises(ConfigError, match=r"config\.yaml: not UTF-8 text \(byte 16"):
        read_yaml(path)
    with pytest.raises(ConfigError, match=r"missing\.yaml: file not found"):
        read_yaml(tmp_path / "missing.yaml")


def test_json_with_a_key_given_twice_is_refused(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text('{"model": {"latent": 2, "latent": 9}}')
    with pytest.raises(DataError, match=r"metrics\.json: the key\(s\) \['latent'\] are given twice"):
        read_json(path)
    path.write_text('{"model": {"latent": 2}}')
    assert read_json(path) == {"model": {"latent": 2}}


def test_every_yaml_file_of_the_project_reads_strictly():
    """The configs, the schema, the paper's numbers and the study's config: none has a key twice (the
    schema had one, `additionalProperties` of `models`, whose first value was silently dropped)."""
    from lgae.paper.published import NUMBERS_PATH

    root = Path(__file__).resolve().parents[1]
    files = [
        *sorted((root / "config").glob("*.yaml")),
        NUMBERS_PATH,
        root / "benchmarks/fidelity/config.yaml",
    ]
    files += sorted((root / "workflow" / "profiles").glob("*/config.yaml"))
    for path in files:
        assert read_yaml(path) is not None, path
