"""notify: department contacts and message deliveries (連絡体制)

Revision ID: 7c3f2e5d8b32
Revises: 5b2e1d4c7a21
Create Date: 2026-11-23 16:00:02
"""

from collections.abc import Sequence

revision: str = "7c3f2e5d8b32"
down_revision: str | None = "5b2e1d4c7a21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
