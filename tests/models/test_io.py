"""Model files: a round trip gives the same model; files that could run code are refused."""

from __future__ import annotations

import os

import pytest
import torch

from lgae.models import build
from lgae.models.io import ModelFileError, load_model, save_model

SMALL = {"encoder_channels": [2, 2], "decoder_channels": [2, 2], "num_basis": 4}


def _meta(dtype: str) -> dict:
    return {"settings": {"dtype": dtype, "model": "lgae-mix"}, "epochs": 3, "torch": torch.__version__}


@pytest.mark.parametrize(
    ("name", "options", "dtype"), [("lgae-mix", SMALL, "float64"), ("cnnae", {}, "float32")]
)
def test_round_trip_gives_the_same_outputs(qcd_jets, tmp_path, name, options, dtype):
    p4, mask = qcd_jets
    torch.manual_seed(0)
    model = build(name, **options).to(getattr(torch, dtype)).eval()
    path = tmp_path / "model.pt"
    save_model(path, model, _meta(dtype))
    loaded, meta = load_model(path)
    assert meta["epochs"] == 3
    assert next(loaded.parameters()).dtype == getattr(torch, dtype)
    x = p4[:8].to(getattr(torch, dtype))
    with torch.no_grad():
        assert torch.equal(loaded(x, mask[:8]), model(x, mask[:8]))


class _Payload:
    """Unpickling this runs os.system: what a malicious model file would do."""

    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_file_carrying_a_pickled_callable_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "model.pt"
    torch.save({"state_dict": {}, "name": "lgae-mix", "hyperparameters": {}, "settings": _Payload()}, path)
    with pytest.raises(ModelFileError, match="refusing to load"):
        load_model(path)
    assert not (tmp_path / "pwned").exists()


def test_missing_and_corrupt_files_name_the_file(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        load_model(tmp_path / "absent.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(ModelFileError, match=r"bad\.pt"):
        load_model(bad)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(ModelFileError, match="not a model file"):
        load_model(other)


@pytest.mark.parametrize("content", [b"hello", b"e" * 64, b"PK\x03\x04 not a zip"])
def test_a_text_or_foreign_file_is_one_clear_error(tmp_path, content):
    """`hello` used to end in a KeyError traceback from the unpickler."""
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with pytest.raises(
        ModelFileError, match=r"model\.pt: not a readable model file .*delete it and rerun the train step"
    ):
        load_model(path)
