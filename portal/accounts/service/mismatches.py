"""The clerks' work list of names that differ from the real-name record (姓名不一致待核实)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from portal.accounts.models import (
    Account,
    Person,
)
from portal.accounts.service.typed import _merge_person
from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.db import independent_transaction
from portal.errors import (
    NotFoundError,
    PermissionDenied,
)
from portal.paging import Paged
from portal.regions import city_name
from portal.security.masking import mask_id_number

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
