"""kept totals per unit and period

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 14:07:50.978889
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_period_totals",
        sa.Column("ancestor_id", sa.Integer(), nullable=False),
        sa.Column("indicator_code", sa.String(length=40), nullable=False),
        sa.Column("period_key", sa.String(length=30), nullable=False),
        sa.Column("ancestor_level", sa.String(length=20), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ancestor_id"],
            ["org_units.id"],
            name=op.f("fk_unit_period_totals_ancestor_id_org_units"),
        ),
        sa.PrimaryKeyConstraint(
            "ancestor_id", "indicator_code", "period_key", name=op.f("pk_unit_period_totals")
        ),
    )
    with op.batch_alter_table("unit_period_totals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_unit_period_totals_level",
            ["indicator_code", "ancestor_level", "period_start"],
            unique=False,
        )
        batch_op.create_index(
            "ix_unit_period_totals_lookup",
            ["indicator_code", "ancestor_id", "period_start"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("unit_period_totals", schema=None) as batch_op:
        batch_op.drop_index("ix_unit_period_totals_lookup")
        batch_op.drop_index("ix_unit_period_totals_level")

    op.drop_table("unit_period_totals")
