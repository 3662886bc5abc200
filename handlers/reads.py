"""What opening a report reads (and the draft it creates), in one place, whichever path runs
the turn: the session's statements on the general path, the driver's on the opening path
(handlers/opening_path.py puts its own `Reads` in the turn's cache). The logic calls these
(handlers/privacy.py, handlers/report_flow/context.py and opening.py; the member count
a per-member question is asked with), so it is one code
path; only the reads change."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.turn import Turn
from storage.db.models import NoticeAcceptance, OrgUnit, Submission
from storage.db.personal_data.notice import acceptance_of
from storage.measures import report_approval, reporting
from storage.measures.member_count import latest_members
from storage.plan.catalog import Catalog, Form
from storage.plan.periods import Period
from storage.plan.validation import Members

READS = "reads"  # the turn's cache key of a path's own reads


class Reads:
    """Through the turn's session (the general path)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def acceptance(self, person_id: int) -> NoticeAcceptance | None:
        return await acceptance_of(self.session, person_id)

    async def reopened(self, unit_id: int) -> list[Submission]:
        return await report_approval.reopened(self.session, unit_id)

    async def submission(self, unit_id: int, form_code: str, period_key: str) -> Submission | None:
        return await reporting.find_submission(self.session, unit_id, form_code, period_key)

    async def create(self, unit_id: int, form: Form, period: Period, now: datetime) -> Submission:
        """A new draft (the caller found none)."""
        return await reporting.new_draft(self.session, unit_id, form, period, now)

    async def answers(self, submission_id: int) -> dict[str, reporting.Answer]:
        return await reporting.answers(self.session, submission_id)

    async def history(
        self, unit_id: int, codes: list[str], before: date, periods: int
    ) -> dict[str, list[tuple[date, reporting.Answer]]]:
        return await reporting.history(self.session, unit_id, codes, before, periods)

    async def members(self, catalog: Catalog, unit: OrgUnit, before: date) -> Members | None:
        """The member count a per-member answer is held against (member_count.py)."""
        return await latest_members(self.session, catalog, unit, before)


def reads(turn: Turn) -> Reads:
    found = turn.cache.get(READS)
    return found if isinstance(found, Reads) else Reads(turn.session)
