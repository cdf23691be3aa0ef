"""The pipeline: data, training, inference, devices and the configuration that drives them."""

from __future__ import annotations
