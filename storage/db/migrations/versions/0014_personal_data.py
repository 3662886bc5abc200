"""personal data (Decree 13/2023/NĐ-CP): the notice and its acceptance, who looked at whose
data, erased people

Revision ID: 0014
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.db.models import AwareDateTime

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", AwareDateTime(), nullable=True))
    op.create_table(
        "notice_acceptances",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("notice_hash", sa.String(length=16), nullable=False),
        sa.Column("shown_at", AwareDateTime(), nullable=False),
        sa.Column("accepted_at", AwareDateTime(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("asked_at_joining", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_notice_acceptances_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_notice_acceptances")),
    )
    op.create_table(
        "data_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", AwareDateTime(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("by_person_id", sa.Integer(), nullable=True),
        sa.Column("by_operator", sa.String(length=80), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["by_person_id"], ["people.id"], name=op.f("fk_data_access_log_by_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["people.id"], name=op.f("fk_data_access_log_subject_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_access_log")),
    )
    with op.batch_alter_table("data_access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_access_log_at"), ["at"])
        batch_op.create_index(batch_op.f("ix_data_access_log_subject_id"), ["subject_id"])


def downgrade() -> None:
    with op.batch_alter_table("data_access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_access_log_subject_id"))
        batch_op.drop_index(batch_op.f("ix_data_access_log_at"))
    op.drop_table("data_access_log")
    op.drop_table("notice_acceptances")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
