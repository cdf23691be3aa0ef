"""``python -m lgae`` is the ``lgae`` command (used by the Snakemake rules, which need no console script)."""

from __future__ import annotations

import sys

from lgae.cli import main

sys.exit(main())
