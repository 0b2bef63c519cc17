"""A visitor's readings as a file: ``/history/export.csv`` (a spreadsheet) and ``/history/export.json``.

One row per upload of the caller (the same owner filter as every page), newest first: when, what it
read line by line (with its separators, as written), how sure, which model, the reading as the
latest correction left it (``?`` after each digit still uncertain), and the result page's address.
Streamed, so that a long history costs no memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from web.uploads.models import Upload
from web.uploads.owners import owner_from_request
from web.uploads.presenters import correction_of, marked_text
from web.uploads.selectors import upload_list_for

COLUMNS = ["id", "uploaded", "status", "source", "text", "marked", "lines_as_written", "digits", "uncertain",
           "mean_confidence", "model_version", "corrected", "error", "result_url"]


def upload_row(upload: Upload, request: HttpRequest, corrected: str) -> dict:
    digits = upload.digits or []
    confidences = [d.get("confidence", 0.0) for d in digits]
    return {
        "id": str(upload.id), "uploaded": upload.queued_at.isoformat(), "status": upload.status,
        "source": upload.source, "text": upload.text, "marked": marked_text(upload),
        "lines_as_written": " | ".join(upload.display or []),
        "digits": len(digits), "uncertain": sum(bool(d.get("uncertain")) for d in digits),
        "mean_confidence": round(sum(confidences) / len(confidences), 4) if confidences else None,
        "model_version": upload.model_version.name if upload.model_version else None,
        "corrected": corrected, "error": upload.error_message or None,
        "result_url": request.build_absolute_uri(reverse("result", args=[upload.id])),
    }


def _rows(request: HttpRequest) -> Iterator[dict]:
    # upload_list_for brings each upload's corrections along (500 uploads a query).
    for upload in upload_list_for(owner=owner_from_request(request)).iterator(chunk_size=500):
        corrected = correction_of(upload)
        yield upload_row(upload, request, corrected.marked_text if corrected is not None else "")


def _cell(value) -> str:
    """A spreadsheet cell that cannot be a formula (none of ours should be; a guard all the same)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
def history_csv(request: HttpRequest) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    lines = (writer.writerow([_cell(row[c]) for c in COLUMNS]) for row in _rows(request))
    response = StreamingHttpResponse((line for part in ([writer.writerow(COLUMNS)], lines) for line in part),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="digitscan-history.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def history_json(request: HttpRequest) -> StreamingHttpResponse:
    def body() -> Iterator[str]:
        yield '{"uploads": ['
        for i, row in enumerate(_rows(request)):
            yield ("," if i else "") + json.dumps(row, ensure_ascii=False)
        yield "]}"

    response = StreamingHttpResponse(body(), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="digitscan-history.json"'
    response["Cache-Control"] = "private, no-store"
    return response
