"""Staff questions by chat: /tong, /tiendo, /chuanop, with pages and drill-down.

Every answer is scoped to the asker's unit; a unit outside it is answered exactly like an
unknown one. The last view is kept in the conversation, so "Xem thêm" and the drill-down
buttons work after a restart too.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import date

from handlers import charts, report_flow, staff
from handlers.examples import usage
from handlers.export_xlsx import build_workbook
from handlers.parsing import match_choice
from handlers.query import indicator_query, parse_query
from handlers.turn import Turn
from handlers.views import completeness_text, not_due, progress_text, total_lines
from schedules.calendar import open_windows, window
from schedules.messages import Outbound
from schedules.notices import tell_reopened
from storage.db.conversations import unit_conversations
from storage.db.models import OrgUnit, Role, Submission, SubmissionStatus
from storage.db.units import children, is_within
from storage.measures import progress as progress_service
from storage.measures import report_approval, report_audit, reporting
from storage.measures.completeness import completeness
from storage.plan import texts_vi as vi
from storage.plan.catalog import Form, IndicatorType
from storage.plan.clock import local
from storage.plan.periods import Period, from_key, period_of, year_period

FLOW = "staff"
PAGE_LINES = 10
PAGE_TARGETS = 5
MAX_DRILL_BUTTONS = 12
WEB_CHOICE = (vi.BUTTON_WEB, "g:web")  # the tracker page: a global action, valid after any view


def is_staff(turn: Turn) -> bool:
    return bool(turn.person) and turn.person.role != Role.BRANCH_LEADER  # type: ignore[union-attr]


def staff_only(
    command: Callable[[Turn, str], Awaitable[None]],
) -> Callable[[Turn, str], Awaitable[None]]:
    """Officers' commands: a branch leader is told they are not for her."""

    @functools.wraps(command)
    async def guarded(turn: Turn, args: str) -> None:
        if not is_staff(turn):
            turn.say(vi.STAFF_ONLY)
            return
        await command(turn, args)

    return guarded


async def _usage(turn: Turn, template: str) -> str:
    """A usage text with examples from the province's own indicators and units."""
    assert turn.unit is not None
    return await usage(turn.session, turn.ctx.catalog, turn.unit, turn.today, template)


async def tong(turn: Turn, args: str) -> None:
    query = indicator_query(args, turn.ctx.catalog)
    if not query.words:
        turn.say(await _usage(turn, vi.TONG_USAGE))
        return
    assert turn.unit is not None
    try:
        found, unit = await staff.indicator_and_unit(
            turn.session, turn.ctx.catalog, query.words, query.unit, turn.unit
        )
        period = staff.period_or_error(
            query.period, turn.today, turn.ctx.catalog, year_period(turn.today.year)
        )
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    if isinstance(found, staff.Answer):  # (no period named: the year is chosen once picked)
        key = period.key if query.period else ""
        turn.enter(FLOW, "pick_indicator", view={"cmd": "tong", "period": key, "unit": unit.id})
        turn.ask(found.text, [(label, f"ind:{code}") for label, code in found.options])
        return
    if not query.period:
        period = await staff.default_year(
            turn.session, turn.ctx.catalog, found.code, unit, turn.today
        )
    await _show_total(turn, found.code, period.key, unit.id, 0)


async def tiendo(turn: Turn, args: str) -> None:
    assert turn.unit is not None
    query = parse_query(args)
    try:
        unit = await staff.unit_in_scope(turn.session, query.unit or query.words or None, turn.unit)
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    await _show_progress(turn, unit.id, 0)


@staff_only
async def chuanop(turn: Turn, args: str) -> None:
    assert turn.unit is not None
    query = parse_query(args)
    try:
        unit = await staff.unit_in_scope(turn.session, query.unit, turn.unit)
        form = staff.default_form(turn.ctx.catalog)
        period = staff.period_or_error(
            query.period, turn.today, turn.ctx.catalog, staff.latest_due_period(form, turn.today)
        )
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    form = staff.form_for_period(turn.ctx.catalog, period) or form
    await _show_missing(turn, form.code, period_of(form.periodicity, period.end).key, unit.id, 0)


@staff_only
async def xuat(turn: Turn, args: str) -> None:
    assert turn.unit is not None
    query = parse_query(args)
    try:
        unit = await staff.unit_in_scope(turn.session, query.unit, turn.unit)
        period = staff.period_or_error(
            query.period or (query.words or None),
            turn.today,
            turn.ctx.catalog,
            year_period(turn.today.year),
        )
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    data = await build_workbook(turn.session, turn.ctx.catalog, unit, period, turn.today)
    turn.replies.append(
        Outbound(
            vi.EXPORT_CAPTION.format(period=period.label, unit=unit.name),
            document=data,
            filename=vi.EXPORT_FILENAME.format(unit=unit.code, period=period.key),
        )
    )


@staff_only
async def bieudo(turn: Turn, args: str) -> None:
    assert turn.unit is not None
    query = indicator_query(args, turn.ctx.catalog)
    if not query.words:
        turn.say(await _usage(turn, vi.BIEUDO_USAGE))
        return
    catalog = turn.ctx.catalog
    try:
        found, unit = await staff.indicator_and_unit(
            turn.session, catalog, query.words, query.unit, turn.unit
        )
        period = staff.period_or_error(
            query.period, turn.today, catalog, year_period(turn.today.year)
        )
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    if isinstance(found, staff.Answer):
        turn.say(found.text + "\n" + "\n".join(f"• {label}" for label, _ in found.options))
        return
    try:
        staff.countable_or_error(found)
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    target = await staff.sum_target_for(turn.session, catalog, found.code, unit, period, turn.today)
    png, title = await charts.chart(turn.session, catalog, found, unit, period, target)
    turn.replies.append(
        Outbound(
            title.replace("\n", " – "), photo=png, filename=f"bieu-do-{found.code}-{period.key}.png"
        )
    )


async def _sent_report(
    turn: Turn, args: str, usage: str, not_found: str, action: str
) -> tuple[Submission, dict[str, str]] | None:
    """The sent report of a unit below the asker named in `args` (unit and optional period),
    with the fields its replies name; None after saying why there is none (`not_found`: it
    was not sent; `action`: what the level above does to her own unit's reports)."""
    named = await _named_report(turn, args, usage, action)
    if named is None:
        return None
    _unit, _form, _period, sub, fields = named
    if sub is None or sub.status != SubmissionStatus.SUBMITTED:
        turn.say(not_found.format(**fields))
        return None
    return sub, fields


async def _named_report(
    turn: Turn, args: str, usage: str, action: str
) -> tuple[OrgUnit, Form, Period, Submission | None, dict[str, str]] | None:
    """The report (sent, a draft or none yet) of a unit below the asker named in `args`, its
    form and period, with the fields its replies name; None after saying why it cannot be."""
    assert turn.unit is not None
    query = parse_query(args)
    target = query.unit or query.words
    if not target:
        turn.say(await _usage(turn, usage))
        return None
    catalog = turn.ctx.catalog
    try:
        unit = await staff.unit_in_scope(turn.session, target, turn.unit)
        forms = catalog.forms_for_level(unit.level)
        if unit.id == turn.unit.id:
            raise staff.StaffError(vi.OWN_REPORT.format(unit=unit.name, action=action))
        if not forms:
            raise staff.StaffError(vi.UNKNOWN_UNIT.format(text=target))
        form = forms[0]
        period = staff.period_or_error(
            query.period, turn.today, catalog, staff.latest_due_period(form, turn.today)
        )
    except staff.StaffError as exc:
        turn.say(str(exc))
        return None
    form = next((f for f in forms if f.periodicity == period.kind), form)
    key = period_of(form.periodicity, period.end)
    if key.start > period.start:
        # "năm 1900" for a monthly report names twelve reports, not its December: ask which.
        example = staff.latest_due_period(form, turn.today).label
        turn.say(vi.NAME_ONE_REPORT.format(unit=unit.name, period=period.label, example=example))
        return None
    sub = await reporting.find_submission(turn.session, unit.id, form.code, key.key)
    fields = {
        **vi.level_words(catalog, form.level),
        "unit": unit.name,
        "form": form.name[:1].lower() + form.name[1:],
        "period": key.label,
    }
    return unit, form, key, sub, fields


@staff_only
async def mobaocao(turn: Turn, args: str) -> None:
    """An officer reopens a unit's sent report (closed or approved), for a correction; or,
    after its period closed, a report the unit never sent, for a late one."""
    assert turn.person is not None
    named = await _named_report(turn, args, vi.MOBAOCAO_USAGE, vi.ACTION_REOPEN)
    if named is None:
        return
    unit, form, period, sub, fields = named
    late = sub is None or sub.status != SubmissionStatus.SUBMITTED
    if late and window(form, period).closes >= turn.today:  # still open: nothing to reopen
        turn.say(vi.REOPEN_NOT_FOUND.format(**fields))
        return
    if sub is None:
        sub = await reporting.get_or_create(turn.session, unit.id, form, period, turn.now)
    await report_approval.reopen(turn.session, sub, turn.person, turn.now)
    told = await tell_reopened(
        turn.session, turn.ctx.catalog, sub, turn.person, fields["period"], turn.now, late=late
    )
    if told.names:
        after = vi.REOPENED_TOLD.format(names=", ".join(told.names))
    elif told.awaiting_notice:
        after = vi.REOPENED_NOT_TOLD_NOTICE.format(**fields)
    else:
        after = vi.REOPENED_NOT_TOLD.format(**fields)
    turn.say((vi.REOPENED_LATE if late else vi.REOPENED).format(**fields) + "\n" + after)


@staff_only
async def xeploai(turn: Turn, args: str) -> None:
    """An officer rates a unit below her (a form her level fills about it): /xeploai khá xã A.

    Without a period named, the rating goes to the period being rated now (the one whose
    window is open, else the current one); a rating already given to a past period is only
    changed when that period is named."""
    assert turn.unit is not None and turn.person is not None
    catalog = turn.ctx.catalog
    query = parse_query(args)
    mine = catalog.level_index(turn.unit.level)
    ratings = [
        (f, catalog.indicators[q.indicator])
        for f in catalog.forms.values()
        if f.filled_by and mine <= catalog.level_index(f.filled_by)
        for q in f.questions
        if catalog.indicators[q.indicator].type == IndicatorType.CHOICE
    ]

    def names_rating(words: str) -> bool:
        return any(
            match_choice([(c.value, c.label) for c in ind.choices], words) is not None
            for _, ind in ratings
        )

    try:
        words, unit_words = query.words, query.unit
        if not unit_words:
            words, found = await staff.split_unit(turn.session, words, turn.unit, names_rating)
            unit_words = found.code if found else None
        if not unit_words:
            turn.say(await _usage(turn, vi.XEPLOAI_USAGE))
            return
        unit = await staff.unit_in_scope(turn.session, unit_words, turn.unit)
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    found_forms = [(f, ind) for f, ind in ratings if f.level == unit.level]
    if unit.id == turn.unit.id or not found_forms:
        turn.say(vi.XEPLOAI_NONE.format(unit=unit.name))
        return
    form, indicator = found_forms[0]
    labels = ", ".join(f"«{c.label}»" for c in indicator.choices)
    value = match_choice([(c.value, c.label) for c in indicator.choices], words)
    if value is None:
        turn.say(vi.XEPLOAI_UNKNOWN.format(choices=labels))
        return
    try:
        named = staff.period_or_error(
            query.period, turn.today, catalog, rating_period(form, turn.today)
        )
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    win = window(form, period_of(form.periodicity, named.end))
    fields = {
        "label": indicator.label,
        "period": win.period.label,
        "unit": unit.name,
        "value": indicator.choice_label(value) or "",
    }
    if query.period is None and win.period.end < turn.today:
        # A past period's rating is changed only when she names it.
        sub = await reporting.find_submission(turn.session, unit.id, form.code, win.period.key)
        before = (
            (await reporting.answers(turn.session, sub.id)).get(indicator.code) if sub else None
        )
        if isinstance(before, float) and before != value:
            fields["old"] = indicator.choice_label(before) or ""
            turn.say(vi.XEPLOAI_NAME_PERIOD.format(**fields, words=words, unit_words=unit_words))
            return
    before = await reporting.record_about(
        turn.session,
        catalog,
        unit.id,
        form,
        win.period,
        {indicator.code: value},
        turn.person,
        turn.now,
        late=win.is_late(turn.today),
    )
    if isinstance(before, float) and before != value:
        fields["old"] = indicator.choice_label(before) or ""
        turn.say(vi.XEPLOAI_CHANGED.format(**fields))
    else:
        turn.say(vi.XEPLOAI_DONE.format(**fields))


def rating_period(form: Form, today: date) -> Period:
    """The period being rated today: the one whose window is open (the year just ended, in
    January), else the current one."""
    found = open_windows(form, today)  # (as /chuaxeploai reads it)
    return found[0].period if found else period_of(form.periodicity, today)


@staff_only
async def duyet(turn: Turn, args: str) -> None:
    """An officer of the level above approves a unit's sent report, which locks it; a report
    changed after it was sent shows her every change (old → new) and asks her first."""
    assert turn.person is not None
    found = await _sent_report(turn, args, vi.DUYET_USAGE, vi.DUYET_NOT_FOUND, vi.ACTION_APPROVE)
    if found is None:
        return
    sub, fields = found
    if sub.approved_at is not None:
        turn.say(vi.ALREADY_APPROVED.format(**fields))
        return
    changes = await report_audit.changes_since_sent(turn.session, sub.id)
    # A leader in the middle of an edit of it (said "sửa", not saved or left): asked too.
    leaders = await unit_conversations(turn.session, sub.unit_id, report_flow.FLOW)
    editing = any(report_flow.edit_in_progress(c) == sub.id for c in leaders)
    if changes or sub.reopened or editing:  # reopened: she may be correcting it still
        _ask_approval(turn, sub, fields, changes, editing=editing)
        return
    await report_approval.approve(turn.session, sub, turn.person, turn.now)
    turn.say(vi.APPROVED.format(**fields))


def _ask_approval(
    turn: Turn,
    sub: Submission,
    fields: dict[str, str],
    changes: list[report_audit.Change],
    *,
    editing: bool = False,
) -> None:
    catalog = turn.ctx.catalog
    lines = []
    if sub.reopened:
        lines.append(vi.APPROVE_STILL_EDITING.format(**fields))
    elif editing:
        lines.append(vi.APPROVE_EDIT_IN_PROGRESS.format(**fields))
    if changes:
        lines.append(vi.APPROVE_CHANGED.format(**fields))
    for change in changes:
        indicator = catalog.indicators.get(change.indicator_code)
        label = indicator.label if indicator else change.indicator_code
        lines.append(
            vi.APPROVE_CHANGE_LINE.format(
                label=label,
                old=_shown(turn, change.indicator_code, change.old),
                new=_shown(turn, change.indicator_code, change.new),
                when=local(change.at).strftime("%d/%m"),
                who=change.by or vi.APPROVE_IMPORTED,
            )
            + (vi.APPROVE_CHANGE_DOUBT if change.doubt is not None else "")
        )
    lines.append(vi.APPROVE_ASK)
    # What she saw: a change made after it asks her again.
    seen = {"sid": sub.id, "seen": changes[-1].entry_id if changes else None, "fields": fields}
    turn.enter(FLOW, "approve", approve=seen)
    turn.ask("\n".join(lines), [(vi.BUTTON_APPROVE, "approve"), (vi.BUTTON_NOT_NOW, "later")])


def _shown(turn: Turn, code: str, value: str | None) -> str:
    """A value of the audit trail as the reports show it ("5 hộ", "Có", "–")."""
    indicator = turn.ctx.catalog.indicators.get(code)
    if value is None or indicator is None:
        return value or vi.SKIPPED
    if indicator.type == IndicatorType.YES_NO:
        return vi.BUTTON_YES if value == "1" else vi.BUTTON_NO
    if indicator.type == IndicatorType.CHOICE:
        return indicator.choice_label(float(value)) or value
    if indicator.is_numeric:
        return f"{vi.format_number(float(value), 2)} {indicator.unit}".strip()
    return value


async def _approval_action(turn: Turn, action: str) -> None:
    """ "Duyệt" or "Để sau" after the changes of a report were shown."""
    assert turn.person is not None
    pending = dict(turn.data.get("approve") or {})
    turn.enter(None, None)
    if action == "later":
        turn.say(vi.APPROVE_LATER)
        return
    sub = await turn.session.get(Submission, int(pending.get("sid", 0)))
    fields = pending.get("fields") or {}
    if action != "approve" or sub is None or sub.status != SubmissionStatus.SUBMITTED:
        turn.say(vi.BUTTON_EXPIRED)
        return
    if sub.approved_at is not None:
        turn.say(vi.ALREADY_APPROVED.format(**fields))
        return
    changes = await report_audit.changes_since_sent(turn.session, sub.id)
    if changes and changes[-1].entry_id != pending.get("seen"):
        turn.say(vi.APPROVE_CHANGED_AGAIN)
        _ask_approval(turn, sub, fields, changes)
        return
    await report_approval.approve(turn.session, sub, turn.person, turn.now)
    turn.say(vi.APPROVED.format(**fields))


async def on_action(turn: Turn, action: str) -> None:
    if turn.conversation is not None and turn.conversation.step == "approve":
        await _approval_action(turn, action)
        return
    view = dict(turn.data.get("view") or {})
    kind, _, value = action.partition(":")
    if kind == "ind" and value in turn.ctx.catalog.indicators:
        key = view["period"]
        if not key:
            unit = await turn.session.get(OrgUnit, int(view["unit"]))
            assert unit is not None
            key = (
                await staff.default_year(turn.session, turn.ctx.catalog, value, unit, turn.today)
            ).key
        await _show_total(turn, value, key, int(view["unit"]), 0)
        return
    if not view.get("cmd"):
        turn.say(vi.BUTTON_EXPIRED)
        return
    page = int(value) if kind == "page" and value.isdigit() else 0
    unit_id = int(value) if kind == "unit" and value.isdigit() else int(view["unit"])
    if kind == "unit":
        target = await turn.session.get(OrgUnit, unit_id)
        if target is None or turn.unit is None or not is_within(target, turn.unit):
            turn.say(vi.UNKNOWN_UNIT.format(text=value))
            return
    if view["cmd"] == "tong":
        await _show_total(turn, view["ind"], view["period"], unit_id, page)
    elif view["cmd"] == "tiendo":
        await _show_progress(turn, unit_id, page)
    elif view["cmd"] == "chuanop":
        await _show_missing(turn, view["form"], view["period"], unit_id, page)


# ---- views --------------------------------------------------------------------------------


def _page(lines: list[str], page: int, size: int) -> tuple[list[str], int, bool]:
    pages = max(1, -(-len(lines) // size))
    page = min(page, pages - 1)
    chunk = lines[page * size : (page + 1) * size]
    if pages > 1:
        chunk = [*chunk, vi.PAGE_OF.format(page=page + 1, pages=pages)]
    return chunk, page, page + 1 < pages


async def _navigation(
    turn: Turn, unit: OrgUnit, page: int, has_more: bool, kids: list[OrgUnit]
) -> list[tuple[str, str]]:
    choices: list[tuple[str, str]] = []
    if has_more:
        choices.append((vi.BUTTON_MORE, f"page:{page + 1}"))
    if kids and len(kids) <= MAX_DRILL_BUTTONS:
        choices += [(vi.BUTTON_DOWN.format(name=k.name), f"unit:{k.id}") for k in kids]
    assert turn.unit is not None
    if unit.id != turn.unit.id and unit.parent_id:
        parent = await turn.session.get(OrgUnit, unit.parent_id)
        if parent and is_within(parent, turn.unit):
            choices.append((vi.BUTTON_UP.format(name=parent.name), f"unit:{parent.id}"))
    return choices


async def _show_total(turn: Turn, code: str, period_key: str, unit_id: int, page: int) -> None:
    catalog = turn.ctx.catalog
    unit = await turn.session.get(OrgUnit, unit_id)
    assert unit is not None
    period = from_key(period_key, catalog.terms)
    found = await staff.total_of(turn.session, catalog, catalog.indicators[code], unit, period)
    rows: list[str] = []
    units: list[OrgUnit] = []
    if isinstance(found, str):  # a text or a rating: no total
        head = [found]
    else:
        head, rows = total_lines(catalog, found)
        units = [r.unit for r in found.rows if not r.own]
    lines, page, more = _page(rows, page, PAGE_LINES)
    kids = [
        u
        for u in units[page * PAGE_LINES : (page + 1) * PAGE_LINES]
        if u.level != catalog.leaf_level
    ]
    turn.enter(
        FLOW,
        "view",
        view={"cmd": "tong", "ind": code, "period": period_key, "unit": unit_id, "page": page},
    )
    turn.ask("\n".join(head + lines), await _navigation(turn, unit, page, more, kids))


async def _show_progress(turn: Turn, unit_id: int, page: int) -> None:
    catalog = turn.ctx.catalog
    unit = await turn.session.get(OrgUnit, unit_id)
    assert unit is not None
    items = await progress_service.progress(turn.session, catalog, unit, turn.today)
    pages = max(1, -(-len(items) // PAGE_TARGETS))
    page = min(page, pages - 1)
    text = progress_text(
        catalog,
        unit.name,
        items[page * PAGE_TARGETS : (page + 1) * PAGE_TARGETS],
        turn.today,
        counted=items,
    )
    if pages > 1:
        text += "\n" + vi.PAGE_OF.format(page=page + 1, pages=pages)
    kids = [
        k for k in await children(turn.session, unit, turn.today) if k.level != catalog.leaf_level
    ]
    turn.enter(FLOW, "view", view={"cmd": "tiendo", "unit": unit_id, "page": page})
    choices = await _navigation(turn, unit, page, page + 1 < pages, kids)
    if turn.ctx.web_links is not None:
        choices.append(WEB_CHOICE)
    turn.ask(text, choices)


async def _show_missing(
    turn: Turn, form_code: str, period_key: str, unit_id: int, page: int
) -> None:
    catalog = turn.ctx.catalog
    unit = await turn.session.get(OrgUnit, unit_id)
    assert unit is not None
    period: Period = from_key(period_key, catalog.terms)
    done = await completeness(turn.session, catalog.forms[form_code], period, unit)
    head, *detail = completeness_text(done, unit.name, turn.today).split("\n")
    summary = detail[:1]
    lines, page, more = _page(detail[1:], page, PAGE_LINES)
    kids = [
        k for k in await children(turn.session, unit, turn.today) if k.level != catalog.leaf_level
    ]
    choices = await _navigation(turn, unit, page, more, kids)
    if done.missing and not_due(done, turn.today) is None:
        choices.insert(0, (vi.BUTTON_NUDGE, f"g:nudge:{form_code}:{period_key}"))
    turn.enter(
        FLOW,
        "view",
        view={
            "cmd": "chuanop",
            "form": form_code,
            "period": period_key,
            "unit": unit_id,
            "page": page,
        },
    )
    turn.ask("\n".join([head, *summary, *lines]), choices)
