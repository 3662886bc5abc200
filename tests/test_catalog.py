import shutil
from pathlib import Path

import pytest

from bot.config import DEMO_CONFIG_DIR
from storage.plan.catalog_load import load_catalog
from storage.plan.config_files import ConfigError
from storage.plan.expressions import evaluate_formula


def copy_config(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG_DIR, folder)
    return folder


def test_demo_configuration_loads(catalog) -> None:
    assert catalog.province == "KH"
    assert [lv.code for lv in catalog.levels] == ["province", "district", "commune", "branch"]
    assert catalog.components("tang_hv_thuan") == ["hv_moi", "hv_ra"]
    assert catalog.form_of_indicator["ho_thoat_ngheo"] == "thang_chi_hoi"
    group = next(t for t in catalog.targets if t.code == "thoat_ngheo_ks_kv")
    assert group.units == ["KH-KS", "KH-KV"] and group.target == 1000


def test_errors_name_file_line_and_field(tmp_path: Path) -> None:
    folder = copy_config(tmp_path)
    text = (folder / "indicators.yaml").read_text(encoding="utf-8")
    # Break the type of the third indicator ("hv_ra" sits on lines 9-13 of the demo file).
    text = text.replace(
        "    label: Hội viên ra khỏi tổ chức\n",
        "    label: Hội viên ra khỏi tổ chức\n    type: số đếm\n",
        1,
    )
    (folder / "indicators.yaml").write_text(text, encoding="utf-8")
    line = text.splitlines().index("    type: số đếm") + 1
    with pytest.raises(ConfigError) as caught:
        load_catalog(folder)
    [problem] = caught.value.problems
    assert problem.startswith(f"{folder / 'indicators.yaml'}:{line}: indicators[1] field 'type'")


def test_cross_references_are_checked(tmp_path: Path) -> None:
    folder = copy_config(tmp_path)
    forms = (folder / "forms.yaml").read_text(encoding="utf-8")
    hv_ra = "      - {indicator: hv_ra, short: hvr}\n"
    forms = forms.replace(hv_ra, hv_ra + "      - khong_co\n      - hv_moi\n", 1)
    (folder / "forms.yaml").write_text(forms, encoding="utf-8")
    targets = (folder / "targets.yaml").read_text(encoding="utf-8")
    targets = targets.replace("level: commune", "level: xa", 1)
    (folder / "targets.yaml").write_text(targets, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_catalog(folder)
    problems = "\n".join(caught.value.problems)
    assert "unknown indicator 'khong_co'" in problems
    assert "'hv_moi' is already asked in form 'thang_chi_hoi'" in problems
    assert "targets.yaml" in problems and "unknown level 'xa'" in problems
    assert len(caught.value.problems) == 3


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    folder = copy_config(tmp_path)
    (folder / "targets.yaml").write_text("targets:\n  - code: [unclosed\n", encoding="utf-8")
    (folder / "hierarchy.yaml").unlink()
    with pytest.raises(ConfigError) as caught:
        load_catalog(folder)
    problems = caught.value.problems
    assert any("hierarchy.yaml: file missing" in p for p in problems)
    assert any("targets.yaml:" in p and "not valid YAML" in p for p in problems)


def test_derived_formula_rejects_code(tmp_path: Path) -> None:
    folder = copy_config(tmp_path)
    text = (folder / "indicators.yaml").read_text(encoding="utf-8")
    text = text.replace("formula: hv_moi - hv_ra", "formula: __import__('os').system('x')")
    (folder / "indicators.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_catalog(folder)
    assert "field 'formula'" in caught.value.problems[0]
    assert evaluate_formula("a - b * 2", {"a": 10, "b": 3}) == 4
