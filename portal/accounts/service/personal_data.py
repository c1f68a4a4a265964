"""What a person may see and change of their own record (个人信息), every read audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from portal.accounts.identifiers import (
    IdentifierError,
    normalise_bank_account,
)
from portal.accounts.models import (
    Organisation,
    Person,
)
from portal.accounts.service.lookup import bank_account_hash
from portal.audit import service as audit
from portal.auth.roles import Actor, Role
from portal.db import Base, independent_transaction
from portal.errors import (
    InvalidFields,
    NotFoundError,
)
from portal.security.masking import mask_bank_account, mask_id_number, mask_phone

M = TypeVar("M", bound=Base)



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
    422 shows the masked data too). The person is read (and masked) first, in ``sess``: the
    write transaction holds only the audit row (on SQLite it holds the database's one writer
    lock, so nothing else belongs inside it)."""
    person = own_person(sess, actor)
    fields = (["id_number"] + (["phone"] if person.phone else [])
              + (["bank_account"] if person.bank_account else []))
    data = PersonalData(
        name=person.name,
        id_number_masked=mask_id_number(person.id_number),
        phone_masked=mask_phone(person.phone) if person.phone else None,
        bank_account_masked=mask_bank_account(person.bank_account) if person.bank_account else None,
        bank_name=person.bank_name,
    )
    person_id = person.id
    with independent_transaction(sess) as own:
        audit.record(own, actor, "person.read_personal_data", object_type="person", object_id=person_id,
                     detail={"fields": fields})
    return data


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
