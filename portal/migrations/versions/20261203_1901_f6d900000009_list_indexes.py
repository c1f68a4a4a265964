"""staff lists: indexes for enrollment, project, inbox and audit lists

Revision ID: f6d900000009
Revises: f6d800000008
Create Date: 2026-12-03 19:01:00
"""
from alembic import op

revision = 'f6d900000009'
down_revision = 'f6d800000008'
branch_labels = None
depends_on = None


#: (index, table, columns): each staff list's filter and order (README "Staff lists at scale")
INDEXES = (
    ("ix_enrolled_unit_city_status_submitted", "enrolled_unit", ["city_code", "status", "submitted_at", "id"]),
    ("ix_enrolled_unit_status_submitted", "enrolled_unit", ["status", "submitted_at", "id"]),
    ("ix_unit_member_unit_dates", "unit_member", ["unit_id", "start_date", "end_date", "wage_base"]),
    ("ix_project_city_updated", "project", ["city_code", "updated_at", "id"]),
    ("ix_project_updated", "project", ["updated_at", "id"]),
    ("ix_project_city_status", "project", ["city_code", "status"]),
    ("ix_roster_entry_project_active", "roster_entry", ["project_id", "exited_at"]),
    ("ix_bill_organisation_newest", "bill", ["organisation_id", "id"]),
    ("ix_bill_organisation_status", "bill", ["organisation_id", "status", "id"]),
    ("ix_bill_city_newest", "bill", ["city_code", "id"]),
    ("ix_bill_city_status", "bill", ["city_code", "status", "id"]),
    ("ix_bill_kind_city_status", "bill", ["subject_type", "city_code", "status", "amount"]),
    ("ix_audit_event_action_newest", "audit_event", ["action", "id"]),
    ("ix_audit_event_city_newest", "audit_event", ["city_code", "id"]),
    ("ix_audit_event_actor_newest", "audit_event", ["actor_account_id", "id"]),
    ("ix_audit_event_object", "audit_event", ["object_type", "object_id"]),
    ("ix_audit_event_at", "audit_event", ["at"]),
)

#: single-column indexes the composites above replace (PostgreSQL cannot read "newest first
#: within the city" from them; on SQLite the composites are the same size)
REPLACED = (
    ("ix_bill_organisation_id", "bill", ["organisation_id"]),
    ("ix_bill_city_code", "bill", ["city_code"]),
    ("ix_audit_event_action", "audit_event", ["action"]),
    ("ix_audit_event_city_code", "audit_event", ["city_code"]),
    ("ix_audit_event_actor_account_id", "audit_event", ["actor_account_id"]),
)


def upgrade() -> None:
    # plain CREATE/DROP INDEX works on both databases (no table rebuild on SQLite)
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    for name, table, _ in REPLACED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in REPLACED:
        op.create_index(name, table, columns)
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
