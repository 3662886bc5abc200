"""people's changes audited; units merged into another

Revision ID: 0012
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.db.models import AwareDateTime

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("by_person_id", sa.Integer(), nullable=True),
        sa.Column("by_operator", sa.String(length=80), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changed_at", AwareDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_person_changes_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["by_person_id"], ["people.id"], name=op.f("fk_person_changes_by_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_changes")),
    )
    with op.batch_alter_table("person_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_changes_person_id"), ["person_id"])
    with op.batch_alter_table("org_units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_org_units_merged_into_id_org_units"),
            "org_units",
            ["merged_into_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_org_units_merged_into_id"), ["merged_into_id"])


def downgrade() -> None:
    with op.batch_alter_table("org_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_units_merged_into_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_org_units_merged_into_id_org_units"), type_="foreignkey"
        )
        batch_op.drop_column("merged_into_id")
    with op.batch_alter_table("person_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_changes_person_id"))
    op.drop_table("person_changes")
