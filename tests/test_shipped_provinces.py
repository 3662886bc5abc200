"""The shipped provinces: each configuration loads, its demo builds into an empty database, and
the progress report shows every target of its plan with a verdict."""

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.config import DEMO_CONFIG_DIR, get_settings
from schedules.demo import build_demo, load_demo_settings
from storage.db.models import OrgUnit, Submission, SubmissionValue
from storage.measures import rollup
from storage.plan import texts_vi as vi
from storage.plan.catalog_load import load_catalog
from storage.plan.config_files import ConfigError
from storage.plan.periods import quarter

SHIPPED = ["khanh_hoa", "lao_cai", "soc_trang"]
PLANS = ["lao_cai", "soc_trang"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_configuration_loads(name: str) -> None:
    folder = DEMO_CONFIG_DIR.parent / name
    catalog = load_catalog(folder)
    demo = load_demo_settings(folder, catalog)
    assert catalog.targets and demo.indicators
    # Every target can have data: what it reads is asked in a form (or derived from that).
    for target in catalog.targets:
        for code in filter(None, (target.indicator, target.numerator, target.denominator)):
            assert all(c in catalog.form_of_indicator for c in catalog.components(code)), code


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_configuration_passes_config_check(name: str) -> None:
    folder = DEMO_CONFIG_DIR.parent / name
    result = CliRunner().invoke(app, ["config", "check", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"Configuration in {folder} is OK" in result.output


@pytest.mark.parametrize("name", PLANS)
def test_targets_table_lists_every_target(name: str) -> None:
    folder = DEMO_CONFIG_DIR.parent / name
    table = (folder / "TARGETS.md").read_text(encoding="utf-8")
    said = set(re.findall(r"`([a-z0-9_]+)`", table))
    assert {t.code for t in load_catalog(folder).targets} <= said


def test_lao_cai_has_no_district_level() -> None:
    catalog = load_catalog(DEMO_CONFIG_DIR.parent / "lao_cai")
    assert [lv.code for lv in catalog.levels] == ["province", "commune", "branch"]
    text = (DEMO_CONFIG_DIR.parent / "lao_cai" / "units.csv").read_text(encoding="utf-8")
    assert ",district," not in text


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("HOIBOT_NOW", "2026-11-27T09:00:00+07:00")
    monkeypatch.delenv("HOIBOT_CONFIG_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize("name", PLANS)
def test_demo_builds_and_progress_shows_every_target(cli_env, name: str) -> None:
    folder = DEMO_CONFIG_DIR.parent / name
    runner = CliRunner()
    built = runner.invoke(app, ["demo", "--province", name.replace("_", "-")])
    assert built.exit_code == 0, built.output
    assert f"HOIBOT_CONFIG_DIR={folder}" in built.output  # how to use it from now on

    cli_env.setenv("HOIBOT_CONFIG_DIR", str(folder))
    get_settings.cache_clear()
    checked = runner.invoke(
        app, ["config", "check", str(folder), "--database", get_settings().database_url]
    )
    assert checked.exit_code == 0 and f"Configuration in {folder} is OK" in checked.output
    shown = runner.invoke(app, ["report", "progress"])
    assert shown.exit_code == 0, shown.output
    out = shown.output
    catalog = load_catalog(folder)
    assert vi.PROGRESS_TITLE.split("{")[0] in out
    for target in catalog.targets:
        # A past year's verdict is said with its year: "❌ không đạt (năm 2025) <label>".
        shown_as = [
            re.escape(mark) + r"(?: \(năm \d{4}\))? " + re.escape(target.label)
            for mark in vi.STATUS.values()
        ]
        assert any(re.search(pattern, out) for pattern in shown_as), target.code
    assert "(0/0)" not in out and "Traceback" not in out


def test_demo_of_unknown_province_fails_and_names_the_shipped_ones(cli_env) -> None:
    result = CliRunner().invoke(app, ["demo", "--province", "ha-giang"])
    assert result.exit_code == 1
    assert "khanh-hoa, lao-cai, soc-trang" in result.output.replace("\n", " ")


async def test_quarterly_member_count_follows_the_monthly_moves(session) -> None:
    """Sóc Trăng asks new and leaving members monthly and the member count quarterly: each
    branch's count moves from one quarter to the next by the net growth it reported."""
    folder = DEMO_CONFIG_DIR.parent / "soc_trang"
    catalog = load_catalog(folder)
    await build_demo(session, catalog, folder, date(2026, 11, 27), branches_per_commune=(2, 2))
    await session.flush()

    async def count(unit_id: int, key: str) -> float | None:
        return await session.scalar(
            select(SubmissionValue.value_num)
            .join(Submission, Submission.id == SubmissionValue.submission_id)
            .where(
                Submission.unit_id == unit_id,
                Submission.period_key == key,
                SubmissionValue.indicator_code == "tong_hoi_vien",
            )
        )

    branches = (await session.scalars(select(OrgUnit).where(OrgUnit.level == "branch"))).all()
    checked = 0
    for branch in branches:
        q2, q3 = await count(branch.id, "2026-Q2"), await count(branch.id, "2026-Q3")
        if q2 is None or q3 is None:
            continue
        net = await rollup.total(session, catalog, "tang_hv_thuan", [branch], quarter(2026, 3))
        assert q3 - q2 == net, branch.code
        checked += 1
    assert checked >= 10


def test_demo_settings_errors_name_file_line_and_field(tmp_path: Path) -> None:
    folder = tmp_path / "lao_cai"
    shutil.copytree(DEMO_CONFIG_DIR.parent / "lao_cai", folder)
    good = (folder / "demo.yaml").read_text(encoding="utf-8")
    catalog = load_catalog(folder)
    for wrong, right, says in [
        ("  hv_ra: {mean: 2.0, yes_share: 0.5}", "  hv_ra: {mean: 2.0}", "one way"),
        ("  ho_thoat_ngeo: {mean: 0.5}", "  ho_thoat_ngheo: {mean: 0.5}", "unknown indicator"),
    ]:
        text = good.replace(right, wrong)
        (folder / "demo.yaml").write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_demo_settings(folder, catalog)
        [problem] = caught.value.problems
        line = text.splitlines().index(wrong) + 1
        code = wrong.strip().split(":")[0]
        assert problem.startswith(f"{folder / 'demo.yaml'}:{line}: field 'indicators.{code}'")
        assert says in problem


async def test_a_province_without_demo_settings_builds_with_defaults(session, tmp_path) -> None:
    """No province-specific code: a folder without demo.yaml still gets a demo."""
    folder = tmp_path / "lao_cai"
    shutil.copytree(DEMO_CONFIG_DIR.parent / "lao_cai", folder)
    (folder / "demo.yaml").unlink()
    catalog = load_catalog(folder)
    summary = await build_demo(
        session, catalog, folder, date(2026, 11, 27), branches_per_commune=(1, 1), months=6
    )
    assert summary.units == 1 + 8 + 8 and "district_officer" not in summary.sample_people
    values = (await session.scalars(select(SubmissionValue))).all()
    assert summary.values == len(values) > 0
    for v in values:
        ind = catalog.indicators[v.indicator_code]
        assert v.value_num is not None and v.value_num >= 0
        if ind.type == "yes_no":
            assert v.value_num in (0.0, 1.0)
