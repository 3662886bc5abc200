"""Reading one answer: forgiving numbers, yes/no and choices (a whole report in one message:
handlers/whole_form.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers import mentions
from storage.plan.text import fold


@dataclass(frozen=True)
class NumberResult:
    value: float | None = None
    error: str | None = None  # key into texts_vi.NUMBER_ERRORS


ZERO_WORDS = frozenset({"khong", "0", "ko", "k", "khong co", "chua co", "khong ai", "chua"})
# A number, then an optional unit word or two ("12 hộ", "1.500 người"). ASCII digits only:
# full-width digits become ASCII by NFKC; other scripts' digits are refused.
_NUMBER_TEXT = re.compile(r"^([+-]?)\s*([0-9][0-9 .,]*)\s*([a-z ]{0,30})$", re.ASCII)
_GROUPED_DOTS = re.compile(r"^[0-9]{1,3}(\.[0-9]{3})+$")
_GROUPED_COMMAS = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+$")
_GROUPED_SPACES = re.compile(r"^[0-9]{1,3}( [0-9]{3})+$")
# "Dạ 12", "12 ạ", "12 chị nhé": courtesy around an answer.
_COURTESY_BEFORE = re.compile(r"^(?:da vang|da|vang|thua chi)\s+(?=[0-9+-])")
COURTESY = frozenset({"a", "nhe", "nha", "ah", "ak", "ha"})
# Words that may follow a count whatever the question ("12 hộ", "3 chị", "5 hộ nghèo");
# the question's own unit and label add theirs. Any other word makes the text a sentence
# with a number in it ("25 chị dự"), which is no answer.
COUNT_WORDS = frozenset({
    "nguoi", "ng", "ho", "chi", "em", "hoi", "vien", "hv", "phu", "nu", "pn", "lao", "dong",
    "ld", "hoat", "hd", "buoi", "mo", "hinh", "to", "nhom", "clb", "don", "vi", "ngheo", "can",
    "thoat", "moi", "cai", "chiec", "suat", "tre", "gia", "dinh",
})  # fmt: skip
# The words a leader writes for each unit a count is kept in (folded; the units of the
# indicators in the config: người, hộ, hoạt động, mô hình …). Written right after a number
# for a question kept in another unit ("3 hộ" or "3 chị" where households are counted,
# "2 hoạt động" where people are), the number is likely another question's and is refused.
UNIT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "nguoi": ("nguoi", "ng", "chi", "hoi vien", "hv", "phu nu", "pn", "lao dong", "ld", "tre"),
    "ho": ("ho", "gia dinh", "ho ngheo", "ho can ngheo", "ho thoat ngheo"),
    "hoat dong": ("hoat dong", "hd"),
    "buoi": ("buoi",),
    "lop": ("lop",),
    "mo hinh": ("mo hinh",),
    "to": ("to",),
    "nhom": ("nhom",),
    "cau lac bo": ("cau lac bo", "clb"),
    "chi hoi": ("chi hoi",),
    "du thao": ("du thao",),
    "dong": ("dong",),
}
# Each unit word (a phrase) and the unit it names; the longest phrase is tried first, so
# "chi hoi" is not read as "chị", nor "hoạt động" as "đồng".
UNIT_NAMED = {w: unit for unit, names in UNIT_SYNONYMS.items() for w in names}
_UNIT_PHRASES = sorted(UNIT_NAMED, key=lambda w: -len(w.split()))
MAX_INPUT = 40
MAX_VALUE = 999_999_999


def parse_number(
    text: str,
    *,
    allow_decimal: bool = False,
    words: frozenset[str] = frozenset(),
    unit: str = "",
) -> NumberResult:
    """Reads "12", "12 hộ", "1.500", "1,500", "1 500", "１２", "không"; explains refusals.

    In Vietnamese "." groups thousands and "," marks decimals, but people copying from
    spreadsheets also type "1,500"; a comma followed by exactly three digits is read as a
    thousands separator, any other comma as the decimal mark. A phone number ("0905",
    "0905 123 456"), money ("150 nghìn", "50k"), a date ("3/12", "ngày 3") or a time ("8h",
    "14:30") is refused as what it is; so is a number in a sentence ("25 chị dự"): only
    count words (COUNT_WORDS and `words`, the question's unit and label) may follow it; a
    unit word (UNIT_NAMED) that is not the question's `unit` ("3 hộ" counted in người) is
    refused as "wrong_unit".
    """
    raw = _COURTESY_BEFORE.sub("", fold(text).rstrip(".!"))
    if not raw:
        return NumberResult(error="empty")
    if len(raw) > MAX_INPUT:
        return NumberResult(error="not_number")
    if raw in ZERO_WORDS:
        return NumberResult(value=0.0)
    mention = mentions.doubtful_kind(raw)
    if mention == "money" and allow_decimal and words & mentions.MONEY_WORDS:
        mention = None  # an amount counted in money ("triệu đồng")
    if mention in NOT_COUNTS:
        # "họp ngày 3, 25 chị dự": a sentence with a date in it, not a date.
        return NumberResult(error="not_number" if _numbers_beside(raw) else mention)
    match = _NUMBER_TEXT.match(raw)
    if not match:
        return NumberResult(error="not_number")
    sign, digits, said = match.group(1), match.group(2).strip(), match.group(3)
    if any(word not in COUNT_WORDS | COURTESY | words for word in said.split()):
        return NumberResult(error="not_number")
    value = _read_digits(digits)
    if value is None:
        return NumberResult(error="not_number")
    if sign == "-" and value != 0:
        return NumberResult(error="negative")
    if value > MAX_VALUE:
        return NumberResult(error="too_big")
    if value != int(value) and not allow_decimal:
        return NumberResult(error="decimal")
    if unit and not names_unit(said, unit):
        return NumberResult(error="wrong_unit")
    return NumberResult(value=value)


def unit_named(said: str) -> str | None:
    """The unit (a UNIT_SYNONYMS key) named by the words right after a number, if any: only
    the first word(s) count, so "3 chị ạ" names people and "3 nhé chị" names nothing."""
    for phrase in _UNIT_PHRASES:
        if said == phrase or said.startswith(phrase + " "):
            return UNIT_NAMED[phrase]
    return None


def names_unit(said: str, unit: str) -> bool:
    """Whether the words after a number fit a question counted in `unit` (they name no unit,
    or the question's own: "3 chị" for người, "2 gia đình" for hộ, "3 người" for "lượt người")."""
    named = unit_named(" ".join(said.split()))
    if named is None:
        return True
    asked = fold(unit)
    if UNIT_NAMED.get(asked, asked) == named:
        return True
    return any(f" {w} " in f" {asked} " for w in UNIT_SYNONYMS[named])


# Mentions refused with their own explanation (texts_vi.NUMBER_ERRORS has a text for each).
NOT_COUNTS = ("phone", "money", "date", "time")


def _numbers_beside(raw: str) -> bool:
    """Whether a number stands outside the phone numbers, dates, money … found in `raw`."""
    words = [w.strip(",;.") for w in raw.split()]
    covered = {i for m in mentions.find(words) for i in range(m.start, m.end)}
    return any(re.search(r"\d", w) for i, w in enumerate(words) if i not in covered)


def _read_digits(digits: str) -> float | None:
    if re.fullmatch(r"[0-9]+", digits):
        return float(digits)
    if _GROUPED_DOTS.match(digits):
        return float(digits.replace(".", ""))
    if _GROUPED_COMMAS.match(digits):
        return float(digits.replace(",", ""))
    if _GROUPED_SPACES.match(digits):
        return float(digits.replace(" ", ""))
    if re.fullmatch(r"[0-9]+,[0-9]+", digits):
        return float(digits.replace(",", "."))
    if re.fullmatch(r"[0-9]+\.[0-9]{1,2}", digits):
        return float(digits)
    if re.fullmatch(r"([0-9]{1,3}(\.[0-9]{3})+),[0-9]+", digits):
        return float(digits.replace(".", "").replace(",", "."))
    return None


_YES = {
    "co", "c", "yes", "y", "dung", "u", "uh", "vang", "da co", "co roi", "roi", "da", "da vang",
    "dung roi", "ok", "oke", "okay", "dong y",
}  # fmt: skip
_NO = {"khong", "ko", "k", "no", "n", "chua", "khong co", "chua co", "khong phai", "khong dung"}
_TRAILING_COURTESY = {"a", "nhe", "nha", "chi", "oi", "em", "nhi"}


def parse_yes_no(text: str) -> bool | None:
    """ "có", "Vâng ạ", "Dạ có chị", "đúng rồi" → True; "không", "Dạ không ạ" → False."""
    words = fold(text).rstrip(".!").split()
    while len(words) > 1 and words[-1] in _TRAILING_COURTESY:
        words.pop()
    if len(words) > 1 and words[0] == "da":
        words.pop(0)
    folded = " ".join(words)
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    return None


def match_choice(choices: list[tuple[float, str]], text: str) -> float | None:
    """The value of the one choice the text names: its label (or the distinctive words of it,
    "xuất sắc" for "Hoàn thành xuất sắc nhiệm vụ") or its value; None if none or several."""
    folded = fold(text).rstrip(".!")
    if not folded:
        return None
    exact = [v for v, label in choices if fold(label) == folded]
    if len(exact) == 1:
        return exact[0]
    if re.fullmatch(r"\d+", folded) and any(v == int(folded) for v, _ in choices):
        return float(folded)
    words = folded.split()
    found = [v for v, label in choices if _has_run(fold(label).split(), words)]
    return found[0] if len(found) == 1 else None


def _has_run(haystack: list[str], words: list[str]) -> bool:
    n = len(words)
    return any(haystack[i : i + n] == words for i in range(len(haystack) - n + 1))


# ---- a yes that decides, told apart from a polite acknowledgement -------------------------

# Said by reflex to anything ("dạ", "vâng", "ok", "ừ", "rồi"; "đã" folds to "da" too): polite,
# not a decision. Where a yes would write figures the bot is not sure of, it is not enough.
_EXPLICIT_YES = {
    "co", "c", "yes", "y", "dung", "dung roi", "dung vay", "dung a", "ghi", "ghi di", "ghi vao",
    "co ghi", "ghi nhe", "dong y", "co dung", "co a",
}  # fmt: skip
_LEADING_ACK = {"da", "vang", "u", "uh", "ok", "oke", "okay", "roi"}


def explicit_yes(text: str) -> bool:
    """ "Có", "Dạ có", "đúng rồi", "ghi đi" → True; "dạ", "ok", "ừ", "vâng", "rồi", "đã" →
    False: a yes that decides, not a reflexive acknowledgement."""
    words = [w.strip(",.!;:") for w in fold(text).split()]
    words = [w for w in words if w]
    while len(words) > 1 and words[-1] in _TRAILING_COURTESY:
        words.pop()
    while len(words) > 1 and words[0] in _LEADING_ACK:
        words.pop(0)
    return " ".join(words) in _EXPLICIT_YES


def no_words(text: str) -> bool:
    """A message of signs only ("👍", "🙏", "❤️", "..."): no word, no number to read."""
    return bool(text.strip()) and not any(ch.isalnum() for ch in text)


def reflexive_yes(text: str) -> bool:
    """A yes by reflex ("dạ", "ok", "ừ", "vâng", "rồi"): read as yes by parse_yes_no, but not
    an explicit one."""
    return parse_yes_no(text) is True and not explicit_yes(text)
