"""File names: a file whose name is not UTF-8 text is said so, instead of "no image was sent"; and the
name a person gave their file, made safe to show (:func:`shown_name`).

Django's multipart parser skips a part header it cannot decode as UTF-8, so a file sent with such a name
(bytes from an old Windows code page, say) vanishes from ``request.FILES`` without a word.
:class:`FileNameMiddleware` keeps the first bytes of a multipart body as the parser reads them, and
:func:`image_file` tells the caller which of the two happened.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from web.errors import ApplicationError

# Part headers come first in each part; the image's is within the first few kB of any real form.
HEAD_BYTES = 64 * 1024
_DISPOSITION = re.compile(rb"^content-disposition:[^\r\n]*", re.I | re.M)
# Long enough for any camera's or scanner's name (IMG_20261207_115612_HDR.jpg), short enough for a list.
NAME_LENGTH = 120


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


def shown_name(raw: object) -> str:
    r"""The name a person gave their file, safe to show and store as text: the last part of any path,
    NFC-normalised, without control or direction-changing characters, spaces collapsed, at most
    ``NAME_LENGTH`` characters (the middle cut, the extension kept). Only ever shown: the file is stored
    under a name of our own (``uploads/<id>/original.jpg``).

    >>> shown_name("C:\\Users\\ann\\..\\IMG_0001.JPG")
    'IMG_0001.JPG'
    >>> shown_name("  photo\u202egpj.exe\n")
    'photogpj.exe'
    >>> len(shown_name("x" * 500 + ".png")), shown_name("x" * 500 + ".png")[-6:]
    (120, 'x….png')
    """
    name = unicodedata.normalize("NFC", str(raw or ""))
    name = re.split(r"[/\\]", name)[-1]
    # Control characters (Cc) and format characters (Cf: right-to-left overrides that make "gpj.exe" look
    # like "exe.jpg", zero-width spaces) are dropped; any run of spaces becomes one space.
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn")
                   or c in "\t\n")
    name = " ".join(name.split())
    if name in (".", ".."):
        return ""
    if len(name) <= NAME_LENGTH:
        return name
    stem, dot, extension = name.rpartition(".")
    extension = dot + extension if stem and len(extension) <= 10 else ""
    return name[: NAME_LENGTH - len(extension) - 1] + "…" + extension
