"""`lgae predict`'s defaults: the inference batch size has one definition."""

from __future__ import annotations

import inspect
from pathlib import Path

from lgae.io import read_yaml
from lgae.pipeline.inference import predict_class
from lgae.pipeline.settings import INFERENCE_BATCH_SIZE

REPO = Path(__file__).resolve().parents[2]


def test_the_inference_batch_size_has_one_default_the_one_the_papers_config_gives(subcommand):
    """`lgae predict --batch-size` said 256 while evaluation.batch_size (a GPU's) and predict_class said
    1024; the CPU configurations give theirs explicitly."""
    predict = {action.dest: action for action in subcommand("predict")._actions}
    assert predict["batch_size"].default == INFERENCE_BATCH_SIZE
    assert inspect.signature(predict_class).parameters["batch_size"].default == INFERENCE_BATCH_SIZE
    assert read_yaml(REPO / "config" / "config.yaml")["evaluation"]["batch_size"] == INFERENCE_BATCH_SIZE
    for name in ("quick.yaml", "cpu.yaml"):
        assert read_yaml(REPO / "config" / name)["evaluation"]["batch_size"] == 256, name
