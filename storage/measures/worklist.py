"""What waits for an officer: the reports of the units below her that she is to approve, and
the units her level rates (a form `filled_by` it) that are not rated yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db.models import OrgUnit, Submission, SubmissionStatus
from storage.db.units import children
from storage.measures.completeness import completeness
from storage.measures.report_approval import relocked_ids
from storage.plan import texts_vi as vi
from storage.plan.catalog import Catalog, Form, IndicatorType
from storage.plan.periods import Period
from storage.plan.text import vi_sort_key


def approval_forms(catalog: Catalog) -> list[Form]:
    """Forms whose reports the level above approves: those marked `approval: true`, and
    those feeding a target that counts approved reports only (else it would never count)."""
    approved_only = {c for t in catalog.targets if t.approved_only for c in t.indicators()}
    counted = {
        c for code in approved_only if code in catalog.indicators for c in catalog.components(code)
    }
    return [
        f
        for f in catalog.forms.values()
        if f.filled_by is None and (f.approval or any(q.indicator in counted for q in f.questions))
    ]


@dataclass
class Waiting:
    submission: Submission
    unit: OrgUnit
    form: Form


async def awaiting_approval(
    session: AsyncSession, catalog: Catalog, officer_unit: OrgUnit, today: date
) -> list[Waiting]:
    """Sent, unapproved reports of the units directly below hers (of forms that are
    approved, and any report locked again after an edit, waiting for re-approval), oldest
    period first."""
    approved = [f.code for f in approval_forms(catalog)]
    forms = catalog.forms
    kids = {k.id: k for k in await children(session, officer_unit, today)}
    if not kids:
        return []
    rows = await session.scalars(
        select(Submission).where(
            Submission.unit_id.in_(list(kids)),
            Submission.form_code.in_(approved) | Submission.id.in_(relocked_ids()),
            Submission.status == SubmissionStatus.SUBMITTED,
            Submission.approved_at.is_(None),
        )
    )
    found = [
        Waiting(s, kids[s.unit_id], forms[s.form_code]) for s in rows.all() if s.form_code in forms
    ]
    return sorted(
        found, key=lambda w: (w.submission.period_end, w.form.code, vi_sort_key(w.unit.name))
    )


def rating_forms(catalog: Catalog, level: str) -> list[Form]:
    """The forms units of `level` fill about the units below them (a yearly rating)."""
    return [f for f in catalog.forms.values() if f.filled_by == level]


async def unrated_text(
    session: AsyncSession, catalog: Catalog, form: Form, period: Period, scope: OrgUnit
) -> str:
    """ "Xếp loại cơ sở Hội năm 2026: còn 3/8 cơ sở Hội chưa xếp loại: …", with how to rate
    (the officer's /chuaxeploai, and her reminder when a rating period ends)."""
    done = await completeness(session, form, period, scope)
    fields = {
        "form": form.name,
        "period": period.label,
        "total": done.expected,
        "missing": len(done.missing),
        "level": catalog.level_word(form.level),
    }
    if not done.missing:
        return vi.CHUAXEPLOAI_ALL.format(**fields)
    choices = [
        f"«{c.label}»"
        for q in form.questions
        if catalog.indicators[q.indicator].type == IndicatorType.CHOICE
        for c in catalog.indicators[q.indicator].choices
    ]
    names = sorted((u.name for u, _ in done.missing), key=vi_sort_key)
    return "\n".join(
        [
            vi.CHUAXEPLOAI_TITLE.format(**fields),
            ", ".join(names),
            vi.CHUAXEPLOAI_HINT.format(period=period.label, choices=", ".join(choices)),
        ]
    )
