"""Deletes held back by the mass-delete guard, and an admin's approval of them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen here on purpose: a migration must not change when app code does.
TS = sa.DateTime(timezone=True)

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "held_deletes",
        sa.Column("connector", sa.String(length=128), nullable=False),
        sa.Column("stream", sa.String(length=128), nullable=False),
        sa.Column("partition", sa.String(length=255), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("held_at", TS, nullable=False),
        sa.Column("approved_up_to", sa.Integer(), nullable=True),
        sa.Column("approved_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("connector", "stream", "partition", name=op.f("pk_held_deletes")),
    )


def downgrade() -> None:
    op.drop_table("held_deletes")
