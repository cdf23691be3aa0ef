"""Jets for the model tests: Pythia-generated QCD jets as absolute 4-momenta (TeV)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from lgae.pipeline.data.jetnet_format import read_raw
from lgae.pipeline.data.preprocess import absolute_p4, draw_jet_phi


@pytest.fixture(scope="session")
def qcd_jets(generated_raw_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """64 gluon + 64 light-quark jets: p4 [128, 30, 4] float64 (TeV) and mask [128, 30].

    The quark jets with fewer than 30 particles come first, so that padding is always represented.
    """
    p4s, masks = [], []
    for jet_class in ("g", "q"):
        raw = read_raw(generated_raw_dir / f"{jet_class}.hdf5")
        p4, mask = absolute_p4(raw, draw_jet_phi(len(raw), 0, jet_class))
        order = np.argsort(mask.sum(axis=1), kind="stable")  # fewest particles first
        p4s.append(p4[order][:64])
        masks.append(mask[order][:64])
    p4 = torch.from_numpy(np.concatenate(p4s))
    mask = torch.from_numpy(np.concatenate(masks))
    assert (~mask).any(), "the sample should contain jets with fewer than 30 particles"
    return p4, mask


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """Model-test tensors are small: one intra-op thread is faster, and robust to a busy machine
    (a module may ask for more with its own fixture)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
