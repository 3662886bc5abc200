"""Staff questions answered from the rollup service: totals, progress, completeness.

Each function takes the asker's scope (a unit) and returns what to show; the chat commands and
the CLI both call them, so the same question gets the same answer everywhere.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import HandlerContext
from handlers.examples import indicator_words, usage
from handlers.query import CODE, Query, parse_query
from handlers.turn import Turn
from handlers.views import completeness_text, progress_text, total_lines
from schedules.calendar import default_form, latest_due_period, window
from storage.db.models import OrgUnit, Role
from storage.db.units import (
    children,
    find_units,
    former_parent_names,
    is_within,
    parent_names,
    unit_by_code,
)
from storage.measures import progress as progress_service
from storage.measures import rollup, totals
from storage.measures.completeness import completeness
from storage.measures.target_scopes import target_scope
from storage.measures.target_windows import target_period
from storage.measures.totals import Total
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Form, Indicator, IndicatorType
from storage.plan.periods import (
    Period,
    PeriodError,
    parse_period,
    period_of,
    periods_inside,
    year_period,
)
from storage.plan.text import fold


class StaffError(Exception):
    """A question that cannot be answered as asked; the message is for the user in chat.

    `reason` (unknown_unit, ambiguous_unit, unknown_indicator, ambiguous_indicator,
    unknown_form, text, choice, or a PeriodError key), `subject` (what was asked) and
    `choices` let the command line say the same in its own words.
    """

    def __init__(
        self, message: str, reason: str = "", subject: str = "", choices: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.reason, self.subject, self.choices = reason, subject, choices or []


@dataclass
class Answer:
    text: str
    options: list[tuple[str, str]] = field(default_factory=list)  # (label, command to run)


def period_or_error(text: str | None, today: date, catalog: Catalog, default: Period) -> Period:
    if not text:
        return default
    try:
        return parse_period(text, today, catalog.terms)
    except PeriodError as exc:
        message = vi.PERIOD_ERRORS[exc.key].format(text=exc.text or text)
        raise StaffError(message, exc.key, text) from exc


async def unit_in_scope(session: AsyncSession, words: str | None, scope: OrgUnit) -> OrgUnit:
    """A unit named by code or name inside the scope; outside it looks exactly like unknown."""
    if not words:
        return scope
    found = await find_units(session, words, scope)
    if not found:
        raise StaffError(vi.UNKNOWN_UNIT.format(text=words), "unknown_unit", words)
    if len(found) > 1:
        raise StaffError(
            await _ambiguous_units(session, words, found),
            "ambiguous_unit",
            words,
            [u.code for u in found[:5]],
        )
    return found[0]


async def _ambiguous_units(session: AsyncSession, words: str, found: list[OrgUnit]) -> str:
    """The first units found, each with its parent's name; those that share both name and
    parent with another found (branches of merged communes) also with the commune they came
    from and their code, which she may type to pick one."""
    shown = found[:5]
    above = await parent_names(session, shown)
    alike = Counter((u.name, u.parent_id) for u in found)
    twins = [u for u in shown if alike[(u.name, u.parent_id)] > 1]
    former = dict(
        zip([u.id for u in twins], await former_parent_names(session, twins), strict=True)
    )
    names = []
    for unit, parent in zip(shown, above, strict=True):
        if unit.id not in former:
            names.append(f"{unit.name} ({parent})" if parent else unit.name)
        else:
            names.append(_twin_name(unit, parent, former[unit.id]))
    listed = ", ".join(names)
    plain = [(u, p) for u, p in zip(shown, above, strict=True) if u.id not in former]
    if not twins:
        unit, parent = plain[0]
        example = f"{unit.name} {parent}" if parent else unit.name
        return vi.AMBIGUOUS_UNIT.format(text=words, names=listed, example=example)
    if not plain:
        return vi.AMBIGUOUS_UNIT_SAME.format(text=words, names=listed, code=twins[0].code)
    unit, parent = plain[0]
    example = f"{unit.name} {parent}" if parent else unit.name
    return vi.AMBIGUOUS_UNIT_CODE.format(
        text=words, names=listed, example=example, code=twins[0].code
    )


def _twin_name(unit: OrgUnit, parent: str | None, came: str | None) -> str:
    """A unit with a namesake under the same parent: its parent, the commune it came from
    and its code ("Chi hội thôn 1 (Xã Cam Hải, trước thuộc Xã Cam Hải Đông, mã KH-CL-02-01)")."""
    came_from = vi.UNIT_CAME_FROM.format(parent=came) if came and came != parent else ""
    return vi.UNIT_TWIN.format(name=unit.name, parent=parent, came_from=came_from, code=unit.code)


async def unit_label(session: AsyncSession, unit: OrgUnit) -> str:
    """The unit's name as staff answers show it: told apart as the picker tells it when
    another unit under the same parent has the same name (twins of a merged commune)."""
    parent = await session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    if parent is None:
        return unit.name
    kids = await children(session, parent)
    if not any(k.id != unit.id and k.name == unit.name and k.merged_into_id is None for k in kids):
        return unit.name
    [came] = await former_parent_names(session, [unit])
    return _twin_name(unit, parent.name, came)


async def name_over_code(
    session: AsyncSession,
    text: str,
    query: Query,
    scope: OrgUnit,
    reparse: Callable[[str], Query] = parse_query,
) -> Query:
    """`query` (read from `text` by `reparse`) when a capitalised code it took as the unit
    ("KH-KV") stands beside a unit named with its level word ("xã Sơn Bình"): the name wins.
    A code that is no unit's is a word of the question ("KT-XH"); a name with its own code
    (a twin: "chi hội thôn 1 KH-CL-02-01") is that unit; a code of another unit than the
    name's is asked about, listing both; a name that names nothing leaves the code."""
    code = query.unit
    if code is None or not CODE.fullmatch(code):
        return query
    plain = reparse(text.replace(code, code.lower()))  # (lower case: no longer read as a code)

    def typed(words: str) -> str:
        return " ".join(code if w == code.lower() else w for w in words.split())

    if plain.unit is None:
        return query  # the code alone names the unit
    name = " ".join(w for w in plain.unit.split() if w != code.lower())
    if not name:
        return query
    if name != plain.unit and await find_units(session, typed(plain.unit), scope, limit=1):
        return Query(typed(plain.words), plain.period, typed(plain.unit))  # a name and its code
    coded = await unit_by_code(session, code)
    if coded is None or not is_within(coded, scope):
        return Query(typed(plain.words), plain.period, name)  # the code was a word
    named = await find_units(session, name, scope)
    if not named or coded.id in {u.id for u in named}:
        return query
    choices = [*named[:4], coded]
    raise StaffError(
        await _ambiguous_units(session, f"{name} {code}", choices),
        "ambiguous_unit",
        f"{name} {code}",
        [u.code for u in choices],
    )


async def split_unit(
    session: AsyncSession, words: str, scope: OrgUnit, accepts: Callable[[str], bool]
) -> tuple[str, OrgUnit | None]:
    """`words` as what `accepts` takes (an indicator, a rating) followed by a unit named
    without its level word ("hội viên mới Lương Hòa"): the longest accepted start whose rest
    names a unit inside the scope, and that unit; (words, None) when the whole is accepted
    or nothing is. An accepted start followed by words that name no unit is a unit not found
    ("Không tìm thấy đơn vị «Lương Hòa»"), not an unknown indicator."""
    if not words or accepts(words):
        return words, None
    parts = words.split()
    unknown = ""
    for cut in range(len(parts) - 1, 0, -1):
        head, rest = " ".join(parts[:cut]), " ".join(parts[cut:])
        if not accepts(head):
            continue
        if await find_units(session, rest, scope, limit=1):
            return head, await unit_in_scope(session, rest, scope)
        unknown = unknown or rest
    if unknown:
        raise StaffError(vi.UNKNOWN_UNIT.format(text=unknown), "unknown_unit", unknown)
    return words, None


async def indicator_and_unit(
    session: AsyncSession, catalog: Catalog, words: str, unit_words: str | None, scope: OrgUnit
) -> tuple[Indicator | Answer, OrgUnit]:
    """The indicator and the unit a question names (the asker's own unit when none is)."""
    if unit_words:
        try:
            unit = await unit_in_scope(session, unit_words, scope)
        except StaffError as exc:
            # A level word inside the indicator's name ("phản biện xã hội"), not a unit.
            if exc.reason not in ("unknown_unit", "ambiguous_unit") or not words:
                raise
            try:
                return await indicator_and_unit(
                    session, catalog, f"{words} {unit_words}", None, scope
                )
            except StaffError:
                raise exc from None
    else:
        words, found = await split_unit(
            session, words, scope, lambda w: bool(catalog.find_indicators(w))
        )
        unit = found or scope
    return indicator_or_choices(catalog, words), unit


def indicator_or_choices(catalog: Catalog, words: str) -> Indicator | Answer:
    found = catalog.find_indicators(words)
    if not found:
        shown = indicator_words(catalog)
        message = vi.UNKNOWN_INDICATOR.format(text=words, indicator=shown[0], indicator2=shown[-1])
        raise StaffError(message, "unknown_indicator", words)
    if len(found) == 1:
        return found[0]
    return Answer(
        vi.AMBIGUOUS_INDICATOR.format(text=words),
        [(ind.label, ind.code) for ind in found[:8]],
    )


async def new_year_waiting(
    session: AsyncSession, catalog: Catalog, unit: OrgUnit, today: date, code: str | None = None
) -> date | None:
    """While none of this year's reports (of the indicator `code`, or of any form) is due
    and none has come in (early January): the day the first falls due; else None."""
    this = year_period(today.year)
    if code is not None and catalog.indicators[code].type in (
        IndicatorType.TEXT,
        IndicatorType.CHOICE,
    ):
        return None  # (no total to look at)
    codes = _reported_codes(catalog, code)
    forms = {f for c in codes for f in catalog.forms_of_indicator.get(c, [])}
    dues = [
        window(catalog.forms[f], p).due
        for f in forms
        for p in periods_inside(catalog.forms[f].periodicity, this)
    ]
    if not dues or min(dues) < today or await _any_reported(session, catalog, unit, this, code):
        return None
    return min(dues)


def _reported_codes(catalog: Catalog, code: str | None) -> list[str]:
    """The reported indicators behind `code`, or every indicator a form asks."""
    return catalog.components(code) if code else list(catalog.forms_of_indicator)


async def _any_reported(
    session: AsyncSession, catalog: Catalog, unit: OrgUnit, period: Period, code: str | None
) -> bool:
    """Whether any number behind `code` (None: any) was sent from inside the unit."""
    codes = _reported_codes(catalog, code)
    return bool(await rollup.reported_by_root(session, codes, (unit.id,), period))


async def default_year(
    session: AsyncSession, catalog: Catalog, unit: OrgUnit, today: date, code: str | None = None
) -> Period:
    """The year a question asked without a period is of (/tong, /bieudo, /xuat, the tracker
    pages): this year, or while it waits (`new_year_waiting`: early January) last year, whose
    reports are still arriving (as /chuanop's default and the targets' windows)."""
    waiting = await new_year_waiting(session, catalog, unit, today, code)
    return year_period(today.year - 1 if waiting else today.year)


async def asked_year(
    session: AsyncSession,
    catalog: Catalog,
    unit: OrgUnit,
    today: date,
    said: str | None,
    asked: Period,
    code: str | None = None,
) -> tuple[Period, str]:
    """The period to answer for `said` (the period's words as typed, None: none; `asked`:
    them read) and a line to say first. Nothing named: `default_year`. "năm nay" while the
    new year waits (early January) means the figures being completed: last year's, saying
    so, when it has any (the empty year is not the answer). A year named by its number is
    answered as asked, as the CLI and the pages do."""
    if said is None:
        return await default_year(session, catalog, unit, today, code), ""
    if " ".join(fold(said).split()) != "nam nay":
        return asked, ""
    waiting = await new_year_waiting(session, catalog, unit, today, code)
    last = year_period(today.year - 1)
    if waiting is None or not await _any_reported(session, catalog, unit, last, code):
        return asked, ""
    year = asked.label[:1].upper() + asked.label[1:]
    note = vi.NEW_YEAR_WAITING.format(year=year, due=waiting.strftime("%d/%m/%Y"))
    return last, note + " " + vi.NEW_YEAR_SHOWN.format(year=last.label)


async def total_answer(
    session: AsyncSession,
    catalog: Catalog,
    indicator: Indicator,
    unit: OrgUnit,
    period: Period,
    today: date | None = None,
) -> str:
    head, rows = await total_parts(session, catalog, indicator, unit, period, today)
    return "\n".join(head + rows)


async def total_parts(
    session: AsyncSession,
    catalog: Catalog,
    indicator: Indicator,
    unit: OrgUnit,
    period: Period,
    today: date | None = None,
) -> tuple[list[str], list[str]]:
    """The headline (total, what it rests on, change from the previous period) and one line
    per unit below, as the chat and the CLI show them."""
    found = await total_of(session, catalog, indicator, unit, period, today)
    if isinstance(found, str):
        return [found], []
    return total_lines(catalog, found, await unit_label(session, unit))


async def total_of(
    session: AsyncSession,
    catalog: Catalog,
    indicator: Indicator,
    unit: OrgUnit,
    period: Period,
    today: date | None = None,  # (given: a period still within its due date says so)
) -> Total | str:
    """The indicator's total (storage/measures/totals.py), or why it has none (a text, a rating)."""
    try:
        countable_or_error(indicator)
    except StaffError as exc:
        return str(exc)
    return await totals.indicator_total(session, catalog, indicator.code, unit, period, today=today)


def countable_or_error(indicator: Indicator) -> None:
    """A text answer or a rating has no total (nor a chart of totals): say so."""
    if indicator.type == IndicatorType.TEXT:
        raise StaffError(vi.TOTAL_TEXT.format(label=indicator.label), "text", indicator.code)
    if indicator.type == IndicatorType.CHOICE:
        raise StaffError(vi.TOTAL_CHOICE.format(label=indicator.label), "choice", indicator.code)


async def sum_target_for(
    session: AsyncSession,
    catalog: Catalog,
    code: str,
    unit: OrgUnit,
    period: Period,
    today: date,
) -> float | None:
    """The figure of a sum target on this indicator, unit and period, for a chart's target line."""
    for target in catalog.targets:
        if target.kind != "sum" or target.indicator != code:
            continue
        scope = await target_scope(session, catalog, target, unit)
        same_period = target_period(target, catalog, today) == period
        if scope and [u.id for u in scope] == [unit.id] and same_period:
            return target.target
    return None


def form_for_period(catalog: Catalog, period: Period) -> Form | None:
    """The leaf-level form reported at the period's own periodicity (a quarter: the quarterly)."""
    matches = [
        f for f in catalog.forms_for_level(catalog.leaf_level) if f.periodicity == period.kind
    ]
    return matches[0] if matches else None


# ---- CLI wrappers -------------------------------------------------------------------------


async def _cli_unit(session: AsyncSession, ctx: HandlerContext, code: str | None) -> OrgUnit:
    unit = await unit_by_code(session, code or ctx.catalog.province or "")
    if unit is None:
        text = code or ctx.catalog.province or ""
        raise StaffError(vi.UNKNOWN_UNIT.format(text=text), "unknown_unit", text)
    return unit


def _cli_indicator(catalog: Catalog, words: str) -> Indicator:
    found = indicator_or_choices(catalog, words)
    if isinstance(found, Answer):
        codes = [code for _, code in found.options]
        raise StaffError(found.text, "ambiguous_indicator", words, codes)
    return found


async def cli_progress(ctx: HandlerContext, code: str | None) -> str:
    """The CLI wrappers raise StaffError for what cannot be answered; the CLI words it."""
    async with ctx.sessions() as session:
        unit = await _cli_unit(session, ctx, code)
        today = ctx.clock.today()
        items = await progress_service.progress(session, ctx.catalog, unit, today)
        return progress_text(ctx.catalog, await unit_label(session, unit), items, today)


async def cli_total(
    ctx: HandlerContext, words: str, period_text: str | None, code: str | None
) -> str:
    async with ctx.sessions() as session:
        today = ctx.clock.today()
        unit = await _cli_unit(session, ctx, code)
        found = _cli_indicator(ctx.catalog, words)
        countable_or_error(found)
        asked = period_or_error(period_text, today, ctx.catalog, year_period(today.year))
        period, note = await asked_year(
            session, ctx.catalog, unit, today, period_text or None, asked, found.code
        )
        answer = await total_answer(session, ctx.catalog, found, unit, period, today)
        return f"{note}\n{answer}" if note else answer


async def cli_missing(
    ctx: HandlerContext, period_text: str | None, code: str | None, form_code: str | None
) -> str:
    async with ctx.sessions() as session:
        today = ctx.clock.today()
        unit = await _cli_unit(session, ctx, code)
        if form_code and form_code not in ctx.catalog.forms:
            raise StaffError(
                vi.UNKNOWN_FORM.format(text=form_code),
                "unknown_form",
                form_code,
                list(ctx.catalog.forms),
            )
        form = ctx.catalog.forms[form_code] if form_code else default_form(ctx.catalog)
        period = period_or_error(period_text, today, ctx.catalog, latest_due_period(form, today))
        done = await completeness(session, form, period_of(form.periodicity, period.end), unit)
        level = ctx.catalog.level_word(form.level)
        return completeness_text(done, await unit_label(session, unit), today, level)


async def cli_export(ctx: HandlerContext, out: Path, period_text: str, code: str | None) -> str:
    from handlers.export_xlsx import build_workbook

    async with ctx.sessions() as session:
        today = ctx.clock.today()
        unit = await _cli_unit(session, ctx, code)
        asked = period_or_error(period_text, today, ctx.catalog, year_period(today.year))
        period, note = await asked_year(
            session, ctx.catalog, unit, today, period_text or None, asked
        )
        out.write_bytes(await build_workbook(session, ctx.catalog, unit, period, today))
        name = await unit_label(session, unit)
        caption = vi.EXPORT_CAPTION.format(period=period.label, unit=name)
        return f"{note} {caption}" if note else caption


async def cli_chart(
    ctx: HandlerContext, words: str, out: Path, period_text: str, code: str | None
) -> str:
    from handlers import charts

    async with ctx.sessions() as session:
        today = ctx.clock.today()
        unit = await _cli_unit(session, ctx, code)
        found = _cli_indicator(ctx.catalog, words)
        countable_or_error(found)
        asked = period_or_error(period_text, today, ctx.catalog, year_period(today.year))
        period, note = await asked_year(
            session, ctx.catalog, unit, today, period_text or None, asked, found.code
        )
        target = await sum_target_for(session, ctx.catalog, found.code, unit, period, today)
        name = await unit_label(session, unit)
        png, title = await charts.chart(session, ctx.catalog, found, unit, period, target, name)
        out.write_bytes(png)
        title = title.replace("\n", " – ")
        return f"{note} {title}" if note else title


# ---- officers' commands: who may use them, and their usage text -------------------------

FLOW = "staff"  # the conversation of a staff question or action


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
