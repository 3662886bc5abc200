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
# Runs `hoibot ARGS…` and writes the names of the modules loaded when it exits to FILE.
DRIVER = """
import atexit, json, runpy, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
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
    modules = json.loads((tmp_path / "modules.json").read_text())
    return {name.split(".")[0] for name in modules}


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


async def test_telegram_imports_aiogram_but_no_file_library(tmp_path, demo_db) -> None:
    telegram = FakeTelegram()
    await telegram.start()
    process = _start(
        tmp_path,
        demo_db,
        None,
        TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN,
        TELEGRAM_API_BASE=telegram.base,
    )
    try:
        await _polled(telegram.calls, process)
        stranger = TelegramUser(telegram, 777_001)
        await stranger.send("xin chào")
        assert stranger.replies
        output = await _stop(process)
    finally:
        if process.poll() is None:
            process.kill()
        await telegram.stop()
    loaded = _loaded(tmp_path, process, output)
    assert "aiogram" in loaded
    assert loaded.isdisjoint(USED_LATER), loaded & set(USED_LATER)
