"""thi đua rankings kept in the database; submissions by time of change

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.db.models import AwareDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kept_rankings",
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("rule_key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("computed_at", AwareDateTime(), nullable=False),
        sa.Column("data_as_of", AwareDateTime(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["org_units.id"], name=op.f("fk_kept_rankings_parent_id_org_units")
        ),
        sa.PrimaryKeyConstraint("parent_id", "rule_key", name=op.f("pk_kept_rankings")),
    )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index("ix_submissions_updated_at", ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_submissions_updated_at")
    op.drop_table("kept_rankings")
