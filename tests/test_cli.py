"""`hoibot demo` then the report commands, through the real command line."""

import os

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import get_settings


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HOIBOT_NOW", "2026-11-27T09:00:00+07:00")
    for name in ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_demo_then_progress_total_and_missing(cli_env) -> None:
    runner = CliRunner()
    built = runner.invoke(app, ["demo", "--small"])
    assert built.exit_code == 0, built.output
    assert "Demo province built" in built.output
    again = runner.invoke(app, ["demo", "--small"])
    assert again.exit_code == 1 and "already has units" in again.output

    progress = runner.invoke(app, ["report", "progress", "--unit", "KH"])
    assert progress.exit_code == 0, progress.output
    out = progress.output
    assert "Tiến độ chỉ tiêu – Tỉnh Khánh Hòa" in out
    for label in (
        "5.000 hộ phụ nữ nghèo",
        "Khánh Sơn và Khánh Vĩnh",
        "30.500 lao động nữ",
        "Tăng thực",
        "80% phụ nữ khuyết tật",
        "cơ sở Hội có ít nhất 1 công trình",
    ):
        assert label in out
    assert "KH 05/KH-BTV, mục II.2.4" in out

    total = runner.invoke(
        app, ["report", "total", "thoat ngheo", "--period", "quý 3", "--unit", "KH-KS"]
    )
    assert total.exit_code == 0 and "Huyện Khánh Sơn, quý III/2026" in total.output
    missing = runner.invoke(app, ["report", "missing"])
    assert missing.exit_code == 0 and "tháng 10/2026" in missing.output
    unknown = runner.invoke(app, ["report", "progress", "--unit", "NOPE"])
    assert unknown.exit_code == 1
    assert unknown.output == "No unit 'NOPE': give the code of a unit in the database.\n"
    assert os.environ["DATABASE_URL"] == cli_env
