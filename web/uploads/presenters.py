"""The JSON shape of an upload, shared by the API and the result page (which polls the same endpoint)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from web.uploads.models import Upload


def upload_as_dict(upload: Upload, request: HttpRequest) -> dict[str, Any]:
    """DESIGN.md's recognition object; image URLs point at the owner-checking file view."""
    def absolute(name: str, *args) -> str:
        return request.build_absolute_uri(reverse(name, args=args))

    error = {"code": upload.error_code, "message": upload.error_message} if upload.error_code else None
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
        "separators": upload.separators,
        "image_url": absolute("upload-file", upload.id, "original"),
        "annotated_image_url": (absolute("upload-file", upload.id, "annotated")
                                if upload.annotated_image else None),
        "model_version": upload.model_version.name if upload.model_version else None,
        "timings_ms": upload.timings,
        "attempts": upload.attempts,
        "created": upload.queued_at.isoformat(),
        "started": upload.started_at.isoformat() if upload.started_at else None,
        "finished": upload.finished_at.isoformat() if upload.finished_at else None,
        "error": error,
    }
