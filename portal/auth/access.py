"""The access policy of every route, declared on the view and enforced before it runs.

Each view carries exactly one policy: ``@public``, ``@signed_in``, ``@requires(Role...)`` or
``@staff_network``. The app factory checks the policy of the matched endpoint before the view runs
and fails closed: an endpoint without a policy answers 403 (and a test proves there is none).
Object-level scope (own person, own organisation, own city) is checked by each area's loader.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable, TypeVar

from portal.auth.roles import ALL_ROLES, Actor, Role

F = TypeVar("F", bound=Callable)


class Decision(enum.Enum):
    ALLOW = "allow"
    LOGIN = "login"  #: not signed in: send to the unified login
    FORBIDDEN = "forbidden"


@dataclass(frozen=True)
class Policy:
    roles: frozenset[Role]
    public: bool = False
    #: only from the configured staff networks (e.g. /metrics); no login needed
    network_restricted: bool = False
    #: a machine interface: the calling system authenticates with its own credential and this
    #: scope (checked by portal.api.decorators.machine_endpoint), never with a browser session
    machine_scope: str | None = None

    def decide(self, actor: Actor, from_staff_network: bool) -> Decision:
        if self.machine_scope is not None:
            return Decision.ALLOW
        if self.network_restricted:
            return Decision.ALLOW if from_staff_network else Decision.FORBIDDEN
        if self.public:
            return Decision.ALLOW
        if not actor.is_authenticated:
            return Decision.LOGIN
        return Decision.ALLOW if actor.role in self.roles else Decision.FORBIDDEN


PUBLIC = Policy(roles=ALL_ROLES, public=True)
SIGNED_IN = Policy(roles=ALL_ROLES)
STAFF_NETWORK = Policy(roles=frozenset(), network_restricted=True)


def _attach(policy: Policy) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        if hasattr(view, "access_policy"):
            raise TypeError(f"{view.__name__} already has an access policy")
        view.access_policy = policy  # type: ignore[attr-defined]
        return view

    return decorate


public = _attach(PUBLIC)
signed_in = _attach(SIGNED_IN)
staff_network = _attach(STAFF_NETWORK)


def requires(*roles: Role) -> Callable[[F], F]:
    if not roles:
        raise TypeError("requires() needs at least one role")
    return _attach(Policy(roles=frozenset(roles)))


def policy_of(view: Callable | None) -> Policy | None:
    return getattr(view, "access_policy", None)
