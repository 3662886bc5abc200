"""The tracker pages in a real headless Chromium (the system's package, driven by Selenium):
follows the drill-downs, checks there is no horizontal scroll at 360 px wide, and saves a
screenshot of every page under screenshots/web/."""

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


def browse(start: str, names: dict[str, str]) -> list[str]:
    """Walks the pages from the tracker; returns what was visited, in order."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

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
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    visited: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        # Phone width: the layout viewport is the window, so 360 CSS px.
        driver.set_window_size(360, 800)
        width = driver.execute_script("return window.innerWidth")
        if width > 360:  # some window managers keep a minimum; emulate the phone instead
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": 360, "height": 800, "deviceScaleFactor": 1, "mobile": True},
            )

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
        assert driver.find_elements(By.CSS_SELECTOR, "ol.strip li")
        page("unit-commune")
        # A sum target's districts, then its indicator: the chart must load.
        follow("Tiến độ")
        follow(names["sum_target"])
        assert names["district"] in driver.page_source
        follow("Biểu đồ và bảng số liệu")
        loaded = driver.execute_script(
            "const i = document.querySelector('img.chart'); return i && i.complete && "
            "i.naturalWidth > 0"
        )
        assert loaded, "the chart image did not load"
        page("indicator")
        follow("Thi đua")
        assert "Cách tính điểm" in driver.page_source
        page("thi-dua")
        # Desktop width too, for the README.
        driver.set_window_size(1000, 900)
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.get(start)
        driver.save_screenshot(str(SCREENSHOTS / "tracker-desktop.png"))
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
        "indicator",
        "thi-dua",
    ]
    for name in visited:
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 1000
