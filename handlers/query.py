"""Splitting a staff question typed in words into indicator, period and unit.

"tong ho thoat ngheo quy 3 huyen khanh son" → ("ho thoat ngheo", "quy 3", "huyen khanh son").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from storage.plan.text import fold

_NUM = r"(?:\d{1,2}|iv|i{1,3})"
_YEAR = r"(?:\s*(?:/|-)\s*\d{4}|\s+nam\s+\d{4})?"
_ONE_PERIOD = (
    r"(?:thang\s+(?:nay|truoc|\d{1,2}" + _YEAR + r")"
    r"|quy\s+(?:nay|truoc|" + _NUM + _YEAR + r")"
    r"|(?:6|sau)\s+thang\s+(?:dau|cuoi)\s+nam(?:\s+\d{4})?"
    r"|nam\s+(?:nay|truoc|ngoai|\d{4})"
    r"|nhiem\s+ky(?:\s+\d{4}\s*[-–]\s*\d{4})?)"  # (as the answers write it: 2021–2026)
)
PERIOD = re.compile(
    r"\b(tu\s+"
    + _ONE_PERIOD
    + r"\s+(?:den|toi)\s+"
    + _ONE_PERIOD
    + r"|"
    + _ONE_PERIOD
    + r")(?=\s|$)"
)
UNIT_WORDS = r"(?:huyen|xa|phuong|thi tran|thi xa|thanh pho|tp|chi hoi|tinh|co so)"
UNIT = re.compile(r"\b(" + UNIT_WORDS + r"\s+.+)$")
CODE = re.compile(r"\b([A-Z]{2}(?:-[A-Z0-9]{1,6})+)\b")


@dataclass(frozen=True)
class Query:
    words: str  # what is left, as typed: the indicator's code or label words
    period: str | None
    unit: str | None


def _aligned(text: str) -> tuple[str, str]:
    """The text (NFC, single spaces) and its folded form, character for character, so a match
    found in the folded form can be cut from the original with the same positions."""
    original = " ".join(unicodedata.normalize("NFC", text).split())
    folded = "".join((fold(ch) or " ")[:1] if not ch.isspace() else " " for ch in original)
    return original, folded


def parse_query(text: str) -> Query:
    code = CODE.search(text)
    unit: str | None = code.group(1) if code else None
    original, rest = _aligned(CODE.sub(" ", text) if code else text)
    period = None
    if m := PERIOD.search(rest):
        period = m.group(1)
        original = original[: m.start()] + " " + original[m.end() :]
        rest = rest[: m.start()] + " " + rest[m.end() :]
    if unit is None and (m := UNIT.search(rest)):
        unit = original[m.start(1) :].strip()
        original, rest = original[: m.start()], rest[: m.start()]
    # As she typed them (diacritics kept), so a reply can quote her; matching folds them.
    return Query(" ".join(original.split()), period, unit)
