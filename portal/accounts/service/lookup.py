"""Blind-index look-ups of ID, phone and bank account numbers (no decryption needed)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.identifiers import normalise_id_number
from portal.accounts.models import Person
from portal.security.crypto import lookup_hash
from portal.security.fields import lookup_key


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
