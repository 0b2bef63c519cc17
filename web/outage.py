"""503 with ``Retry-After`` while the database is unreachable, instead of a 500 (docs/web.md).

A database outage is a fault the site outlives: nothing accepted before is lost (uploads are rows; the
workers retry and the sweeper re-sends), and a request that failed on it can simply be sent again. So
every request that meets ``OperationalError`` / ``InterfaceError`` (refused, reset, shut down) is answered
``503`` with ``Retry-After``: ``{"error": {"code": "unavailable", "message": ...}}`` under ``/api/``, a short
page elsewhere (``outage.html``, rendered without the request: it must not need the database itself).

Two ways in, because Django turns an exception into a response where it is raised:

- raised in a view (the session or the user loaded lazily there, a query): :meth:`process_exception`;
- raised in another middleware (the session saved in ``SessionMiddleware``'s response, a lockout check):
  Django answers it with its 500 right there, so ``got_request_exception`` marks the request, and
  :meth:`__call__`, outside every such middleware, replaces that answer.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy

log = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_S = 10
MESSAGE = gettext_lazy("the database is briefly unreachable; nothing was lost, try again in a few seconds")
_MARK = "_digitscan_database_down"


def outage_response(request: HttpRequest) -> HttpResponse:
    """The 503 answer to ``request``: JSON under /api/, a page elsewhere, in the request's language."""
    with translation.override(translation.get_language_from_request(request)):
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                {"error": {"code": "unavailable", "message": str(MESSAGE)}}, status=503)
        else:
            page = render_to_string("outage.html", {"retry_after": RETRY_AFTER_S,
                                                    "method_post": request.method == "POST"})
            response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    """503 + Retry-After for a request that met an unreachable database; near the top of MIDDLEWARE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, _MARK, False) and response.status_code >= 500:
            return outage_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_DOWN):
            return None
        _log(request, exception)
        return outage_response(request)


@receiver(got_request_exception, dispatch_uid="web.outage.mark")
def _mark_database_down(sender=None, request: HttpRequest | None = None, **_) -> None:
    exception = sys.exc_info()[1]
    if request is not None and isinstance(exception, DATABASE_DOWN):
        setattr(request, _MARK, True)
        _log(request, exception)


def _log(request: HttpRequest, exception: Exception) -> None:
    log.warning("503 for %s %s: database unreachable (%s: %s)", request.method, request.path,
                type(exception).__name__, str(exception).strip()[:200])
