"""Who a request acts for: a signed-in user, or an anonymous visitor known by a token in their session."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

SESSION_TOKEN = "digitscan_owner"


@dataclass(frozen=True)
class Owner:
    """A user, or (when ``user`` is None) the anonymous session holding ``session_key``."""

    user: AbstractBaseUser | None = None
    session_key: str = ""

    @property
    def is_anonymous(self) -> bool:
        return self.user is None

    def __post_init__(self) -> None:
        if self.user is None and not self.session_key:
            raise ValueError("an Owner needs a user or a session key")


def session_token(request: HttpRequest, *, create: bool) -> str:
    """The random token naming this browser session's uploads ('' when none and ``create`` is False).

    Kept inside the session rather than using the session key: Django rotates the key at login, and
    the token survives that rotation, which is how anonymous uploads find their way to the account.
    """
    token = request.session.get(SESSION_TOKEN, "")
    if not token and create:
        token = secrets.token_urlsafe(24)
        request.session[SESSION_TOKEN] = token
    return token


def owner_from_request(request: HttpRequest, *, create: bool = False) -> Owner | None:
    """The Owner for ``request``; None for an anonymous visitor who has uploaded nothing yet."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Owner(user=user)
    token = session_token(request, create=create)
    return Owner(session_key=token) if token else None
