"""Reading what people type: Vietnamese text folding and forgiving number parsing."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case, no diacritics, đ→d, single spaces: the form used to match words."""
    text = unicodedata.normalize("NFKC", text).lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare).strip()


def tidy(text: str) -> str:
    """NFC with single spaces, for storing short text answers."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


@dataclass(frozen=True)
class NumberResult:
    value: float | None = None
    error: str | None = None  # key into texts_vi.NUMBER_ERRORS


_ZERO_WORDS = {"khong", "0", "ko", "k", "khong co", "chua co", "khong ai", "chua"}
# A number, then an optional unit word or two ("12 hộ", "1.500 người"). ASCII digits only:
# full-width digits become ASCII by NFKC; other scripts' digits are refused.
_NUMBER_TEXT = re.compile(r"^([+-]?)\s*([0-9][0-9 .,]*)\s*([a-z ]{0,20})$", re.ASCII)
_GROUPED_DOTS = re.compile(r"^[0-9]{1,3}(\.[0-9]{3})+$")
_GROUPED_COMMAS = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+$")
_GROUPED_SPACES = re.compile(r"^[0-9]{1,3}( [0-9]{3})+$")
MAX_INPUT = 40
MAX_VALUE = 999_999_999


def parse_number(text: str, *, allow_decimal: bool = False) -> NumberResult:
    """Reads "12", "12 hộ", "1.500", "1,500", "1 500", "１２", "không"; explains refusals.

    In Vietnamese "." groups thousands and "," marks decimals, but people copying from
    spreadsheets also type "1,500"; a comma followed by exactly three digits is read as a
    thousands separator, any other comma as the decimal mark.
    """
    raw = fold(text).rstrip(".!")
    if not raw:
        return NumberResult(error="empty")
    if len(raw) > MAX_INPUT:
        return NumberResult(error="not_number")
    if raw in _ZERO_WORDS:
        return NumberResult(value=0.0)
    match = _NUMBER_TEXT.match(raw)
    if not match:
        return NumberResult(error="not_number")
    sign, digits, _unit = match.group(1), match.group(2).strip(), match.group(3)
    value = _read_digits(digits)
    if value is None:
        return NumberResult(error="not_number")
    if sign == "-" and value != 0:
        return NumberResult(error="negative")
    if value > MAX_VALUE:
        return NumberResult(error="too_big")
    if value != int(value) and not allow_decimal:
        return NumberResult(error="decimal")
    return NumberResult(value=value)


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


_YES = {"co", "c", "yes", "y", "dung", "u", "uh", "vang", "da co", "co a", "roi", "co roi"}
_NO = {"khong", "ko", "k", "no", "n", "chua", "khong co", "chua co"}


def parse_yes_no(text: str) -> bool | None:
    folded = fold(text).rstrip(".!")
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
