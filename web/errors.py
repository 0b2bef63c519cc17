"""The one application error type: a stable code for programs and a message for people.

Services raise it; the API answers it as ``400 {"error": {"code", "message"}}`` and the pages show the
message. Codes are part of the HTTP contract (DESIGN.md), so they never change meaning.
"""

from __future__ import annotations


class ApplicationError(Exception):
    """Input the service refuses, e.g. ``ApplicationError("too_large", "the file is 3.1 MB ...")``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}
