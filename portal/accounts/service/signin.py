"""Sign-in through the provincial platform: accounts, confirmed persons, organisations, staff."""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.claims import Identity, identity_from_claims
from portal.accounts.identifiers import (
    IdentifierError,
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
from portal.accounts.service.lookup import (
    id_number_hash,
    phone_hash,
)
from portal.accounts.service.typed import _link_typed_records
from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.db import independent_transaction, utcnow, will_write
from portal.errors import DomainError


class SignInRefused(DomainError):
    status = 403
    code = "login_refused"



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
    if identity.kind is AccountKind.PERSON:
        _link_typed_records(sess, actor, account.person)  # type: ignore[arg-type]
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
    # the platform's real-name identity is authoritative: it makes (or is) the confirmed record
    person = sess.execute(select(Person).where(Person.id_number_hash == id_number_hash(id_number),
                                               Person.confirmed.is_(True))).scalar_one_or_none()
    written: list[str] = []
    if person is None:
        person = Person(name=identity.name, id_number=id_number, id_number_hash=id_number_hash(id_number),
                        confirmed=True)
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
