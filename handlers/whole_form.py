"""The whole report in one message, told apart from a message that only has numbers in it.

A practised leader sends every answer at once: in order ("3 0 1 2 1 2 0 1 97"), one answer a
line (with the item's name or number before it, if she likes), or by the form's short labels
("hvm 3 hvr 0 …"). A message is read into a WholeForm: the raw answers it gives (checked
later like single answers), and what makes it less than plainly a report: numbers that are
never answers (phone numbers, money, dates, times: handlers/mentions.py), words that belong
neither to the form nor to a heading, a label given different values. `plain` says whether
it may be applied without asking, where a report is expected; otherwise she is asked first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from handlers import mentions
from handlers.parsing import (
    COUNT_WORDS,
    COURTESY,
    UNIT_NAMED,
    ZERO_WORDS,
    parse_number,
    parse_yes_no,
)
from storage.plan.text import fold

MAX_FORM_CHARS = 1000  # a form with a note is far shorter: a longer text is a letter
OTHER_WORDS = 2  # words a plain report may carry that are neither the form's nor a heading's
# The words of a heading or a greeting around a report ("Em gửi chị báo cáo tháng 11 ạ:").
HEADING = frozenset({
    "bao", "cao", "bc", "so", "lieu", "gui", "em", "chi", "a", "da", "vang", "nhe", "nha", "oi",
    "thang", "nay", "ky", "quy", "nam", "cua", "hoi", "xin", "kinh", "cac", "la", "nhu", "sau",
    "day", "ve", "thon", "xa", "phuong", "ap", "khu", "to", "nop", "sl", "sua", "lai",
})  # fmt: skip
# Words any count may be followed by in a report ("3 người 0 1 hộ"); the question's own unit
# and label add theirs. (A single answer allows more: parsing.COUNT_WORDS.)
UNIT_WORDS = frozenset({"nguoi", "ng", "ho", "chi", "em", "hv", "pn", "ld", "cai", "chiec", "suat"})
_ZERO_PAIRS = {("khong", "co"), ("chua", "co"), ("khong", "ai"), ("chua", "ai")}
_INDEX = re.compile(r"(\d{1,2})[.)]")  # "1." or "2)" before an answer on its line
_INDEX_WORDS = ("cau", "muc")  # "Câu 1: 3", "Mục 2: 0"
_LEADING = "\"'“”‘’«»([{<•*·"
_TRAILING = "\"'“”‘’«»)]}>,.;:!?…-–—"


@dataclass(frozen=True)
class Slot:
    """One question as the whole-form reader sees it."""

    code: str
    kind: str  # "number" | "yes_no" | "text"
    optional: bool = False
    words: frozenset[str] = frozenset()  # its unit's and label's words, folded
    label: str = ""  # its label as written ("Hộ hội viên đạt tiêu chí "5 không, 3 sạch"")


@dataclass
class WholeForm:
    """What a whole-form message said: raw answers (checked later as single answers are)."""

    answers: dict[str, str]
    by_label: bool
    count: int = 0  # answers given in order (not by label)
    extra: list[str] = field(default_factory=list)  # in order: beyond the last question
    unplaced: list[str] = field(default_factory=list)  # by label: no known label ("hvx 5")
    no_value: list[str] = field(default_factory=list)  # by label: labels without an answer
    repeated: dict[str, list[str]] = field(default_factory=dict)  # a label given several values
    # Numbers that are never answers, (kind, as written): ("phone", "0905 123 456").
    doubts: list[tuple[str, str]] = field(default_factory=list)
    other: list[str] = field(default_factory=list)  # words neither the form's nor a heading's

    question: bool = False  # it asks something ("?")
    named: bool = False  # read by the items' names written out ("hội viên mới 3, ra 0")
    listed: bool = False  # numbered lines of sentences: a list, not the form's items

    @property
    def plain(self) -> bool:
        """Plainly a report: no question, nothing in it that is never an answer, no label
        given twice with different values, and hardly a word that is not the form's: none
        beside a single labelled answer ("em gửi tn 2 lần" is a sentence, "hvm 3" a report),
        one for every three answers in order, two at most."""
        if self.by_label:
            allowed = 0 if len(self.answers) < 2 else OTHER_WORDS
        else:
            allowed = min(OTHER_WORDS, self.count // 3)
        return (
            not self.question
            and not self.doubts
            and not self.repeated
            and len(self.other) <= allowed
        )


@dataclass(frozen=True)
class _Word:
    raw: str  # as written, without the punctuation around it
    word: str  # folded
    index: bool = False  # "1." or "2)" first on its line: the item's number
    numbered: bool = False  # written "1." or "2)" anywhere: maybe a list's numbering
    ends: bool = False  # written with "," or ";" after it: a phrase ends here


def _words(line: str) -> list[_Word]:
    """A line's words: split at spaces, and at ":", "=", ";", "|" inside a word ("hvm:3"),
    except inside a time ("14:30"); punctuation around a word is dropped."""
    out: list[_Word] = []
    for written in line.split():
        if not out and _INDEX.fullmatch(written):
            out.append(_Word(written[:-1], written[:-1], index=True, numbered=True))
            continue
        chunk = _bare(written)
        parts = [chunk] if mentions.atom(fold(chunk)) else re.split(r"[:=;|]+", chunk)
        numbered = bool(_INDEX.fullmatch(written))
        out += [
            _Word(_bare(part), fold(_bare(part)), numbered=numbered)
            for part in parts
            if _bare(part)
        ]
        if out and written[-1] in ",;":
            out[-1] = _Word(out[-1].raw, out[-1].word, out[-1].index, out[-1].numbered, ends=True)
    return out


def _bare(text: str) -> str:
    return text.lstrip(_LEADING).rstrip(_TRAILING)


def _is_value(word: str, kind: str) -> bool:
    if kind == "yes_no" and parse_yes_no(word) is not None:
        return True
    return parse_number(word, allow_decimal=True).value is not None


def read_whole_form(text: str, slots: list[Slot], labels: dict[str, str]) -> WholeForm | None:
    """Every answer of a form in one message; None when the message is not that: no label,
    and fewer answers in order than half the required questions (two at least), so "12 hộ 3"
    stays a muddled answer rather than a report, or half as many again as the form has."""
    if len(text) > MAX_FORM_CHARS:
        return None
    read = [(line, _words(line)) for line in unicodedata.normalize("NFC", text).splitlines()]
    raw_lines = [line for line, words in read if words]
    lines = [words for _, words in read if words]
    if not lines:
        return None
    kind = "yes_no" if any(s.kind == "yes_no" for s in slots) else "number"
    found = [mentions.find([w.word for w in line], labels) for line in lines]
    names = _name_runs(lines, found, slots)
    _numbering(lines, found, labels)
    covered = [{i for m in ms for i in range(m.start, m.end)} for ms in found]
    named = None
    if any(w.word in labels for line in lines for w in line):
        result = _by_label(raw_lines, lines, covered, slots, labels)
        if not (result.answers or result.unplaced):
            return None
    elif named := _by_name(lines, covered, names, slots):
        result = named
    else:
        indexed = _indexed(lines, covered, found, len(slots), kind)
        if indexed:
            result = _by_index(lines, indexed, slots)
            if not result.answers or result.listed:
                return None
        else:
            result = (
                _by_lines(lines, covered, slots, kind)
                if len(lines) > 1 and _one_a_line(lines, covered, kind)
                else _in_order(lines, covered, slots)
            )
            required = sum(not slot.optional for slot in slots)
            # Half the answers at least (two at least), and not many more than the form has.
            if not max(2, -(-required // 2)) <= result.count <= len(slots) * 3 // 2:
                return None
    result.question = "?" in text
    result.doubts = [
        (m.kind, " ".join(w.raw for w in words[m.start : m.end]))
        for words, ms in zip(lines, found, strict=True)
        for m in ms
        if m.kind in mentions.DOUBTFUL
    ]
    return result


# ---- by label -----------------------------------------------------------------------------


def _by_label(
    raw_lines: list[str],
    lines: list[list[_Word]],
    covered: list[set[int]],
    slots: list[Slot],
    labels: dict[str, str],
) -> WholeForm:
    by_code = {s.code: s for s in slots}
    result = WholeForm({}, True)

    def give(code: str, value: str) -> None:
        before = result.answers.get(code)
        if before is not None and fold(before) != fold(value):
            result.repeated.setdefault(code, [before]).append(value)
        result.answers[code] = value

    for raw_line, words, skip in zip(raw_lines, lines, covered, strict=True):
        pending: str | None = None
        said: list[_Word] = []  # words after a label, before its answer
        units: frozenset[str] = frozenset()  # words that may follow the last answer
        for i, w in enumerate(words):
            if i in skip:
                units = frozenset()
                continue
            if w.index and len(words) > 1 and words[1].word in labels:
                continue  # "1. hvm 3": the line's number, then the item's label and answer
            if w.word in labels:
                _close(result, pending, said, give)
                pending, said, units = labels[w.word], [], frozenset()
                if by_code[pending].kind == "text":
                    # A text answer is the rest of its line, as she wrote it.
                    rest = _rest_of_line(raw_line, words, i)
                    if rest:
                        give(pending, rest)
                    else:
                        result.no_value.append(pending)
                    pending = None
                    break
            elif pending and _is_value(w.word, by_code[pending].kind):
                give(pending, _with_unit(words, i, w.raw))
                result.other += [s.word for s in said if s.word not in HEADING | COURTESY]
                units = UNIT_WORDS | COURTESY | by_code[pending].words
                pending, said = None, []
            elif pending:
                said.append(w)
            elif w.word in units:
                continue
            elif _is_value(w.word, "number"):
                before = words[i - 1] if i > 0 and i - 1 not in skip else None
                word = before.raw if before and not _is_value(before.word, "number") else ""
                result.unplaced.append(f"{word} {w.raw}".strip())
                result.other.append(w.word)
                units = UNIT_WORDS | COURTESY
            elif w.word not in HEADING | COURTESY:
                result.other.append(w.word)
                units = frozenset()
        _close(result, pending, said, give)
    return result


def _close(
    result: WholeForm, pending: str | None, said: list[_Word], give: Callable[[str, str], None]
) -> None:
    """A label whose answer did not come: what was said after it is its answer (refused
    later, with the reason), or nothing was."""
    if pending and said:
        give(pending, " ".join(s.raw for s in said))
    elif pending:
        result.no_value.append(pending)


def _rest_of_line(raw_line: str, words: list[_Word], i: int) -> str:
    """The line after its i-th word, as she wrote it."""
    position = 0
    for w in words[: i + 1]:
        position = raw_line.find(w.raw, position) + len(w.raw)
    return raw_line[position:].lstrip(" :=").strip()


# ---- in order -----------------------------------------------------------------------------


def _values(words: list[_Word], skip: set[int], kind: str = "number") -> list[int]:
    """Indexes of the words that are answers (a two-word "không có" counts at its first)."""
    found: list[int] = []
    for i, w in enumerate(words):
        if i in skip or (found and found[-1] == i - 1 and _zero_pair(words, i - 1)):
            continue
        if _is_value(w.word, kind):
            found.append(i)
    return found


def _zero_pair(words: list[_Word], i: int) -> bool:
    return i + 1 < len(words) and (words[i].word, words[i + 1].word) in _ZERO_PAIRS


def _one_a_line(lines: list[list[_Word]], covered: list[set[int]], kind: str) -> bool:
    """One answer a line ("1 500" or "12 hộ" is one answer); a line without any is a title.
    `kind`: "yes_no" when the form has a yes/no question ("có" is an answer), else "number"."""
    for words, skip in zip(lines, covered, strict=True):
        found = _values(words, skip, kind)
        if len(found) > 1 and not _grouped(words, found):
            return False
    return True


def _grouped(words: list[_Word], found: list[int]) -> bool:
    """Consecutive words that make one number written in groups ("1 500", "12 000")."""
    if found != list(range(found[0], found[-1] + 1)):
        return False
    return parse_number(" ".join(words[i].raw for i in found)).value is not None


def _line_value(words: list[_Word], found: list[int]) -> str:
    if _grouped(words, found):
        return _with_unit(words, found[-1], " ".join(words[i].raw for i in found))
    return _with_unit(words, found[0], words[found[0]].raw)


def _with_unit(words: list[_Word], i: int, raw: str) -> str:
    """The answer `raw` (its number ends at word i) with the unit word written right after it
    ("3 hộ"): checked later as a single answer is, a unit not the question's is refused."""
    if not words[i].word[:1].isdigit():
        return raw
    after = words[i + 1 : i + 3]
    for n in (2, 1):  # "hoạt động" before "hộ"
        if len(after) >= n and " ".join(w.word for w in after[:n]) in UNIT_NAMED:
            return " ".join([raw, *(w.raw for w in after[:n])])
    return raw


def _classify_rest(
    result: WholeForm, words: list[_Word], skip: set[int], used: list[int], allowed: frozenset[str]
) -> None:
    """Counts the words of a line that are neither answers, nor `allowed`, nor a heading's."""
    for i, w in enumerate(words):
        if i in skip or i in used or w.word in HEADING | COURTESY | allowed:
            continue
        if used and i - 1 in used and _zero_pair(words, i - 1):
            continue
        result.other.append(w.word)


def _form_words(slots: list[Slot]) -> frozenset[str]:
    return frozenset().union(*(s.words for s in slots)) | COUNT_WORDS


def _by_lines(
    lines: list[list[_Word]], covered: list[set[int]], slots: list[Slot], kind: str
) -> WholeForm:
    """One answer a line; a line may name its item ("Hội viên mới: 3")."""
    result = WholeForm({}, False)
    values: list[str] = []
    for words, skip in zip(lines, covered, strict=True):
        found = _values(words, skip, kind)
        if found:
            values.append(_line_value(words, found))
        _classify_rest(result, words, skip, found, _form_words(slots))
    return _placed(result, values, slots)


def _in_order(lines: list[list[_Word]], covered: list[set[int]], slots: list[Slot]) -> WholeForm:
    """Answers in the order of the questions; only count words may follow an answer."""
    result = WholeForm({}, False)
    values: list[str] = []
    for words, skip in zip(lines, covered, strict=True):
        units: frozenset[str] = frozenset()
        for i, w in enumerate(words):
            if i in skip:
                units = frozenset()
                continue
            if i > 0 and _zero_pair(words, i - 1) and values and values[-1] == words[i - 1].raw:
                continue
            slot = slots[len(values)] if len(values) < len(slots) else None
            after_word = i > 0 and not units and words[i - 1].word not in HEADING | COURTESY
            if w.word in ZERO_WORDS and not w.word.isdigit() and after_word:
                result.other.append(w.word)  # "phải không", "khỏe không": no answer
            elif _is_value(w.word, slot.kind if slot else "number"):
                values.append(_with_unit(words, i, w.raw))
                units = UNIT_WORDS | COURTESY | (slot.words if slot else frozenset())
            elif w.word in units:
                continue
            elif w.word not in HEADING | COURTESY:
                result.other.append(w.word)
                units = frozenset()
            else:
                units = frozenset()
    return _placed(result, values, slots)


def _placed(result: WholeForm, values: list[str], slots: list[Slot]) -> WholeForm:
    result.answers = {slot.code: raw for slot, raw in zip(slots, values, strict=False)}
    result.count = len(values)
    result.extra = values[len(slots) :]
    return result


# ---- by item number -----------------------------------------------------------------------


def _indexed(
    lines: list[list[_Word]],
    covered: list[set[int]],
    found: list[list[mentions.Mention]],
    n: int,
    kind: str,
) -> list[int] | None:
    """The item number of each line ("1. 3", "Câu 2: 0", "Mục 3 = 1", or "1 3", "2 0", …
    counting up from 1), when every line with an answer has one, all different and within
    the form; else None. A mention "câu 2" is then an item number, not a doubt: it is taken
    out of `found` and `covered`."""
    numbers: list[int] = []
    for words, skip in zip(lines, covered, strict=True):
        if words[0].word in _INDEX_WORDS and len(words) > 2 and words[1].word.isdigit():
            numbers.append(int(words[1].word))
        elif words[0].index and len(words) > 1:
            numbers.append(int(words[0].raw))
        elif len(_values(words, skip)) > 1 and words[0].word.isdigit() and 0 not in skip:
            numbers.append(-int(words[0].word))  # a bare number: an index only if they count
        elif _values(words, skip, kind):
            return None
        else:
            numbers.append(0)  # a title
    bare = [-k for k in numbers if k < 0]
    if bare and bare != list(range(1, len(bare) + 1)):
        return None
    numbers = [abs(k) for k in numbers]
    given = [k for k in numbers if k]
    if len(given) < 2 or len(set(given)) != len(given) or not all(1 <= k <= n for k in given):
        return None
    for number, words, skip, ms in zip(numbers, lines, covered, found, strict=True):
        if number and words[0].word in _INDEX_WORDS:
            ms[:] = [m for m in ms if m.start != 0]
            skip.difference_update({0, 1})
    return numbers


def _by_index(lines: list[list[_Word]], numbers: list[int], slots: list[Slot]) -> WholeForm:
    result = WholeForm({}, True)
    for number, words in zip(numbers, lines, strict=True):
        if not number:
            _classify_rest(result, words, set(), [], _form_words(slots))
            continue
        start = 2 if words[0].word in _INDEX_WORDS else 1
        body = words[start:]
        skip = {i for m in mentions.find([w.word for w in body]) for i in range(m.start, m.end)}
        slot = slots[number - 1]
        found = _values(body, skip, slot.kind)
        if slot.kind == "text":
            result.answers[slot.code] = " ".join(w.raw for w in body)
            continue
        if sum(w.word not in _form_words(slots) | HEADING | COURTESY for w in body) > OTHER_WORDS:
            result.listed = True  # "1. Tổ chức ít nhất 1 buổi tuyên truyền": a list's item
        if not found:
            result.no_value.append(slot.code)
        elif len(found) > 1 and not _grouped(body, found):
            result.answers[slot.code] = " ".join(w.raw for w in body)  # refused, with why
        else:
            result.answers[slot.code] = _line_value(body, found)
        _classify_rest(result, body, skip, found, _form_words(slots))
    return result


# ---- list numbering, and numbers that are part of an item's name --------------------------


def _numbering(
    lines: list[list[_Word]], found: list[list[mentions.Mention]], labels: dict[str, str]
) -> None:
    """ "1. Nguyễn Thị An 2. Trần Thị Bình", "…: 1. Tổ chức …; 2. Treo …": numbers written "1."
    or "2)" before a word, counting up from 1, number a list; they are no answers. Each is
    added to `found` as a mention of kind "numbering" (not a doubt)."""
    candidates: list[tuple[int, int]] = []
    for n, words in enumerate(lines):
        for i, w in enumerate(words):
            after = words[i + 1] if i + 1 < len(words) else None
            if (
                w.numbered
                and w.raw.isdigit()
                and after is not None
                and after.raw[:1].isalpha()
                and after.word not in labels
                and (i == 0 or words[i - 1].word not in labels)
            ):
                candidates.append((n, i))
    run: list[tuple[int, int]] = []
    for n, i in candidates:
        if int(lines[n][i].raw) == len(run) + 1:
            run.append((n, i))
    if len(run) < 2:
        return
    for n, i in run:
        if not any(m.start <= i < m.end for m in found[n]):
            found[n].append(mentions.Mention("numbering", i, i + 1, lines[n][i].word))
            found[n].sort(key=lambda m: m.start)


def _label_words(label: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFC", label).lower())


def _name_runs(
    lines: list[list[_Word]], found: list[list[mentions.Mention]], slots: list[Slot]
) -> list[dict[int, str]]:
    """An item whose name holds numbers ("5 không, 3 sạch"): where a message writes that part
    of the name, its numbers are the name's, not answers. Each such run is added to `found`
    (kind "label"); returned: for each line, the index of each run's words → the item."""
    runs: list[tuple[str, list[str]]] = []
    for slot in slots:
        label = [fold(w) for w in _label_words(slot.label)]
        digits = [j for j, w in enumerate(label) if any(c.isdigit() for c in w)]
        if digits:
            runs.append((slot.code, label[digits[0] : min(digits[-1] + 2, len(label))]))
    out: list[dict[int, str]] = [{} for _ in lines]
    for n, line in enumerate(lines):
        folded = [w.word for w in line]
        for code, run in runs:
            k = len(run)
            for i in range(len(folded) - k + 1):
                if folded[i : i + k] == run and not any(j in out[n] for j in range(i, i + k)):
                    found[n] = [m for m in found[n] if m.end <= i or m.start >= i + k]
                    found[n].append(mentions.Mention("label", i, i + k, " ".join(run)))
                    found[n].sort(key=lambda m: m.start)
                    out[n].update({j: code for j in range(i, i + k)})
    return out


# ---- by the items' names, written out -----------------------------------------------------

_NOT_NAME = HEADING | COURTESY | UNIT_WORDS


def _by_name(
    lines: list[list[_Word]],
    covered: list[set[int]],
    names: list[dict[int, str]],
    slots: list[Slot],
) -> WholeForm | None:
    """ "Báo cáo tháng 11: hội viên mới 3, ra 0, thoát nghèo 1 hộ, …": each number with the
    words around it (up to a comma, or the number before it), read by the item those words
    name (all of them words of its label, with diacritics when that tells two apart). Taken
    when two phrases at least name an item and no fewer than name none; else None."""
    exact = {s.code: set(_label_words(s.label)) for s in slots}
    folded = {s.code: {fold(w) for w in exact[s.code]} for s in slots}
    result = WholeForm({}, True, named=True)
    pieces: list[tuple[list[_Word], set[str], _Word]] = []  # name words, items named, number
    leftover: list[_Word] = []
    for words, skip, run in zip(lines, covered, names, strict=True):
        name: list[_Word] = []
        codes: set[str] = set()
        for i, w in enumerate(words):
            if i in run:
                codes.add(run[i])
            elif i not in skip and _is_value(w.word, "number"):
                pieces.append((name, codes, w))
                name, codes = [], set()
                if w.ends:
                    continue
            elif i not in skip:
                name.append(w)
            if w.ends and not (i in run and i + 1 in run) and (name or codes):
                # A phrase after the last number of its part: it names that number's item.
                if pieces and pieces[-1][0] == [] and not pieces[-1][1]:
                    pieces[-1] = (name, codes, pieces[-1][2])
                else:
                    leftover += name
                name, codes = [], set()
        if (name or codes) and pieces and not pieces[-1][0] and not pieces[-1][1]:
            pieces[-1] = (name, codes, pieces[-1][2])
        else:
            leftover += name
    placed = 0
    chosen = [
        next(iter(codes)) if len(codes) == 1 else _named(name, exact, folded)
        for name, codes, _ in pieces
    ]
    for k, (name, _codes, _number) in enumerate(pieces):
        if chosen[k] is None and name:  # "van nghe" without diacritics: the item not yet named
            rest = {c: w for c, w in folded.items() if c not in chosen}
            chosen[k] = _named(name, {}, rest)
    for (name, _codes, number), code in zip(pieces, chosen, strict=True):
        if code is None:
            said = [w.raw for w in name if w.word not in _NOT_NAME]
            result.unplaced.append(" ".join([*said[-2:], number.raw]))
            result.other += [w.word for w in name if w.word not in _NOT_NAME] or [number.word]
            continue
        placed += 1
        before = result.answers.get(code)
        if before is not None and fold(before) != fold(number.raw):
            result.repeated.setdefault(code, [before]).append(number.raw)
        result.answers[code] = number.raw
    if placed < 2 or placed < len(pieces) - placed:
        return None
    result.other += [w.word for w in leftover if w.word not in _NOT_NAME]
    result.count = placed
    return result


def _named(
    name: list[_Word], exact: dict[str, set[str]], folded: dict[str, set[str]]
) -> str | None:
    """The one item whose label holds every word of `name` (those that are not a heading's or
    a unit's), first as written, then without diacritics; None if none or several."""
    said = [w for w in name if w.word not in _NOT_NAME]
    if not said:
        return None
    written = [unicodedata.normalize("NFC", w.raw).lower() for w in said]
    for words, labels in ((written, exact), ([w.word for w in said], folded)):
        codes = [code for code, label in labels.items() if all(w in label for w in words)]
        if len(codes) == 1:
            return codes[0]
    return None
