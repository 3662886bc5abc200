"""A running web server with the tracker pages over a small hand-made world, for the page
tests and the browser test."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

import aiohttp
import pytest
from sqlalchemy import event

from bot.app import WebServer
from bot.context import AppContext
from bot.web.routes import register as register_pages
from storage.db.models import Person
from storage.plan.periods import month
from tests.builders import People, report, small_tree_with_people

FORM = "thang_chi_hoi"
SEP, OCT = month(2026, 9), month(2026, 10)


@dataclass
class Site:
    ctx: AppContext
    people: People
    http: aiohttp.ClientSession
    root: str
    writes: list[str]  # every write but keeping a computed thi đua ranking
    kept: list[str]  # those

    def link(self, person: Person) -> str:
        assert self.ctx.web_links is not None
        return self.ctx.web_links.url(person)

    async def get(self, url: str) -> tuple[int, str]:
        async with self.http.get(url, allow_redirects=False) as r:
            return r.status, unescape(await r.text())

    def text(self, html: str) -> str:
        """The visible words, without tags."""
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def build_world(ctx: AppContext) -> People:
    async with ctx.sessions() as session:
        people = await small_tree_with_people(session, ctx.clock.now())
        t = people.tree
        for b, late in [(t.b1, False), (t.b2, True), (t.b3, False), (t.b4, False)]:
            await report(
                session,
                b,
                FORM,
                OCT,
                {
                    "ho_thoat_ngheo": 3 + b.id % 3,
                    "hv_moi": 2,
                    "hv_ra": 1,
                    "tong_hoi_vien": 40 + b.id,
                    "hv_tuyen_truyen": 30 + b.id,
                },
                late=late,
            )
        await report(session, t.b1, FORM, SEP, {"ho_thoat_ngheo": 2, "hv_moi": 1})
        await report(session, t.b3, FORM, SEP, {"ho_thoat_ngheo": 1}, late=True)
        # B5 never reported.
    return people


@pytest.fixture
async def site(ctx):
    ctx.settings.public_base_url = "http://127.0.0.1"
    people = await build_world(ctx)
    server = WebServer()
    register_pages(server.app, ctx)
    port = await server.start("127.0.0.1", 0)
    assert ctx.web_links is not None
    ctx.web_links.public_base = f"http://127.0.0.1:{port}"
    writes: list[str] = []
    kept: list[str] = []

    def spy(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            # The one write a page may make: a ranking it computed and its points of the
            # day, derived data only.
            (kept if "kept_ranking" in statement else writes).append(statement)

    event.listen(ctx.engine.sync_engine, "before_cursor_execute", spy)
    async with aiohttp.ClientSession() as http:
        yield Site(ctx, people, http, f"http://127.0.0.1:{port}", writes, kept)
    event.remove(ctx.engine.sync_engine, "before_cursor_execute", spy)
    await server.stop()
