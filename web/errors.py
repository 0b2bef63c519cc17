"""The one application error type: a stable code for programs and a message for people.

Services raise it; the API answers it as ``400 {"error": {"code", "message"}}`` and the pages show the
message. Codes are part of the HTTP contract (DESIGN.md), so they never change meaning or language; the
message is worded (``gettext``) in the language of the request that met it.
"""

from __future__ import annotations

from django.utils.translation import pgettext


class ApplicationError(Exception):
    """Input the service refuses, e.g. ``ApplicationError("too_large", "the file is 3.1 MB ...")``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


def as_sentence(message: str) -> str:
    """A message as a sentence on a page: a capital and a full stop (。 in Chinese).

    >>> as_sentence("the file is empty")
    'The file is empty.'
    """
    message = message[:1].upper() + message[1:]
    if message.endswith((".", "。", "!", "！", "?", "？")):
        return message
    return message + pgettext("the end of a sentence", ".")
