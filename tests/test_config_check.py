"""`hoibot config check`: each mistake an operator can make in the YAML files is one exact
line naming the file, the line and the field, and the command exits with 1."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.config import DEMO_CONFIG_DIR, get_settings
from storage.plan.catalog_load import load_catalog


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HOIBOT_CONFIG_DIR", raising=False)
    get_settings.cache_clear()
    target = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG_DIR, target)
    yield target
    get_settings.cache_clear()


def edit(folder: Path, name: str, old: str, new: str) -> int:
    """Replaces the first `old` by `new`; the line number where `new` starts."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    at = text.index(old)
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")
    return text[:at].count("\n") + 1


def line_of(folder: Path, name: str, snippet: str, nth: int = 0) -> int:
    text = (folder / name).read_text(encoding="utf-8")
    at = -1
    for _ in range(nth + 1):
        at = text.index(snippet, at + 1)
    return text[:at].count("\n") + 1


def check(folder: Path, *extra: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["config", "check", str(folder), *extra])
    return result.exit_code, result.output.splitlines()


def test_the_demo_configuration_is_ok(folder: Path) -> None:
    code, lines = check(folder)
    assert code == 0
    assert lines == [
        f"Configuration in {folder} is OK: 4 levels, 24 indicators, 5 forms, 20 targets, "
        "1 term; target units not checked against a database (DATABASE_URL is not set; "
        "--database URL to check them)."
    ]


@pytest.mark.parametrize(
    ("name", "key", "first_code", "code", "noun"),
    [
        ("indicators.yaml", "indicators", "hv_moi", "hv_ra", "indicator"),
        ("forms.yaml", "forms", "thang_chi_hoi", "quy_chi_hoi", "form"),
        ("targets.yaml", "targets", "chi_hoi_5k3s", "ho_5k3s", "target"),
    ],
)
def test_duplicate_codes(
    folder: Path, name: str, key: str, first_code: str, code: str, noun: str
) -> None:
    first = line_of(folder, name, f"  - code: {first_code}\n")
    line = edit(folder, name, f"  - code: {code}\n", f"  - code: {first_code}\n")
    assert check(folder) == (
        1,
        [
            f"{folder / name}:{line}: {key}[1] field 'code': '{first_code}' is used twice "
            f"(first on line {first}); give each {noun} its own code",
            "1 problem in the configuration.",
        ],
    )


def test_duplicate_term_and_term_ending_before_it_starts(folder: Path) -> None:
    line = edit(
        folder,
        "targets.yaml",
        "targets:\n",
        "  - code: 2021-2026\n    start: 2027-01-01\n    end: 2026-12-31\ntargets:\n",
    )
    first = line_of(folder, "targets.yaml", "  - code: 2021-2026")
    assert check(folder) == (
        1,
        [
            f"{folder / 'targets.yaml'}:{line}: terms[1] field 'code': '2021-2026' is used "
            f"twice (first on line {first}); give each term its own code",
            "1 problem in the configuration.",
        ],
    )
    edit(
        folder,
        "targets.yaml",
        "  - code: 2021-2026\n    start: 2027",
        "  - code: 2026-2031\n    start: 2027",
    )
    assert check(folder) == (
        1,
        [
            f"{folder / 'targets.yaml'}:{line + 2}: terms[1] field 'end': the term ends on "
            "2026-12-31 before it starts on 2027-01-01; the end must come after the start",
            "1 problem in the configuration.",
        ],
    )


def test_unreadable_target_period_with_a_suggestion(folder: Path) -> None:
    line = edit(folder, "targets.yaml", "    period: yearly\n", "    period: yearley\n")
    assert check(folder) == (
        1,
        [
            f"{folder / 'targets.yaml'}:{line}: targets[2] field 'period': 'yearley' cannot "
            "be read (did you mean 'yearly'?); write term, yearly, a year (2025), a range "
            "of years (2021..2025), a half (2026-H1), a quarter (2026-Q3) or a month (2026-07)",
            "1 problem in the configuration.",
        ],
    )


def test_period_range_ending_before_it_starts(folder: Path) -> None:
    line = edit(
        folder, "targets.yaml", "    target: 5000\n", "    period: 2025..2021\n    target: 5000\n"
    )
    assert check(folder) == (
        1,
        [
            f"{folder / 'targets.yaml'}:{line}: targets[4] field 'period': the range "
            "'2025..2021' ends before it starts; write the earlier year first",
            "1 problem in the configuration.",
        ],
    )


def test_derived_indicators_in_a_cycle(folder: Path) -> None:
    line = edit(
        folder,
        "indicators.yaml",
        "    formula: hv_moi - hv_ra\n",
        "    formula: hv_moi - hv_ra + vong\n",
    )
    text = (folder / "indicators.yaml").read_text(encoding="utf-8")
    (folder / "indicators.yaml").write_text(
        text + "  - code: vong\n    label: Vòng\n    type: derived\n    formula: tang_hv_thuan\n",
        encoding="utf-8",
    )
    last = len(text.splitlines()) + 4
    assert check(folder) == (
        1,
        [
            f"{folder / 'indicators.yaml'}:{line}: indicators[2] field 'formula': "
            "'tang_hv_thuan' depends on itself (tang_hv_thuan → vong → tang_hv_thuan); a "
            "derived indicator must end in reported ones",
            f"{folder / 'indicators.yaml'}:{last}: indicators[24] field 'formula': 'vong' "
            "depends on itself (vong → tang_hv_thuan → vong); a derived indicator must end in "
            "reported ones",
            "2 problems in the configuration.",
        ],
    )


@pytest.mark.parametrize(("code", "kind"), [("ghi_chu", "text"), ("ung_dung_cntt", "yes_no")])
def test_formula_using_text_or_yes_no(folder: Path, code: str, kind: str) -> None:
    line = edit(
        folder,
        "indicators.yaml",
        "    formula: hv_moi - hv_ra\n",
        f"    formula: hv_moi - {code}\n",
    )
    assert check(folder) == (
        1,
        [
            f"{folder / 'indicators.yaml'}:{line}: indicators[2] field 'formula': '{code}' is "
            f"a {kind} indicator and cannot be calculated with; use count or amount indicators",
            "1 problem in the configuration.",
        ],
    )


def test_indicator_asked_in_no_form(folder: Path) -> None:
    edit(folder, "forms.yaml", "      - {indicator: ho_5k3s, short: ks}\n", "")
    line = line_of(folder, "indicators.yaml", "  - code: ho_5k3s")
    assert check(folder) == (
        1,
        [
            f"{folder / 'indicators.yaml'}:{line}: indicators[8] field 'code': 'ho_5k3s' is "
            "asked in no form, so it would never have data; add it to the questions of a form "
            "in forms.yaml, or remove it",
            "1 problem in the configuration.",
        ],
    )


def test_unknown_top_level_key_with_a_suggestion(folder: Path) -> None:
    line = edit(folder, "targets.yaml", "targets:\n", "target:\n")
    assert check(folder) == (
        1,
        [
            f"{folder / 'targets.yaml'}:{line}: target: unknown key (did you mean 'targets'?); "
            "the keys of targets.yaml are terms, targets",
            "1 problem in the configuration.",
        ],
    )


def test_more_that_used_to_load_and_fail_later(folder: Path) -> None:
    edit(folder, "hierarchy.yaml", "province: KH\n", "")
    formula = edit(
        folder, "indicators.yaml", "    formula: hv_moi - hv_ra\n", "    formula: 5 - 2\n"
    )
    edit(folder, "hierarchy.yaml", "    role: commune_officer\n", "")
    level = line_of(folder, "forms.yaml", "    level: commune")
    assert check(folder) == (
        1,
        [
            f"{folder / 'hierarchy.yaml'}:1: province: missing; write the code of the "
            "province's own unit (as in the units file), e.g. province: KH",
            f"{folder / 'indicators.yaml'}:{formula}: indicators[2] field 'formula': the "
            "formula uses no indicator, so it would show a number where there is no data; "
            "build it from indicator codes",
            f"{folder / 'forms.yaml'}:{level}: forms[2] field 'level': the level 'commune' has "
            "no role in hierarchy.yaml, so nobody would be asked to report this form; give "
            "the level a role",
            "3 problems in the configuration.",
        ],
    )


def test_every_problem_at_once(folder: Path) -> None:
    edit(folder, "targets.yaml", "    period: yearly\n", "    period: yearley\n")
    edit(folder, "forms.yaml", "      - {indicator: ho_5k3s, short: ks}\n", "")
    edit(folder, "targets.yaml", "    start: 2022-01-01\n", "    start: 2027-01-01\n")
    code, lines = check(folder)
    assert code == 1 and lines[-1] == "3 problems in the configuration." and len(lines) == 4


def test_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert check(missing) == (
        1,
        [
            f"{missing}: the configuration folder does not exist; set HOIBOT_CONFIG_DIR to "
            "the folder that holds hierarchy.yaml, indicators.yaml, forms.yaml, targets.yaml",
            "1 problem in the configuration.",
        ],
    )


def test_no_form_at_all(folder: Path) -> None:
    (folder / "forms.yaml").write_text("forms: []\n", encoding="utf-8")
    code, lines = check(folder)
    assert code == 1
    assert (
        f"{folder / 'forms.yaml'}:1: forms: there is no form, so nothing would be asked; "
        "list at least one form under forms"
    ) in lines
    reported = [i for i in load_catalog(DEMO_CONFIG_DIR).indicators.values() if not i.formula]
    unasked = [line for line in lines if "is asked in no form" in line]
    assert len(unasked) == len(reported) and len(lines) == len(reported) + 2
