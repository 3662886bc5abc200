"""the points of kept thi đua rankings day by day, for "most improved"

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.db.models import AwareDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kept_ranking_days",
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("rule_key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("data_as_of", AwareDateTime(), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["org_units.id"], name=op.f("fk_kept_ranking_days_parent_id_org_units")
        ),
        sa.PrimaryKeyConstraint("parent_id", "rule_key", "day", name=op.f("pk_kept_ranking_days")),
    )
    with op.batch_alter_table("kept_ranking_days", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kept_ranking_days_day"), ["day"])


def downgrade() -> None:
    with op.batch_alter_table("kept_ranking_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kept_ranking_days_day"))
    op.drop_table("kept_ranking_days")
