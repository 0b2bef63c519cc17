"""Weigh the annotated images (not a test): the old full-size PNG against the JPEG sized for the screen.

Reads every image of a folder with the shipped model as the worker does (``ml.read``, ``ml.annotate``),
encodes the annotated image as the worker stores it (``worker/images.py``: the full-size PNG, and the
screen JPEG, longest side 1,600 px, under 500 kB), and prints each file's bytes, then the median and
largest of each, the ratio screen JPEG / PNG (median and overall), and how many screen JPEGs are over
500 kB.

    .venv/bin/python deploy/measure_images.py [FOLDER]   # default ../shared/datasets/real-photos-dev/images
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT = ROOT.parent / "shared" / "datasets" / "real-photos-dev" / "images"


def measure(folder: Path) -> list[tuple[str, tuple[int, int], int, int]]:
    """(name, (width, height), PNG bytes, screen JPEG bytes) for each image in ``folder``."""
    from ml import annotate, load_checkpoint, read
    from ml.paths import DEFAULT_CHECKPOINT
    from ml.reading.decode import decode_image
    from worker.images import encode, screen_jpeg

    model = load_checkpoint(DEFAULT_CHECKPOINT)
    rows = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
        image = decode_image(path.read_bytes())
        annotated = annotate(image, read(image, model=model))
        rows.append((path.name, (image.shape[1], image.shape[0]), len(encode(annotated, ".png")),
                     len(screen_jpeg(annotated))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT,
                        help=f"images to read (default {DEFAULT})")
    args = parser.parse_args()
    rows = measure(args.folder)
    kb = 1024
    print(f"{'image':<28} {'size':>11} {'PNG kB':>8} {'JPEG kB':>8} {'ratio':>6}")
    for name, (w, h), png, jpeg in rows:
        print(f"{name:<28} {f'{w}x{h}':>11} {png / kb:8.0f} {jpeg / kb:8.0f} {jpeg / png:6.2f}")
    pngs, jpegs = [r[2] for r in rows], [r[3] for r in rows]
    print(f"\n{len(rows)} images")
    for what, sizes in (("full-size PNG (before)", pngs), ("screen JPEG (after)   ", jpegs)):
        print(f"{what}: median {statistics.median(sizes) / kb:.0f} kB, max {max(sizes) / kb:.0f} kB, "
              f"total {sum(sizes) / kb / kb:.1f} MB")
    ratios = [j / p for _, _, p, j in rows]
    print(f"ratio JPEG / PNG: median {statistics.median(ratios):.2f}, overall {sum(jpegs) / sum(pngs):.3f}, "
          f"JPEG larger than its PNG: {sum(r > 1 for r in ratios)}, JPEG over 500 kB: "
          f"{sum(j > 500 * kb for j in jpegs)}")


if __name__ == "__main__":
    main()
