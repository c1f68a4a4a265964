"""Sign-in, the staff register and personal data (个人信息) — plain Python, no Flask.

The accounts area's one door: other areas and the routes import this module only. Besides its
own functions it gives the identifier checks of :mod:`portal.accounts.identifiers` (身份证号码,
统一社会信用代码, phone and bank account numbers) and the reading of the platform's login claims
(:mod:`portal.accounts.claims`).

Every read and every write of personal data (ID, phone, bank account numbers) writes an audit
row naming the fields touched, never their values.

Inside: ``signin`` (the platform's identities → accounts, confirmed persons, organisations),
``typed`` (persons typed by other accounts, linked on sign-in), ``mismatches`` (the clerks' work
list), ``lookup`` (blind-index look-ups), ``staff`` (the staff register), ``personal_data``.
"""

from __future__ import annotations

from portal.accounts.claims import ClaimsError, Identity, identity_from_claims
from portal.accounts.identifiers import (
    IdentifierError,
    birth_date_of,
    normalise_bank_account,
    normalise_id_number,
    normalise_phone,
    normalise_uscc,
)
from portal.accounts.service.lookup import (
    bank_account_hash,
    find_person_by_id_number,
    id_number_hash,
    phone_hash,
)
from portal.accounts.service.mismatches import (
    NameMismatch,
    NameMismatchPage,
    keep_person_separate,
    link_typed_person,
    read_name_mismatches,
)
from portal.accounts.service.personal_data import (
    PersonalData,
    own_organisation,
    own_person,
    read_own_personal_data,
    update_own_bank_account,
)
from portal.accounts.service.signin import (
    SignInRefused,
    record_login_failure,
    record_logout,
    sign_in,
    sign_in_from_platform,
)
from portal.accounts.service.staff import (
    deactivate_staff,
    revoke_sessions_of,
    upsert_staff_assignment,
)
from portal.accounts.service.typed import (
    TypingScope,
    account_scope,
    organisation_scope,
    person_for_typed,
    persons_for_typed,
)

__all__ = [
    # identifiers
    "IdentifierError", "birth_date_of", "normalise_bank_account", "normalise_id_number",
    "normalise_phone", "normalise_uscc",
    # sign-in
    "ClaimsError", "Identity", "SignInRefused", "identity_from_claims", "record_login_failure",
    "record_logout", "sign_in", "sign_in_from_platform",
    # persons and organisations
    "bank_account_hash", "find_person_by_id_number", "id_number_hash", "own_organisation",
    "own_person", "phone_hash",
    # persons typed by other accounts (录入的人员), and the clerks' work list
    "NameMismatch", "NameMismatchPage", "TypingScope", "account_scope", "keep_person_separate",
    "link_typed_person", "organisation_scope", "person_for_typed", "persons_for_typed",
    "read_name_mismatches",
    # staff register
    "deactivate_staff", "revoke_sessions_of", "upsert_staff_assignment",
    # personal data of the signed-in person
    "PersonalData", "read_own_personal_data", "update_own_bank_account",
]
