"""The tracker pages in a real headless Chromium (the system's package, driven by Selenium):
follows the drill-downs; for every role at a phone's 360 px and a desktop's 1366 px, checks
that no page scrolls sideways, that chart text is at least 12 CSS px, that links are tap
targets of 24 px, and that every page with targets shows the /tiendo counts line. Leaves the
phone screenshots in docs/screens/ (shown in the README) and the rest in screenshots/web/."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.config import PROJECT_ROOT

if TYPE_CHECKING:
    from tests.web_site import Site


SCREENSHOTS = PROJECT_ROOT / "screenshots" / "web"
PHONE_SCREENS = PROJECT_ROOT / "docs" / "screens"
WIDTHS = (360, 1366)
CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None
)
DRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="no Chromium and chromedriver (Debian: apt-get install chromium chromium-driver)",
)


def chromium():  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    profile = tempfile.mkdtemp(prefix="hoibot-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=360,800",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(DRIVER), options=options), profile


def set_width(driver, width: int) -> None:  # type: ignore[no-untyped-def]
    """The layout viewport `width` CSS px wide: a phone (mobile emulation) or a desktop."""
    height = 800 if width < 600 else 900
    driver.set_window_size(width, height)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def browse(start: str, names: dict[str, str]) -> list[str]:
    """Walks the pages from the tracker; returns what was visited, in order."""
    from selenium.webdriver.common.by import By

    driver, profile = chromium()
    visited: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        # Phone width: the layout viewport is the window, so 360 CSS px.
        set_width(driver, 360)

        def page(name: str) -> None:
            assert "không hợp lệ" not in driver.title, driver.current_url
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{name}: {overflow}px of horizontal scroll at 360px"
            assert driver.execute_script("return window.innerWidth") == 360
            driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
            visited.append(name)

        def follow(text: str) -> None:
            driver.find_element(By.PARTIAL_LINK_TEXT, text).click()

        def heading() -> str:
            return str(driver.find_element(By.TAG_NAME, "h1").text)

        driver.get(start)
        assert heading().startswith("Tiến độ chỉ tiêu")
        page("tracker")
        # A rate target, judged unit by unit: down through a district and a commune.
        follow(names["rate_target"])
        assert "Theo từng đơn vị" in driver.page_source
        page("target")
        follow(names["district"])
        assert names["commune"] in driver.page_source
        page("target-district")
        follow(names["commune"])
        follow(names["branch"])
        assert heading() == names["branch"]
        page("unit-branch")
        # Up to the commune by the link to its parent: its calendar strip.
        follow("↑ " + names["commune"])
        assert heading() == names["commune"]
        assert driver.find_elements(By.CSS_SELECTOR, "table.strip tr")
        page("unit-commune")
        # One tap from the newest period: which branches were late or have not reported.
        driver.find_element(By.CSS_SELECTOR, "table.strip a").click()
        assert heading().startswith("Nộp báo cáo")
        assert names["branch"] in driver.page_source
        page("reporting")
        # A sum target's districts, then its indicator: the chart must load.
        follow("Tiến độ")
        follow(names["sum_target"])
        assert names["district"] in driver.page_source
        follow("Biểu đồ và bảng số liệu")
        bars = driver.execute_script("return document.querySelectorAll('svg rect.fill').length")
        assert bars, "no chart"
        page("indicator")
        follow("Thi đua")
        assert "Cách tính điểm" in driver.page_source
        page("thi-dua")
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return visited


async def test_pages_in_headless_chromium(site: Site) -> None:
    if not site.ctx.settings.database_url.startswith("sqlite"):
        pytest.skip("the pages are the same on both databases: the browser runs once (SQLite)")
    t = site.people.tree
    names = {
        "rate_target": "90% trở lên hội viên được tuyên truyền",
        "sum_target": "5.000 hộ phụ nữ nghèo",
        "district": t.d1.name,
        "commune": t.c1.name,
        "branch": t.b1.name,
    }
    visited = await asyncio.to_thread(browse, site.link(site.people.provincial), names)
    assert visited == [
        "tracker",
        "target",
        "target-district",
        "unit-branch",
        "unit-commune",
        "reporting",
        "indicator",
        "thi-dua",
    ]
    for name in visited:
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 1000


# What each page is checked for, in the page itself (CSS px, as laid out).
MEASURE = """
const overflow = document.documentElement.scrollWidth - window.innerWidth;
const texts = [...document.querySelectorAll('svg text')].map(t => {
  const m = t.ownerSVGElement.getScreenCTM();
  return [t.textContent, parseFloat(getComputedStyle(t).fontSize) * Math.abs(m ? m.a : 1)];
});
const images = [...document.querySelectorAll('main img')].map(i =>
  [i.src, i.naturalWidth, i.getBoundingClientRect().width]);
const links = [...document.querySelectorAll('a')].filter(a => a.offsetParent !== null)
  .map(a => [a.textContent.trim(), a.getBoundingClientRect().height]);
const counts = document.querySelector('.counts');
return {overflow, texts, images, links, counts: counts ? counts.textContent.trim() : null,
        h1: document.querySelector('h1').textContent, width: window.innerWidth};
"""


def look_at(pages: dict[str, tuple[str, str | None]], prefix: str) -> dict[str, dict]:
    """Opens every page at each width; returns what MEASURE found, by "<name>-<width>"."""
    driver, profile = chromium()
    found: dict[str, dict] = {}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    PHONE_SCREENS.mkdir(parents=True, exist_ok=True)
    try:
        for width in WIDTHS:
            set_width(driver, width)
            for name, (url, _) in pages.items():
                driver.get(url)
                got = driver.execute_script(MEASURE)
                assert got["width"] == width
                folder = PHONE_SCREENS if width < 600 else SCREENSHOTS
                driver.save_screenshot(str(folder / f"{prefix}-{name}-{width}.png"))
                found[f"{name}-{width}"] = got
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return found


@pytest.mark.parametrize("role", ["provincial", "district_officer", "commune_officer", "leader"])
async def test_each_role_at_phone_and_desktop_width(site: Site, role: str) -> None:
    if not site.ctx.settings.database_url.startswith("sqlite"):
        pytest.skip("the pages are the same on both databases: the browser runs once (SQLite)")
    from handlers.views import progress_summary
    from storage.db.models import OrgUnit
    from storage.measures import progress

    ctx = site.ctx
    person = getattr(site.people, role)
    link = site.link(person)
    async with ctx.sessions() as session:
        unit = await session.get(OrgUnit, person.unit_id)
        assert unit is not None
        items = await progress.progress(session, ctx.catalog, unit, ctx.clock.today())
    assert items
    summary = progress_summary(items)
    leaf = unit.level == ctx.catalog.leaf_level
    # name → (url, the counts line it must show, or None: a page without a list of targets)
    pages: dict[str, tuple[str, str | None]] = {
        "tracker": (link, summary),
        "unit": (f"{link}don-vi/{unit.id}", summary),
        "target": (f"{link}chi-tieu/{items[0].target.code}", None),
        "indicator-year": (f"{link}chi-so/ho_thoat_ngheo?ky=2026", None),
        "thi-dua": (f"{link}thi-dua", None),
    }
    if not leaf:
        pages["indicator-month"] = (f"{link}chi-so/ho_thoat_ngheo?ky=2026-10", None)
        pages["reporting"] = (f"{link}nop-bao-cao?ky=2026-10", None)
    found = await asyncio.to_thread(look_at, pages, role)
    charts = 0
    for key, got in found.items():
        name = key.rsplit("-", 1)[0]
        assert "không hợp lệ" not in got["h1"] and "Không tìm thấy" not in got["h1"], key
        assert got["overflow"] <= 0, f"{key}: {got['overflow']} px of sideways scroll"
        for text, size in got["texts"]:
            assert size >= 12, (key, text, size)
        charts += bool(got["texts"])
        for src, natural, shown in got["images"]:  # an image is drawn at the size shown
            assert natural == round(shown), (key, src)
        for text, height in got["links"]:
            assert height >= 24, (key, text, height)
        expected = pages[name][1]
        if expected is not None:
            assert got["counts"] == expected, key
    assert charts >= 2, "the year's chart (by month) at both widths"
    for name in pages:
        assert (PHONE_SCREENS / f"{role}-{name}-360.png").stat().st_size > 1000
