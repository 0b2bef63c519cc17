"""A file whose name is not UTF-8 text: said so, instead of "no image was sent".

Django's multipart parser skips a part header it cannot decode as UTF-8, so a file sent with such a name
(bytes from an old Windows code page, say) vanishes from ``request.FILES`` without a word.
:class:`FileNameMiddleware` keeps the first bytes of a multipart body as the parser reads them, and
:func:`image_file` tells the caller which of the two happened.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from web.errors import ApplicationError

# Part headers come first in each part; the image's is within the first few kB of any real form.
HEAD_BYTES = 64 * 1024
_DISPOSITION = re.compile(rb"^content-disposition:[^\r\n]*", re.I | re.M)


class _Head:
    """A read-through wrapper of the request's body stream that keeps its first ``HEAD_BYTES``."""

    def __init__(self, stream) -> None:
        self.stream, self.head = stream, bytearray()

    def _keep(self, data: bytes) -> bytes:
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        return data

    def read(self, *args) -> bytes:
        return self._keep(self.stream.read(*args))

    def readline(self, *args) -> bytes:
        return self._keep(self.stream.readline(*args))


class FileNameMiddleware:
    """Wraps a multipart request's body so that :func:`image_file` can look at its part headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.content_type == "multipart/form-data" and hasattr(request, "_stream"):
            request._stream = _Head(request._stream)  # noqa: SLF001 - Django reads the body through it
        return self.get_response(request)


def unreadable_names(request: HttpRequest) -> bool:
    """Whether a part header of ``request``'s body could not be read as UTF-8 (a file name, then)."""
    head = getattr(getattr(request, "_stream", None), "head", b"")
    for line in _DISPOSITION.findall(bytes(head)):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return True
    return False


def image_file(request: HttpRequest, files) -> object | None:
    """``files["image"]``, or None; :class:`ApplicationError` when the file came with an unreadable name."""
    found = files.get("image")
    if found is None and unreadable_names(getattr(request, "_request", request)):
        raise ApplicationError("bad_file_name", _("the file's name is not UTF-8 text, so the file could "
                               "not be taken: rename it (letters, digits, dots) and send it again"))
    return found
