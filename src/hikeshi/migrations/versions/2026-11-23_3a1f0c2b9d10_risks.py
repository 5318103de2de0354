"""risks: the risk register (リスク一覧) and its priority matrix

Revision ID: 3a1f0c2b9d10
Revises: 88efdb1dc796
Create Date: 2026-11-23 16:00:00
"""

from collections.abc import Sequence

revision: str = "3a1f0c2b9d10"
down_revision: str | None = "88efdb1dc796"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
