#!/usr/bin/env python3
"""Rebuild the grown real-photo development set from public repositories, image by image.

The images themselves are never committed: `docs/datasets/real-photos-more.csv` names each one (its
repository, path and commit, how it was cut, its label and what it shows), and this script rebuilds
the folder from snapshots of those repositories (fetched with the workplace's `fetch` tool, which
leaves bare git directories under <mirrors>/<owner>+<name>/; <mirrors> is $DIGITSCAN_MIRRORS, else
`.mirror` beside the checkout, where that tool puts them). The folder it writes has the layout
of ../shared/datasets/real-photos-dev (images/ and labels.csv), so `python -m ml score-set DIR` reads
either.

    python deploy/real_photos.py rebuild [--manifest docs/datasets/real-photos-more.csv]
                                         [--mirrors DIR] [--out var/datasets/real-photos-more]
    python deploy/real_photos.py extract --repo OWNER/NAME --commit SHA --path P --spec SPEC --out FILE

A spec is a list of steps separated by ';', applied in order to the file as stored:
  none                  the file's bytes as they are (the output keeps the source's extension)
  exif                  apply the EXIF orientation to the pixels
  crop=x0,y0,x1,y1      keep that rectangle (pixels of the image as it is at that step)
  max=N                 shrink so that the longest side is at most N pixels (area resampling)
Any spec other than `none` is saved as PNG, or as JPEG quality 92 when the output name ends .jpg.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "docs" / "datasets" / "real-photos-more.csv"
FIELDS = ["file", "digits", "n_digits", "kind", "source_repo", "source_path", "source_commit",
          "transform", "notes"]


def git_dir(mirrors: Path, repo: str) -> Path:
    """The bare git directory of a fetched repository snapshot under `mirrors`."""
    base = mirrors / repo.replace("/", "+")
    if not base.exists():
        raise SystemExit(f"{repo}: no snapshot at {base} (fetch github:{repo} first)")
    for head in sorted(base.rglob("HEAD")):
        if (head.parent / "objects").is_dir():
            return head.parent
    raise SystemExit(f"{repo}: no git directory under {base}")


def blob(mirrors: Path, repo: str, commit: str, path: str) -> bytes:
    out = subprocess.run(["git", "--git-dir", str(git_dir(mirrors, repo)), "show", f"{commit}:{path}"],
                         capture_output=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{repo}@{commit[:10]}:{path}: {out.stderr.decode(errors='replace').strip()}")
    return out.stdout


def apply_spec(data: bytes, spec: str, out: Path) -> bytes:
    """The bytes of `out` made from a source file's bytes by the steps of `spec`."""
    steps = [s.strip() for s in spec.split(";") if s.strip()]
    if steps in ([], ["none"]):
        return data
    from PIL import Image, ImageOps

    image = Image.open(io.BytesIO(data))
    image.load()
    for step in steps:
        name, _, arg = step.partition("=")
        if name == "exif":
            image = ImageOps.exif_transpose(image)
        elif name == "crop":
            x0, y0, x1, y1 = (int(v) for v in arg.split(","))
            image = image.crop((x0, y0, x1, y1))
        elif name == "max":
            limit = int(arg)
            scale = limit / max(image.size)
            if scale < 1:
                size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
                image = image.resize(size, Image.Resampling.BOX)
        else:
            raise SystemExit(f"unknown step {step!r} in spec {spec!r}")
    buffer = io.BytesIO()
    if out.suffix.lower() in (".jpg", ".jpeg"):
        image.convert("RGB").save(buffer, "JPEG", quality=92)
    else:
        image.save(buffer, "PNG")
    return buffer.getvalue()


def extract(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(apply_spec(blob(Path(args.mirrors), args.repo, args.commit, args.path), args.spec, out))
    print(out)


def rebuild(args: argparse.Namespace) -> None:
    out = Path(args.out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    with open(args.manifest, newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = sorted({r["source_repo"] for r in rows
                      if not (Path(args.mirrors) / r["source_repo"].replace("/", "+")).exists()})
    if missing:
        raise SystemExit("fetch these repositories first: " + ", ".join(f"github:{m}" for m in missing))
    for n, row in enumerate(rows, 1):
        data = blob(Path(args.mirrors), row["source_repo"], row["source_commit"], row["source_path"])
        target = out / row["file"]
        target.write_bytes(apply_spec(data, row["transform"], target))
        print(f"[{n}/{len(rows)}] {row['file']}", file=sys.stderr)
    with open(out / "labels.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows({k: r[k] for k in FIELDS} for r in rows)
    print(f"{len(rows)} images, {sum(int(r['n_digits']) for r in rows)} digits in {out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mirrors = os.environ.get("DIGITSCAN_MIRRORS", str(ROOT.parent / ".mirror"))
    parser.add_argument("--mirrors", default=mirrors, help="where fetched snapshots lie")
    sub = parser.add_subparsers(dest="verb", required=True)
    r = sub.add_parser("rebuild", help="write every image of the manifest, and labels.csv")
    r.add_argument("--manifest", default=str(MANIFEST))
    r.add_argument("--out", default=str(ROOT / "var" / "datasets" / "real-photos-more"))
    e = sub.add_parser("extract", help="write one image from a snapshot by a spec")
    for name in ("--repo", "--commit", "--path", "--spec", "--out"):
        e.add_argument(name, required=True)
    args = parser.parse_args(argv)
    (rebuild if args.verb == "rebuild" else extract)(args)


if __name__ == "__main__":
    main()
