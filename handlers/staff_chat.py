"""Staff questions by chat: /tong, /tiendo, /chuanop, with pages and drill-down.

Every answer is scoped to the asker's unit; a unit outside it is answered exactly like an
unknown one. The last view is kept in the conversation, so "Xem thêm" and the drill-down
buttons work after a restart too.
"""

from __future__ import annotations

from handlers import charts, staff
from handlers.export_xlsx import build_workbook
from handlers.officer_actions import approval_action
from handlers.query import indicator_query, parse_query
from handlers.staff import FLOW, _usage, staff_only
from handlers.turn import Turn
from handlers.views import completeness_text, not_due, progress_text, total_lines
from schedules.messages import Outbound
from storage.db.models import OrgUnit
from storage.db.units import children, is_within
from storage.measures import progress as progress_service
from storage.measures.completeness import completeness
from storage.plan import texts_vi as vi
from storage.plan.periods import Period, from_key, period_of, year_period

PAGE_LINES = 10
PAGE_TARGETS = 5
MAX_DRILL_BUTTONS = 12
WEB_CHOICE = (vi.BUTTON_WEB, "g:web")  # the tracker page: a global action, valid after any view


async def tong(turn: Turn, args: str) -> None:
    query = indicator_query(args, turn.ctx.catalog)
    if not query.words:
        turn.say(await _usage(turn, vi.TONG_USAGE))
        return
    assert turn.unit is not None
    try:
        query = await staff.name_over_code(
            turn.session, args, query, turn.unit, lambda t: indicator_query(t, turn.ctx.catalog)
        )
        found, unit = await staff.indicator_and_unit(
            turn.session, turn.ctx.catalog, query.words, query.unit, turn.unit
        )
        asked = staff.period_or_error(
            query.period, turn.today, turn.ctx.catalog, year_period(turn.today.year)
        )
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    if isinstance(found, staff.Answer):  # (no period named: the year is chosen once picked)
        key = asked.key if query.period else ""
        view = {"cmd": "tong", "period": key, "said": query.period, "unit": unit.id}
        turn.enter(FLOW, "pick_indicator", view=view)
        turn.ask(found.text, [(label, f"ind:{code}") for label, code in found.options])
        return
    await _answer_total(turn, found.code, query.period, asked, unit)


async def _answer_total(
    turn: Turn, code: str, said: str | None, asked: Period, unit: OrgUnit
) -> None:
    """The total of the period asked (`staff.asked_year`: none named, the default year;
    "năm nay" while the new year waits, last year's, saying so first)."""
    period, note = await staff.asked_year(
        turn.session, turn.ctx.catalog, unit, turn.today, said, asked, code
    )
    await _show_total(turn, code, period.key, unit.id, 0, note)


async def tiendo(turn: Turn, args: str) -> None:
    assert turn.unit is not None
    try:
        query = await staff.name_over_code(turn.session, args, parse_query(args), turn.unit)
        unit = await staff.unit_in_scope(turn.session, query.unit or query.words or None, turn.unit)
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    await _show_progress(turn, unit.id, 0)


@staff_only
async def chuanop(turn: Turn, args: str) -> None:
    assert turn.unit is not None
    try:
        query = await staff.name_over_code(turn.session, args, parse_query(args), turn.unit)
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
    try:
        query = await staff.name_over_code(turn.session, args, parse_query(args), turn.unit)
        unit = await staff.unit_in_scope(turn.session, query.unit, turn.unit)
        named = query.period or (query.words or None)
        asked = staff.period_or_error(
            named, turn.today, turn.ctx.catalog, year_period(turn.today.year)
        )
    except staff.StaffError as exc:
        turn.say(str(exc))
        return
    period, note = await staff.asked_year(
        turn.session, turn.ctx.catalog, unit, turn.today, named, asked
    )
    data = await build_workbook(turn.session, turn.ctx.catalog, unit, period, turn.today)
    name = await staff.unit_label(turn.session, unit)
    caption = vi.EXPORT_CAPTION.format(period=period.label, unit=name)
    turn.replies.append(
        Outbound(
            f"{note} {caption}" if note else caption,
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
        query = await staff.name_over_code(
            turn.session, args, query, turn.unit, lambda t: indicator_query(t, catalog)
        )
        found, unit = await staff.indicator_and_unit(
            turn.session, catalog, query.words, query.unit, turn.unit
        )
        asked = staff.period_or_error(
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
    period, note = await staff.asked_year(
        turn.session, catalog, unit, turn.today, query.period, asked, found.code
    )
    target = await staff.sum_target_for(turn.session, catalog, found.code, unit, period, turn.today)
    name = await staff.unit_label(turn.session, unit)
    png, title = await charts.chart(turn.session, catalog, found, unit, period, target, name)
    title = title.replace("\n", " – ")
    turn.replies.append(
        Outbound(
            f"{note} {title}" if note else title,
            photo=png,
            filename=f"bieu-do-{found.code}-{period.key}.png",
        )
    )


async def on_action(turn: Turn, action: str) -> None:
    if turn.conversation is not None and turn.conversation.step == "approve":
        await approval_action(turn, action)
        return
    view = dict(turn.data.get("view") or {})
    kind, _, value = action.partition(":")
    if kind == "ind" and value in turn.ctx.catalog.indicators:
        unit = await turn.session.get(OrgUnit, int(view["unit"]))
        assert unit is not None
        key = view["period"]
        asked = from_key(key, turn.ctx.catalog.terms) if key else year_period(turn.today.year)
        await _answer_total(turn, value, view.get("said") if key else None, asked, unit)
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


async def _show_total(
    turn: Turn, code: str, period_key: str, unit_id: int, page: int, note: str = ""
) -> None:
    """One page of the total; `note`: a line said first (why this period is shown)."""
    catalog = turn.ctx.catalog
    unit = await turn.session.get(OrgUnit, unit_id)
    assert unit is not None
    period = from_key(period_key, catalog.terms)
    found = await staff.total_of(
        turn.session, catalog, catalog.indicators[code], unit, period, turn.today
    )
    rows: list[str] = []
    units: list[OrgUnit] = []
    if isinstance(found, str):  # a text or a rating: no total
        head = [found]
    else:
        head, rows = total_lines(catalog, found, await staff.unit_label(turn.session, unit))
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
    text = "\n".join(([note] if note else []) + head + lines)
    turn.ask(text, await _navigation(turn, unit, page, more, kids))


async def _show_progress(turn: Turn, unit_id: int, page: int) -> None:
    catalog = turn.ctx.catalog
    unit = await turn.session.get(OrgUnit, unit_id)
    assert unit is not None
    items = await progress_service.progress(turn.session, catalog, unit, turn.today)
    pages = max(1, -(-len(items) // PAGE_TARGETS))
    page = min(page, pages - 1)
    text = progress_text(
        catalog,
        await staff.unit_label(turn.session, unit),
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
    level = catalog.level_word(done.form.level)
    name = await staff.unit_label(turn.session, unit)
    head, *detail = completeness_text(done, name, turn.today, level).split("\n")
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
