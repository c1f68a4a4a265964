"""The auth area's one door for other areas and jobs: server-side session rows as data (list,
revoke, purge) — plain Python, no Flask.

The rest of the area is web plumbing every area uses and imports directly: the access policy
decorators (``portal.auth.access``: ``public``, ``signed_in``, ``requires``), who is acting
(``portal.auth.roles``: ``Actor``, ``Role``), the OpenID Connect client (``portal.auth.oidc``)
and the Flask session interface (``portal.auth.session_store``), both wired by the app factory.
"""

from __future__ import annotations

from portal.auth.sessions import (
    ABSOLUTE_LIFETIME,
    live_sessions,
    purge_dead_sessions,
    revoke_account_sessions,
)

__all__ = ["ABSOLUTE_LIFETIME", "live_sessions", "purge_dead_sessions", "revoke_account_sessions"]
