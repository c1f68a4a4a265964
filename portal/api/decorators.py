"""``@machine_endpoint(scope)``: the access policy of a machine interface under /api/.

The calling system sends HTTP Basic credentials issued by ``portal api-client create``. Every call
(accepted or refused) is audited by the service; session cookies and CSRF play no part. Web
plumbing other areas' machine views import directly (beside ``portal.api.openapi.operation``).

Rate limits: the view is also decorated, outermost, with ``portal.web.limits.api_limits`` (per
client address, before any authentication); once the credential is checked, the calling system's
own ``ratelimit_api_client`` applies here, so one system's burst cannot starve the others.
"""

from __future__ import annotations

from functools import wraps

from flask import g, request

from portal.api import service
from portal.auth.access import Policy
from portal.extensions import csrf, db_session
from portal.web.errors import error_response
from portal.web.limits import check_client_limit


def machine_endpoint(scope: str):
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            client = service.authenticate_call(db_session(), request.headers.get("Authorization"), scope,
                                               g.actor, request.endpoint)
            g.api_client = client
            wait = check_client_limit(client.client_id)
            if wait is not None:
                body, status = error_response(429, f"调用过于频繁，请 {wait} 秒后再试", "rate_limited")
                return body, status, {"Retry-After": str(wait)}
            g.machine_actor = service.machine_actor(client, request.remote_addr, g.request_id)
            return view(*args, **kwargs)

        wrapper.access_policy = Policy(roles=frozenset(), machine_scope=scope)  # type: ignore[attr-defined]
        return csrf.exempt(wrapper)

    return decorate
