"""Identity claims released for an account under a granted scope (id_token and /userinfo alike)."""

from __future__ import annotations

from authlib.oauth2.rfc6749 import scope_to_list
from authlib.oidc.core import UserInfo

from adapters.gov_platform.codes import ACCOUNT_TYPE_CLAIMS, SCOPE_CLAIMS, Claim, Scope

from .accounts import Account


def _claim_value(account: Account, claim: Claim) -> str | None:
    if claim is Claim.PREFERRED_USERNAME:
        return account.username
    if claim is Claim.ACCOUNT_TYPE:
        return account.account_type.value
    return getattr(account, claim.value)


def identity_claims(account: Account, scope: str) -> UserInfo:
    """Claims of ``account`` that ``scope`` releases and its account type may carry.

    A claim the account has no value for is left out rather than sent empty.
    """
    allowed = ACCOUNT_TYPE_CLAIMS[account.account_type]
    claims = UserInfo(sub=account.sub)
    for scope_name in scope_to_list(scope) or []:
        try:
            released = SCOPE_CLAIMS[Scope(scope_name)]
        except ValueError:
            continue
        for claim in released:
            value = _claim_value(account, claim)
            if claim in allowed and value:
                claims[claim.value] = value
    return claims
