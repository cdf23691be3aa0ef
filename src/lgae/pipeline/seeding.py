"""Seeds derived deterministically from a base seed and a tuple of labels.

Every random choice in the pipeline (jet φ, splits, Pythia chunks, training subsets, weights) takes its
seed from here, so that a result depends on the configured seed and on nothing else (not on the number
of workers, not on the order jobs run in).
"""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(base: int, *labels: str | int, bits: int = 32) -> int:
    """A reproducible seed for the stream named by ``labels`` under the base seed ``base``."""
    key = "/".join(str(label) for label in labels).encode()
    digest = int.from_bytes(hashlib.sha256(key).digest()[:8], "little")
    seq = np.random.SeedSequence([int(base) & 0xFFFFFFFF, digest & 0xFFFFFFFF, digest >> 32])
    value = int(seq.generate_state(2, dtype=np.uint32).view(np.uint64)[0])
    return value % (1 << bits)


def rng(base: int, *labels: str | int) -> np.random.Generator:
    """A numpy generator for the stream named by ``labels``."""
    return np.random.default_rng(derive_seed(base, *labels, bits=63))
