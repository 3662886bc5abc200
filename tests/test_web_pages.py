"""The tracker pages (/web): every page for every role, numbers against the rollup functions,
scope, refused links, and no writes. Served by the bot's own web server on 127.0.0.1."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from bot.web.routes import DENIED
from handlers import staff, views, web_pages
from handlers.engine import Engine
from handlers.views import progress_lines
from handlers.web_chat import top_and_bottom
from schedules import thi_dua
from storage.db.invitations import link_directly
from storage.db.models import OrgUnit, Person
from storage.measures import progress, rollup, totals
from storage.measures.target_windows import target_period
from storage.plan import texts_vi as vi
from storage.plan.clock import VN
from storage.plan.periods import month, year_period
from tests.builders import linked, report
from tests.chat import ChatUser
from tests.web_site import FORM

if TYPE_CHECKING:
    from tests.web_site import Site


ROLES = ["provincial", "district_officer", "commune_officer", "leader"]


@pytest.mark.parametrize("role", ROLES)
async def test_tracker_shows_the_same_progress_as_tiendo(site: Site, role: str) -> None:
    person: Person = getattr(site.people, role)
    status, html = await site.get(site.link(person))
    assert status == 200
    ctx = site.ctx
    async with ctx.sessions() as session:
        unit = await session.get(OrgUnit, person.unit_id)
        assert unit is not None
        items = await progress.progress(session, ctx.catalog, unit, ctx.clock.today())
    assert f"Tiến độ chỉ tiêu – {unit.name}" in html
    text = site.text(html)
    labels = [p.target.label for p in items]
    assert labels, "every role has some target (rates apply at every level)"
    # Same targets, in the same order (behind first), with the same figures.
    positions = [text.index(label) for label in labels]
    assert positions == sorted(positions)
    for p in items:
        # The very lines /tiendo writes for the target (figures, expectation, source).
        for line in progress_lines(ctx.catalog, p)[1:]:
            assert " ".join(line.split()) in text
        assert web_pages.verdict(p.status) in vi.STATUS[p.status]
        assert web_pages.verdict(p.status) in text
    assert not site.writes


async def test_a_commune_officer_never_sees_another_commune(site: Site) -> None:
    t = site.people.tree
    link = site.link(site.people.commune_officer)
    # Units above her may be named by a target (a group of districts), never other communes.
    others = [t.c2, t.c3, t.c4, t.b3, t.b4, t.b5]
    pages = [link, f"{link}don-vi/{t.c1.id}", f"{link}thi-dua", f"{link}chi-so/ho_thoat_ngheo"]
    pages += [f"{link}chi-tieu/{c}" for c in ("tuyen_truyen", "cong_trinh_ntm")]
    # A group target (Khánh Sơn and Khánh Vĩnh): broken down by her own branches only.
    pages += [f"{link}chi-tieu/thoat_ngheo_ks_kv"]
    for url in pages:
        status, html = await site.get(url)
        assert status == 200, url
        for other in others:
            assert other.name not in html, (url, other.name)
    status, html = await site.get(f"{link}chi-tieu/thoat_ngheo_ks_kv")
    rows = re.findall(r"<tr[^>]*>\s*<td><a [^>]*>([^<]+)</a>", html)
    assert rows and sorted(rows) == sorted([t.b1.name, t.b2.name])
    for other in [*others, t.d1, t.province]:
        for url in (
            f"{link}don-vi/{other.id}",
            f"{link}thi-dua?don_vi={other.id}",
            f"{link}chi-so/ho_thoat_ngheo?don_vi={other.id}",
            f"{link}chi-tieu/tuyen_truyen?don_vi={other.id}",
            f"{link}xuat.xlsx?don_vi={other.id}",
        ):
            status, html = await site.get(url)
            assert status == 403, url
            assert DENIED in html and other.name not in html


async def test_a_branch_leader_gets_her_branch_only(site: Site) -> None:
    t = site.people.tree
    link = site.link(site.people.leader)
    status, html = await site.get(link)
    assert status == 200 and t.b1.name in html
    # Her branch's name (shared by many) comes with its commune's, the only mention of it;
    # her tracker offers no units below (she has none).
    qualified = f"{t.b1.name} ({t.c1.name})"
    assert f"Tiến độ chỉ tiêu – {qualified}" in html
    assert t.b2.name not in html and t.c1.name not in html.replace(qualified, "")
    assert f"don-vi/{t.c1.id}" not in html and "để xem từng" not in html
    status, html = await site.get(f"{link}don-vi/{t.b1.id}")
    assert status == 200
    # Her own answers for October, as reported.
    assert f"Tổng số hội viên hiện có {vi.format_number(40 + t.b1.id)} người" in site.text(html)
    for other in (t.b2, t.c1, t.province):
        status, _ = await site.get(f"{link}don-vi/{other.id}")
        assert status == 403


async def test_forged_expired_and_revoked_links_get_403(site: Site) -> None:
    person = site.people.district_officer
    link = site.link(person)
    token = link.rstrip("/").rsplit("/", 1)[1]
    pid, expires, sig = token.split(".")
    forged = [
        link.replace(sig, "0" * len(sig)),
        link.replace(f"/{pid}.", f"/{site.people.provincial.id}."),
        link.replace(f".{expires}.", f".{int(expires) + 3600}."),
        f"{site.root}/web/garbage/",
    ]
    for url in forged:
        status, html = await site.get(url)
        assert status == 403 and DENIED in html and "Huyện Khánh Sơn" not in html
    ctx = site.ctx
    ctx.clock.set(ctx.clock.now() + timedelta(hours=ctx.settings.web_link_hours + 1))
    status, _ = await site.get(link)
    assert status == 403
    ctx.clock.set(ctx.clock.now() - timedelta(hours=ctx.settings.web_link_hours + 1))
    assert (await site.get(link))[0] == 200
    async with ctx.sessions() as session:
        await session.execute(update(Person).where(Person.id == person.id).values(active=False))
        await session.commit()
    site.writes.clear()
    status, html = await site.get(link)
    assert status == 403 and DENIED in html
    # Moved to another unit: the old link no longer matches her scope.
    async with ctx.sessions() as session:
        await session.execute(
            update(Person)
            .where(Person.id == person.id)
            .values(active=True, unit_id=site.people.tree.d2.id)
        )
        await session.commit()
    site.writes.clear()
    assert (await site.get(link))[0] == 403
    assert not site.writes


async def test_target_breakdown_by_unit_behind_first(site: Site) -> None:
    ctx, t = site.ctx, site.people.tree
    link = site.link(site.people.district_officer)
    status, html = await site.get(f"{link}chi-tieu/tuyen_truyen")
    assert status == 200
    text = site.text(html)
    target = next(x for x in ctx.catalog.targets if x.code == "tuyen_truyen")
    async with ctx.sessions() as session:
        expected = {}
        for c in (t.c1, t.c2):
            p = await progress.measure(session, ctx.catalog, target, [c], ctx.clock.today())
            expected[c.name] = p
    for name, p in expected.items():
        assert name in text
        assert vi.format_percent(p.achieved) in text
    # Sorted by name when asked; behind (lower percent) first by default.
    by_default = sorted(expected, key=lambda n: expected[n].percent or 0)
    assert text.index(by_default[0]) < text.index(by_default[1])
    status, html = await site.get(f"{link}chi-tieu/tuyen_truyen?sap_xep=ten")
    text = site.text(html)
    assert text.index(t.c1.name) < text.index(t.c2.name)
    # A sum target from the province: each district's contribution, as rollup.total says.
    link = site.link(site.people.provincial)
    status, html = await site.get(f"{link}chi-tieu/thoat_ngheo")
    text = site.text(html)
    async with ctx.sessions() as session:
        term = target_period(
            next(x for x in ctx.catalog.targets if x.code == "thoat_ngheo"),
            ctx.catalog,
            ctx.clock.today(),
        )
        for d in (t.d1, t.d2, t.d3):
            value = await rollup.total(session, ctx.catalog, "ho_thoat_ngheo", [d], term)
            if await rollup.has_data(session, ctx.catalog, "ho_thoat_ngheo", [d], term):
                assert f"{d.name} {vi.format_number(value)} hộ" in text
            else:  # nothing reported below it: not "0 hộ"
                assert f"{d.name} chưa báo cáo" in text
    status, html = await site.get(f"{link}chi-tieu/khong_co")
    assert status == 404
    assert not site.writes


async def test_unit_page_strip_answers_and_drill(site: Site) -> None:
    t = site.people.tree
    link = site.link(site.people.district_officer)
    status, html = await site.get(f"{link}don-vi/{t.c1.id}")
    assert status == 200
    strip = re.findall(r'<tr class="(\w+)" data-period="([^"]+)"', html)
    assert len(strip) == 12
    by_label = {label: state for state, label in strip}
    # October: B1 on time, B2 late; September: B1 on time, B2 missing (half: not "missing");
    # August: nobody.
    assert by_label["10/26"] == "partial"
    assert by_label["9/26"] == "partial"
    assert by_label["8/26"] == "missing"
    # The counts are written out (a phone has no hover), newest period first.
    text = site.text(html)
    assert "10/26 1 1 0" in text and "9/26 1 0 1" in text and "8/26 0 0 2" in text
    assert text.index("10/26") < text.index("9/26")
    # Up to the district, down to the branches.
    assert f'href="/web/{link.split("/web/")[1]}don-vi/{t.d1.id}"' in html
    assert t.b1.name in html and t.b2.name in html
    # One tap from a period: which branches were late, which have not reported.
    assert f"nop-bao-cao?don_vi={t.c1.id}&amp;ky=2026-09" in html.replace("&", "&amp;")
    status, html = await site.get(f"{link}nop-bao-cao?don_vi={t.c1.id}&ky=2026-09")
    assert status == 200
    text = site.text(html)
    assert "1 đúng hạn, 0 muộn, 1 chưa nộp" in text
    assert f"Chưa nộp (1) {t.b2.name}" in text and f"Nộp đúng hạn (1) {t.b1.name}" in text
    status, html = await site.get(f"{link}nop-bao-cao?ky=2026-10")  # the district: communes
    text = site.text(html)
    assert status == 200 and f"{t.c1.name} 1 1 0" in text
    assert (await site.get(f"{link}nop-bao-cao?ky=2019-01"))[0] == 404
    # The month being reported (27 November: due 5 December) is a page that says so, not
    # "no such page"; a month not begun is none.
    status, html = await site.get(f"{link}nop-bao-cao?ky=2026-11")
    assert status == 200, html
    assert "Tháng 11/2026 đang trong hạn báo cáo (hạn 05/12/2026)" in site.text(html)
    assert (await site.get(f"{link}nop-bao-cao?ky=2027-01"))[0] == 404
    status, html = await site.get(f"{link}don-vi/{t.b2.id}")
    strip = {
        label: state
        for state, label in re.findall(r'<tr class="(\w+)" data-period="([^"]+)"', html)
    }
    assert strip["10/26"] == "late" and strip["9/26"] == "missing"
    assert "10/26 nộp muộn" in site.text(html)
    assert not site.writes


async def test_indicator_page_chart_and_workbook(site: Site) -> None:
    ctx, t = site.ctx, site.people.tree
    link = site.link(site.people.district_officer)
    status, html = await site.get(f"{link}chi-so/ho_thoat_ngheo?ky=2026")
    assert status == 200
    async with ctx.sessions() as session:
        head, _ = await staff.total_parts(
            session,
            ctx.catalog,
            ctx.catalog.indicators["ho_thoat_ngheo"],
            t.d1,
            year_period(2026),
            ctx.clock.today(),  # (as the page: the months due by today, when the year is)
        )
        total = await totals.indicator_total(
            session, ctx.catalog, "ho_thoat_ngheo", t.d1, year_period(2026)
        )
    for line in head:
        assert line in html
    text = site.text(html)
    assert total.rows
    for r in total.rows:
        assert f"{r.unit.name} {vi.format_number(r.figure.value)} hộ" in text
    # The chart is drawn in the page: a bar per month on one scale, its numbers in its
    # label for a screen reader and in a table beside it.
    async with ctx.sessions() as session:
        by_period = await rollup.totals_by_period(
            session, ctx.catalog, "ho_thoat_ngheo", t.d1, year_period(2026)
        )
    assert len(by_period) == 2
    assert "<svg" in html and "bieu-do.png" not in html
    label = re.search(r'<svg[^>]* aria-label="([^"]+)"', html)
    assert label
    for key, value in by_period.items():
        short = f"{int(key[5:])}/26"
        assert f"{short}: {vi.format_number(value)} hộ" in label.group(1)
        assert f"tháng {int(key[5:])}/2026 {vi.format_number(value)}" in text
    assert "Cộng dồn" in text and f"{vi.format_number(sum(by_period.values()))}" in text
    async with site.http.get(f"{link}xuat.xlsx?ky=2026") as r:
        assert r.status == 200
        book = load_workbook(BytesIO(await r.read()), read_only=True)
        assert book.sheetnames
    status, _ = await site.get(f"{link}chi-so/ho_thoat_ngheo?ky=khong-phai-ky")
    assert status == 404
    assert not site.writes


async def test_thi_dua_page_ranks_as_the_rule_says(site: Site) -> None:
    ctx, t = site.ctx, site.people.tree
    link = site.link(site.people.district_officer)
    status, html = await site.get(f"{link}thi-dua")
    assert status == 200
    text = site.text(html)
    rule = ctx.catalog.thi_dua
    assert rule is not None and rule.name in text
    assert "40 điểm: nộp" in text and "20 điểm: tăng hội viên" in text
    async with ctx.sessions() as session:
        d1 = await session.get(OrgUnit, t.d1.id)
        assert d1 is not None
        ranked = await thi_dua.ranking(session, ctx.catalog, rule, d1, ctx.clock.today())
    names = [s.unit.name for s in ranked.scores]
    assert [text.index(n) for n in names] == sorted(text.index(n) for n in names)
    for s in ranked.scores:
        assert vi.format_number(s.points(rule), 1) in text
    # Computed by this first view and kept (its only write); later views read it, and say
    # when it was computed.
    first = ctx.clock.now()
    assert f"tính lúc {first.astimezone(VN):%H:%M %d/%m/%Y}" in text
    assert f"{t.d1.name} đứng thứ" not in text  # the list says it; the parent's is not read
    assert len(site.kept) == 2 and not site.writes  # the ranking, its points of the day
    ctx.clock.set(first + timedelta(hours=2))
    status, html = await site.get(f"{link}thi-dua")
    assert f"tính lúc {first.astimezone(VN):%H:%M %d/%m/%Y}" in site.text(html)
    assert len(site.kept) == 2
    # After reports arrive the scheduler recomputes it; the page shows the new one.
    async with ctx.sessions() as session:
        await report(session, t.b3, FORM, month(2026, 8), {"hv_moi": 1}, at=ctx.clock.now())
        await session.commit()
    ctx.clock.set(ctx.clock.now() + timedelta(minutes=5))
    assert await thi_dua.refresh(ctx.sessions, ctx.catalog, ctx.clock) == 1
    site.writes.clear()
    site.kept.clear()
    status, html = await site.get(f"{link}thi-dua")
    assert f"tính lúc {ctx.clock.now().astimezone(VN):%H:%M %d/%m/%Y}" in site.text(html)
    assert not site.writes and not site.kept


async def test_web_and_xephang_in_chat(site: Site) -> None:
    ctx = site.ctx
    async with ctx.sessions() as session:
        for key in ("commune_officer", "leader", "district_officer"):
            person = await session.get(Person, getattr(site.people, key).id)
            assert person is not None
            await link_directly(session, person, "telegram", f"w-{key}", ctx.clock.now())
        await session.commit()
    engine = Engine(ctx)
    officer = ChatUser(engine, "w-commune_officer")
    await officer.send("/web")
    url = re.search(r"http://\S+", officer.text)
    assert url and "72 giờ" in officer.text
    status, html = await site.get(url.group(0))
    assert status == 200 and "Xã Sơn Bình" in html
    # Under /tiendo, a button gives the same link.
    await officer.send("/tiendo")
    await officer.click(vi.BUTTON_WEB)
    assert re.search(r"http://\S+/web/\S+/", officer.text)
    await officer.send("/xephang")
    # As many units as listed (two have data here), not "5 đơn vị" over two lines.
    assert "\n2 đơn vị dẫn đầu:\n1. Chi hội thôn" in officer.text
    assert "Chi hội thôn 1" in officer.text and "cuối bảng" not in officer.text
    assert "Xã Sơn Bình đứng thứ" in officer.text and "Cách tính" in officer.text
    leader = ChatUser(engine, "w-leader")
    await leader.send("xep hang")
    assert "Chi hội thôn 1 đứng thứ" in leader.text
    assert "dẫn đầu" not in leader.text  # no list of others for a branch leader
    # Her ranking page says the same, not "no units below to rank".
    status, html = await site.get(f"{site.link(site.people.leader)}thi-dua")
    place = re.search(
        r"Chi hội thôn 1 đứng thứ \d+/\d+ trong Xã Sơn Bình, với [\d,]+ điểm\.", leader.text
    )
    assert status == 200 and place and place.group(0) in site.text(html)
    assert "Không có đơn vị nào bên dưới" not in html
    ctx.web_links.lifetime  # noqa: B018 - configured


async def test_without_public_base_url_there_is_no_link(ctx) -> None:
    from tests.web_site import build_world

    people = await build_world(ctx)
    async with ctx.sessions() as session:
        person = await session.get(Person, people.commune_officer.id)
        assert person is not None
        await linked(session, person, "telegram", "w-off", ctx.clock.now())
        await session.commit()
    officer = ChatUser(Engine(ctx), "w-off")
    await officer.send("/web")
    assert officer.text == vi.WEB_DISABLED and "PUBLIC_BASE_URL" not in officer.text
    await officer.send("/tiendo")
    assert vi.BUTTON_WEB not in officer.buttons


@pytest.mark.parametrize("role", ROLES)
async def test_every_page_for_every_role_stays_in_scope(site: Site, role: str) -> None:
    person: Person = getattr(site.people, role)
    link = site.link(person)
    ctx, t = site.ctx, site.people.tree
    everyone = [t.c1, t.c2, t.c3, t.c4, *t.branches]
    async with ctx.sessions() as session:
        unit = await session.get(OrgUnit, person.unit_id)
        assert unit is not None
        items = await progress.progress(session, ctx.catalog, unit, ctx.clock.today())
    # Units above her are named (her unit's name comes with its parent's), never others.
    outside = [
        u.name
        for u in everyone
        if not u.path.startswith(unit.path) and not unit.path.startswith(u.path)
    ]
    pages = [link, f"{link}don-vi/{unit.id}", f"{link}thi-dua"]
    pages += [f"{link}chi-tieu/{p.target.code}" for p in items]
    pages += [f"{link}chi-so/{code}" for code in ("ho_thoat_ngheo", "tong_hoi_vien", "ghi_chu")]
    for url in pages:
        status, html = await site.get(url)
        assert status == 200, url
        assert "<h1>" in html and "Traceback" not in html
        assert "cơ sở hội" not in html  # the level's own word, as the chat writes it
        for name in outside:
            assert name not in html, (url, name)
    assert not site.writes


async def test_small_things_a_phone_reader_sees(site: Site) -> None:
    """The date is when the latest report arrived; a breakdown's title is said once and does
    not link to itself; bars take the verdict's colour; every page of a unit with targets
    carries the counts line /tiendo writes."""
    ctx, t = site.ctx, site.people.tree
    person = site.people.district_officer
    link = site.link(person)
    async with ctx.sessions() as session:
        d1 = await session.get(OrgUnit, t.d1.id)
        b5 = await session.get(OrgUnit, t.b5.id)
        assert d1 is not None and b5 is not None
        latest = await rollup.latest_report_at(session, d1, ctx.clock.now())
        items = await progress.progress(session, ctx.catalog, d1, ctx.clock.today())
        assert await rollup.latest_report_at(session, b5, ctx.clock.now()) is None
    assert latest is not None
    status, html = await site.get(link)
    assert f"Số liệu đến {latest.astimezone(VN):%H:%M %d/%m/%Y}" in html
    assert ctx.clock.today().strftime("%d/%m/%Y") not in html  # not today's date
    summary = views.progress_summary(items)
    assert f'<p class="counts">{summary}</p>' in html
    for p in items:
        assert f'class="bar {p.status}"' in html
    status, html = await site.get(f"{link}don-vi/{t.d1.id}")
    assert f'<p class="counts">{summary}</p>' in html
    # B5 never reported: no date to show, and it says so.
    status, html = await site.get(f"{site.link(site.people.provincial)}don-vi/{t.b5.id}")
    assert status == 200 and vi.WEB_AS_OF_NONE in html
    target = items[0].target
    status, html = await site.get(f"{link}chi-tieu/{target.code}")
    assert site.text(html).count(target.label) == 2  # the page's <title> and its <h1>
    assert f"chi-tieu/{target.code}?don_vi={t.d1.id}" not in html


@pytest.mark.parametrize("window", [1, 2, 3, 2000])
async def test_latest_report_at_whatever_the_window(site: Site, window: int, monkeypatch) -> None:
    """The shortcut through the reports changed last gives what reading them all gives."""
    from sqlalchemy import select

    from storage.db.models import Submission, SubmissionStatus

    ctx, t = site.ctx, site.people.tree
    monkeypatch.setattr(rollup, "LATEST_WINDOW", window)
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        # A late arrival for an old period under B3, and an approval touching B1's old one.
        sent = (await session.scalars(select(Submission))).all()
        b1_sep = next(s for s in sent if s.unit_id == t.b1.id and s.period_key == "2026-09")
        b1_sep.updated_at = now - timedelta(minutes=1)
        await report(
            session, t.b3, FORM, month(2026, 7), {"hv_moi": 1}, at=now - timedelta(hours=5)
        )
        await session.commit()
        sent = (await session.scalars(select(Submission))).all()
        for unit in [t.province, t.d1, t.d2, t.c1, t.c2, *t.branches]:
            u = await session.get(OrgUnit, unit.id)
            assert u is not None
            inside = [
                s.submitted_at
                for s in sent
                if s.status == SubmissionStatus.SUBMITTED
                and s.submitted_at is not None
                and s.submitted_at <= now
                and (await session.get(OrgUnit, s.unit_id)).path.startswith(u.path)  # type: ignore[union-attr]
            ]
            expected = max(inside) if inside else None
            assert await rollup.latest_report_at(session, u, now) == expected, (unit.name, window)


def test_xephang_says_how_many_units_each_list_holds() -> None:
    """Six branches (a tester's finding N15): five leading, then one, not "5 đơn vị cuối
    bảng:" over one line; eleven: five and five."""
    six = [(i, f"Chi hội tổ dân phố {i}", 90.0 - i) for i in range(1, 7)]
    lines = top_and_bottom(six)
    assert lines[0] == "5 đơn vị dẫn đầu:" and lines[6] == "Đơn vị cuối bảng:"
    assert lines[7:] == ["6. Chi hội tổ dân phố 6: 84 điểm"]
    eleven = [(i, f"Chi hội thôn {i}", 90.0 - i) for i in range(1, 12)]
    lines = top_and_bottom(eleven)
    assert lines[6] == "5 đơn vị cuối bảng:" and lines[7].startswith("7. ")
    assert top_and_bottom(six[:1])[0] == "Đơn vị dẫn đầu:"
