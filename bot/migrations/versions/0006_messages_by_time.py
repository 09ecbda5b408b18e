"""index messages by survivor and time, for the flood guard and the silence watch

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_messages_survivor_created", "messages", ["survivor_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_survivor_created", table_name="messages")
