"""Vietnamese text renderings of rollup results, shared by the chat and the CLI."""

from __future__ import annotations

from datetime import date

from handlers import texts_vi as vi
from storage.catalog import Catalog
from storage.progress import TargetProgress
from storage.rollup import Completeness, Share


def progress_text(
    catalog: Catalog, unit_name: str, items: list[TargetProgress], today: date
) -> str:
    if not items:
        return vi.PROGRESS_NONE.format(unit=unit_name)
    lines = [vi.PROGRESS_TITLE.format(unit=unit_name, today=today.strftime("%d/%m/%Y"))]
    for p in items:
        t = p.target
        common = dict(
            status=vi.STATUS[p.status],
            label=t.label,
            percent=vi.format_percent(p.percent),
            expected=vi.format_percent(p.expected_percent),
            period=p.period.label,
        )
        if t.kind == "sum":
            indicator = catalog.indicators[t.indicator or ""]
            lines.append(
                vi.PROGRESS_SUM_LINE.format(
                    achieved=vi.format_number(p.achieved),
                    target=vi.format_number(t.target),
                    unit=indicator.unit,
                    **common,
                )
            )
        else:
            lines.append(
                vi.PROGRESS_PCT_LINE.format(
                    achieved=vi.format_percent(p.achieved),
                    detail=_detail(p.detail),
                    target=vi.format_number(t.target),
                    **common,
                )
            )
        if p.group:
            lines.append(vi.PROGRESS_GROUP.format(units=", ".join(u.name for u in p.scope)))
        lines.append(vi.PROGRESS_SOURCE.format(source=t.source))
    return "\n".join(lines)


def _detail(detail: str) -> str:
    if "/" not in detail:
        return detail
    a, b = detail.split("/", 1)
    return f"{vi.format_number(float(a))}/{vi.format_number(float(b))}"


def breakdown_lines(rows: list[Share]) -> list[str]:
    return [
        vi.TOTAL_LINE.format(
            i=i,
            name=r.unit.name,
            value=vi.format_number(r.value),
            share=vi.format_percent(r.share),
        )
        for i, r in enumerate(rows, start=1)
    ]


def completeness_text(c: Completeness, unit_name: str) -> str:
    percent = c.submitted / c.expected * 100 if c.expected else None
    lines = [
        vi.MISSING_TITLE.format(form=c.form.name, period=c.period.label, unit=unit_name),
        vi.MISSING_SUMMARY.format(
            submitted=c.submitted,
            expected=c.expected,
            percent=vi.format_percent(percent),
            on_time=c.on_time,
            late=c.late,
            missing=len(c.missing),
        ),
    ]
    if not c.missing:
        lines.append(vi.MISSING_NONE)
        return "\n".join(lines)
    if c.in_progress:
        lines.append(vi.MISSING_IN_PROGRESS.format(n=c.in_progress))
    for parent, units in c.missing_by_parent().items():
        lines.append(vi.MISSING_GROUP.format(parent=parent, units=", ".join(u.name for u in units)))
    return "\n".join(lines)
