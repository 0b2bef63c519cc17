"""An evaluation set: ``n`` pages (photo, clean or scenes) built from MNIST **test** digits, each
``page-NNNN.jpg`` (``.png`` for the clean tier) beside ``page-NNNN.json`` ground truth (lines, and per
digit its value, box, line and index in the MNIST test set). ``ml.study.score_pages`` reads and
scores them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2

from ml.data import load_mnist

from .photo import TIERS, make_page
from .scenes import KINDS, make_scene


def generate(out: str | Path, *, n: int, seed: int = 0, tier: str = "photo",
             progress: Callable[[int], None] | None = None, kinds: tuple[str, ...] | None = None) -> Path:
    """Write ``n`` pages with ground truth into ``out``; pages depend only on (seed, index, tier) and,
    for scenes, ``kinds`` (each in turn; all of :data:`ml.synth.scenes.KINDS` by default).

    >>> import json, tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = generate(tmp, n=2, seed=3, tier="clean")
    ...     truth = json.loads((Path(tmp) / "page-0001.json").read_text())
    ...     sorted(p.name for p in Path(tmp).iterdir()), truth["tier"]
    (['page-0000.json', 'page-0000.png', 'page-0001.json', 'page-0001.png'], 'clean')
    """
    assert tier in TIERS, f"tier must be one of {TIERS}, got {tier!r}"
    kinds = kinds or KINDS
    _, test = load_mnist()  # test digits only: the model never saw them
    images, labels = test.images.numpy(), test.labels.numpy()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        if tier == "scenes":
            page, truth, quality = make_scene(images, labels, seed=seed * 1_000_003 + i,
                                              kind=kinds[i % len(kinds)])
        else:
            page, truth, quality = make_page(images, labels, seed=seed * 1_000_003 + i, tier=tier)
        name = f"page-{i:04d}." + ("jpg" if quality else "png")
        params = [cv2.IMWRITE_JPEG_QUALITY, quality] if quality else []
        cv2.imwrite(str(out / name), page, params)
        (out / f"page-{i:04d}.json").write_text(json.dumps({"image": name, "tier": tier, **truth}))
        if progress:
            progress(i + 1)
    return out
