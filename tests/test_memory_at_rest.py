"""Memory at rest (#25): `hoibot run` imports only what its configuration uses.

Each case runs the real command line in its own process (a test process has imported
everything already) on a copy of the demo database, talks to it once through its channel,
stops it, and reads the modules it had loaded. Charts (matplotlib), workbooks (openpyxl),
Word documents (python-docx) and the tracker pages (Jinja2) are imported by their first use;
aiogram (110-120 MB of pydantic models, built on import) only with a Telegram token."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.telegram import TOKEN as TELEGRAM_TOKEN
from tests.fakes.telegram import FakeTelegram, TelegramUser
from tests.fakes.zalo import TOKEN as ZALO_TOKEN
from tests.fakes.zalo import FakeZalo, ZaloUser

ROOT = Path(__file__).resolve().parent.parent
# Runs `hoibot ARGS…` and writes the names of the modules loaded to FILE when it exits, and
# to FILE.now on SIGUSR1 (the bot at rest, mid-run).
DRIVER = """
import atexit, json, os, runpy, signal, sys
out = sys.argv[1]
def dump(path):
    open(path + ".tmp", "w").write(json.dumps(sorted(sys.modules)))
    os.replace(path + ".tmp", path)
atexit.register(lambda: dump(out))
signal.signal(signal.SIGUSR1, lambda *_: dump(out + ".now"))
sys.argv = ["hoibot", *sys.argv[2:]]
runpy.run_module("bot.cli", run_name="__main__")
"""
USED_LATER = ("matplotlib", "numpy", "openpyxl", "docx", "jinja2", "pandas")
SETTINGS = ("DATABASE_URL", "HOIBOT_CONFIG_DIR", "PUBLIC_BASE_URL", "HOIBOT_NOW")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo province, built once for the module by `hoibot demo`."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo"],
        check=False,
        env=_env(path.parent, path),
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return path


def _env(cwd: Path, db: Path, **settings: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "ZALO_")) and k not in SETTINGS
    }
    return env | {
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "PYTHONPATH": str(ROOT),
        "FILES_DIR": str(cwd / "exports"),
        **settings,
    }


def _start(tmp_path: Path, demo_db: Path, stdin: int | None, **settings: str) -> subprocess.Popen:
    db = tmp_path / "bot.db"
    shutil.copy(demo_db, db)
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(tmp_path / "modules.json"), "run"],
        env=_env(tmp_path, db, **settings),
        cwd=tmp_path,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _loaded(tmp_path: Path, process: subprocess.Popen, output: str) -> set[str]:
    assert process.returncode == 0, output
    return _packages(tmp_path / "modules.json")


def _packages(path: Path) -> set[str]:
    return {name.split(".")[0] for name in json.loads(path.read_text())}


async def _loaded_now(tmp_path: Path, process: subprocess.Popen) -> set[str]:
    """What the running bot has loaded now (its driver writes it on SIGUSR1)."""
    path = tmp_path / "modules.json.now"
    path.unlink(missing_ok=True)
    process.send_signal(signal.SIGUSR1)
    for _ in range(300):
        if path.exists():
            return _packages(path)
        await asyncio.sleep(0.1)
    raise AssertionError("the bot did not write its modules")


async def _with_staff(demo_db: Path, copy: Path, chat_id: int) -> Path:
    """A copy of the demo with its first provincial staff member joined on Telegram."""
    from sqlalchemy import select

    from storage.db.models import Person, Role
    from storage.db.sessions import make_engine, make_sessionmaker, transaction
    from storage.plan.clock import Clock
    from tests.builders import linked

    shutil.copy(demo_db, copy)
    engine = make_engine(f"sqlite+aiosqlite:///{copy}")
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            staff = await session.scalar(
                select(Person).where(Person.role == Role.PROVINCIAL_STAFF).order_by(Person.id)
            )
            assert staff is not None
            await linked(session, staff, "telegram", str(chat_id), Clock().now())
    finally:
        await engine.dispose()
    return copy


async def _polled(calls: list, process: subprocess.Popen, timeout: float = 180) -> None:
    """Until the bot has started and asked its fake for updates."""
    deadline = time.monotonic() + timeout
    while not any(method == "getUpdates" for method, _ in calls):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the bot did not start: {process.communicate()[0]}")
        await asyncio.sleep(0.2)


async def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.to_thread(process.communicate, timeout=60)
    return output


def test_terminal_chat_imports_no_channel_and_no_file_library(tmp_path, demo_db) -> None:
    process = _start(tmp_path, demo_db, subprocess.PIPE)
    output, _ = process.communicate("/baocao\n/thoat\n", timeout=300)
    assert "starting a terminal chat" in output
    assert "báo cáo" in output.lower()
    loaded = _loaded(tmp_path, process, output)
    assert loaded.isdisjoint(("aiogram", *USED_LATER)), loaded & {"aiogram", *USED_LATER}


async def test_zalo_only_never_imports_aiogram(tmp_path, demo_db) -> None:
    zalo = FakeZalo()
    await zalo.start()
    process = _start(tmp_path, demo_db, None, ZALO_BOT_TOKEN=ZALO_TOKEN, ZALO_API_BASE=zalo.base)
    try:
        await _polled(zalo.calls, process)
        stranger = ZaloUser(zalo, "z-new")
        await stranger.send("xin chào")  # answered: asked for her invitation code
        assert stranger.replies
        output = await _stop(process)
    finally:
        if process.poll() is None:
            process.kill()
        await zalo.stop()
    loaded = _loaded(tmp_path, process, output)
    assert loaded.isdisjoint(("aiogram", *USED_LATER)), loaded & {"aiogram", *USED_LATER}


async def test_telegram_at_rest_has_no_aiogram_and_sends_a_file_with_it(tmp_path, demo_db) -> None:
    """Text chat goes out as JSON: aiogram is not loaded. The first workbook is uploaded
    through aiogram, imported then, and arrives."""
    staffed = await _with_staff(demo_db, tmp_path / "staffed.db", 777_002)
    telegram = FakeTelegram()
    await telegram.start()
    process = _start(
        tmp_path,
        staffed,
        None,
        TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
        TELEGRAM_API_BASE=telegram.base,
    )
    try:
        await _polled(telegram.calls, process)
        assert any(method == "setMyCommands" for method, _ in telegram.calls)
        stranger = TelegramUser(telegram, 777_001)
        await stranger.send("xin chào")
        assert stranger.replies
        staff = TelegramUser(telegram, 777_002)
        await staff.send("/tiendo")
        assert "Tiến độ chỉ tiêu – " in staff.text
        at_rest = await _loaded_now(tmp_path, process)
        assert "aiogram" not in at_rest
        assert at_rest.isdisjoint(USED_LATER), at_rest & set(USED_LATER)
        await staff.send("/xuat")
        await telegram.wait_for_file(777_002, "sendDocument", 0, timeout=180)
        output = await _stop(process)
    finally:
        if process.poll() is None:
            process.kill()
        await telegram.stop()
    loaded = _loaded(tmp_path, process, output)
    assert {"aiogram", "openpyxl"} <= loaded
