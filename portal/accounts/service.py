"""Sign-in, the staff register and personal data (个人信息) — plain Python, no Flask.

The accounts area's one door: other areas and the routes import this module only. Besides its
own functions it gives the identifier checks of :mod:`portal.accounts.identifiers` (身份证号码,
统一社会信用代码, phone and bank account numbers) and the reading of the platform's login claims
(:mod:`portal.accounts.claims`).

Every read and every write of personal data (ID, phone, bank account numbers) writes an audit
row naming the fields touched, never their values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.claims import ClaimsError, Identity, identity_from_claims
from portal.accounts.identifiers import (
    IdentifierError,
    birth_date_of,
    normalise_bank_account,
    normalise_id_number,
    normalise_phone,
    normalise_uscc,
)
from portal.accounts.models import (
    Account,
    AccountKind,
    Organisation,
    Person,
    StaffAssignment,
)
from portal.audit import service as audit
from portal.auth import service as auth
from portal.auth.roles import CITY_STAFF_ROLES, Actor, Role
from portal.db import Base, independent_transaction, utcnow, will_write
from portal.errors import DomainError, InvalidFields, NotFoundError, UserInputError
from portal.regions import province
from portal.security.crypto import lookup_hash
from portal.security.fields import lookup_key
from portal.security.masking import mask_bank_account, mask_id_number, mask_phone

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
    # staff register
    "deactivate_staff", "revoke_sessions_of", "upsert_staff_assignment",
    # personal data of the signed-in person
    "PersonalData", "read_own_personal_data", "update_own_bank_account",
]

M = TypeVar("M", bound=Base)


class SignInRefused(DomainError):
    status = 403
    code = "login_refused"


def id_number_hash(id_number: str) -> str:
    return lookup_hash(lookup_key(), "id_number", id_number)


def phone_hash(phone: str) -> str:
    return lookup_hash(lookup_key(), "phone", phone)


def bank_account_hash(account: str) -> str:
    return lookup_hash(lookup_key(), "bank_account", account)


def find_person_by_id_number(sess: Session, raw_id_number: str) -> Person | None:
    """Look a person up by ID number through the blind index (no decryption needed)."""
    return sess.execute(
        select(Person).where(Person.id_number_hash == id_number_hash(normalise_id_number(raw_id_number)))
    ).scalar_one_or_none()


# --- sign-in -------------------------------------------------------------------------------


def sign_in_from_platform(sess: Session, claims: Mapping[str, Any], client_addr: str | None,
                          request_id: str | None) -> dict[str, Any]:
    """The unified login's callback: read the platform's claims and sign the person in.

    A sign-in writes on a GET (the account, the audit row), so the unit of work says so first.
    A refusal raises; the caller records it with :func:`record_login_failure`."""
    will_write(sess)
    return sign_in(sess, identity_from_claims(claims), client_addr, request_id)


def sign_in(sess: Session, identity: Identity, client_addr: str | None,
            request_id: str | None) -> dict[str, Any]:
    """Match the platform identity to our records and return the session snapshot.

    Natural persons act as 个人 for themselves, legal persons as their 用人单位, staff only with
    an active entry in the staff register. Refusals are audited by the caller
    (:func:`record_login_failure`).
    """
    account = sess.execute(select(Account).where(Account.subject == identity.subject)).scalar_one_or_none()
    if account is None:
        account = Account(subject=identity.subject, kind=identity.kind, display_name=identity.name)
        sess.add(account)
    elif account.kind != identity.kind:
        raise SignInRefused("该账号类型与本系统登记的不一致，请联系经办机构")
    account.display_name = identity.name
    account.last_login_at = utcnow()

    snapshot: dict[str, Any] = {"display_name": identity.name}
    personal_fields: list[str] = []
    if identity.kind is AccountKind.PERSON:
        person, personal_fields = _upsert_person(sess, identity)
        account.person = person
        snapshot.update(role=Role.WORKER.value, person_id=None)
    elif identity.kind is AccountKind.ORGANISATION:
        organisation = _upsert_organisation(sess, identity)
        account.organisation = organisation
        snapshot.update(role=Role.EMPLOYER.value, display_name=organisation.name,
                        agent_name=identity.name)
    else:
        assignment = sess.execute(select(StaffAssignment).where(
            StaffAssignment.subject == identity.subject, StaffAssignment.active.is_(True))
        ).scalar_one_or_none()
        if assignment is None:
            raise SignInRefused("您的工作人员账号尚未获得本系统授权，请联系省级管理员开通")
        snapshot.update(role=assignment.role, city_code=assignment.city_code, office=assignment.office)
    sess.flush()
    snapshot.update(account_id=account.id, person_id=account.person_id,
                    organisation_id=account.organisation_id)

    actor = Actor(role=Role(snapshot["role"]), account_id=account.id,
                  display_name=snapshot["display_name"], city_code=snapshot.get("city_code"),
                  person_id=account.person_id, organisation_id=account.organisation_id,
                  client_addr=client_addr, request_id=request_id)
    audit.record(sess, actor, "login.success", object_type="account", object_id=account.id,
                 detail={"account_type": identity.kind.value})
    if personal_fields:
        audit.record(sess, actor, "person.write_personal_data", object_type="person",
                     object_id=account.person_id,
                     detail={"fields": personal_fields, "source": "unified_login"})
    return snapshot


def _upsert_person(sess: Session, identity: Identity) -> tuple[Person, list[str]]:
    try:
        id_number = normalise_id_number(identity.id_number or "")
    except IdentifierError as exc:
        raise SignInRefused(f"统一身份认证平台提供的身份证号码无效：{exc}") from exc
    phone = None
    if identity.phone:
        try:
            phone = normalise_phone(identity.phone)
        except IdentifierError:
            phone = None  # a bad phone number from the platform is ignored, not fatal
    person = sess.execute(select(Person).where(Person.id_number_hash == id_number_hash(id_number))
                          ).scalar_one_or_none()
    written: list[str] = []
    if person is None:
        person = Person(name=identity.name, id_number=id_number, id_number_hash=id_number_hash(id_number))
        sess.add(person)
        written.append("id_number")
    person.name = identity.name
    if phone and person.phone_hash != phone_hash(phone):
        person.phone, person.phone_hash = phone, phone_hash(phone)
        written.append("phone")
    return person, written


def _upsert_organisation(sess: Session, identity: Identity) -> Organisation:
    try:
        uscc = normalise_uscc(identity.uscc or "")
    except IdentifierError as exc:
        raise SignInRefused(f"统一身份认证平台提供的统一社会信用代码无效：{exc}") from exc
    organisation = sess.execute(select(Organisation).where(Organisation.uscc == uscc)).scalar_one_or_none()
    if organisation is None:
        organisation = Organisation(uscc=uscc, name=identity.org_name or identity.name)
        sess.add(organisation)
    elif identity.org_name:
        organisation.name = identity.org_name
    return organisation


def record_login_failure(sess: Session, actor: Actor, reason: str) -> None:
    """Audit a refused or failed sign-in in an independent transaction: the request's own unit
    of work (whatever the sign-in had written) is rolled back, this row stays."""
    with independent_transaction(sess) as own:
        audit.record(own, actor, "login.failure", detail={"reason": reason})


def record_logout(sess: Session, actor: Actor) -> None:
    audit.record(sess, actor, "logout", object_type="account", object_id=actor.account_id)


# --- staff register ------------------------------------------------------------------------


def upsert_staff_assignment(sess: Session, *, subject: str, name: str, role: str,
                            city_code: str | None, office: str) -> StaffAssignment:
    """Create or update one staff authorisation (idempotent: safe to load twice)."""
    role_value = Role(role)
    if not role_value.is_staff:
        raise UserInputError(f"{role} 不是工作人员角色")
    if role_value in CITY_STAFF_ROLES and (city_code is None or province().city(city_code) is None):
        raise UserInputError(f"地市工作人员必须指定本省地市代码，{city_code!r} 无效")
    if role_value is Role.PROVINCIAL:
        city_code = None
    row = sess.execute(select(StaffAssignment).where(StaffAssignment.subject == subject)).scalar_one_or_none()
    if row is None:
        row = StaffAssignment(subject=subject)
        sess.add(row)
    row.name, row.role, row.city_code, row.office, row.active = name, role_value.value, city_code, office, True
    sess.flush()
    return row


def revoke_sessions_of(sess: Session, actor: Actor, subject: str) -> int:
    """End every live session of the account with this platform subject, at once."""
    account = sess.execute(select(Account).where(Account.subject == subject)).scalar_one_or_none()
    if account is None:
        raise NotFoundError(f"没有平台标识为 {subject} 的账号")
    revoked = auth.revoke_account_sessions(sess, account.id)
    audit.record(sess, actor, "session.revoke", object_type="account", object_id=account.id,
                 detail={"revoked": revoked})
    return revoked


def deactivate_staff(sess: Session, actor: Actor, subject: str) -> int:
    """Withdraw a staff member's authorisation (e.g. transferred) and end their sessions."""
    row = sess.execute(select(StaffAssignment).where(StaffAssignment.subject == subject)).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"工作人员名册中没有平台标识 {subject}")
    row.active = False
    audit.record(sess, actor, "staff.deactivate", object_type="staff_assignment", object_id=row.id,
                 city_code=row.city_code)
    account = sess.execute(select(Account).where(Account.subject == subject)).scalar_one_or_none()
    return auth.revoke_account_sessions(sess, account.id) if account else 0


# --- personal data of the signed-in person ---------------------------------------------------


@dataclass(frozen=True)
class PersonalData:
    """What a person may see of their own record: masked numbers only."""

    name: str
    id_number_masked: str
    phone_masked: str | None
    bank_account_masked: str | None
    bank_name: str | None


def _owned(sess: Session, model: type[M], own_id: int | None, role: Role, actor: Actor, message: str) -> M:
    """The actor's own row (their person, their organisation); 404 for anyone else."""
    found = sess.get(model, own_id) if actor.role is role and own_id is not None else None
    if found is None:
        raise NotFoundError(message)
    return found


def own_person(sess: Session, actor: Actor) -> Person:
    """The signed-in worker's own person record."""
    return _owned(sess, Person, actor.person_id, Role.WORKER, actor, "未找到您的个人信息")


def own_organisation(sess: Session, actor: Actor) -> Organisation:
    """The signed-in employer's own organisation."""
    return _owned(sess, Organisation, actor.organisation_id, Role.EMPLOYER, actor, "未找到您的单位")


def read_own_personal_data(sess: Session, actor: Actor) -> PersonalData:
    """Decrypt and mask. The read is audited in an independent transaction, committed before
    anything is shown, so it stays on record whatever the page answers (a form shown again with
    422 shows the masked data too)."""
    with independent_transaction(sess) as own:
        person = own_person(own, actor)
        fields = (["id_number"] + (["phone"] if person.phone else [])
                  + (["bank_account"] if person.bank_account else []))
        audit.record(own, actor, "person.read_personal_data", object_type="person", object_id=person.id,
                     detail={"fields": fields})
        return PersonalData(
            name=person.name,
            id_number_masked=mask_id_number(person.id_number),
            phone_masked=mask_phone(person.phone) if person.phone else None,
            bank_account_masked=mask_bank_account(person.bank_account) if person.bank_account else None,
            bank_name=person.bank_name,
        )


def update_own_bank_account(sess: Session, actor: Actor, *, bank_name: str, account_number: str) -> None:
    """Set the account benefits are paid to (待遇发放账户)."""
    bank_name = (bank_name or "").strip()
    if not bank_name:
        raise InvalidFields({"bank_name": "请填写开户银行"})
    if len(bank_name) > 100:
        raise InvalidFields({"bank_name": "开户银行名称过长"})
    try:
        number = normalise_bank_account(account_number)
    except IdentifierError as exc:
        raise InvalidFields({"account_number": str(exc)}) from exc
    person = own_person(sess, actor)
    person.bank_name = bank_name
    person.bank_account, person.bank_account_hash = number, bank_account_hash(number)
    audit.record(sess, actor, "person.write_personal_data", object_type="person", object_id=person.id,
                 detail={"fields": ["bank_account", "bank_name"]})
    sess.flush()
