"""deploy/real_photos.py rebuilds the grown real-photo set from repository snapshots, byte for byte."""

import csv
import importlib.util
import io
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "real_photos.py"
spec = importlib.util.spec_from_file_location("real_photos", SCRIPT)
real_photos = importlib.util.module_from_spec(spec)
spec.loader.exec_module(real_photos)


def _snapshot(tmp_path: Path) -> tuple[Path, str]:
    """A bare git directory laid out as the fetch tool leaves one, holding one photo; and its commit."""
    work = tmp_path / "work"
    (work / "samples").mkdir(parents=True)
    pixels = np.zeros((60, 80, 3), np.uint8)
    pixels[10:50, 30:40] = 255
    Image.fromarray(pixels).save(work / "samples" / "one.png")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(work)]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "photo"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    commit = head.stdout.strip()
    mirror = tmp_path / "mirror" / "someone+digits"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(mirror / "repo.git")], check=True)
    return tmp_path / "mirror", commit


def test_a_manifest_is_rebuilt_from_snapshots_step_by_step(tmp_path):
    mirrors, commit = _snapshot(tmp_path)
    manifest = tmp_path / "manifest.csv"
    source = {"digits": "1", "n_digits": "1", "kind": "drawn", "source_repo": "someone/digits",
              "source_path": "samples/one.png", "source_commit": commit, "notes": ""}
    rows = [{**source, "file": "images/a_1.png", "transform": "none"},
            {**source, "file": "images/a_2.png", "transform": "crop=20,0,60,60;max=20"}]
    with open(manifest, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=real_photos.FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "set"
    real_photos.main(["--mirrors", str(mirrors), "rebuild", "--manifest", str(manifest), "--out", str(out)])
    original = subprocess.run(["git", "--git-dir", str(mirrors / "someone+digits" / "repo.git"), "show",
                               f"{commit}:samples/one.png"], capture_output=True, check=True).stdout
    assert (out / "images" / "a_1.png").read_bytes() == original  # "none": the bytes as stored
    cropped = Image.open(out / "images" / "a_2.png")
    assert cropped.size == (13, 20)  # 40 × 60 cut out, then its long side shrunk to 20
    assert np.asarray(cropped.convert("L"))[5:15, 4:6].min() > 200  # the stroke, a third of the way in
    with open(out / "labels.csv", newline="") as handle:
        assert [r["file"] for r in csv.DictReader(handle)] == ["images/a_1.png", "images/a_2.png"]


def test_a_missing_snapshot_names_what_to_fetch(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(",".join(real_photos.FIELDS) + "\nimages/x.png,1,1,photo,nobody/nothing,a.png,"
                        + "0" * 40 + ",none,\n")
    try:
        real_photos.main(["--mirrors", str(tmp_path), "rebuild", "--manifest", str(manifest),
                          "--out", str(tmp_path / "out")])
    except SystemExit as stop:
        assert "github:nobody/nothing" in str(stop)
    else:
        raise AssertionError("a manifest whose snapshot is missing was rebuilt")


def test_the_exif_step_turns_a_photo_upright():
    buffer = io.BytesIO()
    image = Image.new("RGB", (40, 20), "white")
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    image.save(buffer, "JPEG", exif=exif)
    upright = Image.open(io.BytesIO(real_photos.apply_spec(buffer.getvalue(), "exif", Path("x.png"))))
    assert upright.size == (20, 40)
