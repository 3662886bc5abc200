"""The tracker pages on the bot's own web server: server-rendered HTML (Jinja2), read-only.

Every page lives under the viewer's signed link (`/web/<token>/…`, see links.py) and shows
only units inside her scope. Anything wrong with the link or a unit outside the scope gets the
same plain 403 page, so a forged link learns nothing. No page writes: the session is rolled
back at the end of every request. The one exception is derived data: a thi đua ranking not
kept yet is computed and kept, in a transaction of its own (schedules/thi_dua.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import AppContext
from bot.web.errors import vietnamese_errors
from bot.web.links import PREFIX, Access, WebLinks, database_id
from handlers import staff, web_indicator_page, web_pages, web_ranking_page, web_unit_page
from storage.db.models import OrgUnit
from storage.db.units import is_within
from storage.measures import rollup
from storage.plan import texts_vi as vi
from storage.plan.clock import VN
from storage.plan.periods import Period, PeriodError, from_key, previous_period, year_period

HERE = Path(__file__).resolve().parent
DENIED = "Link không hợp lệ hoặc đã hết hạn"
HEADERS = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",  # the link is the credential: never leak it onwards
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
}


class Denied(Exception):
    """A link or a unit the viewer may not see (403)."""


class NotFound(Exception):
    """A target, indicator or period that does not exist (404)."""


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = vi.format_number
    env.filters["pct"] = vi.format_percent
    return env


Page = Callable[[web.Request, AsyncSession, Access, OrgUnit], Awaitable[web.StreamResponse]]


class Pages:
    def __init__(self, ctx: AppContext, links: WebLinks) -> None:
        self.ctx = ctx
        self.links = links
        self.env = environment()

    # ---- plumbing ---------------------------------------------------------------------

    def render(self, name: str, status: int = 200, **data: Any) -> web.Response:
        html = self.env.get_template(name).render(**data)
        return web.Response(
            text=html, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
        )

    def _wrap(self, page: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            async with self.ctx.sessions() as session:
                try:
                    access = await self.links.check(session, request.match_info["token"])
                    if access is None:
                        raise Denied
                    unit = await self._unit(session, request, access)
                    return await page(request, session, access, unit)
                except Denied:
                    return self.render("denied.html", status=403, message=DENIED)
                except NotFound:
                    return self.render("denied.html", status=404, message=vi.WEB_NOT_FOUND)
                finally:
                    await session.rollback()

        return handler

    async def _unit(self, session: AsyncSession, request: web.Request, access: Access) -> OrgUnit:
        raw = request.match_info.get("unit_id") or request.query.get("don_vi")
        if raw is None:
            return access.unit
        unit_id = database_id(raw)
        if unit_id is None:
            raise Denied
        unit = await session.get(OrgUnit, unit_id)
        if unit is None or not is_within(unit, access.unit):
            raise Denied  # outside the scope looks exactly like a bad link
        return unit

    async def _common(
        self, request: web.Request, session: AsyncSession, access: Access, unit: OrgUnit
    ) -> dict[str, Any]:
        """What every page shows: whose link it is, and what the figures are as of (when
        the latest report from inside the unit shown arrived, not today's date)."""
        latest = await rollup.latest_report_at(session, unit, self.ctx.clock.now())
        as_of = (
            vi.WEB_AS_OF.format(when=latest.astimezone(VN).strftime("%H:%M %d/%m/%Y"))
            if latest
            else vi.WEB_AS_OF_NONE
        )
        return {
            "base": f"{PREFIX}/{request.match_info['token']}",
            "scope": access.unit,
            "scope_name": await web_pages.full_name(session, access.unit),
            "viewer": access.person,
            "today": self.today(),
            "as_of": as_of,
        }

    def today(self) -> date:
        return self.ctx.clock.today()

    async def _period(
        self, request: web.Request, session: AsyncSession, unit: OrgUnit, code: str | None = None
    ) -> Period:
        """The period asked (?ky=), else the year /tong would answer (early January: last)."""
        key = request.query.get("ky")
        if not key:
            return await staff.default_year(session, self.ctx.catalog, unit, self.today(), code)
        try:
            return from_key(key[:40], self.ctx.catalog.terms)
        except (PeriodError, ValueError, OverflowError) as exc:  # "2026-13", "0000"
            raise NotFound from exc

    def _period_choices(self) -> list[Period]:
        this_year = year_period(self.today().year)
        out = [this_year, previous_period(this_year)]
        out += [from_key(f"NK{t.code}", self.ctx.catalog.terms) for t in self.ctx.catalog.terms]
        return out

    # ---- pages ------------------------------------------------------------------------

    async def tracker(
        self, request: web.Request, session: AsyncSession, access: Access, unit: OrgUnit
    ) -> web.StreamResponse:
        page = await web_pages.tracker(session, self.ctx.catalog, unit, access.unit, self.today())
        return self.render(
            "tracker.html", page=page, **await self._common(request, session, access, unit)
        )

    async def unit(
        self, request: web.Request, session: AsyncSession, access: Access, unit: OrgUnit
    ) -> web.StreamResponse:
        page = await web_unit_page.unit_page(
            session, self.ctx.catalog, unit, access.unit, self.today()
        )
        return self.render(
            "unit.html", page=page, **await self._common(request, session, access, unit)
        )

    async def reporting(
        self, request: web.Request, session: AsyncSession, access: Access, unit: OrgUnit
    ) -> web.StreamResponse:
        key = request.query.get("ky", "")
        page = await web_unit_page.reporting_page(
            session, self.ctx.catalog, unit, access.unit, key[:40], self.today()
        )
        if page is None:
            raise NotFound
        common = await self._common(request, session, access, unit)
        return self.render("reporting.html", page=page, **common)

    async def target(
        self, request: web.Request, session: AsyncSession, access: Access, unit: OrgUnit
    ) -> web.StreamResponse:
        code = request.match_info["code"]
        target = next((t for t in self.ctx.catalog.targets if t.code == code), None)
        if target is None:
            raise NotFound
        page = await web_pages.target_breakdown(
            session,
            self.ctx.catalog,
            target,
            unit,
            access.unit,
            self.today(),
            request.query.get("sap_xep", "tien_do"),
        )
        if page is None:
            raise NotFound
        return self.render(
            "target.html", page=page, **await self._common(request, session, access, unit)
        )

    async def indicator(
        self, request: web.Request, session: AsyncSession, access: Access, unit: OrgUnit
    ) -> web.StreamResponse:
        code = request.match_info["code"]
        if code not in self.ctx.catalog.indicators:
            raise NotFound
        period = await self._period(request, session, unit, code)
        page = await web_indicator_page.indicator_page(
            session, self.ctx.catalog, code, unit, access.unit, period, self.today()
        )
        return self.render(
            "indicator.html",
            page=page,
            periods=self._period_choices(),
            **await self._common(request, session, access, unit),
        )

    async def workbook(
        self, request: web.Request, session: AsyncSession, access: Access, unit: OrgUnit
    ) -> web.StreamResponse:
        from handlers.export_xlsx import build_workbook

        period = await self._period(request, session, unit)
        data = await build_workbook(session, self.ctx.catalog, unit, period, self.today())
        name = vi.EXPORT_FILENAME.format(unit=unit.code, period=period.key)
        return web.Response(
            body=data,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def document(
        self, request: web.Request, session: AsyncSession, access: Access, unit: OrgUnit
    ) -> web.StreamResponse:
        """The written report (Word) of the unit for a period (default: the latest due)."""
        from handlers import written_report

        due = written_report.default_period(self.ctx.catalog, self.today())
        period = await self._period(request, session, unit) if request.query.get("ky") else due
        found = await written_report.draft(session, self.ctx, unit, period, keep_apart=True)
        return web.Response(
            body=found.data,
            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            headers={**HEADERS, "Content-Disposition": f'attachment; filename="{found.filename}"'},
        )

    async def ranking(
        self, request: web.Request, session: AsyncSession, access: Access, unit: OrgUnit
    ) -> web.StreamResponse:
        page = await web_ranking_page.ranking_page(
            session, self.ctx.rankings, self.ctx.catalog, unit, access.unit, self.ctx.clock.now()
        )
        return self.render(
            "ranking.html", page=page, **await self._common(request, session, access, unit)
        )

    async def stylesheet(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(
            HERE / "static" / "style.css",
            headers={"Content-Type": "text/css; charset=utf-8", "Cache-Control": "max-age=3600"},
        )

    async def with_slash(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.path + "/")  # relative links need the trailing slash

    def register(self, app: web.Application) -> None:
        root = PREFIX + "/{token}"
        app.router.add_get(PREFIX + "/static/style.css", self.stylesheet)
        app.router.add_get(root + "/", self._wrap(self.tracker))
        app.router.add_get(root + "/don-vi/{unit_id}", self._wrap(self.unit))
        app.router.add_get(root + "/chi-tieu/{code}", self._wrap(self.target))
        app.router.add_get(root + "/chi-so/{code}", self._wrap(self.indicator))
        app.router.add_get(root + "/xuat.xlsx", self._wrap(self.workbook))
        app.router.add_get(root + "/bao-cao.docx", self._wrap(self.document))
        app.router.add_get(root + "/thi-dua", self._wrap(self.ranking))
        app.router.add_get(root + "/nop-bao-cao", self._wrap(self.reporting))
        app.router.add_get(root, self.with_slash)


def register(app: web.Application, ctx: AppContext) -> None:
    """Mounts the pages when links can be made (PUBLIC_BASE_URL is set); every error of the
    server (unknown path, wrong method) then answers in Vietnamese too."""
    if vietnamese_errors not in app.middlewares:
        app.middlewares.append(vietnamese_errors)
    if ctx.web_links is not None:
        Pages(ctx, ctx.web_links).register(app)
