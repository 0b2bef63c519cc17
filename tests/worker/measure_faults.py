"""Measure what each fault does to uploads: ``python -m tests.worker.measure_faults [--faults ...]``.

One private stack (tests/worker/stack.py: PostgreSQL, Redis, gunicorn, two inference workers, beat;
default delivery settings), then each fault in turn. Prints one line per fault — uploads lost (never
finished), failed, duplicated (read more than once), and recovery seconds (from the service's return to the
last upload done) — and writes them as JSON to ``--out`` if given. Not a test: takes about 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from tests.worker.faults import broker_outage, database_outage, worker_killed
from tests.worker.stack import Stack

FAULTS = {
    "db10": lambda stack: database_outage(stack, down_s=10),
    "db60": lambda stack: database_outage(stack, down_s=60),
    "redis10": lambda stack: broker_outage(stack, down_s=10),
    "redis60": lambda stack: broker_outage(stack, down_s=60, during=40),
    "redis10wiped": lambda stack: broker_outage(stack, down_s=10, wiped=True),
    "kill": lambda stack: worker_killed(stack, down_s=10),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", default=",".join(FAULTS), help="a comma-separated list of these")
    parser.add_argument("--out", type=Path, help="write the outcomes as JSON here")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="digitscan-measure-"))
    stack = Stack(root, workers=2)
    results = []
    try:
        for name in args.faults.split(","):
            result = FAULTS[name](stack)
            print(result.line(), flush=True)
            results.append(result.__dict__)
    finally:
        stack.close()
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
