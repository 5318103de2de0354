"""risks: the risk register (リスク一覧) and its priority matrix

Revision ID: 3a1f0c2b9d10
Revises: 88efdb1dc796
Create Date: 2026-11-23 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hikeshi.db

revision: str = "3a1f0c2b9d10"
down_revision: str | None = "88efdb1dc796"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("likelihood", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("playbook_id", sa.String(length=64), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", hikeshi.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hikeshi.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_label", sa.String(length=254), nullable=False),
        sa.CheckConstraint("likelihood BETWEEN 1 AND 5", name=op.f("ck_risks_likelihood_range")),
        sa.CheckConstraint("impact BETWEEN 1 AND 5", name=op.f("ck_risks_impact_range")),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_risks_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risks")),
    )
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risks_org_id"), ["org_id"], unique=False)

    op.create_table(
        "risk_matrices",
        sa.Column("org_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("extra_categories", sa.JSON(), nullable=False),
        sa.Column("updated_at", hikeshi.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_label", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_risk_matrices_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_risk_matrices")),
    )


def downgrade() -> None:
    op.drop_table("risk_matrices")
    with op.batch_alter_table("risks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risks_org_id"))

    op.drop_table("risks")
