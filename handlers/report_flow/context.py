"""What the report conversation reads: the form, the submission and its answers (once a
turn), the unit's history, the doubts she confirmed, the rules' issues, the reports open to
her, and a message read as the whole form. No replies, no state changes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from handlers.reads import reads
from handlers.turn import Turn
from handlers.whole_form import Slot, WholeForm, read_whole_form
from schedules.calendar import Window, open_windows, window
from storage.db.models import Conversation, Submission, SubmissionStatus
from storage.measures import report_audit, reporting
from storage.plan import validation
from storage.plan.catalog import Catalog, Form, Indicator, IndicatorType
from storage.plan.periods import from_key
from storage.plan.text import fold
from storage.plan.validation import Issue

FLOW = "report"


def whole_form(catalog: Catalog, form: Form, text: str) -> WholeForm | None:
    """The message read as the whole form (handlers/whole_form.py), or None."""
    slots = []
    for q in form.questions:
        indicator = catalog.indicators[q.indicator]
        kind = {IndicatorType.YES_NO: "yes_no", IndicatorType.TEXT: "text"}.get(
            indicator.type, "number"
        )
        slots.append(Slot(q.indicator, kind, q.optional, _words(indicator), indicator.label))
    return read_whole_form(text, slots, form.labels())


def _words(indicator: Indicator) -> frozenset[str]:
    """Words that may follow a number answering this indicator: its unit's and its label's."""
    return frozenset(re.findall(r"[a-z]+", fold(f"{indicator.unit} {indicator.label}")))


async def _windows(turn: Turn) -> list[tuple[Form, Window]]:
    """The reports she may fill or correct now: open periods, and reports an officer
    reopened after their period closed."""
    assert turn.unit is not None
    forms = turn.ctx.catalog.forms_for_level(turn.unit.level)
    windows = [(f, w) for f in forms for w in open_windows(f, turn.today)]
    for sub in await reads(turn).reopened(turn.unit.id):
        form = turn.ctx.catalog.forms.get(sub.form_code)
        if form is not None and all(w.period.key != sub.period_key for _, w in windows):
            windows.append((form, window(form, from_key(sub.period_key, turn.ctx.catalog.terms))))
    return windows


def _fitting(
    turn: Turn, windows: list[tuple[Form, Window]], text: str
) -> list[tuple[Form, Window, WholeForm]]:
    """The open reports the message reads as the whole form of; short labels tell which form
    she means when several are open."""
    read = [(f, w, whole_form(turn.ctx.catalog, f, text)) for f, w in windows]
    fitting = [(f, w, found) for f, w, found in read if found]
    return [item for item in fitting if item[2].by_label] or fitting


def _editing(turn: Turn) -> bool:
    """Whether she asked to edit (said "sửa"): a sent report's item asked again, the numbers
    asked for after a bare "sửa", a change waiting for her word."""
    assert turn.conversation is not None
    return _edit_step(turn.conversation.step, turn.data)


def _edit_step(step: str | None, data: Mapping[str, Any]) -> bool:
    return step in ("edit_whole", "confirm_edit") or (
        step == "question" and bool(data.get("editing"))
    )


def edit_in_progress(conversation: Conversation) -> int | None:
    """The report (its id) she is in the middle of editing, or None: she said "sửa" and has
    not saved or left it (an officer approving it meanwhile is asked first)."""
    data = conversation.data or {}
    sid = data.get("sid")
    editing = conversation.flow == FLOW and _edit_step(conversation.step, data)
    return int(sid) if editing and sid else None


_MISSING = object()  # an answer not given (None is one she skipped)


async def _context(turn: Turn) -> tuple[Form, Submission, dict[str, float | str | None]]:
    """The form, the submission and its answers; read once a turn, kept current by _store."""
    data = turn.data
    key = ("context", data["sid"])
    if key not in turn.cache:
        form = turn.ctx.catalog.forms[data["form"]]
        sub, answers = await reporting.with_answers(turn.session, int(data["sid"]))
        assert sub is not None
        turn.cache[key] = (form, sub, answers)
    form, sub, answers = turn.cache[key]
    return form, sub, dict(answers)


async def _history(turn: Turn, form: Form, sub: Submission) -> validation.History:
    """The unit's earlier values of the form's indicators (hints, rules, outliers): read when
    the report is opened and kept in the conversation, so each answer does not read them."""
    data = turn.data
    if data.get("hist_sid") != sub.id:
        found = await reads(turn).history(
            sub.unit_id,
            [q.indicator for q in form.questions],
            sub.period_start,
            form.outliers.periods,
        )
        stored = {code: [[d.isoformat(), v] for d, v in rows] for code, rows in found.items()}
        turn.save(hist_sid=sub.id, hist=stored)
        return found
    return {
        code: [(date.fromisoformat(d), v) for d, v in rows]
        for code, rows in (data.get("hist") or {}).items()
    }


async def _confirmations(turn: Turn, sub: Submission) -> set[tuple[str, str | None]]:
    key = ("confirmations", sub.id)
    if key not in turn.cache:
        turn.cache[key] = await report_audit.confirmations(turn.session, sub.id)
    found: set[tuple[str, str | None]] = turn.cache[key]
    return found


async def _members(
    turn: Turn, form: Form, sub: Submission, values: dict[str, reporting.Answer], only: str | None
) -> validation.Members | None:
    """The unit's latest reported (else registered) member count, read only when a per-member
    answer needs it and the values do not give it: once a report, kept in the conversation
    like its history (it is of periods before this one), so a plain answer reads nothing."""
    if not validation.reads_members(turn.ctx.catalog, form, values, only):
        return None
    if turn.data.get("mem_sid") != sub.id:
        assert turn.unit is not None
        found = await reads(turn).members(turn.ctx.catalog, turn.unit, sub.period_start)
        period = found.period.key if found and found.period else None
        kept = None if found is None else [found.count, found.source, period]
        turn.save(mem_sid=sub.id, mem=kept)
        return found
    kept = turn.data.get("mem")
    if kept is None:
        return None
    count, source, key = kept
    return validation.Members(count, source, from_key(key, turn.ctx.catalog.terms) if key else None)


async def _issues(
    turn: Turn, values: dict[str, reporting.Answer], only: str | None = None
) -> list[Issue]:
    """What the form's rules, the member count and the unit's history say about the values,
    less the doubts she has already confirmed for the same value."""
    assert turn.unit is not None
    form, sub, _ = await _context(turn)
    issues = validation.check(
        turn.ctx.catalog,
        form,
        values,
        await _history(turn, form, sub),
        sub.period_start,
        members=await _members(turn, form, sub, values, only),
        only=only,
    )
    if not issues:  # the usual answer: no need to read what she confirmed
        return issues
    confirmed = await _confirmations(turn, sub)
    return [
        issue
        for issue in issues
        if issue.stops
        or (issue.indicator, reporting.as_text(values.get(issue.indicator))) not in confirmed
    ]


def _summary_step(sub: Submission) -> str:
    return "submitted" if sub.status == SubmissionStatus.SUBMITTED else "summary"
