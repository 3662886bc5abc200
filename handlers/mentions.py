"""Numbers that are never answers: phone numbers, money, dates, times, numbered names.

Leaders write to the bot as to a colleague ("họp ngày 3, 25 chị dự, thu 150 nghìn, SĐT
0905 123 456"). Every number of that kind is found here with what it is, so that the readers
of answers (handlers/parsing.py for one answer, handlers/whole_form.py for a whole report)
never take it for a count. Everything here works on folded words (storage.plan.text.fold: lower
case, no diacritics, đ → d), one message line at a time.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

# Kinds that make a message doubtful: a report is never written with them. A period
# ("tháng 11", "quý 3") is only a heading: not an answer, and not a doubt either.
DOUBTFUL = ("phone", "money", "date", "time", "name", "measure")


@dataclass(frozen=True)
class Mention:
    kind: str  # phone | money | date | time | period | name | measure
    start: int  # index of its first word
    end: int  # index after its last word
    text: str  # its words, folded


# One word that is a whole mention.
_ATOMS = [
    ("time", re.compile(r"\d{1,2}(?::\d{2}){1,2}|\d{1,2}(?:h|g|gio)(?:\d{1,2}(?:p|ph|phut)?)?")),
    ("time", re.compile(r"\d{1,2}(?:am|pm)")),
    ("period", re.compile(r"(?:0?[1-9]|1[0-2])/(?:19|20)\d{2}|(?:19|20)\d{2}-(?:19|20)\d{2}")),
    ("date", re.compile(r"\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{1,2}[.-]\d{1,2}[.-]\d{2,4}")),
    ("name", re.compile(r"\d+/[a-z][a-z0-9/.-]*")),  # a document: "15/KH-HPN"
    (
        "money",
        re.compile(
            r"\d[\d.,]*(?:k|d|vnd|dong|tr|trieu|nghin|ngan|ty|usd|\$)|\$\d[\d.,]*|\d+(?:tr|k)\d+"
        ),
    ),
    ("measure", re.compile(r"\d[\d.,]*(?:%|kg|km|m2|m|ha|cm|mm|lit|tuoi)")),
]
_NUMBER = re.compile(r"\d[\d.,]*")
_GROUP = re.compile(r"\d{2,4}")
MONEY_WORDS = {"k", "d", "vnd", "dong", "tr", "trieu", "nghin", "ngan", "ty", "usd", "do", "xu"}
_TIME_AFTER = {"h", "g", "gio", "phut", "tieng", "ruoi"}
_MEASURE_AFTER = {"tuoi", "kg", "km", "m", "ha", "cm", "met", "lit", "%", "phan"}
_DURATION_AFTER = {"nam", "thang", "tuan", "ngay"}  # "6 tháng đầu năm", "5 năm"
_DATE_BEFORE = {"ngay", "mung", "hom", "tuan", "sn"}
_TIME_BEFORE = {"luc"}
_MONEY_BEFORE = {"tien"}
# A number after these names a thing ("thôn 2", "tổ 3", "lần 2", "số 15"); it is no count.
_NAME_BEFORE = {
    "so", "to", "thon", "xom", "ap", "khu", "doi", "phong", "tang", "duong", "hem", "kiet",
    "ngo", "nha", "lop", "khoi", "phuong", "xa", "lan", "dot", "can", "bai", "muc", "cau",
    "kh", "qd", "cv", "tb", "nq", "ct", "hop",
}  # fmt: skip
_QUARTERS = {"1", "2", "3", "4", "i", "ii", "iii", "iv"}
_MONTHS = {str(m) for m in range(1, 13)} | {f"0{m}" for m in range(1, 10)}
_WEEKDAYS = {"2", "3", "4", "5", "6", "7"}


def atom(word: str) -> str | None:
    """The kind of mention one word is on its own ("0905", "8h", "3/12", "50k"), or None."""
    for kind, pattern in _ATOMS:
        if pattern.fullmatch(word):
            return kind
    return _phone_atom(word)


def _phone_atom(word: str) -> str | None:
    """ "0905123456", "0905.123.456", "+84905123456"; and any number of four digits or more
    that starts with 0 ("0905"): a count is never written so."""
    bare = word.replace(".", "").replace("-", "")
    if re.fullmatch(r"(?:1800|1900)\d{4,6}", bare):
        return "phone"
    if bare.startswith("+84") and bare[3:].isdigit() and 9 <= len(bare) - 3 <= 10:
        return "phone"
    if bare.isdigit() and bare.startswith("0") and len(bare) >= 4 and bare.strip("0"):
        return "phone"
    return None


def _phone_run(words: list[str], i: int) -> int:
    """The end of a phone number written in groups from word i ("0905 123 456"), or i."""
    first = words[i]
    if first == "+84":
        digits, wanted = 0, range(9, 11)
    elif first.startswith("0") and first.isdigit() and 3 <= len(first) <= 4:
        digits, wanted = len(first), range(9, 12)
    elif first in ("1800", "1900"):  # a hotline: "1900 1234", "1800 1567 89"
        digits, wanted = 4, range(8, 11)
    else:
        return i
    end = i + 1
    best = i
    while end < len(words) and _GROUP.fullmatch(words[end]) and digits + len(words[end]) <= 11:
        digits += len(words[end])
        end += 1
        if digits in wanted:
            best = end
    return best


def _is_number(word: str) -> bool:
    return bool(_NUMBER.fullmatch(word))


def _before_kind(word: str, after: str) -> str | None:
    """The kind of a mention made of `word` and the number after it ("ngày 3", "thôn 2")."""
    if word in _DATE_BEFORE or (word == "thu" and after in _WEEKDAYS):
        return "date"
    if word in _TIME_BEFORE:
        return "time"
    if word in _MONEY_BEFORE:
        return "money"
    if (
        (word == "thang" and after.split("/", maxsplit=1)[0] in _MONTHS)
        or (word == "quy" and after in _QUARTERS)
        or (word == "nam" and re.fullmatch(r"(?:19|20)\d{2}", after))
        or (word == "ky" and after.isdigit())
    ):
        return "period"
    return "name" if word in _NAME_BEFORE else None


def _after_kind(number: str, after: str) -> str | None:
    """The kind of a mention made of a number and the word after it ("150 nghìn", "8 giờ")."""
    if after in MONEY_WORDS:
        return "money"
    if after in _TIME_AFTER and len(number) <= 2:
        return "time"
    if after in _MEASURE_AFTER:
        return "measure"
    return "period" if after in _DURATION_AFTER else None


def find(words: list[str], labels: Collection[str] = ()) -> list[Mention]:
    """The mentions among a line's folded words, in order; a form's labels ("to", "tn") are
    never read as the word before a mention."""
    found: list[Mention] = []
    n = len(words)
    i = 0
    while i < n:
        word = words[i]
        after = words[i + 1] if i + 1 < n else ""
        kind, end = None, _phone_run(words, i)
        if end > i:
            kind = "phone"
        elif atom(word):
            kind, end = atom(word), i + 1
        elif (
            word not in labels
            and (_is_number(after) or atom(after))
            and _phone_run(words, i + 1) == i + 1
            and not _phone_atom(after)
        ):
            kind, end = _before_kind(word, after), i + 2
            # "ngày 3 tháng 12 năm 2026": the whole date is one mention.
            while end + 1 < n and words[end] in ("thang", "nam") and _is_number(words[end + 1]):
                end += 2
        elif word == "quy" and after in _QUARTERS:
            kind, end = "period", i + 2
        elif _is_number(word) and after:
            kind, end = _after_kind(word, after), i + 2
            # "2 triệu 500 nghìn", "150 nghìn đồng"
            while (
                kind == "money"
                and end < n
                and (
                    words[end] in MONEY_WORDS
                    or (_is_number(words[end]) and end + 1 < n and words[end + 1] in MONEY_WORDS)
                )
            ):
                end += 1
        if kind is None:
            i += 1
            continue
        found.append(Mention(kind, i, end, " ".join(words[i:end])))
        i = end
    return found


def doubtful_kind(text: str) -> str | None:
    """The kind of the first doubtful mention in a short folded text ("0905", "150 nghin",
    "8h", "3/12"), or None."""
    words = text.split()
    return next((m.kind for m in find(words) if m.kind in DOUBTFUL), None)
