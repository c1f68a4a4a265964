"""Claim names, account types and scopes of the unified login (统一身份认证).

NO PUBLIC INTERFACE SPECIFICATION EXISTS for the Anhui government-service platform's unified
identity authentication (shared/domain.md §9: protocol U(none)). Every name in this module is
OURS, chosen for the sandbox on the model of OpenID Connect Core 1.0 §5.1 standard claims where
one fits (``sub``, ``name``, ``preferred_username``, ``phone_number``). The portal never relies on
these names directly: it maps provider claims to its own fields through configuration, so a real
platform with other names needs a config change, not a code change.
"""

from __future__ import annotations

import enum
from types import MappingProxyType


class AccountType(enum.StrEnum):
    """Kind of account at the platform; the value travels in the ``account_type`` claim."""

    NATURAL = "natural"  #: 自然人（个人）
    LEGAL = "legal"  #: 法人（用人单位；the person signed in is the unit's agent 经办人）
    STAFF = "staff"  #: 工作人员 (government staff)

    @property
    def label(self) -> str:
        return ACCOUNT_TYPE_LABELS[self]


ACCOUNT_TYPE_LABELS = MappingProxyType({
    AccountType.NATURAL: "个人",
    AccountType.LEGAL: "法人",
    AccountType.STAFF: "工作人员",
})


class Claim(enum.StrEnum):
    """Identity claims in the id_token and at /userinfo."""

    SUB = "sub"  #: stable subject identifier at the platform
    NAME = "name"  #: 姓名
    PREFERRED_USERNAME = "preferred_username"  #: 登录名
    ACCOUNT_TYPE = "account_type"  #: see AccountType
    REAL_NAME_LEVEL = "real_name_level"  #: 实名认证等级, e.g. "L3" (scale not public)
    ID_CARD_NUMBER = "id_card_number"  #: 公民身份号码 (personal data)
    PHONE_NUMBER = "phone_number"  #: 手机号码 (personal data)
    USCC = "uscc"  #: 统一社会信用代码 of the legal person
    ORG_NAME = "org_name"  #: 单位名称


class Scope(enum.StrEnum):
    OPENID = "openid"
    PROFILE = "profile"
    IDCARD = "idcard"  #: ours: the resident ID number
    PHONE = "phone"
    ORG = "org"  #: ours: the legal person's USCC and name


SCOPES_SUPPORTED: tuple[str, ...] = tuple(Scope)

#: Which claims each scope releases.
SCOPE_CLAIMS = MappingProxyType({
    Scope.OPENID: (Claim.SUB,),
    Scope.PROFILE: (Claim.NAME, Claim.PREFERRED_USERNAME, Claim.ACCOUNT_TYPE, Claim.REAL_NAME_LEVEL),
    Scope.IDCARD: (Claim.ID_CARD_NUMBER,),
    Scope.PHONE: (Claim.PHONE_NUMBER,),
    Scope.ORG: (Claim.USCC, Claim.ORG_NAME),
})

#: Which claims an account type may carry at all, whatever the scope: an ID number only for
#: natural persons, the organisation only for legal persons.
ACCOUNT_TYPE_CLAIMS = MappingProxyType({
    AccountType.NATURAL: frozenset({
        Claim.SUB, Claim.NAME, Claim.PREFERRED_USERNAME, Claim.ACCOUNT_TYPE,
        Claim.REAL_NAME_LEVEL, Claim.ID_CARD_NUMBER, Claim.PHONE_NUMBER,
    }),
    AccountType.LEGAL: frozenset({
        Claim.SUB, Claim.NAME, Claim.PREFERRED_USERNAME, Claim.ACCOUNT_TYPE,
        Claim.PHONE_NUMBER, Claim.USCC, Claim.ORG_NAME,
    }),
    AccountType.STAFF: frozenset({
        Claim.SUB, Claim.NAME, Claim.PREFERRED_USERNAME, Claim.ACCOUNT_TYPE, Claim.PHONE_NUMBER,
    }),
})

#: Claims that are personal data: never logged.
PERSONAL_DATA_CLAIMS = frozenset({Claim.NAME, Claim.ID_CARD_NUMBER, Claim.PHONE_NUMBER})

#: Everything the provider can put in an id_token (discovery ``claims_supported``).
CLAIMS_SUPPORTED: tuple[str, ...] = (
    "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", *Claim,
)
