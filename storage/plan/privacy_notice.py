"""The personal-data notice told at joining (Decree 13/2023/NĐ-CP): the operator's file
beside the configuration, else the shipped default beside this module, checked on load.
Part of the plan's language, so the catalog loads it without reaching into the records."""

from __future__ import annotations

import string
from pathlib import Path

from storage.plan.text import fold

NOTICE_FILE = "privacy_notice.txt"
DEFAULT_NOTICE = Path(__file__).with_name("privacy_notice_default.txt")
NOTICE_MAX = 1500  # room beside the buttons' words in one Zalo message (2,000 characters)
NOTICE_FIELDS = {"days"}


def load_notice(folder: Path) -> tuple[str, list[str]]:
    """The notice text (the operator's file beside the configuration, else the shipped
    default) and the problems found in it."""
    path = folder / NOTICE_FILE
    if not path.exists():
        path = DEFAULT_NOTICE
    try:
        text = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        return "", [f"{path}:1: not UTF-8 text; save the file as UTF-8"]
    problems = []
    if not text:
        problems.append(f"{path}: the personal-data notice is empty; write what is kept and why")
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        names = set()
        problems.append(
            f"{path}: {exc} (write {{days}} for the retention; a brace as {{{{ or }}}})"
        )
    unknown = names - NOTICE_FIELDS
    if unknown:
        problems.append(
            f"{path}: unknown placeholder {', '.join('{' + n + '}' for n in sorted(unknown))}"
            " (only {days}, the retention in days, is filled in)"
        )
    if len(text) > NOTICE_MAX:
        problems.append(
            f"{path}: the notice has {len(text)} characters; keep it under {NOTICE_MAX} "
            "(it must fit one Zalo message)"
        )
    if text and "du lieu cua toi" not in fold(text):
        problems.append(
            f'{path}: the notice must tell how to see one\'s data: mention "dữ liệu của tôi"'
        )
    return text, problems
