"""What the uploads' admin pages show beyond raw fields: the image itself, a correction's boxes drawn on it
and cut out of it, and the reading's JSON as tables, so that staff judge a correction by looking.

Images are linked at the site's own addresses (``/r/<id>/original.image`` …), which check who may see them
(the owner, or staff); there is no public media URL. Boxes are placed in percent of the original's pixels,
as on the result page, so they sit right at any size; a crop is the original shown as a CSS background,
scaled and shifted so that the box (with a margin round it) fills a small tile.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from web.uploads.corrections import ADD, NOT_A_DIGIT
from web.uploads.models import Upload

CROP_HEIGHT_PX = 72  # a cut-out box is shown this tall, its width following the box
CROP_MARGIN = 0.25  # context round a cut-out box, as a share of its larger side


def image_url(upload: Upload, kind: str) -> str:
    """The site's own address of one of the upload's images (``original``, ``annotated``, ``screen``,
    ``thumbnail``), which lets its owner and staff see it."""
    return reverse("upload-file", args=[upload.id, kind])


def image_links(upload: Upload) -> list[tuple[str, str]]:
    """(label, address) of the result page and every image the upload has."""
    links = [(_("result page"), reverse("result", args=[upload.id]))]
    if upload.image:
        links.append((_("original"), image_url(upload, "original")))
    if upload.annotated_image:
        links.append((_("annotated, full size"), image_url(upload, "annotated")))
    if upload.screen_image:
        links.append((_("annotated, screen size"), image_url(upload, "screen")))
    if upload.thumbnail:
        links.append((_("thumbnail"), image_url(upload, "thumbnail")))
    return links


def _percent(value: float, whole: int) -> str:
    return f"{100 * value / whole:.3f}%"


def box_style(box: list[int], upload: Upload) -> str:
    """CSS placing ``box`` (x, y, w, h in the original's pixels) over the image, in percent."""
    x, y, w, h = box
    return (f"left:{_percent(x, upload.width)};top:{_percent(y, upload.height)};"
            f"width:{_percent(w, upload.width)};height:{_percent(h, upload.height)}")


def crop_style(box: list[int], upload: Upload) -> str:
    """CSS for a tile showing the part of the original inside ``box`` and a margin round it.

    >>> u = Upload(width=200, height=100)
    >>> crop_style([50, 25, 20, 40], u).split(";")[:2]
    ['width:42px', 'height:72px']
    """
    x, y, w, h = box
    pad = CROP_MARGIN * max(w, h)
    left, top = max(0.0, x - pad), max(0.0, y - pad)
    right, bottom = min(upload.width, x + w + pad), min(upload.height, y + h + pad)
    cw, ch = max(right - left, 1), max(bottom - top, 1)
    width = max(8, round(CROP_HEIGHT_PX * cw / ch))
    # background-position in percent: 0 % puts the image's left edge at the tile's, 100 % its right edge.
    px = 100 * left / (upload.width - cw) if upload.width > cw else 0
    py = 100 * top / (upload.height - ch) if upload.height > ch else 0
    return (f"width:{width}px;height:{CROP_HEIGHT_PX}px;"
            f"background-size:{100 * upload.width / cw:.3f}% {100 * upload.height / ch:.3f}%;"
            f"background-position:{px:.3f}% {py:.3f}%")


def _placeable(upload: Upload) -> bool:
    return bool(upload.image and upload.width and upload.height)


def _marks(operations: list[dict], digits: list[dict]) -> tuple[dict[int, dict], list[dict]]:
    """What a correction makes of each box read (by index) and the digits it adds, each with its label."""
    changed, added = {}, []
    for op in operations:
        if op["op"] == ADD:
            added.append({"box": op.get("box"), "label": f"+{op['digit']}", "kind": "add"})
        elif 0 <= op["index"] < len(digits):
            if op["op"] == NOT_A_DIGIT:
                label, kind = f"{op['read']}→×", "reject"
            elif op["digit"] == op["read"]:
                label, kind = f"{op['read']} ✓", "confirm"
            else:
                label, kind = f"{op['read']}→{op['digit']}", "relabel"
            changed[op["index"]] = {"label": label, "kind": kind}
    return changed, added


def correction_figure(upload: Upload, operations: list[dict], lines: list[str]) -> str:
    """The original with every box read drawn on it (numbered; those the correction changes in colour,
    with what it makes of them), and each change beside a crop of its box."""
    digits = upload.digits or []
    changed, added = _marks(operations, digits)
    placeable = _placeable(upload)
    boxes = []
    for i, digit in enumerate(digits):
        mark = changed.get(i)
        boxes.append({"style": box_style(digit["box"], upload) if placeable else "",
                      "label": mark["label"] if mark else str(i + 1),
                      "kind": mark["kind"] if mark else "read"})
    boxes += [{"style": box_style(a["box"], upload), "label": a["label"], "kind": a["kind"]}
              for a in added if a["box"] and placeable]
    # Each change in words (presenters.change_lines, one per operation, in their order) with its box.
    change_boxes = [op.get("box") if op["op"] == ADD
                    else (digits[op["index"]]["box"] if op["index"] < len(digits) else None)
                    for op in operations]
    changes = [{"text": text, "crop": crop_style(box, upload) if box and placeable else ""}
               for text, box in zip(lines, change_boxes)]
    return render_to_string("admin/uploads/_correction_figure.html", {
        "image": image_url(upload, "original") if upload.image else "", "placeable": placeable,
        "width": upload.width, "height": upload.height,
        # Shown 720 px wide at most, and at most 60 % of the window's height (a tall phone photo).
        "ratio": f"{upload.width / upload.height:.4f}" if placeable else "1",
        "boxes": [b for b in boxes if b["style"]], "changes": changes,
        "result": reverse("result", args=[upload.id])})


def upload_figure(upload: Upload) -> str:
    """The upload as read (the annotated image at screen size, else the original), with its links."""
    shown = next((k for k, f in (("screen", upload.screen_image), ("annotated", upload.annotated_image),
                                 ("original", upload.image)) if f), None)
    return render_to_string("admin/uploads/_upload_figure.html", {
        "image": image_url(upload, shown) if shown else "", "links": image_links(upload)})


def thumbnail_html(upload: Upload) -> str:
    """A small picture of the upload for the lists (its thumbnail, else nothing)."""
    if not upload.thumbnail:
        return "—"
    return render_to_string("admin/uploads/_thumbnail.html", {
        "src": image_url(upload, "thumbnail"), "href": reverse("result", args=[upload.id])})


def digits_table(upload: Upload) -> str:
    """The digits read, one row each: number, digit, confidence, line, box, uncertain, alternatives."""
    rows = [{"number": i + 1, "digit": d.get("digit"), "confidence": 100 * float(d.get("confidence") or 0),
             "line": d.get("line", 0) + 1, "box": ", ".join(map(str, d.get("box") or [])),
             "uncertain": d.get("uncertain"),
             "alternatives": _(", ").join(f"{a.get('digit')} ({100 * float(a.get('confidence') or 0):.1f} %)"
                                       for a in d.get("alternatives") or [])}
            for i, d in enumerate(upload.digits or [])]
    return render_to_string("admin/uploads/_digits.html", {"rows": rows}) if rows else "—"


def lines_list(upload: Upload) -> str:
    """Each line read, as written (separators in place), numbered."""
    shown = upload.display or upload.lines or []
    return render_to_string("admin/uploads/_lines.html", {"lines": shown}) if shown else "—"


def timings_table(timings: dict | None) -> str:
    """Milliseconds per stage of the reading, and their sum."""
    if not timings:
        return "—"
    names = {"decode": _("decoding the image"), "segment": _("finding the digits"),
             "classify": _("reading the digits")}
    rows = [(names.get(name, name), float(ms)) for name, ms in timings.items()
            if isinstance(ms, (int, float))]
    return render_to_string("admin/uploads/_timings.html",
                            {"rows": rows, "total": sum(ms for _name, ms in rows)})


def token_hint(token: str) -> str:
    """An anonymous session's token, shortened: enough to tell two sessions apart, not enough to be one.

    >>> token_hint("abcdefghijklmnop")
    'abcd…'
    """
    return f"{token[:4]}…" if token else "—"
