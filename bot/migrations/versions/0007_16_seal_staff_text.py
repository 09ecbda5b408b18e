"""seal staff free text: audit details and escalation outcomes get encrypted columns

The plaintext columns stay (emptied at start-up by bot/store/sealing.py, which has the key;
a migration does not) so that an older release can still start on this database.

Revision ID: 0007_16
Revises: 0006
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_16"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0003"  # escalations: 0003 is a sibling branch


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("detail_enc", sa.LargeBinary(), nullable=True))
    op.add_column("escalations", sa.Column("resolution_enc", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("resolution_enc")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("detail_enc")
