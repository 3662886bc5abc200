"""SQLAlchemy models: the hierarchy, people and their channels, submissions, conversation state.

Portable column types only, so the same models run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The roles are words of the plan (hierarchy.yaml names them); still importable from here.
from storage.plan.roles import Role  # noqa: F401

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Materialised paths ("/1/17/342/") are compared as byte strings so that a subtree is a range
# [prefix, prefix-with-last-"/"-bumped-to-"0"), which a plain B-tree index serves on both
# databases. PostgreSQL's default collation would ignore the slashes, hence "C" there.
PathString = String(255).with_variant(String(255, collation="C"), "postgresql")


class AwareDateTime(TypeDecorator[datetime]):
    """Aware datetimes in and out on both databases (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SubmissionStatus:
    DRAFT = "draft"
    SUBMITTED = "submitted"


class OrgUnit(Base):
    """A province, district, commune-level union or branch. Closed units keep their history."""

    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    path: Mapped[str] = mapped_column(PathString)
    depth: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date, default=date(2000, 1, 1))
    valid_to: Mapped[date | None] = mapped_column(Date)  # last day it existed; None: still open
    member_count: Mapped[int | None] = mapped_column(Integer)
    # Set on a unit merged into another (closed, kept under it): from its last day on, the
    # unit it was merged into stands for it (storage/db/units.py, `merge_units`).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)

    __table_args__ = (
        Index("ix_org_units_path", "path"),
        Index("ix_org_units_level_path", "level", "path"),
    )


class UnitAncestor(Base):
    """Closure of the tree: one row for every (unit, ancestor) pair, the unit itself included,
    with the ancestor's level.

    Rollups start from the reports and walk up to the ancestors they are grouped by, with
    equality lookups only, so their cost follows the number of reports, not of roots.
    """

    __tablename__ = "unit_ancestors"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    ancestor_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    ancestor_level: Mapped[str] = mapped_column(String(20))

    __table_args__ = (Index("ix_unit_ancestors_ancestor", "ancestor_id"),)


class UnitParentHistory(Base):
    """Who a unit's parent was and when: re-parenting and merging keep the past readable."""

    __tablename__ = "unit_parent_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    role: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where unsolicited messages go when she is linked on several channels.
    preferred_channel: Mapped[str | None] = mapped_column(String(20))
    last_channel: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    # Her personal data was erased (storage/db/personal_data/erasure.py): the row stays for her
    # unit's reports and audit, named "người đã xóa"; she can never be linked again.
    erased_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class PersonChange(Base):
    """A change to a person (created, edited, moved, deactivated, replaced): who made it, when,
    and her record before and after (`storage.db.people.snapshot`). Written for the CLI and for
    staff in chat alike; an operator at the command line is named by `by_operator`."""

    __tablename__ = "person_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    by_operator: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(AwareDateTime())


class ChannelIdentity(Base):
    """One person's account on one channel (a Telegram user, a Zalo user, the terminal)."""

    __tablename__ = "channel_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(AwareDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("channel", "external_id"),)


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    expires_at: Mapped[datetime] = mapped_column(AwareDateTime())
    used_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class CodeAttempt(Base):
    """A wrong invitation code typed in a chat: counted to slow down guessing."""

    __tablename__ = "code_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(AwareDateTime())

    __table_args__ = (Index("ix_code_attempts_chat", "channel", "chat_id", "at"),)


class Submission(Base):
    """One unit's report for one form and period; a draft until she sends it."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    form_code: Mapped[str] = mapped_column(String(40))
    period_key: Mapped[str] = mapped_column(String(30))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=SubmissionStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    reopened: Mapped[bool] = mapped_column(Boolean, default=False)
    # Approved by the level above: locked for the reporter until an officer reopens it.
    approved_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    __table_args__ = (
        UniqueConstraint("unit_id", "form_code", "period_key"),
        Index("ix_submissions_form_period", "form_code", "period_key", "status"),
        Index("ix_submissions_period", "status", "period_start", "period_end"),
        # A subtree's reports over a period, from its units: stocks and completeness.
        Index("ix_submissions_unit_period", "unit_id", "period_start", "period_end"),
        # Reports changed since a kept ranking was computed (schedules/thi_dua.py).
        Index("ix_submissions_updated_at", "updated_at"),
    )


class SubmissionValue(Base):
    """One answer. The submission's unit, period and sent flag are repeated here so that a
    stock (the latest value of each unit in a range) is read from this table's index alone."""

    __tablename__ = "submission_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    indicator_code: Mapped[str] = mapped_column(String(40))
    value_num: Mapped[float | None] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(Text)
    unit_id: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    submitted: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("submission_id", "indicator_code"),
        Index("ix_submission_values_indicator", "indicator_code", "submission_id"),
        Index(
            "ix_submission_values_latest",
            "indicator_code",
            "unit_id",
            "period_end",
            postgresql_include=["value_num", "period_start", "submitted"],
        ),
    )


class AuditEntry(Base):
    """A change to a submitted report (who, when, what it was and what it became), or a
    doubtful value the leader confirmed."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # submit | edit | reopen | approve | confirm
    indicator_code: Mapped[str | None] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)  # confirm: what made the value doubtful
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    changed_at: Mapped[datetime] = mapped_column(AwareDateTime())


class Conversation(Base):
    """Where a person is in a conversation; held here so a restart loses nothing."""

    __tablename__ = "conversations"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    flow: Mapped[str | None] = mapped_column(String(30))
    step: Mapped[str | None] = mapped_column(String(30))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())


class ProcessedUpdate(Base):
    """Inbound updates already handled: a retried webhook or a repeated poll changes nothing."""

    __tablename__ = "processed_updates"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime(), index=True)


class PendingUpdate(Base):
    """An inbound update stored before the platform is told it arrived; the turn that handles
    it deletes it. Rows left by a worker that died are handled by the next one."""

    __tablename__ = "pending_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(AwareDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64), index=True)

    __table_args__ = (UniqueConstraint("channel", "key"),)


class Worker(Base):
    """A running bot process, seen every few seconds: what a silent one claimed is taken over."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(AwareDateTime())
    seen_at: Mapped[datetime] = mapped_column(AwareDateTime())


class OutboxStatus:
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after retries; the reason is kept
    BLOCKED = "blocked"  # the person blocked the bot
    CAPPED = "capped"  # the channel's monthly cap was reached
    ALL = (QUEUED, SENDING, SENT, FAILED, BLOCKED, CAPPED)


class OutboxMessage(Base):
    """A message the bot owes: a reply, or one sent unasked (reminder, digest, nudge).

    `key` names its purpose ("rem:<person>:<form>:<period>:<step>"), so the same message is
    never queued twice, however many processes plan reminders at once.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # reply | reminder | digest | nudge
    # None: a reply to someone not linked yet (an invitation code being typed).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(64))  # the worker sending it

    __table_args__ = (
        Index("ix_outbox_due", "status", "channel", "next_attempt_at"),
        # Replies go out in order: "is an earlier one to this chat still owed?"
        Index("ix_outbox_chat", "channel", "chat_id", "status"),
    )


class ReminderSnooze(Base):
    """ "Nhắc lại sau": no reminder for this form and period until the given time."""

    __tablename__ = "reminder_snoozes"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    form_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(30), primary_key=True)
    until: Mapped[datetime] = mapped_column(AwareDateTime())


class KeptRanking(Base):
    """A thi đua ranking of the units below a unit, computed ahead by the scheduler
    (schedules/thi_dua.py) so a page or /xephang reads it instead of measuring every target
    of a hundred units. Derived data: recomputed when reports under the unit change or the
    day turns; losing it costs a recomputation."""

    __tablename__ = "kept_rankings"

    parent_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    rule_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # rule and plan hash
    day: Mapped[date] = mapped_column(Date)  # the day it is as of
    computed_at: Mapped[datetime] = mapped_column(AwareDateTime())
    # Reports changed after this may be missing from it (it is earlier than computed_at by
    # the longest a report's transaction may stay open).
    data_as_of: Mapped[datetime] = mapped_column(AwareDateTime())
    scores: Mapped[list[Any]] = mapped_column(JSON)


class KeptRankingDay(Base):
    """The points of a kept ranking on each day, for "most improved" (the weekly summary
    compares today's points with those of `improvement_days` ago): written with every kept
    ranking, the day's latest data winning; the scheduler drops days older than the rule
    needs (schedules/thi_dua.py, `history_days`). Derived data: a day missing is computed."""

    __tablename__ = "kept_ranking_days"

    parent_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    rule_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    data_as_of: Mapped[datetime] = mapped_column(AwareDateTime())
    # Unit id (as text) → its points out of 100, or None: no score (no data). A unit ranked
    # under another parent that day, or not existing yet, is not in it.
    points: Mapped[dict[str, Any]] = mapped_column(JSON)


class UnitPeriodTotal(Base):
    """Sum of one flow indicator over a unit's subtree for one reporting period, kept up to
    date as reports are sent and corrected, so totals stay fast at national scale. Stocks
    (aggregation `last`) are always read from the reports themselves."""

    __tablename__ = "unit_period_totals"

    ancestor_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    indicator_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(30), primary_key=True)
    ancestor_level: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    total: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (
        Index("ix_unit_period_totals_lookup", "indicator_code", "ancestor_id", "period_start"),
        Index("ix_unit_period_totals_level", "indicator_code", "ancestor_level", "period_start"),
    )


# A report that no later report of its unit follows yet: it stays the latest for ever after.
FOREVER = date(9999, 12, 31)


class UnitStockTotal(Base):
    """Sum of one stock indicator (aggregation `last`) over a unit's subtree, split by the
    reports summed: those of one reporting period that stay each unit's latest until `until`
    (the end of that unit's next report of the indicator; `FOREVER` when none follows).

    A stock over the range [start, end] takes each unit's latest report inside it; that is
    the report with start <= its period, its end <= end < until. So the stock of a subtree is
    the sum of the rows with period_start >= start, period_end <= end, until > end: a few
    rows per ancestor, like the flows' totals. It assumes each unit reports an indicator in
    periods that do not overlap, which one form per level and indicator guarantees.
    """

    __tablename__ = "unit_stock_totals"

    ancestor_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    indicator_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(30), primary_key=True)
    until: Mapped[date] = mapped_column(Date, primary_key=True)
    ancestor_level: Mapped[str] = mapped_column(String(20))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    total: Mapped[float] = mapped_column(Float, default=0.0)  # of the values given
    # Reports summed, those with no value (a skipped question) included: a unit whose latest
    # report skipped the question counts with nothing, not with an older value.
    reports: Mapped[int] = mapped_column(Integer, default=0)
    given: Mapped[int] = mapped_column(Integer, default=0)  # reports with a value

    __table_args__ = (
        # By `until`: the rows still the latest after a range's end are few (one a unit for
        # a recent end), where those ending before it are all of its history.
        Index("ix_unit_stock_totals_lookup", "indicator_code", "ancestor_id", "until"),
        Index("ix_unit_stock_totals_level", "indicator_code", "ancestor_level", "period_end"),
    )


class NoticeAcceptance(Base):
    """The personal-data notice (Decree 13/2023/NĐ-CP) as a person was shown it, and when she
    accepted it. `asked_at_joining`: shown when she joined with a code, so the bot waits for
    her acceptance before anything else; people who joined before the notice existed are
    shown it once at their next message (storage/db/personal_data/notice.py)."""

    __tablename__ = "notice_acceptances"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    notice_hash: Mapped[str] = mapped_column(String(16))  # which text she was shown
    shown_at: Mapped[datetime] = mapped_column(AwareDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    channel: Mapped[str | None] = mapped_column(String(20))
    asked_at_joining: Mapped[bool] = mapped_column(Boolean, default=False)


class DataAccess(Base):
    """Who looked at or handled people's personal data (an export, an erasure, a listing),
    when, and whose: the record Decree 13/2023/NĐ-CP asks of whoever processes it."""

    __tablename__ = "data_access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime(), index=True)
    action: Mapped[str] = mapped_column(String(20))  # list | show | export | erase | self_export
    by_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    by_operator: Mapped[str | None] = mapped_column(String(80))
    # The person whose data it was (None: a listing of many).
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    detail: Mapped[str | None] = mapped_column(Text)  # e.g. "--unit KH-CT: 40 people"
