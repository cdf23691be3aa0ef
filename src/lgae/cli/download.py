"""``lgae download``: download the JetNet 30-particle class files from Zenodo (verified by MD5)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from lgae.cli.common import classes
from lgae.errors import LGAEError
from lgae.names import CLASSES

log = logging.getLogger("lgae")


def _md5_pairs(values: Sequence[str]) -> dict[str, str]:
    pairs = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or len(value) != 32:
            raise LGAEError(
                f"--md5 {item!r}: expected CLASS=<32 hex digits>, e.g. g=0123456789abcdef0123456789abcdef"
            )
        pairs[key] = value
    return pairs


def add(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "download",
        help="download the JetNet 30-particle class files from Zenodo (verified by MD5)",
        description=(
            "Reads: the Zenodo record (network), or nothing if a verified file is already in place. "
            "Writes: <out-dir>/<class>.hdf5 (JetNet layout) and <class>.hdf5.md5 (the verified checksum)."
        ),
    )
    p.add_argument("--classes", nargs="+", default=list(CLASSES), help="jet classes (default: all five)")
    p.add_argument("--out-dir", type=Path, required=True, help="directory for the class files")
    p.add_argument("--record", type=int, default=None, help="Zenodo record id (default: 6975118, JetNet-30)")
    p.add_argument(
        "--api-url", default=None, help="Zenodo records API (default: https://zenodo.org/api/records)"
    )
    p.add_argument(
        "--md5", nargs="*", default=[], metavar="CLASS=MD5", help="expected checksums (skip the API)"
    )
    p.add_argument("--timeout", type=float, default=60.0, help="network timeout in seconds")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> None:
    from lgae.pipeline.data import download

    paths = download.download(
        classes(args.classes),
        args.out_dir,
        record=args.record or download.JETNET30_RECORD,
        api_url=args.api_url or download.ZENODO_API,
        md5=_md5_pairs(args.md5),
        timeout=args.timeout,
    )
    for path in paths:
        log.info("ready: %s", path)
