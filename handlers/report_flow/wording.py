"""How her words are read and how values are shown back: the answer parsers, the "sửa"
patterns, the reasons a figure is doubtful, the notes on a whole-form message, and the small
formatting helpers every step uses. No database reads, no state changes."""

from __future__ import annotations

import re

from handlers.parsing import match_choice, parse_number, parse_yes_no
from handlers.turn import Turn
from handlers.whole_form import WholeForm
from schedules.calendar import Window
from storage.measures import reporting
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Form, Indicator, IndicatorType
from storage.plan.text import tidy
from storage.plan.validation import Issue

MAX_TEXT_ANSWER = 500
MAX_LISTED = 5  # items named in one note (numbers not placed, not written): replies stay short
_EDIT_TEXT = re.compile(r"^sua(?: muc)? ?(\d{1,2})$")
# "sửa 3 thành 5", "sửa mục 3: 5", "sửa 3 = 5 hộ": one item and its new answer.
_EDIT_ONE = re.compile(r"^sua(?: muc)? ?(\d{1,2})\s*(?:thanh|la|=|:)?\s+(\S.*)$")
_EDIT_ONE_ITEM = re.compile(r"^(?:mục|muc)?\s*\d{1,2}\s*(?:thành|thanh|là|la|=|:)?\s*", re.I)
_EDIT_ANY = re.compile(r"^sua(?: muc)? ?\d{1,2}(?:\D|$)")  # "sửa 6", "sửa 6 thành 4"
_EDIT_WORD = re.compile(r"^sua(?: lai)?(?: bao cao)?$")  # a bare "sửa": the numbers follow


def one_line(catalog: Catalog, form: Form, values: dict[str, reporting.Answer]) -> str:
    """The whole form as one message she can copy: "hvm 3 hvr 0 …" (text answers last)."""
    items: list[str] = []
    texts: list[str] = []
    for q in form.questions:
        indicator = catalog.indicators[q.indicator]
        value = values.get(q.indicator)
        label = q.short or q.indicator
        if isinstance(value, str):
            texts.append(f"{label} {value}")
        elif isinstance(value, float) and indicator.type == IndicatorType.YES_NO:
            items.append(f"{label} {'có' if value else 'không'}")
        elif isinstance(value, float):
            items.append(f"{label} {vi.format_number(value, 2)}")
    return " ".join(items + texts)


_WHOLE_CHOICES = [(vi.BUTTON_YES, "ok"), (vi.BUTTON_NO, "no")]


def _whole_notes(turn: Turn, form: Form, found: WholeForm) -> list[str]:
    """What she should know of how her message was read: numbers that are not answers, that
    fit no label, labels without a number or given several."""
    catalog = turn.ctx.catalog
    notes: list[str] = []
    if found.doubts:
        items = [
            vi.MENTION_ITEM.format(kind=vi.MENTION_KINDS[kind], text=text)
            for kind, text in found.doubts
        ]
        notes.append(vi.WHOLE_NOT_ANSWERS.format(items=_listed(items)))
    if found.unplaced:
        notes.append(
            vi.WHOLE_UNPLACED.format(
                items=_listed([f"«{item}»" for item in found.unplaced]),
                labels=_legend(catalog, form),
            )
        )
    if found.no_value:
        notes.append(
            vi.WHOLE_NO_VALUE.format(
                items=", ".join(_short(form, code) for code in dict.fromkeys(found.no_value))
            )
        )
    for code, values in found.repeated.items():
        notes.append(
            vi.WHOLE_REPEATED.format(
                label=_short(form, code), values=_listed(values), last=values[-1]
            )
        )
    return notes


def _whole_ask_text(
    turn: Turn,
    form: Form | None,
    win: Window | None,
    found: WholeForm,
    answers: dict[str, reporting.Answer] | None = None,
) -> str:
    """ "Chị muốn ghi các số này vào …?", what would be written (old → new over `answers`
    already given), what would not, and why she is asked."""
    if form is None or win is None:
        lines = [vi.WHOLE_ASK_ANY]
    else:
        lines = [vi.WHOLE_ASK.format(form=form.name, period=win.period.label)]
        catalog = turn.ctx.catalog
        for n, q in enumerate(form.questions, start=1):
            raw = found.answers.get(q.indicator)
            if raw is None:
                continue
            indicator = catalog.indicators[q.indicator]
            value, error = _parse(indicator, raw)
            shown = _clip(raw) if error else _show(indicator, value)
            old = (answers or {}).get(q.indicator)
            if (
                not error
                and q.indicator in (answers or {})
                and reporting.as_text(old) != reporting.as_text(value)
            ):
                shown = f"{_show(indicator, old)} → {shown}"
            lines.append(vi.SUMMARY_LINE.format(n=n, label=indicator.label, value=shown))
        lines += _whole_notes(turn, form, found)
        if found.extra:
            extra = _listed(found.extra)
            lines.append(
                vi.WHOLE_ASK_EXTRA.format(sent=found.count, n=len(form.questions), extra=extra)
            )
    if found.other and not found.doubts:
        lines.append(vi.WHOLE_OTHER_WORDS)
    lines.append(vi.WHOLE_ASK_HOW)
    return "\n".join(lines)


def _why(turn: Turn, form: Form, issues: list[Issue]) -> str:
    """The issues about one answer, in Vietnamese, one a line."""
    catalog = turn.ctx.catalog
    level = catalog.level_word(form.level)
    number = {q.indicator: n for n, q in enumerate(form.questions, start=1)}
    lines: list[str] = []
    for issue in issues:
        indicator = catalog.indicators[issue.indicator]
        if issue.kind == "members":
            line = vi.CONFIRM_WHY_MEMBERS.format(
                level=level,
                source=_members_source(issue, number.get(catalog.member_total or "")),
                members=vi.format_number(issue.reference),
            )
        elif issue.kind == "outlier":
            line = vi.CONFIRM_WHY_OUTLIER.format(
                level=level, usual=_show(indicator, issue.reference)
            )
        elif issue.kind == "year":
            line = vi.CONFIRM_WHY_YEAR.format(value=f"{issue.reference or 0:.0f}")
        else:
            figures = "; ".join(
                (vi.RULE_FIGURE_BEFORE if f.previous else vi.RULE_FIGURE_NOW).format(
                    n=number[f.indicator], value=vi.format_number(f.value, 2)
                )
                for f in issue.figures
            )
            line = vi.RULE_DETAILS.format(message=issue.message.rstrip(". "), figures=figures)
            line += "."
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def _members_source(issue: Issue, question: int | None) -> str:
    """Where the member count she is shown was read: her answer to the member total (its
    question's number), an earlier report, or the units list."""
    members = issue.members
    if members is None or members.source == "registered":
        return vi.MEMBERS_FROM_UNIT_LIST
    if members.source == "earlier_report":
        assert members.period is not None  # storage/measures/member_count.py gives it
        return vi.MEMBERS_FROM_REPORT.format(period=members.period.label)
    if question is None:
        return vi.MEMBERS_FROM_THIS_REPORT_ANY
    return vi.MEMBERS_FROM_THIS_REPORT.format(n=question)


def _short(form: Form, code: str) -> str:
    return next((q.short or q.indicator for q in form.questions if q.indicator == code), code)


def _legend(catalog: Catalog, form: Form) -> str:
    return "; ".join(
        vi.ONE_MESSAGE_LEGEND_ITEM.format(
            short=q.short or q.indicator, label=catalog.indicators[q.indicator].label
        )
        for q in form.questions
    )


def _parse(indicator: Indicator, text: str) -> tuple[float | str | None, str | None]:
    """The stored value, or a Vietnamese explanation of why the answer was refused."""
    if indicator.type == IndicatorType.TEXT:
        value = tidy(text)
        if len(value) > MAX_TEXT_ANSWER:
            return None, vi.NUMBER_ERRORS["text_too_long"].format(n=len(value), max=MAX_TEXT_ANSWER)
        return (value, None) if value else (None, vi.NUMBER_ERRORS["empty"])
    if indicator.type == IndicatorType.YES_NO:
        yes = parse_yes_no(text)
        if yes is None and text.strip() in ("0", "1"):
            yes = text.strip() == "1"
        return (None, vi.NUMBER_ERRORS["yes_no"]) if yes is None else (1.0 if yes else 0.0, None)
    if indicator.type == IndicatorType.CHOICE:
        chosen = match_choice([(c.value, c.label) for c in indicator.choices], text)
        if chosen is None:
            labels = ", ".join(f"«{c.label}»" for c in indicator.choices)
            return None, vi.NUMBER_ERRORS["choice"].format(choices=labels)
        return chosen, None
    result = parse_number(
        text, allow_decimal=indicator.type == IndicatorType.AMOUNT, unit=indicator.unit
    )
    if result.error:
        shown = text.strip()
        shown = shown if len(shown) <= 30 else shown[:27] + "…"
        return None, vi.NUMBER_ERRORS[result.error].format(text=shown, unit=indicator.unit)
    assert result.value is not None
    if result.value < indicator.min:
        return None, vi.NUMBER_ERRORS["below_min"].format(min=vi.format_number(indicator.min))
    if indicator.max is not None and result.value > indicator.max:
        return None, vi.NUMBER_ERRORS["above_max"].format(max=vi.format_number(indicator.max))
    return result.value, None


def _show(indicator: Indicator, value: object) -> str:
    if value is None:
        return vi.SKIPPED
    if indicator.type == IndicatorType.YES_NO:
        return vi.BUTTON_YES if value else vi.BUTTON_NO
    if indicator.type == IndicatorType.CHOICE and isinstance(value, float):
        return indicator.choice_label(value) or vi.format_number(value)
    if isinstance(value, float):
        return f"{vi.format_number(value, 2)} {indicator.unit}".strip()
    return str(value)


def _day(day: object) -> str:
    return day.strftime("%d/%m/%Y") if hasattr(day, "strftime") else str(day)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _clip(text: str, limit: int = 60) -> str:
    """Her words, quoted back short."""
    text = tidy(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _listed(items: list[str]) -> str:
    """A few items, and how many more (a reply never grows with what she sent)."""
    shown = ", ".join(items[:MAX_LISTED])
    more = len(items) - MAX_LISTED
    return f"{shown} {vi.WHOLE_NOT_ANSWERS_MORE.format(n=more)}" if more > 0 else shown


def _example(form: Form) -> str:
    """A labelled example for her form: "hvm 3 tn 1"."""
    labels = [q.short or q.indicator for q in form.questions][:2]
    return " ".join(f"{label} {n}" for label, n in zip(labels, (3, 1), strict=False))


def _parsed_whole(
    catalog: Catalog, form: Form, found: WholeForm, notes: list[str]
) -> dict[str, reporting.Answer]:
    """The values of a whole-form message that read as answers, in the form's order; each
    refused one adds its reason to `notes` ("Mục 3: …")."""
    values: dict[str, reporting.Answer] = {}
    for j, q in enumerate(form.questions):
        raw = found.answers.get(q.indicator)
        if raw is None:
            continue
        value, error = _parse(catalog.indicators[q.indicator], raw)
        if error:
            notes.append(vi.WHOLE_REFUSED.format(n=j + 1, error=error))
        else:
            values[q.indicator] = value
    return values
