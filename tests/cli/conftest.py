"""What the tests of the command line share."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest

from lgae.cli import parser


@pytest.fixture
def subcommand() -> Callable[[str], argparse.ArgumentParser]:
    """The parser of one `lgae` subcommand, by name."""
    commands = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices.__getitem__
