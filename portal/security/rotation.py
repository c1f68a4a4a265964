"""Re-seal personal data under the active key (密钥轮换).

After a new key is added to ``PORTAL_ENCRYPTION_KEYS`` and made active, new values use it at
once; old values stay readable with their own key id. This re-seals the old ones, so the old key
can later be removed from the configuration. Safe to run again: values already under the active
key are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.security.crypto import Keyring
from portal.security.fields import EncryptedText


@dataclass(frozen=True)
class RotationResult:
    resealed: int
    already_current: int


def encrypted_columns(metadata: sa.MetaData) -> list[tuple[sa.Table, sa.Column]]:
    return [(table, column) for table in metadata.sorted_tables for column in table.columns
            if isinstance(column.type, EncryptedText)]


def reseal_all(sess: Session, metadata: sa.MetaData, keyring: Keyring, batch: int = 500) -> RotationResult:
    resealed = current = 0
    for table, column in encrypted_columns(metadata):
        raw = sa.type_coerce(column, sa.Text).label("raw")
        pk = list(table.primary_key.columns)[0]
        last = None
        while True:
            query = sa.select(pk, raw).where(column.is_not(None)).order_by(pk).limit(batch)
            if last is not None:
                query = query.where(pk > last)
            rows = sess.execute(query).all()
            if not rows:
                break
            for key, token in rows:
                last = key
                if Keyring.key_id(token) == keyring.active:
                    current += 1
                    continue
                context = column.type.context
                fresh = keyring.encrypt(keyring.decrypt(token, context), context)
                sess.execute(sa.update(table).where(pk == key)
                             .values({column.name: sa.type_coerce(fresh, sa.Text)}))
                resealed += 1
    return RotationResult(resealed, current)
