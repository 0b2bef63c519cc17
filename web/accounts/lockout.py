"""What a locked-out sign-in gets (django-axes' ``AXES_LOCKOUT_CALLABLE``): 429 and when to try again.

After ``AXES_FAILURE_LIMIT`` wrong passwords for one user name from one address, every sign-in of that
pair — the login page, the admin's, ``POST /api/v1/token/`` — is refused for ``AXES_COOLOFF_TIME``, even
with the right password; a right one before the limit clears the count.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import lazy
from django.utils.translation import ngettext

from web.http_errors import error_response


def locked_out(request: HttpRequest, credentials: dict | None = None, *args, **kwargs) -> HttpResponse:
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    minutes = max(1, round(seconds / 60))
    message = lazy(lambda: ngettext(
        "too many failed sign-ins for this user from your address; try again in %(minutes)d minute",
        "too many failed sign-ins for this user from your address; try again in %(minutes)d minutes",
        minutes) % {"minutes": minutes}, str)()  # worded in the request's language by error_response
    return error_response(request, 429, "locked_out", message, {"Retry-After": str(seconds)})
