"""Errors outside the API views, answered in the API's shape under /api/ and as a page elsewhere.

DRF answers the errors of its own views (``web.uploads.api.exception_handler``); everything else a
request can meet — a URL that matches nothing, a method a plain view refuses, a body over the limit,
too many form fields, a crash — is Django's, and Django answers in HTML. Under ``/api/`` every one of
them is turned into ``{"error": {"code", "message"}}`` with its status, so a program never has to parse
a page; a person on the site gets a short page in words.

- :class:`BodyLimitMiddleware` refuses a request whose ``Content-Length`` is over
  ``DIGITSCAN_MAX_REQUEST_BYTES`` with 413 before a byte of its body is read (gunicorn's
  ``deploy/gunicorn.conf.py`` also holds back its ``100 Continue`` and closes the connection after the
  answer, so a client that asks first never sends the body, and no server drains it);
- :class:`ApiErrorMiddleware` rewrites any error response under /api/ that is not JSON, and answers an
  unhandled exception there as a 500 in the same shape (the exception is logged);
- ``handler400`` … ``handler500`` in ``web/urls.py`` point at :func:`error_view`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from web.errors import as_sentence

log = logging.getLogger(__name__)

API_PREFIX = "/api/"

# Status → (code, message): the API's codes for errors no view of ours answered. The code never changes;
# the message is in the request's language.
CODES = {
    400: ("bad_request", gettext_lazy("the request could not be understood (malformed, or too many fields)")),
    403: ("forbidden", gettext_lazy("you may not do this (signed in? a CSRF token for forms?)")),
    404: ("not_found", gettext_lazy("nothing is at this address")),
    405: ("method_not_allowed", gettext_lazy("this address does not accept this method")),
    413: ("too_large", gettext_lazy("the request body is over the limit")),
    429: ("throttled", gettext_lazy("too many requests; wait and try again")),
    500: ("server_error", gettext_lazy("something went wrong on our side; the request can be tried again")),
    503: ("unavailable", gettext_lazy("the service is briefly unavailable; try again in a few seconds")),
}


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(request: HttpRequest, status: int, code: str = "", message: str = "",
                   headers: dict[str, str] | None = None) -> HttpResponse:
    """The error ``status`` as JSON under /api/, else as the site's error page, in the request's language
    (from the request itself: the middleware that answers may run before LocaleMiddleware)."""
    with translation.override(translation.get_language_from_request(request)):
        default_code, default_message = CODES.get(status, ("error", _("the request failed")))
        code, message = code or default_code, str(message or default_message)
        if is_api(request):
            response: HttpResponse = JsonResponse({"error": {"code": code, "message": message}},
                                                  status=status)
        else:
            response = HttpResponse(_page(request, status, as_sentence(message)), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    # Answered before CommonMiddleware (which would add it) when the body is refused unread.
    response["Content-Length"] = str(len(response.content))
    return response


def _page(request: HttpRequest, status: int, message: str) -> str:
    context = {"status": status, "message": message}
    try:
        return render_to_string("error.html", context, request=request)
    except Exception:  # noqa: BLE001 - what broke the request (the database?) may break the page too
        return render_to_string("error.html", context)


def error_view(status: int) -> Callable[..., HttpResponse]:
    """A ``handler404``-style view for ``status``."""
    def view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
        return error_response(request, status)
    view.__name__ = f"error_{status}"
    return view


class BodyLimitMiddleware:
    """413 from the request's ``Content-Length`` alone, before its body is read or spooled to disk."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DIGITSCAN_MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(request, 400, "bad_request",
                                  gettext_lazy("the Content-Length header is not a number"))
        if length > limit:
            mb = 1024 * 1024
            # Lazy: worded once error_response has chosen the request's language (no middleware has yet).
            message = lazy(lambda: _("the request is %(size).1f MB; the limit is %(limit).1f MB per image")
                           % {"size": length / mb, "limit": settings.DIGITSCAN_MAX_UPLOAD_BYTES / mb}, str)()
            return error_response(request, 413, "too_large", message)
        return self.get_response(request)


class ApiErrorMiddleware:
    """Every error under /api/ in the API's JSON shape, whoever raised it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not is_api(request) or response.status_code < 400 or _is_json(response):
            return response
        headers = {k: response[k] for k in ("Retry-After", "Allow") if response.has_header(k)}
        return error_response(request, response.status_code, headers=headers)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api(request):
            return None  # Django's own handling: the debug page, or handler500's page
        if isinstance(exception, RequestDataTooBig):
            return error_response(request, 413, "too_large",
                                  gettext_lazy("the form's fields are over the limit"))
        if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
            return error_response(request, 400, "too_many_fields",
                                  gettext_lazy("the request has too many fields"))
        if isinstance(exception, SuspiciousOperation | PermissionDenied | Http404):
            return None  # Django answers 400 / 403 / 404, which __call__ puts in the JSON shape
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=exception)
        return error_response(request, 500)


def _is_json(response: HttpResponse) -> bool:
    if not response.get("Content-Type", "").startswith("application/json"):
        return False
    try:
        data = json.loads(response.content)
    except (ValueError, AttributeError):  # not JSON after all, or a streamed body
        return False
    return isinstance(data, dict) and "error" in data
