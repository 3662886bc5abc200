"""What to type next, by role: the line after a greeting, a thank-you for the notice, or a
message the bot did not understand."""

from __future__ import annotations

import re
import unicodedata

from storage.db.models import Role
from storage.plan import texts_vi as vi
from storage.plan.text import fold

# Roles that fill a report themselves (a commune officer reports her commune's own form).
REPORTING_ROLES = (Role.BRANCH_LEADER, Role.COMMUNE_OFFICER)


def hint_for(role: str) -> str:
    if role in REPORTING_ROLES:
        return (
            vi.HINT_REPORT
            if role == Role.BRANCH_LEADER
            else (vi.HINT_REPORT + "\n" + vi.HINT_STAFF)
        )
    return vi.HINT_STAFF


# ---- chatter: a message that is neither an answer nor a command ----------------------------

# A thank-you ("Cảm ơn em nhiều ạ", "dạ em cám ơn chị", "thanks"), short and nothing else.
_THANKS = re.compile(
    r"^(?:(?:da|vang|ok|oke|em|chi|minh)\s+)*(?:cam on|thank(?:s| you)?|tks|thanks)"
    r"(?:\s+(?:em|chi|bot|ban|nhieu|nhe|nha|a|lam|rat|nhiu))*$"
)
# "ok", "dạ", "vâng ạ", "ừ", "được rồi em": she heard, and says nothing more.
_ACK = frozenset({
    "da", "vang", "ok", "oke", "okay", "okie", "uh", "u", "um", "uhm", "duoc", "roi", "a", "ah",
    "nhe", "nha", "em", "chi", "hi", "hihi", "biet", "hieu", "nhan",
})  # fmt: skip
_ACK_MAX_WORDS = 5
# "chị bận, lát chị gửi", "để tối chị làm", "mai em báo cáo nhé": she will answer later (busy,
# or a later time and what she will do then; "mai chị họp" is news, not a promise).
_BUSY = re.compile(r"\b(?:ban|chua ranh|dang ban)\b")
_LATER = re.compile(r"\b(?:lat|ti nua|chut nua|de sau|toi|mai|hom khac|luc khac)\b")
_DO = re.compile(r"\b(?:gui|lam|bao cao|bao|tra loi|nop|nhan|dien)\b")
_LATER_MAX_WORDS = 12  # longer is a letter, not a word in passing; shorter than 2, a name
THANKS, ACK, LATER = "thanks", "ack", "later"


def chatter(text: str) -> str | None:
    """What a short message with no figure in it says, when it is only courtesy: THANKS,
    ACK (a nod: "ok", "dạ", an emoji alone) or LATER ("chị bận, lát chị gửi"); else None.
    Such a message answers nothing and changes nothing: the bot answers it politely."""
    if any(ch.isdigit() for ch in text):
        return None
    # Emoji, punctuation and their joiners are dropped: "👍", "Cảm ơn em 🙏!" keep their words.
    kept = "".join(
        " " if unicodedata.category(ch)[0] in "SPC" or ch in "\u200d\ufe0f" else ch for ch in text
    )
    words = fold(kept)
    if not words:  # an emoji alone is a nod; a "?" or "!" alone is not
        return ACK if any(unicodedata.category(ch)[0] == "S" for ch in text) else None
    if _THANKS.match(words):
        return THANKS
    if len(words.split()) <= _ACK_MAX_WORDS and set(words.split()) <= _ACK:
        return ACK
    short = 2 <= len(words.split()) <= _LATER_MAX_WORDS
    if short and (_BUSY.search(words) or (_LATER.search(words) and _DO.search(words))):
        return LATER
    return None
