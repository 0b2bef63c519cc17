"""How fast one client may send images: DRF's throttling, used by the API and by the upload page alike.

A client is the signed-in user, else the address it comes from (behind a proxy, the address the proxy
saw: ``REST_FRAMEWORK["NUM_PROXIES"]``). The rate is ``DIGITSCAN_UPLOAD_RATE`` ("30/minute" unless set);
the count lives in the shared cache (``CACHES``), so every web process sees the same one. Over it, the
API answers 429 with ``Retry-After`` (seconds) and the page says how long to wait.
"""

from __future__ import annotations

import math

from django.http import HttpRequest
from rest_framework.throttling import SimpleRateThrottle


class UploadRateThrottle(SimpleRateThrottle):
    scope = "uploads"

    def get_cache_key(self, request, view) -> str:
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SiteFeedbackRateThrottle(UploadRateThrottle):
    """The home page's feedback form: ``DIGITSCAN_FEEDBACK_RATE`` ("10/hour") per client."""

    scope = "site_feedback"


def upload_wait(request: HttpRequest, throttle: SimpleRateThrottle | None = None) -> int | None:
    """None when ``request`` may upload now (and counts it), else the seconds to wait first."""
    throttle = throttle or UploadRateThrottle()
    if throttle.allow_request(request, None):
        return None
    return max(1, math.ceil(throttle.wait() or 1))
