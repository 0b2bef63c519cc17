"""What a locked-out sign-in gets (django-axes' ``AXES_LOCKOUT_CALLABLE``): 429 and when to try again.

After ``AXES_FAILURE_LIMIT`` wrong passwords for one user name from one address, every sign-in of that
pair — the login page, the admin's, ``POST /api/v1/token/`` — is refused for ``AXES_COOLOFF_TIME``, even
with the right password; a right one before the limit clears the count.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from web.http_errors import error_response


def locked_out(request: HttpRequest, credentials: dict | None = None, *args, **kwargs) -> HttpResponse:
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    minutes = max(1, round(seconds / 60))
    return error_response(request, 429, "locked_out", f"too many failed sign-ins for this user from your "
                          f"address; try again in {minutes} minutes", {"Retry-After": str(seconds)})
