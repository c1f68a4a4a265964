"""The browser's session at the sandbox (cookie ``govid_session``) and its CSRF token.

The sandbox is its own app, so it keeps its own small CSRF scheme: a random token stored in the
signed session cookie and echoed by every form, compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
import time

from flask import session

from .accounts import Account, AccountBook
from .models import SignedInUser

_SUB = "sub"
_AUTH_TIME = "auth_time"
_SID = "sid"
_CSRF = "csrf"


def current_user(accounts: AccountBook) -> SignedInUser | None:
    sub, auth_time = session.get(_SUB), session.get(_AUTH_TIME)
    if not sub or not isinstance(auth_time, int):
        return None
    account = accounts.by_sub(sub)
    return SignedInUser(account, auth_time, session.get(_SID)) if account else None


def sign_in(account: Account) -> SignedInUser:
    """Start a fresh session for ``account`` (nothing from the anonymous session survives),
    with a new random session id (``sid``)."""
    session.clear()
    user = SignedInUser(account, int(time.time()), secrets.token_urlsafe(32))
    session[_SUB] = account.sub
    session[_AUTH_TIME] = user.auth_time
    session[_SID] = user.sid
    return user


def is_this_session(user: SignedInUser, sid: str | None) -> bool:
    """Whether ``sid`` (e.g. a ``logout_hint``) names the browser's current session."""
    if not sid or not user.sid:
        return False
    return hmac.compare_digest(user.sid.encode("ascii"), sid.encode("utf-8", "replace"))


def sign_out() -> None:
    session.clear()


def csrf_token() -> str:
    token = session.get(_CSRF)
    if not token:
        token = session[_CSRF] = secrets.token_urlsafe(32)
    return token


def csrf_valid(submitted: str | None) -> bool:
    expected = session.get(_CSRF)
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode("ascii"), submitted.encode("utf-8", "replace"))
