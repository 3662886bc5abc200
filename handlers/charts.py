"""PNG charts with Vietnamese labels: a trend over periods, or a breakdown by child units.

DejaVu Sans, which matplotlib ships, has every Vietnamese glyph; it is named explicitly so a
system font without them is never picked.
"""

from __future__ import annotations

import asyncio
import textwrap
import threading
from collections.abc import Callable
from io import BytesIO

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.views import row_name, value_text
from storage.db.models import OrgUnit
from storage.measures import totals
from storage.measures.figures import Figure
from storage.measures.unit_readings import reporting_levels
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Indicator
from storage.plan.periods import Period

FONT = "DejaVu Sans"
# pyplot keeps global state: one chart drawn at a time, in a worker thread (see `_drawn`).
_DRAWING = threading.Lock()
PINK = "#c2185b"
GREY = "#9e9e9e"
# Read on a phone: Telegram and Zalo show a picture at the screen's width (~360 points), so a
# 6-inch-wide figure is shrunk about 2.5 times; its text is set large enough to survive that.
WIDTH, DPI = 6.0, 150
TEXT, SMALL = 11, 9
TITLE_WIDTH = 56  # characters of a title line at TEXT points across WIDTH
MANY_BARS = 8  # beyond this, a bar's note stands upright and only some periods are named
PERIOD_NAMES = 12  # at most this many periods named under a trend's bars


def _figure(height: float):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plt.rcParams["font.family"] = FONT
    plt.rcParams["font.size"] = TEXT
    return plt, plt.subplots(figsize=(WIDTH, height), dpi=DPI)


def _png(plt, fig) -> bytes:  # type: ignore[no-untyped-def]
    buffer = BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _wrapped(title: str) -> str:
    return "\n".join(textwrap.fill(line, TITLE_WIDTH) for line in title.split("\n"))


def _value_axis(axis, values: list[float], percent: bool) -> None:  # type: ignore[no-untyped-def]
    """The one axis of figures: a percentage in "%" for a rate; whole-number ticks for counts
    (no "2,5 người"), in Vietnamese grouping ("5.000"); fractions only when a figure has one
    (an amount of money)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

    whole = all(float(v).is_integer() for v in values)
    if percent and max(values, default=0) <= 100:  # the room above 100% is for the notes
        axis.set_major_locator(FixedLocator([0, 25, 50, 75, 100]))
    else:
        axis.set_major_locator(MaxNLocator(nbins=6, integer=whole and not percent))
    if percent:
        axis.set_major_formatter(FuncFormatter(lambda v, _: vi.format_number(v, 1) + "%"))
    else:
        axis.set_major_formatter(FuncFormatter(lambda v, _: vi.format_number(v, 1)))


def breakdown_png(
    title: str, names: list[str], values: list[float | None], texts: list[str], unit_word: str
) -> bytes:
    """A bar per unit with its figure written beside it; a unit without a report has no bar
    and says so (never a bar of 0)."""
    plt, (fig, ax) = _figure(max(3.5, 0.42 * len(names) + 2.2))
    percent = unit_word.strip() == "%"
    order = list(range(len(names)))[::-1]
    ax.barh([names[i] for i in order], [values[i] or 0 for i in order], color=PINK)
    for y, i in enumerate(order):
        color = "black" if values[i] is not None else GREY
        ax.text(values[i] or 0, y, " " + texts[i], va="center", fontsize=SMALL, color=color)
    top = max([v for v in values if v is not None] + [100 if percent else 1])
    ax.set_xlim(0, top * 1.3)  # room for the figures written beside the longest bar
    _value_axis(ax.xaxis, [v for v in values if v is not None], percent)
    ax.set_title(_wrapped(title), fontsize=TEXT)
    if not percent:
        ax.set_xlabel(unit_word)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(plt, fig)


def trend_png(
    title: str,
    labels: list[str],
    values: list[float | None],
    unit_word: str,
    target: float | None,
    notes: list[str] | None = None,
) -> bytes:
    """A bar per period; a period nobody reported has no bar (never a bar of 0). `notes`,
    written over each bar: what its figure rests on ("5/6"), so periods with different
    reporters are not read as like with like. With a target, the bars are the running total
    measured against it, on the same one axis (a second scale beside the first misleads)."""
    plt, (fig, ax) = _figure(5.0)
    percent = unit_word.strip() == "%"
    shown: list[float | None] = list(values)
    if target is not None:
        running, shown = 0.0, []
        for v in values:
            running += v or 0
            shown.append(running if v is not None or running else None)
    where = list(range(len(labels)))
    label = vi.CHART_CUMULATIVE if target is not None else vi.CHART_PER_PERIOD
    ax.bar(where, [v or 0 for v in shown], color=PINK, label=label)
    many = len(labels) > MANY_BARS
    for x, (v, note) in enumerate(zip(shown, notes or [""] * len(values), strict=True)):
        if note == vi.CHART_TREND_NONE:  # nobody reported: a dash, level (upright it is a bar)
            ax.text(x, v or 0, note, ha="center", va="bottom", fontsize=TEXT + 6, color=GREY)
        elif v == 0 and not note:  # a reported 0 has no bar: said, not left blank
            ax.text(x, 0, "0", ha="center", va="bottom", fontsize=SMALL)
        elif note:  # upright when many, so neighbours' notes do not overlap
            text, turn = (" " + note, 90) if many else (note, 0)
            ax.text(x, v or 0, text, ha="center", va="bottom", fontsize=SMALL, rotation=turn)
    step = -(-len(labels) // PERIOD_NAMES)  # every period named, or every second, third…
    named = where[::-1][::step][::-1]  # the latest period is always named
    ax.set_xticks(named, [labels[x] for x in named])
    ax.tick_params(axis="x", labelrotation=60 if many else 0, labelsize=SMALL)
    figures = [v for v in shown if v is not None]
    top = max(figures + ([target] if target is not None else []) + [100 if percent else 1])
    ax.set_ylim(0, top * (1.25 if notes and any(notes) else 1.1))
    _value_axis(ax.yaxis, figures + ([target] if target is not None else []), percent)
    if target is not None:
        ax.axhline(
            target,
            color="#37474f",
            linestyle="--",
            label=vi.CHART_TARGET.format(target=vi.format_number(target)),
        )
        ax.legend(loc="upper left", fontsize=SMALL)
    if not percent:
        ax.set_ylabel(unit_word)
    ax.set_title(_wrapped(title), fontsize=TEXT)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(plt, fig)


async def chart(
    session: AsyncSession,
    catalog: Catalog,
    indicator: Indicator,
    unit: OrgUnit,
    period: Period,
    target: float | None = None,
    unit_name: str | None = None,
) -> tuple[bytes, str]:
    """A trend when the period spans several reporting periods, else a breakdown; the unit
    named `unit_name` (told apart from a twin) or by its name."""
    name = unit_name or unit.name
    # Each period's figure with its own basis (storage/totals.series), from the first to the
    # last period anyone reported in.
    steps = await totals.series(session, catalog, indicator.code, unit, period)
    while steps and not steps[-1][1].reported:
        steps.pop()
    while steps and not steps[0][1].reported:
        steps.pop(0)
    if len(steps) > 1:
        labels = [short_label(p) for p, _ in steps]
        title = vi.CHART_TREND_TITLE.format(label=indicator.label, unit=name, period=period.label)
        values = [f.value if f.reported else None for _, f in steps]
        notes = [trend_note(f) for _, f in steps]
        if any(f.missing for _, f in steps):
            title += "\n" + vi.CHART_TREND_BASIS.format(level=_level_word(catalog, indicator))
        png = await _drawn(trend_png, title, labels, values, indicator.unit, target, notes)
        return png, title
    total = await totals.indicator_total(
        session, catalog, indicator.code, unit, period, compare=False
    )
    title = vi.CHART_BREAKDOWN_TITLE.format(label=indicator.label, unit=name, period=period.label)
    names = [row_name(r) for r in total.rows]
    figures: list[float | None] = [
        r.figure.value if r.figure.reported else None for r in total.rows
    ]
    texts = [value_text(total, r.figure, leaf=r.leaf or r.own) for r in total.rows]
    return await _drawn(breakdown_png, title, names, figures, texts, indicator.unit), title


async def _drawn(draw: Callable[..., bytes], *args: object) -> bytes:
    """Draws in a worker thread: matplotlib's import and drawing take a second or more of CPU,
    which in the event loop would hold back every turn, send and record of the bot (a message
    sent and not yet recorded meanwhile goes out twice if the process dies)."""

    def locked() -> bytes:
        with _DRAWING:
            return draw(*args)

    return await asyncio.to_thread(locked)


def trend_note(figure: Figure) -> str:
    """What a period's bar rests on: "5/6" (reported of expected), "–" for nobody."""
    if not figure.reported:
        return vi.CHART_TREND_NONE
    return f"{figure.reported}/{figure.expected}" if figure.missing else ""


def _level_word(catalog: Catalog, indicator: Indicator) -> str:
    levels = reporting_levels(catalog, indicator.code)
    return catalog.level_word(levels[0]) if len(levels) == 1 else vi.UNITS_WORD


def short_label(p: Period) -> str:
    if p.kind == "month":
        return f"{p.start.month}/{p.start.year % 100:02d}"
    return p.label
