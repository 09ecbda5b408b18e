"""appointments, their reminder jobs, check-in plans and the contact-loss watch

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survivor_id", sa.Integer(), sa.ForeignKey("survivors.id"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("starts_at", UTC_TIME, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("place_enc", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reply", sa.String(length=16), nullable=True),
        sa.Column("replied_at", UTC_TIME, nullable=True),
        sa.Column("reminded_at", UTC_TIME, nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_appointments_survivor_id", "appointments", ["survivor_id"])
    op.create_table(
        "appointment_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), sa.ForeignKey("appointments.id"), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("offset_minutes", sa.Integer(), nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("done_at", UTC_TIME, nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_appointment_jobs_appointment_id", "appointment_jobs", ["appointment_id"])
    op.create_index("ix_appointment_jobs_due", "appointment_jobs", ["status", "due_at"])
    op.create_table(
        "checkin_plans",
        sa.Column("survivor_id", sa.Integer(), sa.ForeignKey("survivors.id"), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("local_time", sa.String(length=5), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("next_due_at", UTC_TIME, nullable=False),
        sa.Column("asked_at", UTC_TIME, nullable=True),
        sa.Column("answered_at", UTC_TIME, nullable=True),
        sa.Column("unanswered", sa.Integer(), nullable=False),
        sa.Column("chosen_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("survivor_id"),
    )
    op.create_index("ix_checkin_plans_due", "checkin_plans", ["active", "next_due_at"])
    op.create_table(
        "contact_watch",
        sa.Column("survivor_id", sa.Integer(), sa.ForeignKey("survivors.id"), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("alerted_level", sa.Integer(), nullable=False),
        sa.Column("alerted_at", UTC_TIME, nullable=True),
        sa.Column("checked_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("survivor_id"),
    )


def downgrade() -> None:
    op.drop_table("contact_watch")
    op.drop_index("ix_checkin_plans_due", table_name="checkin_plans")
    op.drop_table("checkin_plans")
    op.drop_index("ix_appointment_jobs_due", table_name="appointment_jobs")
    op.drop_index("ix_appointment_jobs_appointment_id", table_name="appointment_jobs")
    op.drop_table("appointment_jobs")
    op.drop_index("ix_appointments_survivor_id", table_name="appointments")
    op.drop_table("appointments")
