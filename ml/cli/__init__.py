"""``python -m ml``: train, evaluate, benchmark, ablate, read, and the reading study's pages, per the
contract in DESIGN.md. A thin layer: each handler parses nothing itself, calls one function of ``ml``
and prints what it returns. The words are in ``parser``; the handlers in ``models``, ``reading``,
``pages`` and ``study``.

>>> main(["evaluate", "no-such-file.pt"])
2
"""

from __future__ import annotations

import importlib
import shlex
import sys

from ml.data import DataNotFoundError
from ml.models.checkpoint import CheckpointError

from .parser import build_parser


def command_line(argv: list[str] | None) -> str:
    """The command as typed, for the files it writes to record.

    >>> command_line(["read", "a photo.jpg"])
    "python -m ml read 'a photo.jpg'"
    """
    return "python -m ml " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))


def main(argv: list[str] | None = None) -> int:
    """Run one ``python -m ml`` command; its exit code (2 for a checkpoint or MNIST that cannot be used).

    >>> main(["evaluate", "no-such-file.pt"])
    2
    """
    args = build_parser().parse_args(argv)
    args.command_line = command_line(argv)
    module, function = args.handler.split(":")
    handler = getattr(importlib.import_module(f"ml.cli.{module}"), function)
    try:
        return handler(args)
    except (CheckpointError, DataNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
