"""outbox: claim tokens, attempts recorded before the call, the retry window, in-doubt resends

Revision ID: 0008_15a
Revises: 0007_16, 0007_18
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_15a"
down_revision: str | Sequence[str] | None = ("0007_16", "0007_18")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(32), nullable=True))
        batch.add_column(sa.Column("attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("doubt_resends", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_index("ix_outbox_identity_order", ["identity_id", "id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_identity_order")
        batch.drop_column("doubt_resends")
        batch.drop_column("first_attempt_at")
        batch.drop_column("attempt_at")
        batch.drop_column("claim_token")
