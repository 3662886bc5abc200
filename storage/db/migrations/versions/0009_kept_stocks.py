"""kept stocks: the latest value of each unit, summed per ancestor

Revision ID: 0009
Revises: 0008

The table starts empty; `hoibot db upgrade` fills it from the reports (it needs the
configuration to know which indicators are stocks), as `hoibot db rebuild-totals` does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_stock_totals",
        sa.Column("ancestor_id", sa.Integer(), nullable=False),
        sa.Column("indicator_code", sa.String(length=40), nullable=False),
        sa.Column("period_key", sa.String(length=30), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("ancestor_level", sa.String(length=20), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("given", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ancestor_id"],
            ["org_units.id"],
            name=op.f("fk_unit_stock_totals_ancestor_id_org_units"),
        ),
        sa.PrimaryKeyConstraint(
            "ancestor_id",
            "indicator_code",
            "period_key",
            "until",
            name=op.f("pk_unit_stock_totals"),
        ),
    )
    with op.batch_alter_table("unit_stock_totals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_unit_stock_totals_level",
            ["indicator_code", "ancestor_level", "period_end"],
            unique=False,
        )
        batch_op.create_index(
            "ix_unit_stock_totals_lookup",
            ["indicator_code", "ancestor_id", "until"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("unit_stock_totals", schema=None) as batch_op:
        batch_op.drop_index("ix_unit_stock_totals_lookup")
        batch_op.drop_index("ix_unit_stock_totals_level")

    op.drop_table("unit_stock_totals")
