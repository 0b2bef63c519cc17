"""The JSON shape of an upload, shared by the API and the result page (which polls the same endpoint), and
the words for a correction."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy, ngettext, pgettext
from django.utils.translation import gettext as _

from web.uploads.corrections import ADD, NOT_A_DIGIT, Correction, corrected_reading, training_counts
from web.uploads.models import Batch, Feedback, Upload
from web.uploads.selectors import batch_uploads, latest_correction

# A failed reading's message in the reader's language, by its stable code. The stored message is the
# worker's, in English and with details (seconds, counts, the exception): English readers get it as it is.
FAILURES = {
    "timeout": gettext_lazy("reading took too long and was stopped: a smaller image, cropped to the digits, "
                            "reads faster"),
    "too_dense": gettext_lazy("the image holds too many digit-like marks for one reading: crop it into parts "
                              "and send each"),
    "gave_up": gettext_lazy("reading was attempted several times and never finished"),
    "internal": gettext_lazy("reading failed on our side: send the image again"),
}


def failure_message(upload: Upload) -> str:
    """Why ``upload`` failed, in the active language (``upload.error_message`` in English)."""
    if (get_language() or "en").startswith("en") or upload.error_code not in FAILURES:
        return upload.error_message
    return str(FAILURES[upload.error_code])


def upload_as_dict(upload: Upload, request: HttpRequest) -> dict[str, Any]:
    """DESIGN.md's recognition object; image URLs point at the owner-checking file view."""
    def absolute(name: str, *args) -> str:
        return request.build_absolute_uri(reverse(name, args=args))

    error = {"code": upload.error_code, "message": failure_message(upload)} if upload.error_code else None
    return {
        "id": str(upload.id),
        "status": upload.status,
        "url": absolute("api-recognition-detail", upload.id),
        "page_url": absolute("result", upload.id),
        "name": upload.name,
        "source": upload.source,
        "text": upload.text,
        "lines": upload.lines,
        "digits": upload.digits,
        "display": upload.display or upload.lines,
        "marked": marked_lines(upload),
        "separators": upload.separators,
        "image_url": absolute("upload-file", upload.id, "original"),
        "annotated_image_url": (absolute("upload-file", upload.id, "annotated")
                                if upload.annotated_image else None),
        # Sized for a screen (JPEG); null for uploads read before it existed: show the full size then.
        "screen_image_url": absolute("upload-file", upload.id, "screen") if upload.screen_image else None,
        "thumbnail_url": absolute("upload-file", upload.id, "thumbnail") if upload.thumbnail else None,
        "model_version": upload.model_version.name if upload.model_version else None,
        "timings_ms": upload.timings,
        "attempts": upload.attempts,
        "created": upload.queued_at.isoformat(),
        "started": upload.started_at.isoformat() if upload.started_at else None,
        "finished": upload.finished_at.isoformat() if upload.finished_at else None,
        "error": error,
        "corrected": corrected_as_dict(upload),
    }


def batch_as_dict(batch: Batch, request: HttpRequest, *, items: bool = True) -> dict[str, Any]:
    """A batch as the API answers it: counts, links, and (``items``) each upload's recognition object."""
    def absolute(name: str) -> str:
        return request.build_absolute_uri(reverse(name, args=[batch.id]))

    uploads = list(batch_uploads(batch=batch)) if items else []
    if items:
        count, finished = len(uploads), sum(u.is_finished for u in uploads)
    else:  # batch_list_for's counts
        count, finished = getattr(batch, "size", 0), getattr(batch, "finished", 0)
    answer = {
        "id": str(batch.id), "url": absolute("api-batch-detail"), "page_url": absolute("batch"),
        "created": batch.created.isoformat(), "status": "done" if finished == count else "running",
        "count": count, "finished": finished,
        "export_csv_url": absolute("batch-csv"), "export_json_url": absolute("batch-json"),
    }
    if items:
        answer["items"] = [upload_as_dict(u, request) for u in uploads]
    return answer


def marked_lines(upload: Upload) -> list[str]:
    """Each line as written (separators in place), with ``?`` after every digit read as uncertain: how
    the text is shown wherever it appears (result, history, the correction box).

    >>> read = [[1, 5, 0, 0], [7]]
    >>> u = Upload(lines=["1500", "7"], display=["1.500", "7"], digits=[
    ...     {"digit": d, "line": n, "uncertain": d == 5} for n, ds in enumerate(read) for d in ds])
    >>> marked_lines(u)
    ['1.5?00', '7']
    """
    shown = upload.display or upload.lines or []
    per_line: dict[int, list[bool]] = {}
    for digit in upload.digits or []:
        per_line.setdefault(digit.get("line", 0), []).append(bool(digit.get("uncertain")))
    marked = []
    for number, line in enumerate(shown):
        flags, out = iter(per_line.get(number, [])), []
        for char in line:
            out.append(char + ("?" if char.isdigit() and next(flags, False) else ""))
        marked.append("".join(out))
    return marked


def marked_text(upload: Upload) -> str:
    """The reading's lines joined by spaces, digits only, ``?`` after each uncertain one (``4?2 17``)."""
    return " ".join("".join(c for c in line if c.isdigit() or c == "?") for line in marked_lines(upload))


def correction_of(upload: Upload, feedback: Feedback | None = None) -> Correction | None:
    """The reading as ``feedback`` (else the latest correction) leaves it; None when there is none, or
    when it puts everything back as read (no operations: the reading is the model's again)."""
    feedback = feedback or latest_correction(upload)
    if feedback is None or not feedback.operations:
        return None
    return corrected_reading(upload.digits or [], upload.separators or [], feedback.operations)


def corrected_as_dict(upload: Upload, feedback: Feedback | None = None) -> dict[str, Any] | None:
    """The corrected reading for the API and the result page: text, lines (digits only, as written, and
    with ``?`` marks), each digit with what changed, the boxes taken out, the operations, and what of it
    trains the next model; None before any correction. ``feedback``: that correction rather than the
    latest."""
    feedback = feedback or latest_correction(upload)
    fixed = correction_of(upload, feedback)
    if fixed is None:
        return None
    return {
        "feedback_id": feedback.id, "created": feedback.created.isoformat(), "accepted": feedback.accepted,
        "text": fixed.text, "lines": fixed.line_texts, "display": fixed.display, "marked": fixed.marked,
        "digits": [item.as_dict(n) for n, line in enumerate(fixed.lines) for item in line],
        "not_a_digit": fixed.rejected, "operations": feedback.operations,
        "training": training_counts(feedback.operations),
    }


def shown_text(upload: Upload, feedback: Feedback | None = None) -> str:
    """The digits the upload holds, as the correction box takes them: the corrected reading if there is
    one, else the model's, digits only with ``?`` after each still uncertain (``4?2 17``)."""
    fixed = correction_of(upload, feedback)
    return fixed.marked_text if fixed is not None else marked_text(upload)


def shown_lines(data: dict[str, Any]) -> list[str]:
    """The reading as every page shows it (result, batch, history; the exports' ``corrected``), from a
    recognition object: the model's lines as written (separators in place, ``?`` marks), or once
    corrected, the corrected digits line by line with their ``?`` marks. A correction says which digits
    an image holds, not where its dots are (typed text has none), so the model's separators are left out
    of it: the page never says "1,23.53" after its owner typed 12353."""
    if data.get("corrected"):
        return [only_digits(line) for line in data["corrected"]["marked"]]
    return list(data.get("marked") or [])


def only_digits(line: str) -> str:
    return "".join(c for c in line if c.isdigit() or c == "?")


def shown_reading(upload: Upload) -> str:
    """:func:`shown_lines` of an upload, joined by spaces (the history's cards)."""
    fixed = correction_of(upload)
    return fixed.marked_text if fixed is not None else " ".join(marked_lines(upload))


def training_summary(operations: list[dict]) -> str:
    """What a correction gives the next model, in words (the admin, the result page's thanks)."""
    counts = training_counts(operations)
    parts = []
    if counts["digits"]:
        parts.append(ngettext("%(n)d labelled digit", "%(n)d labelled digits", counts["digits"])
                     % {"n": counts["digits"]})
    if counts["not_a_digit"]:
        parts.append(ngettext("%(n)d not-a-digit box", "%(n)d not-a-digit boxes", counts["not_a_digit"])
                     % {"n": counts["not_a_digit"]})
    # The list's commas and the clause's semicolon are the language's own (、 and ； in Chinese).
    said = _("training data: %(what)s") % {"what": _(", ").join(parts)} if parts else _("no training data")
    if counts["without_box"]:
        said += _("; ") + ngettext(
            "%(n)d added digit has no box and does not count until it is marked on the image",
            "%(n)d added digits have no box and do not count until they are marked on the image",
            counts["without_box"]) % {"n": counts["without_box"]}
    return said


def change_lines(operations: list[dict], digits: list[dict]) -> list[str]:
    """Each operation in words, with the box it concerns (``box 3, line 1 at [40, 8, 22, 30]: 7 → 1``; boxes
    numbered from 1, as on the result page)."""
    said = []
    for op in operations:
        if op["op"] == ADD:
            where = (_("at %(box)s") % {"box": op["box"]} if op["box"]
                     else _("without a box (not training data until marked)"))
            said.append(_("added %(digit)d in line %(line)d %(where)s")
                        % {"digit": op["digit"], "line": op["line"] + 1, "where": where})
            continue
        d = digits[op["index"]] if op["index"] < len(digits) else {"box": "?", "line": 0}
        box = _("box %(i)d, line %(line)d at %(box)s") % {"i": op["index"] + 1, "line": d["line"] + 1,
                                                          "box": d["box"]}
        if op["op"] == NOT_A_DIGIT:
            change = _("%(read)d → not a digit") % {"read": op["read"]}
        elif op["digit"] == op["read"]:
            change = _("%(read)d confirmed") % {"read": op["read"]}
        else:
            change = f"{op['read']} → {op['digit']}"
        said.append(_("%(box)s: %(change)s") % {"box": box, "change": change})
    return said


def digit_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The result page's digits table: each box read, numbered from 1, with what the correction made of it
    and its line as the page shows it (the corrected lines' numbers once corrected; none for a box that
    is no digit)."""
    corrected = data.get("corrected")
    if corrected is None:
        return [{**d, "index": i, "number": i + 1, "correction": "", "shown_line": d["line"] + 1}
                for i, d in enumerate(data.get("digits") or [])]
    fixes = {d["index"]: str(d["digit"]) for d in corrected["digits"]
             if d["change"] in ("relabel", "confirm")}
    fixes.update({i: _("not a digit") for i in corrected["not_a_digit"]})
    lines = {d["index"]: d["line"] + 1 for d in corrected["digits"] if d["index"] is not None}
    return [{**d, "index": i, "number": i + 1, "correction": fixes.get(i, ""),
             "shown_line": lines.get(i, "—")} for i, d in enumerate(data.get("digits") or [])]


def editor_words() -> dict[str, str]:
    """The words of the result page's correction editor (web/static/digitscan/correct.js), translated
    here: ``{name}`` placeholders are filled in by the script."""
    return {
        "box": _("Box {n}, line {line}: read {digit}, {confidence} sure"),
        "added": _("Added {digit}, line {line}"),
        "pick_read": _("Box {n} (line {line}) was read as {digit}, {confidence} sure. What is it?"),
        "pick_added": _("The digit you added in line {line}: which digit is it?"),
        "draw": _("Drag a rectangle round the missed digit on the image."),
        "place": _("Drag a rectangle round the {digit} of line {line} on the image."),
        "escape": _("(Esc stops)"),
        "unplaced": _("{digit} in line {line}, no box yet"),
        "mark": _("Mark on the image"),
        "not_a_digit": _("not a digit"),
        "confirmed": _("confirmed"),
        "changes": _("Changes: {list}."),
        "n_changed": _("{n} changed"), "n_confirmed": _("{n} confirmed"), "n_rejected": _("{n} not a digit"),
        "n_added": _("{n} added"),
        "list_separator": pgettext("between the items of a list", ", "),
        "as_read": _("all as read"),
        "added_row": _("added"),
        "nothing": _("No changes yet: tap a box to correct it."),
        "needs_digit": _("Pick the digit of each box you added before sending."),
        "no_box": _("{n} added without a box will not count as training data until marked."),
        "empty": _("(no digits)"),
    }
