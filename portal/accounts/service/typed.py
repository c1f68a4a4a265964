"""Persons typed by other accounts (录入的人员): unconfirmed records local to their typing scope,
linked to the confirmed record when the person signs in with the same name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, UniqueConstraint, delete, func, or_, select, update
from sqlalchemy.orm import Session

from portal.accounts.models import Person
from portal.accounts.service.lookup import id_number_hash
from portal.audit import service as audit
from portal.auth.roles import Actor


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
