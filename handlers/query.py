"""Splitting a staff question typed in words into indicator, period and unit.

"tong ho thoat ngheo quy 3 huyen khanh son" → ("ho thoat ngheo", "quy 3", "huyen khanh son").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from storage.plan.catalog import Catalog
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
LEVEL_WORD = re.compile(r"^" + UNIT_WORDS + r"\b")
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


def indicator_query(text: str, catalog: Catalog) -> Query:
    """`parse_query` for a question about an indicator (/tong, /bieudo): a level word that
    belongs to the indicator's label ("Cơ sở Hội ứng dụng CNTT…", "… mạng xã hội", "Hợp tác
    xã …") is not read as the start of a unit. The label wins when the whole text (but the
    period) names an indicator, or when it begins with the start of a label that goes on past
    the level word ("Chi hội ứng dụng CNTT huyện Sa Pa") or with a whole label ("Ghi chú của
    chi hội xã Y Tý"); the rest is then the unit."""
    query = parse_query(text)
    if query.unit is None or CODE.fullmatch(query.unit):
        return query
    whole = f"{query.words} {query.unit}".strip()
    if catalog.find_indicators(whole):
        return Query(whole, query.period, None)
    tokens = whole.split()
    level = LEVEL_WORD.match(fold(query.unit))
    past_level = len(query.words.split()) + (len(level.group(0).split()) if level else 0)
    for cut in range(len(tokens) - 1, past_level - 1, -1):
        head = " ".join(tokens[:cut])
        # Ending at the level word, only a whole label: "Ghi chú của chi hội".
        if catalog.label_begins(head, whole=cut == past_level):
            return Query(head, query.period, " ".join(tokens[cut:]))
    return query
