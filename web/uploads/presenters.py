"""The JSON shape of an upload, shared by the API and the result page (which polls the same endpoint)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy

from web.uploads.models import Batch, Upload
from web.uploads.selectors import batch_uploads

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
