"""privacy: consent records, erasure tombstones, key rotation progress

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("given_by", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("flow", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["survivor_id"], ["survivors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.create_index("ix_consent_records_survivor_id", ["survivor_id"], unique=False)
    op.create_table(
        "erasure_tombstones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_code", sa.String(length=16), nullable=False),
        sa.Column("erased_on", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("erasure_tombstones", schema=None) as batch_op:
        batch_op.create_index("ix_erasure_tombstones_case_code", ["case_code"], unique=False)
    op.create_table(
        "key_rotation_progress",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("table_name"),
    )


def downgrade() -> None:
    op.drop_table("key_rotation_progress")
    with op.batch_alter_table("erasure_tombstones", schema=None) as batch_op:
        batch_op.drop_index("ix_erasure_tombstones_case_code")
    op.drop_table("erasure_tombstones")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_records_survivor_id")
    op.drop_table("consent_records")
