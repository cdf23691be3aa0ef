"""The ``lgae`` command: one subcommand per pipeline step, each runnable without Snakemake.

Every subcommand says in ``--help`` what it reads and what it writes. Errors caused by the user's
input (missing or corrupt files, bad config values) are printed as one clear message, exit code 2.

Exported: :func:`main` (the ``lgae`` console script), :func:`parser` and the subcommands' modules, each
with its ``add`` (the subparser) and ``run`` (the step); :mod:`~lgae.cli.common` holds what several of
them share. The subcommands are imported with this package, since the parser needs every one of them;
the library and the pipeline never import the CLI.
"""

from __future__ import annotations

import argparse
import errno
import logging
import sys
from collections.abc import Callable, Sequence

from lgae.cli import claims, download, evaluate, figure, generate, predict, preprocess, table, train
from lgae.errors import LGAEError

__all__ = [
    "SUBCOMMANDS",
    "claims",
    "download",
    "evaluate",
    "figure",
    "generate",
    "main",
    "parser",
    "predict",
    "preprocess",
    "table",
    "train",
]

#: the subcommands, in the order of the pipeline
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    download.add,
    generate.add,
    preprocess.add,
    train.add,
    predict.add,
    evaluate.add,
    figure.add,
    table.add,
    claims.add,
]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="lgae",
        description="Lorentz group equivariant autoencoders: the steps of the reproduction pipeline.",
    )
    top.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return top


def _os_error(exc: OSError) -> str:
    """An operating-system error in one line: the path, what went wrong, what to check."""
    where = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    what = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        return f"{where or 'an output'}: {what}; free space on that disk (or write elsewhere) and rerun"
    return f"{where}: {what}; check that the path exists, is writable and has free space" if where else what


def _one_line(text: str) -> str:
    """A message in one line: a list under a heading (a config's errors) joined with semicolons."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else ""
    head, rest = lines[0], "; ".join(lines[1:])
    return f"{head} {rest}" if head.endswith(":") else f"{head}; {rest}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        args.handler(args)
    except LGAEError as exc:
        print(f"lgae {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path the user gave: unwritable, a file where a folder should be, disk full
        print(f"lgae {args.command}: error: {_one_line(_os_error(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lgae {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
