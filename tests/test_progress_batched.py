"""The batched progress (a target measured on many units at once, for the breakdown pages and
the thi đua rankings) gives exactly what measuring each unit alone gives, on the small tree
with reports of every form from most of its units."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from storage.measures.progress import measure, measure_many, progress, progress_many
from storage.measures.rollup import Roots, _reported_totals, flow_totals
from storage.measures.target_scopes import target_scope
from storage.measures.target_status import Status, TargetProgress
from storage.measures.target_windows import windows_of
from storage.plan.catalog import Aggregation, Catalog, IndicatorType, Target
from storage.plan.periods import period_of, year_period
from tests.builders import report, small_tree

DAYS = (date(2025, 11, 20), date(2026, 2, 20), date(2026, 6, 20), date(2026, 9, 20))
TODAYS = (date(2026, 11, 27), date(2026, 1, 10))


def _value(catalog: Catalog, code: str, seed: int) -> float:
    if catalog.indicators[code].type == IndicatorType.YES_NO:
        return float(seed % 2)
    return float(seed % 13 + 1)


async def _reports(session, catalog: Catalog, units) -> None:  # type: ignore[no-untyped-def]
    """Every form, from every unit of its level but a few, with values that vary by unit,
    question and period (some units leave some numbers out)."""
    for f, form in enumerate(catalog.forms.values()):
        if form.filled_by:
            continue
        periods = {
            period_of(form.periodicity, day).key: period_of(form.periodicity, day) for day in DAYS
        }
        for d, period in enumerate(periods.values()):
            for u, unit in enumerate(x for x in units if x.level == form.level):
                if (u + d + f) % 4 == 3:
                    continue  # a missing report
                values = {}
                for q, question in enumerate(form.questions):
                    ind = catalog.indicators[question.indicator]
                    if ind.type in (IndicatorType.TEXT, IndicatorType.DERIVED):
                        continue
                    if (u * 5 + q + d) % 7 == 6:
                        continue  # a number left out
                    values[question.indicator] = _value(catalog, question.indicator, u * 3 + q + d)
                await report(session, unit, form.code, period, values)


def _extra(**kw: object) -> Target:
    base: dict[str, object] = dict(label="Thêm", source="thử", period="2026")
    return Target.model_validate(base | kw)


# Kinds and shapes the demo plan lacks: dated tasks (by level, and by named units' own
# answers) and a group sum over named units.
EXTRA = [
    _extra(
        code="task_level",
        kind="task",
        indicator="ung_dung_cntt",
        level="branch",
        units=["C1", "C3"],
        deadline="2026-03-31",
    ),
    _extra(
        code="task_units",
        kind="task",
        indicator="ung_dung_cntt",
        units=["KH-KS", "B4"],
        deadline="2026-12-31",
    ),
    _extra(code="group_sum", kind="sum", indicator="ho_thoat_ngheo", units=["C1", "C3"], target=9),
]


def _fields(p: TargetProgress) -> tuple:
    def r(x: object) -> object:
        if isinstance(x, float):
            return round(x, 9)
        if isinstance(x, tuple):
            return tuple(r(v) for v in x)
        return x

    return (
        p.target.code,
        p.period.key,
        [u.id for u in p.scope],
        r(p.goal),
        r(p.achieved),
        r(p.expected),
        p.status,
        r(p.counted),
        r(p.basis),
        p.basis_level,
        r(p.ratio),
        p.previous_window,
        p.due_year,
        p.reported,
        p.late,
        p.final,
    )


async def test_batched_measure_equals_each_unit_alone(session, catalog) -> None:  # type: ignore[no-untyped-def]
    t = await small_tree(session)
    units = [t.province, t.d1, t.d2, t.d3, t.c1, t.c2, t.c3, t.c4, *t.branches]
    await _reports(session, catalog, units)
    catalog = replace(catalog, targets=[*catalog.targets, *EXTRA])
    assert {x.kind for x in catalog.targets} >= {"sum", "coverage", "rate", "task"}
    seen: set[Status] = set()
    compared = 0
    for today in TODAYS:
        for target in catalog.targets:
            scopes = []
            for unit in units:
                scope = await target_scope(session, catalog, target, unit)
                if scope is not None:
                    scopes.append(scope)
            together = await measure_many(session, catalog, target, scopes, today)
            assert len(together) == len(scopes)
            for scope, batched in zip(scopes, together, strict=True):
                alone = await measure(session, catalog, target, scope, today)
                assert _fields(batched) == _fields(alone)
                seen.add(alone.status)
                compared += 1
        many = await progress_many(session, catalog, units, today)
        for unit in units:
            alone_items = await progress(session, catalog, unit, today)
            assert [_fields(p) for p in many[unit.id]] == [_fields(p) for p in alone_items]
    # The data gives real figures, not only "no data": the comparison means something.
    assert compared > 2 * len(catalog.targets)
    assert len(seen - {Status.NO_DATA}) >= 2


async def test_every_target_together_equals_each_target_alone(session, catalog) -> None:  # type: ignore[no-untyped-def]
    """A unit's tracker reads the sums and coverages of all its targets together; each
    target measured by itself gives the same."""
    t = await small_tree(session)
    units = [t.province, t.d1, t.d2, t.d3, t.c1, t.c2, t.c3, t.c4, *t.branches]
    await _reports(session, catalog, units)
    catalog = replace(catalog, targets=[*catalog.targets, *EXTRA])
    compared = last_years = 0
    for today in TODAYS:
        for unit in units:
            items = await progress(session, catalog, unit, today)
            together = {p.target.code: _fields(p) for p in items}
            assert len(together) == len(items)  # each target once
            alone = {}
            for target in catalog.targets:
                scope = await target_scope(session, catalog, target, unit)
                if scope is None:
                    continue
                found = [
                    await measure(session, catalog, target, scope, today, window=w)
                    for w in windows_of(target, catalog, today)
                ]
                # Today's window, or the one before it when today's has nothing here.
                p = found[0] if found[0].achieved is not None or len(found) == 1 else found[1]
                alone[target.code] = _fields(p)
                last_years += p.previous_window
            assert together == alone
            compared += len(alone)
    assert compared > 4 * len(catalog.targets)
    assert last_years  # January: last year's results stand while this year has none due


async def test_flows_read_together_equal_each_read_alone(session, catalog) -> None:  # type: ignore[no-untyped-def]
    """`flow_totals` (several indicators in one query) gives each indicator's totals as
    `_reported_totals` does, from the kept totals and from the reports themselves."""
    t = await small_tree(session)
    units = [t.province, t.d1, t.d2, t.d3, t.c1, t.c2, t.c3, t.c4, *t.branches]
    await _reports(session, catalog, units)
    flows = [
        c
        for c, ind in catalog.indicators.items()
        if ind.agg == Aggregation.SUM
        and ind.type not in (IndicatorType.DERIVED, IndicatorType.TEXT)
    ]
    year = year_period(2026)
    shapes = [
        Roots(ids=(t.province.id, t.d1.id, t.c3.id)),
        Roots(ids=(t.d1.id, t.c1.id), reported_at="branch"),
        Roots(ids=(t.province.id,), approved_only=True),
        Roots(level="commune", inside=(t.d1.id, t.d2.id)),
        Roots(level="commune", inside=(t.province.id,), reported_at="commune"),
        Roots(level="branch", within=t.d1.id),
    ]
    nonzero = 0
    for roots in shapes:
        together = await flow_totals(session, flows, roots, year)
        for code in flows:
            alone = await _reported_totals(session, catalog, code, roots, year)
            assert together[code] == alone, (roots, code)
            nonzero += sum(1 for v in alone.values() if v)
    assert nonzero > 10
