"""Reading what people type: forgiving numbers, yes/no, choices and whole-form messages."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from storage.text import fold


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


# ---- the whole form in one message --------------------------------------------------------

# Between answers: spaces, line breaks, ; | : = and a comma that ends a word ("3, 0, 1").
_SEPARATORS = re.compile(r"(?:[\s;|:=]|,(?=\s|$))+")


@dataclass(frozen=True)
class Slot:
    """One question as the whole-form reader sees it."""

    code: str
    kind: str  # "number" | "yes_no" | "text"
    optional: bool = False


@dataclass
class WholeForm:
    """What a whole-form message said: raw answers (checked later as single answers are)."""

    answers: dict[str, str]
    by_label: bool
    count: int = 0  # answers given in order (not by label)
    extra: list[str] = field(default_factory=list)  # in order: beyond the last question
    unplaced: list[str] = field(default_factory=list)  # by label: no known label ("hvx 5")
    no_value: list[str] = field(default_factory=list)  # by label: labels without an answer


def _is_value(token: str, kind: str) -> bool:
    if kind == "yes_no" and parse_yes_no(token) is not None:
        return True
    return parse_number(token, allow_decimal=True).value is not None


def read_whole_form(text: str, slots: list[Slot], labels: dict[str, str]) -> WholeForm | None:
    """Every answer of a form in one message, in order ("3 0 1 2", or one a line) or by short
    labels ("hvm 3 hvr 0"); None when the message is not that: no label, and fewer answers in
    order than half the required questions (two at least), so "12 hộ 3" stays a muddled
    answer rather than a report. Unit words after a number are allowed ("12 hộ"): words that
    are not answers are skipped."""
    lines = [line.strip() for line in unicodedata.normalize("NFC", text).splitlines()]
    lines = [line for line in lines if line]
    if not lines or len(text) > 4000:
        return None
    kinds = {s.code: s.kind for s in slots}
    words = [[t for t in _SEPARATORS.split(line) if t] for line in lines]
    if any(fold(t) in labels for line in words for t in line):
        found = _by_label(lines, words, labels, kinds)
        return found if found.answers or found.unplaced else None
    counts = [sum(_is_value(t, "yes_no") for t in line) for line in words]
    if len(lines) > 1 and all(
        c <= 1 or parse_number(raw).value is not None for raw, c in zip(lines, counts, strict=True)
    ):
        # One answer a line: "1 500" or "12 hộ" is one answer; a line without any is a title.
        values = [raw for raw, c in zip(lines, counts, strict=True) if c]
    else:
        values = []
        for token in (t for line in words for t in line):
            kind = slots[len(values)].kind if len(values) < len(slots) else "number"
            if _is_value(token, kind):
                values.append(token)
    required = sum(not slot.optional for slot in slots)
    if len(values) < max(2, -(-required // 2)):
        return None
    answers = {slot.code: raw for slot, raw in zip(slots, values, strict=False)}
    return WholeForm(answers, False, count=len(values), extra=values[len(slots) :])


def _by_label(
    lines: list[str], words: list[list[str]], labels: dict[str, str], kinds: dict[str, str]
) -> WholeForm:
    answers: dict[str, str] = {}
    unplaced: list[str] = []
    no_value: list[str] = []
    for raw_line, tokens in zip(lines, words, strict=True):
        pending: str | None = None
        said: list[str] = []  # words after a label, before its answer
        previous = ""
        for token in tokens:
            folded = fold(token)
            if folded in labels:
                if pending and said:
                    answers[pending] = " ".join(said)
                elif pending:
                    no_value.append(pending)
                pending, said = labels[folded], []
                if kinds.get(pending) == "text":
                    # A text answer is the rest of its line, as she wrote it.
                    rest = raw_line.split(token, 1)[1].lstrip(" :=")
                    if rest:
                        answers[pending] = rest
                    else:
                        no_value.append(pending)
                    pending = None
                    break
            elif pending and _is_value(token, kinds.get(pending, "number")):
                answers[pending] = token
                pending, said = None, []
            elif pending:
                said.append(token)
            elif _is_value(token, "number"):
                word = previous if previous and not _is_value(previous, "number") else ""
                unplaced.append(f"{word} {token}".strip())
            previous = token
        if pending and said:
            answers[pending] = " ".join(said)
        elif pending:
            no_value.append(pending)
    return WholeForm(answers, True, unplaced=unplaced, no_value=no_value)


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
