"""Vietnamese alphabetical order, for every list of names a person reads.

PyICU would do this, but it has no wheels on PyPI (it needs the ICU headers to build), so the
order is written here: the Vietnamese alphabet (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s
t u ư v x y, with f j w z in their Latin places) first; tones only break ties, in dictionary
order (ngang, huyền, hỏi, ngã, sắc, nặng); then case. Numbers inside names compare by value,
so "Thôn 2" comes before "Thôn 10".
"""

from __future__ import annotations

import re
import unicodedata

ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {letter: i for i, letter in enumerate(ALPHABET)}
# Marks that make a letter of its own (ă â ê ô ơ ư), as NFD writes them.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
# Tone marks in dictionary order; no mark (ngang) is 0.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_TOKENS = re.compile(r"\d+|\D", re.UNICODE)

Key = tuple[tuple[tuple[int, int], ...], tuple[int, ...], tuple[int, ...], str]


def vi_sort_key(text: str) -> Key:
    """A key that sorts names as a Vietnamese reader expects."""
    primary: list[tuple[int, int]] = []
    tones: list[int] = []
    cases: list[int] = []
    for token in _TOKENS.findall(unicodedata.normalize("NFC", text.strip())):
        if token.isdigit():
            primary.append((1, int(token)))
            continue
        decomposed = unicodedata.normalize("NFD", token)
        base = decomposed[0]
        marks = decomposed[1:]
        letter = unicodedata.normalize(
            "NFC", base.lower() + "".join(m for m in marks if m in _LETTER_MARKS)
        )
        if letter in _RANK:
            primary.append((2, _RANK[letter]))
            tones.append(next((_TONES[m] for m in marks if m in _TONES), 0))
            cases.append(0 if base.islower() else 1)
        elif token.isspace() or not token.isalnum():
            primary.append((0, 0))  # spaces and punctuation before any letter
        else:
            primary.append((3, ord(token.lower())))
    return tuple(primary), tuple(tones), tuple(cases), text


_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case, no diacritics, đ→d, single spaces: the form used to match words."""
    text = unicodedata.normalize("NFKC", text).lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare).strip()


def _letters_by_fold() -> dict[str, str]:
    """For each folded letter, the letters of Latin and Vietnamese that fold to it, in either
    case ("e": e E é Ễ ệ …)."""
    found: dict[str, str] = {}
    for code in (*range(0x41, 0x250), *range(0x1E00, 0x1F00)):
        folded = fold(chr(code))
        if len(folded) == 1 and folded.isalpha():
            found[folded] = found.get(folded, "") + chr(code)
    return found


_SPELLINGS = _letters_by_fold()  # every letter as it may be typed
# Diacritics typed as separate marks (text in NFD, as some Vietnamese keyboards send it).
_MARKS = "[\u0300-\u036f]*"


def spelled_any_way(name: str) -> str:
    """A regular expression for a name however it was typed: in any case, with or without
    its diacritics, composed or not, words apart by any spaces ("Nguyễn Thị Lan",
    "nguyen thi lan", "NGUYỄN THỊ LAN")."""
    parts = []
    for char in fold(name):
        if char == " ":
            parts.append(r"\s+")
        elif char in _SPELLINGS:
            parts.append(f"[{re.escape(_SPELLINGS[char])}]{_MARKS}")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def tidy(text: str) -> str:
    """NFC with single spaces, for storing short text answers."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def person_sort_key(full_name: str) -> tuple[Key, Key]:
    """People in the order of a Vietnamese list: by given name (the last word), then by the
    whole name ("Trần Thị An" before "Lê Thị Bình")."""
    words = full_name.split()
    return vi_sort_key(words[-1] if words else ""), vi_sort_key(full_name)
