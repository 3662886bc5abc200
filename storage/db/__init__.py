"""The records: the SQLAlchemy models and their migrations, sessions and engines, and the
modules that write records whole: units and their hierarchy, people, invitations,
conversation state, the outbox (delivery), the running totals kept on every report
(aggregates), imports of units and people, the configuration's check against them, and
personal data (the personal_data package: inventory, notice, access, export, erasure,
retention).

May import: storage.plan. Never storage.measures.
A new column, table or write path goes here (with an Alembic migration in db/migrations).
"""
