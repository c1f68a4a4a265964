"""Sign-in, the staff register and personal data (个人信息) — plain Python, no Flask.

The accounts area's one door: other areas and the routes import this module only. Besides its
own functions it gives the identifier checks of :mod:`portal.accounts.identifiers` (身份证号码,
统一社会信用代码, phone and bank account numbers) and the reading of the platform's login claims
(:mod:`portal.accounts.claims`).

Every read and every write of personal data (ID, phone, bank account numbers) writes an audit
row naming the fields touched, never their values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, TypeVar

from sqlalchemy import Table, UniqueConstraint, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased

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
from portal.errors import (
    DomainError,
    InvalidFields,
    NotFoundError,
    PermissionDenied,
    UserInputError,
)
from portal.paging import Paged
from portal.regions import city_name, province
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
    # persons typed by other accounts (录入的人员), and the clerks' work list
    "NameMismatch", "NameMismatchPage", "TypingScope", "account_scope", "keep_person_separate",
    "link_typed_person", "organisation_scope", "person_for_typed", "persons_for_typed",
    "read_name_mismatches",
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
    """The CONFIRMED person of an ID number (blind index, no decryption), or None. Records typed
    by other accounts are never found here: they belong to their typing scope only."""
    return sess.execute(
        select(Person).where(Person.id_number_hash == id_number_hash(normalise_id_number(raw_id_number)),
                             Person.confirmed.is_(True))
    ).scalar_one_or_none()


# --- persons typed by other accounts -------------------------------------------------------


@dataclass(frozen=True)
class TypingScope:
    """Who typed a person's name and ID number, and where (录入范围): an unconfirmed record is
    shared only inside its scope and shown to clerks with ``typed_in`` and ``city_code``."""

    key: str
    #: 单位名称 / 项目编号 / 工伤认定申请 — where the clerk can find it
    typed_in: str
    #: the city whose clerks see a name mismatch (None: provincial staff only)
    city_code: str | None


def organisation_scope(organisation_id: int, *, typed_in: str, city_code: str | None) -> TypingScope:
    """An employer's scope: its member list, its project rosters, its recognition drafts."""
    return TypingScope(f"organisation:{organisation_id}", typed_in[:200], city_code)


def account_scope(account_id: int, *, typed_in: str, city_code: str | None) -> TypingScope:
    """A natural person's account (a relative filing for a worker)."""
    return TypingScope(f"account:{account_id}", typed_in[:200], city_code)


def persons_for_typed(sess: Session, scope: TypingScope,
                      typed: Iterable[tuple[str, str]]) -> dict[str, Person]:
    """The person record for each (name, normalised ID number) another account typed, by the
    ID number's blind index. The one rule for every place that types a person:

    - a confirmed record (the person signed in) with the same name: that record;
    - otherwise the scope's own unconfirmed record, created when missing (the scope correcting
      its own typing renames it). A confirmed record with a different name lets the typing go
      on: the pair shows up on the clerks' work list (:func:`read_name_mismatches`).

    Nothing is refused and nothing from another scope is looked at, so the answer (and the work
    done: one query, then at most one insert per person) is the same whether an ID number is
    known here or not, and whatever name is typed. One query per call (callers batch ≤ 500)."""
    wanted: dict[str, tuple[str, str]] = {}
    for name, number in typed:
        wanted.setdefault(id_number_hash(number), (name, number))
    if not wanted:
        return {}
    found = sess.execute(select(Person).where(
        Person.id_number_hash.in_(list(wanted)),
        or_(Person.confirmed.is_(True), Person.scope == scope.key))).scalars().all()
    confirmed = {p.id_number_hash: p for p in found if p.confirmed}
    own = {p.id_number_hash: p for p in found if not p.confirmed}
    result: dict[str, Person] = {}
    for digest, (name, number) in wanted.items():
        real = confirmed.get(digest)
        if real is not None and real.name == name:
            result[digest] = real
            continue
        mine = own.get(digest)
        if mine is None:
            mine = Person(name=name, id_number=number, id_number_hash=digest, confirmed=False,
                          scope=scope.key, typed_in=scope.typed_in, typed_city_code=scope.city_code)
            sess.add(mine)
        elif mine.name != name:
            mine.name = name
        result[digest] = mine
    sess.flush()
    return result


def person_for_typed(sess: Session, scope: TypingScope, *, name: str, id_number: str) -> Person:
    """:func:`persons_for_typed` for one person (``id_number`` already normalised)."""
    return persons_for_typed(sess, scope, [(name, id_number)])[id_number_hash(id_number)]


def _person_references() -> list[tuple[Table, Any]]:
    """Every column that references ``person.id``, found in the metadata (new tables included)."""
    from portal.models import metadata

    return [(table, fk.parent) for table in metadata.sorted_tables for fk in table.foreign_keys
            if fk.column.table.name == Person.__tablename__ and fk.column.name == "id"]


def _unique_column_sets(table: Table, column) -> list[list]:
    candidates = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
    candidates += [i for i in table.indexes if i.unique]
    return [list(c.columns) for c in candidates if any(col is column for col in c.columns)]


def _merge_person(sess: Session, actor: Actor, retired: Person, into: Person, *, reason: str) -> None:
    """Re-point every reference to ``retired`` at ``into`` and delete ``retired``.

    A row whose move would break a unique constraint of its table (``into`` already has the same
    row) stays where it is, and so does the retired record (still unconfirmed, linked at the next
    chance); the audit row says how many stayed. The audit names ids and tables, never numbers."""
    sess.flush()
    moved: dict[str, int] = {}
    stayed = 0
    for table, column in _person_references():
        uniques = _unique_column_sets(table, column)
        if not uniques:
            count = sess.execute(update(table).where(column == retired.id).values({column.name: into.id})
                                 .execution_options(synchronize_session=False)).rowcount
        else:
            count = 0
            key = list(table.primary_key.columns)
            for row in sess.execute(select(table).where(column == retired.id)).mappings().all():
                clash = any(sess.execute(select(func.count()).select_from(table).where(
                    column == into.id, *[c == row[c.name] for c in cols if c is not column])).scalar_one()
                    for cols in uniques)
                if clash:
                    stayed += 1
                    continue
                sess.execute(update(table).where(*[c == row[c.name] for c in key]).values({column.name: into.id})
                             .execution_options(synchronize_session=False))
                count += 1
        if count:
            moved[f"{table.name}.{column.name}"] = count
    retired_id = retired.id
    if not stayed:
        sess.execute(delete(Person).where(Person.id == retired_id).execution_options(synchronize_session=False))
        sess.expunge(retired)
    sess.expire_all()  # the ORM's copies still point at the retired record
    audit.record(sess, actor, "person.link", object_type="person", object_id=into.id,
                 detail={"retired_person_id": retired_id, "references": moved, "stayed": stayed,
                         "reason": reason})
    sess.flush()


def _link_typed_records(sess: Session, actor: Actor, person: Person) -> None:
    """After a verified sign-in: the records others typed with this ID number and the same name
    become this confirmed record; those with another name wait on the clerks' work list."""
    typed = sess.execute(select(Person).where(Person.id_number_hash == person.id_number_hash,
                                              Person.confirmed.is_(False))).scalars().all()
    waiting = 0
    for record in typed:
        if record.name == person.name:
            _merge_person(sess, actor, record, person, reason="sign_in")
        elif not record.kept_separate:
            waiting += 1
    if waiting:
        audit.record(sess, actor, "person.name_mismatch_found", object_type="person", object_id=person.id,
                     detail={"records": waiting})


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


# --- the clerks' work list: 姓名不一致待核实 --------------------------------------------------------

MISMATCH_PER_PAGE = 50


@dataclass(frozen=True)
class NameMismatch:
    """A record another account typed whose name differs from the person's real-name record."""

    person_id: int  #: the typed (unconfirmed) record
    id_number_masked: str
    typed_name: str
    real_name: str  #: the platform's real-name name (confirmed record)
    typed_in: str
    city: str
    typed_at: datetime


@dataclass(frozen=True)
class NameMismatchPage(Paged):
    rows: list[NameMismatch]
    total: int
    page: int
    per_page: int


def _require_clerk(actor: Actor) -> None:
    if actor.role not in (Role.CLERK, Role.PROVINCIAL):
        raise PermissionDenied("只有经办机构工作人员可以核实姓名不一致的人员")


def _open_mismatches(actor: Actor):
    """(typed, confirmed) pairs still to check, in the actor's city (provincial staff: all)."""
    typed, real = aliased(Person), aliased(Person)
    query = (select(typed, real).join(real, and_(real.id_number_hash == typed.id_number_hash,
                                                 real.confirmed.is_(True)))
             .where(typed.confirmed.is_(False), typed.kept_separate.is_(False), typed.name != real.name))
    if actor.role is not Role.PROVINCIAL:
        query = query.where(typed.typed_city_code == actor.city_code)
    return query, typed


def read_name_mismatches(sess: Session, actor: Actor, *, page: int = 1,
                         per_page: int = MISMATCH_PER_PAGE) -> NameMismatchPage:
    """姓名不一致待核实: one page of open mismatches, ID numbers masked. Decrypting them is a read
    of personal data, audited in a transaction of its own whatever the page answers."""
    _require_clerk(actor)
    with independent_transaction(sess) as own:
        query, typed = _open_mismatches(actor)
        total = own.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        page = max(1, page)
        pairs = own.execute(query.order_by(typed.created_at, typed.id)
                            .offset((page - 1) * per_page).limit(per_page)).all()
        rows = [NameMismatch(person_id=t.id, id_number_masked=mask_id_number(t.id_number), typed_name=t.name,
                             real_name=r.name, typed_in=t.typed_in or "（更早录入，来源未记录）",
                             city=city_name(t.typed_city_code) if t.typed_city_code else "未确定",
                             typed_at=t.created_at) for t, r in pairs]
        if rows:
            audit.record(own, actor, "person.read_name_mismatches", object_type="person",
                         city_code=actor.city_code, detail={"persons": len(rows), "fields": ["id_number"],
                                                            "page": page})
        return NameMismatchPage(rows=rows, total=total, page=page, per_page=per_page)


def _open_mismatch(sess: Session, actor: Actor, person_id: int) -> tuple[Person, Person]:
    """The open item for the typed record ``person_id``; 404 when closed or outside the city."""
    _require_clerk(actor)
    query, typed = _open_mismatches(actor)
    found = sess.execute(query.where(typed.id == person_id)).first()
    if found is None:
        raise NotFoundError("未找到该待核实人员，可能已由其他工作人员处理")
    return found[0], found[1]


def link_typed_person(sess: Session, actor: Actor, person_id: int) -> Person:
    """确认为同一人: everything that pointed at the typed record now points at the person's
    real-name record (the typed name is replaced by the real name); the typed record goes."""
    typed, real = _open_mismatch(sess, actor, person_id)
    _merge_person(sess, actor, typed, real, reason="clerk_confirmed_same_person")
    return real


def keep_person_separate(sess: Session, actor: Actor, person_id: int) -> Person:
    """不是同一人: the typed record stays separate (unconfirmed, in its scope) and the item
    closes; whoever typed it is asked, through their inbox, to check the ID number."""
    typed, real = _open_mismatch(sess, actor, person_id)
    typed.kept_separate = True
    kind, _, owner = (typed.scope or "").partition(":")
    recipient: dict[str, int] = {}
    if kind == "organisation" and owner.isdigit():
        recipient = {"organisation_id": int(owner)}
    elif kind == "account" and owner.isdigit():
        account = sess.get(Account, int(owner))
        if account is not None and account.person_id is not None:
            recipient = {"person_id": account.person_id}
    if recipient:
        # imported here: the inbox service imports this module
        from portal.inbox import service as inbox

        inbox.deliver(sess, **recipient, kind="request", action_required=True,
                      subject="请核对录入人员的身份证号码",
                      body=(f"您在“{typed.typed_in or '本系统'}”录入的人员“{typed.name}”"
                            f"（身份证号码 {mask_id_number(typed.id_number)}），经办机构核实时未能确认"
                            "身份证号码与姓名相符。请向本人核对身份证号码和姓名，如有录入错误请更正。"),
                      dedupe_key=f"accounts:person:{typed.id}:check_id_number")
    audit.record(sess, actor, "person.keep_separate", object_type="person", object_id=typed.id,
                 city_code=typed.typed_city_code,
                 detail={"confirmed_person_id": real.id, "notified": bool(recipient)})
    sess.flush()
    return typed
