"""Jets: the JetNet layout, download, Pythia generation, preprocessing to 4-momenta, jet images."""

from __future__ import annotations
