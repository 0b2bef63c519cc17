"""``read``: the digits of images, as text or as one JSON object per image (DESIGN.md's contract)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

from ml.models.checkpoint import load_checkpoint
from ml.paths import DEFAULT_CHECKPOINT
from ml.reading.annotate import annotate
from ml.reading.decode import ImageError, decode_image
from ml.reading.reader import TooDenseError, read
from ml.reading.result import Reading


def cmd_read(args: argparse.Namespace) -> int:
    model = load_checkpoint(args.checkpoint or DEFAULT_CHECKPOINT)
    failures = 0
    for name in args.images:
        try:
            image = decode_image(Path(name).read_bytes())
        except (OSError, ImageError) as exc:
            print(f"error: {name}: {exc.strerror if isinstance(exc, OSError) else exc}", file=sys.stderr)
            failures += 1
            continue
        try:
            reading = read(image, model=model)
        except TooDenseError as exc:
            print(f"error: {name}: {exc}", file=sys.stderr)
            failures += 1
            continue
        annotated_path = None
        if args.annotate:
            folder = Path(args.annotate)
            folder.mkdir(parents=True, exist_ok=True)
            annotated_path = folder / f"{Path(name).stem}.annotated.png"
            cv2.imwrite(str(annotated_path), annotate(image, reading))
        _print(name, reading, annotated_path, as_json=args.json)
    if failures:
        print(f"{failures} of {len(args.images)} file(s) could not be read", file=sys.stderr)
    return 1 if failures else 0


def _print(name: str, reading: Reading, annotated_path: Path | None, *, as_json: bool) -> None:
    if as_json:
        record = {"file": name, **reading.to_dict()}
        if annotated_path:
            record["annotated"] = str(annotated_path)
        print(json.dumps(record), flush=True)
        return
    print(f"{name}: {reading.text or '(no digits found)'}")
    for line in reading.lines:
        print("  " + " ".join(f"{d.digit}{'?' if d.uncertain else ''}({d.confidence:.2f})" for d in line))
    if annotated_path:
        print(f"  annotated image: {annotated_path}")
