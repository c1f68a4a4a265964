"""staff lists: indexes for filtered lists at scale

- The audit browser's action filter with a city or an account: one action's rows of that city
  (account), newest first, so its page reads only the rows it shows at any size of the trail.
- The inbox: each recipient's messages in the list's order (待办 not done, unread, newest), the
  same expressions as ``portal.inbox.models.INBOX_ORDER``, so a page is read without a sort.

Revision ID: f6dc0000000c
Revises: f6db0000000b
Create Date: 2026-12-03 19:04:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f6dc0000000c'
down_revision = 'f6db0000000b'
branch_labels = None
depends_on = None

AUDIT_INDEXES = (
    ("ix_audit_event_city_action_newest", ["city_code", "action", "id"]),
    ("ix_audit_event_actor_action_newest", ["actor_account_id", "action", "id"]),
)
INBOX_INDEXES = (
    ("ix_inbox_message_organisation_order", "recipient_organisation_id"),
    ("ix_inbox_message_person_order", "recipient_person_id"),
)


def _inbox_order() -> list:
    """``portal.inbox.models.INBOX_ORDER`` (the same SQL text on both databases)."""
    return [sa.text("(CASE\n    WHEN action_required IS TRUE AND action_done_at IS NULL THEN 0\n    ELSE 1\nEND)"),
            sa.text("(CASE\n    WHEN read_at IS NULL THEN 0\n    ELSE 1\nEND)"),
            sa.text("delivered_at DESC"), sa.text("id DESC")]


def upgrade() -> None:
    for name, columns in AUDIT_INDEXES:
        op.create_index(name, "audit_event", columns, unique=False)
    for name, recipient in INBOX_INDEXES:
        op.create_index(name, "inbox_message", [recipient, *_inbox_order()], unique=False)


def downgrade() -> None:
    for name, _ in reversed(INBOX_INDEXES):
        op.drop_index(name, table_name="inbox_message")
    for name, _ in reversed(AUDIT_INDEXES):
        op.drop_index(name, table_name="audit_event")
