"""PNG charts with Vietnamese labels: a trend over periods, or a breakdown by child units.

DejaVu Sans, which matplotlib ships, has every Vietnamese glyph; it is named explicitly so a
system font without them is never picked.
"""

from __future__ import annotations

import asyncio
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


def _figure(width: float = 8, height: float = 4.5):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plt.rcParams["font.family"] = FONT
    return plt, plt.subplots(figsize=(width, height), dpi=110)


def _png(plt, fig) -> bytes:  # type: ignore[no-untyped-def]
    buffer = BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def breakdown_png(
    title: str, names: list[str], values: list[float | None], texts: list[str], unit_word: str
) -> bytes:
    """A bar per unit with its figure written beside it; a unit without a report has no bar
    and says so (never a bar of 0)."""
    plt, (fig, ax) = _figure(8, max(3.0, 0.4 * len(names) + 1.5))
    order = list(range(len(names)))[::-1]
    ax.barh([names[i] for i in order], [values[i] or 0 for i in order], color=PINK)
    for y, i in enumerate(order):
        color = "black" if values[i] is not None else GREY
        ax.text(values[i] or 0, y, " " + texts[i], va="center", fontsize=9, color=color)
    ax.set_title(title, fontsize=11)
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
    reporters are not read as like with like."""
    plt, (fig, ax) = _figure()
    ax.bar(labels, [v or 0 for v in values], color=PINK, label=vi.CHART_PER_PERIOD)
    for x, (v, note) in enumerate(zip(values, notes or [""] * len(values), strict=True)):
        if note:
            color = "black" if v is not None else GREY
            ax.text(x, v or 0, note, ha="center", va="bottom", fontsize=7, color=color)
    ax.set_ylabel(unit_word)
    ax.set_title(title, fontsize=11)
    ax.tick_params(axis="x", labelrotation=60, labelsize=8)
    if target is not None:
        running, cumulative = 0.0, []
        for v in values:
            running += v or 0
            cumulative.append(running)
        ax2 = ax.twinx()
        ax2.plot(
            labels, cumulative, color="#37474f", marker="o", markersize=3, label=vi.CHART_CUMULATIVE
        )
        ax2.axhline(
            target,
            color=GREY,
            linestyle="--",
            label=vi.CHART_TARGET.format(target=vi.format_number(target)),
        )
        ax2.set_ylim(0, max(target, running) * 1.1)
        ax2.legend(loc="upper left", fontsize=8)
    ax.spines[["top"]].set_visible(False)
    return _png(plt, fig)


async def chart(
    session: AsyncSession,
    catalog: Catalog,
    indicator: Indicator,
    unit: OrgUnit,
    period: Period,
    target: float | None = None,
) -> tuple[bytes, str]:
    """A trend when the period spans several reporting periods, else a breakdown."""
    # Each period's figure with its own basis (storage/totals.series), from the first to the
    # last period anyone reported in.
    steps = await totals.series(session, catalog, indicator.code, unit, period)
    while steps and not steps[-1][1].reported:
        steps.pop()
    while steps and not steps[0][1].reported:
        steps.pop(0)
    if len(steps) > 1:
        labels = [short_label(p) for p, _ in steps]
        title = vi.CHART_TREND_TITLE.format(
            label=indicator.label, unit=unit.name, period=period.label
        )
        values = [f.value if f.reported else None for _, f in steps]
        notes = [trend_note(f) for _, f in steps]
        if any(f.missing for _, f in steps):
            title += "\n" + vi.CHART_TREND_BASIS.format(level=_level_word(catalog, indicator))
        png = await _drawn(trend_png, title, labels, values, indicator.unit, target, notes)
        return png, title
    total = await totals.indicator_total(
        session, catalog, indicator.code, unit, period, compare=False
    )
    title = vi.CHART_BREAKDOWN_TITLE.format(
        label=indicator.label, unit=unit.name, period=period.label
    )
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
