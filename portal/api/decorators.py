"""``@machine_endpoint(scope)``: the access policy of a machine interface under /api/.

The calling system sends HTTP Basic credentials issued by ``portal api-client create``. Every call
(accepted or refused) is audited; session cookies and CSRF play no part.
"""

from __future__ import annotations

from functools import wraps

from flask import g, request

from portal.api import clients
from portal.auth.access import Policy
from portal.db import set_write_intent
from portal.errors import DomainError
from portal.extensions import csrf, db_session, separate_transaction


def machine_endpoint(scope: str):
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            set_write_intent(True)  # last_used_at and the audit row are writes
            try:
                client = clients.authenticate(db_session(), request.headers.get("Authorization"), scope)
            except DomainError as exc:
                with separate_transaction() as sess:
                    from portal.audit import service as audit

                    audit.record(sess, g.actor, "api.refused", object_type="endpoint",
                                 object_id=request.endpoint, detail={"code": exc.code})
                raise
            g.api_client = client
            g.machine_actor = clients.machine_actor(client, request.remote_addr, g.request_id)
            return view(*args, **kwargs)

        wrapper.access_policy = Policy(roles=frozenset(), machine_scope=scope)  # type: ignore[attr-defined]
        return csrf.exempt(wrapper)

    return decorate
