"""values carry their unit, period and sent flag

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submission_values", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("period_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("period_end", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("submitted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        """
        UPDATE submission_values SET
          unit_id = (SELECT s.unit_id FROM submissions s
                     WHERE s.id = submission_values.submission_id),
          period_start = (SELECT s.period_start FROM submissions s
                          WHERE s.id = submission_values.submission_id),
          period_end = (SELECT s.period_end FROM submissions s
                        WHERE s.id = submission_values.submission_id),
          submitted = (SELECT s.status = 'submitted' FROM submissions s
                       WHERE s.id = submission_values.submission_id)
        """
    )
    with op.batch_alter_table("submission_values", schema=None) as batch_op:
        batch_op.alter_column("unit_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("period_start", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("period_end", existing_type=sa.Date(), nullable=False)
        batch_op.create_index(
            "ix_submission_values_latest",
            ["indicator_code", "unit_id", "period_end"],
            unique=False,
            postgresql_include=["value_num", "period_start", "submitted"],
        )


def downgrade() -> None:
    with op.batch_alter_table("submission_values", schema=None) as batch_op:
        batch_op.drop_index("ix_submission_values_latest")
        batch_op.drop_column("submitted")
        batch_op.drop_column("period_end")
        batch_op.drop_column("period_start")
        batch_op.drop_column("unit_id")
