"""A visitor's readings as a file: ``/history/export.csv`` (a spreadsheet) and ``/history/export.json``,
and one batch's the same way (``/b/<id>/export.csv``, ``.json``).

One row per upload of the caller (the same owner filter as every page; another person's batch is a
404), newest first (a batch's in the order sent): when, what it read line by line (with its separators,
as written), how sure, which model, the reading as the latest correction left it (``?`` after each digit
still uncertain), and the result page's address. Streamed, so that a long history costs no memory.

The CSV is made to open right in a spreadsheet (docs/web.md, *Exports*): UTF-8 with a byte-order mark
(without one, Excel reads it in the computer's legacy code page and garbles 中文 file names), and the
reading's cells start with a tab, so that Excel keeps them as the text they are — "0869" keeps its zero,
"20261125123456" does not become 2.02611E+13, "1.500" does not become 1.5 — while a program gets them
back with a strip (Python's ``int()`` takes them as they are). Times are UTC, and their columns say so.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from web.uploads.models import Upload
from web.uploads.owners import owner_from_request
from web.uploads.presenters import correction_of, marked_text
from web.uploads.selectors import batch_get_for, batch_uploads, upload_list_for

COLUMNS = ["id", "name", "uploaded_utc", "status", "source", "batch", "text", "marked", "lines_as_written",
           "digits", "uncertain", "mean_confidence", "model_version", "corrected", "error", "result_url"]
# Digit strings, which a spreadsheet would take for numbers: a tab first in the CSV (the module's doc).
AS_TEXT = {"text", "marked", "lines_as_written", "corrected"}
BOM = "\ufeff"


def upload_row(upload: Upload, request: HttpRequest, corrected: str) -> dict:
    digits = upload.digits or []
    confidences = [d.get("confidence", 0.0) for d in digits]
    return {
        "id": str(upload.id), "name": upload.name, "uploaded_utc": utc(upload.queued_at),
        "status": upload.status, "source": upload.source, "batch": str(upload.batch_id or ""),
        "text": upload.text, "marked": marked_text(upload),
        "lines_as_written": " | ".join(upload.display or []),
        "digits": len(digits), "uncertain": sum(bool(d.get("uncertain")) for d in digits),
        "mean_confidence": round(sum(confidences) / len(confidences), 4) if confidences else None,
        "model_version": upload.model_version.name if upload.model_version else None,
        "corrected": corrected, "error": upload.error_message or None,
        "result_url": request.build_absolute_uri(reverse("result", args=[upload.id])),
    }


def utc(when) -> str:
    """``when`` in UTC as ISO 8601 to the second, with its Z: ``2026-12-07T03:56:12Z``."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rows(request: HttpRequest, uploads: QuerySet[Upload]) -> Iterator[dict]:
    # Each upload's corrections come along (both selectors prefetch them, 500 uploads a query).
    for upload in uploads.iterator(chunk_size=500):
        corrected = correction_of(upload)
        yield upload_row(upload, request, corrected.marked_text if corrected is not None else "")


def _cell(value, column: str) -> str:
    """A spreadsheet cell that cannot be a formula (none of ours should be; a guard all the same), and a
    reading kept as text (a tab first: the module's doc)."""
    text = "" if value is None else str(value)
    if column in AS_TEXT and text:
        return "\t" + text
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(rows: Iterator[dict], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    lines = (writer.writerow([_cell(row[c], c) for c in COLUMNS]) for row in rows)
    head = BOM + writer.writerow(COLUMNS)
    response = StreamingHttpResponse((line for part in ([head], lines) for line in part),
                                     content_type="text/csv; charset=utf-8")
    return _download(response, filename)


def _json(rows: Iterator[dict], filename: str, head: dict | None = None) -> StreamingHttpResponse:
    def body() -> Iterator[str]:
        yield "{" + "".join(f"{json.dumps(k)}: {json.dumps(v)}, " for k, v in (head or {}).items())
        yield '"uploads": ['
        for i, row in enumerate(rows):
            yield ("," if i else "") + json.dumps(row, ensure_ascii=False)
        yield "]}"

    return _download(StreamingHttpResponse(body(), content_type="application/json"), filename)


def _download(response: StreamingHttpResponse, filename: str) -> StreamingHttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _history(request: HttpRequest) -> Iterator[dict]:
    return _rows(request, upload_list_for(owner=owner_from_request(request)))


def _batch(request: HttpRequest, batch_id) -> tuple[dict, Iterator[dict]]:
    batch = batch_get_for(owner=owner_from_request(request), batch_id=batch_id)
    if batch is None:
        raise Http404("no such batch")
    head = {"batch": str(batch.id), "created_utc": utc(batch.created)}
    return head, _rows(request, batch_uploads(batch=batch))


@require_GET
def history_csv(request: HttpRequest) -> StreamingHttpResponse:
    return _csv(_history(request), "digitscan-history.csv")


@require_GET
def history_json(request: HttpRequest) -> StreamingHttpResponse:
    return _json(_history(request), "digitscan-history.json")


@require_GET
def batch_csv(request: HttpRequest, batch_id) -> StreamingHttpResponse:
    head, rows = _batch(request, batch_id)
    return _csv(rows, f"digitscan-batch-{head['batch']}.csv")


@require_GET
def batch_json(request: HttpRequest, batch_id) -> StreamingHttpResponse:
    head, rows = _batch(request, batch_id)
    return _json(rows, f"digitscan-batch-{head['batch']}.json", head)
