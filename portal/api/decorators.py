"""``@machine_endpoint(scope)``: the access policy of a machine interface under /api/.

The calling system sends HTTP Basic credentials issued by ``portal api-client create``. Every call
(accepted or refused) is audited by the service; session cookies and CSRF play no part. Web
plumbing other areas' machine views import directly (beside ``portal.api.openapi.operation``).
"""

from __future__ import annotations

from functools import wraps

from flask import g, request

from portal.api import service
from portal.auth.access import Policy
from portal.extensions import csrf, db_session


def machine_endpoint(scope: str):
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            client = service.authenticate_call(db_session(), request.headers.get("Authorization"), scope,
                                               g.actor, request.endpoint)
            g.api_client = client
            g.machine_actor = service.machine_actor(client, request.remote_addr, g.request_id)
            return view(*args, **kwargs)

        wrapper.access_policy = Policy(roles=frozenset(), machine_scope=scope)  # type: ignore[attr-defined]
        return csrf.exempt(wrapper)

    return decorate
