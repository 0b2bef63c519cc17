"""At login (and sign-up, which logs in), the visitor's anonymous uploads become the account's."""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from web.uploads.owners import SESSION_TOKEN
from web.uploads.services import upload_claim

log = logging.getLogger(__name__)


@receiver(user_logged_in)
def claim_anonymous_uploads(sender, request, user, **_) -> None:
    # login() has already rotated the session key by now, but it keeps the session's data, so the
    # token that names the anonymous uploads is still here.
    if request is None or not hasattr(request, "session"):
        return
    token = request.session.pop(SESSION_TOKEN, "")
    moved = upload_claim(session_key=token, user=user)
    if moved:
        log.info("moved %d anonymous uploads to user %s", moved, user.pk)
