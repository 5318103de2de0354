"""notify: department contacts and message deliveries (連絡体制)

Revision ID: 7c3f2e5d8b32
Revises: 5b2e1d4c7a21
Create Date: 2026-11-23 16:00:02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hikeshi.db

revision: str = "7c3f2e5d8b32"
down_revision: str | None = "5b2e1d4c7a21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "department_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=2000), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", hikeshi.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_department_contacts_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department_contacts")),
    )
    with op.batch_alter_table("department_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_department_contacts_org_id"), ["org_id"], unique=False)

    op.create_table(
        "notify_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=300), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("is_drill", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", hikeshi.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", hikeshi.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", hikeshi.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["department_contacts.id"],
            name=op.f("fk_notify_deliveries_contact_id_department_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_notify_deliveries_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_notify_deliveries_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_deliveries")),
    )
    with op.batch_alter_table("notify_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notify_deliveries_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notify_deliveries_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notify_deliveries_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notify_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notify_deliveries_org_id"))
        batch_op.drop_index(batch_op.f("ix_notify_deliveries_incident_id"))
        batch_op.drop_index(batch_op.f("ix_notify_deliveries_contact_id"))
    op.drop_table("notify_deliveries")
    with op.batch_alter_table("department_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_department_contacts_org_id"))
    op.drop_table("department_contacts")
