"""Slash commands (and their plain-word forms): what each one does, in one table."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from handlers import (
    office_chat,
    officer_actions,
    onboarding,
    privacy,
    reminder_replies,
    report_flow,
    staff,
    staff_chat,
    web_chat,
    written_report,
)
from handlers.examples import examples as examples_of
from handlers.hints import hint_for
from handlers.staff import staff_only
from handlers.turn import Turn
from storage.db.models import Role
from storage.plan import texts_vi as vi
from storage.plan.text import fold


async def _start(turn: Turn, args: str) -> None:
    if args:
        await onboarding.link(turn, args)
        return
    assert turn.person and turn.unit
    turn.say(
        vi.GREETING.format(name=turn.person.full_name, unit=turn.unit.name)
        + "\n"
        + hint_for(turn.person.role)
    )


async def _report(turn: Turn, args: str) -> None:
    await report_flow.start(turn, args)


async def _cancel(turn: Turn, _args: str) -> None:
    await report_flow.cancel(turn)


async def _help(turn: Turn, _args: str) -> None:
    assert turn.person
    if turn.person.role == Role.BRANCH_LEADER:
        names = [
            "baocao",
            "tong",
            "tiendo",
            "xephang",
            "web",
            "huy",
            "lienket",
            "dulieu",
            "trogiup",
        ]
        examples = vi.HELP_EXAMPLES_LEADER
    else:
        names = [
            "baocao",
            "tong",
            "tiendo",
            "chuanop",
            "xuat",
            "baocaovanban",
            "bieudo",
            "mobaocao",
            "duyet",
            "xeploai",
            *vi.HELP_LINES_OFFICE,
            "xephang",
            "web",
            "huy",
            "lienket",
            "dulieu",
            "trogiup",
        ]
        examples = vi.HELP_EXAMPLES_STAFF + vi.HELP_EXAMPLES_OFFICE
    # Examples from the province's own indicators and units, not another province's.
    assert turn.unit is not None
    found = await examples_of(turn.session, turn.ctx.catalog, turn.unit, turn.today)
    fields = found.fields()
    if not found.rated:  # her level rates no one: no rating commands, no empty example
        names = [n for n in names if n not in ("xeploai", "chuaxeploai")]
    help_lines = (
        vi.HELP_LINES | vi.HELP_LINES_OFFICE | vi.HELP_LINES_DOCUMENT | vi.HELP_LINES_PRIVACY
    )
    lines = [vi.HELP_TITLE] + [help_lines[n].format(**fields) for n in names]
    lines += ["", vi.HELP_EXAMPLES_TITLE, *(e.format(**fields) for e in examples)]
    turn.say("\n".join(lines + await report_flow.one_message_help(turn)))


async def _link_code(turn: Turn, _args: str) -> None:
    """A fresh code so she can use the bot on her other channel too, as the same person."""
    from storage.db.invitations import create_invitation, pretty

    assert turn.person is not None
    invitation = await create_invitation(turn.session, turn.person, turn.now, days=1)
    turn.say(vi.LINK_CODE.format(code=pretty(invitation.code), hours=24))


COMMANDS: dict[str, Callable[[Turn, str], Awaitable[None]]] = {
    "start": _start,
    "baocao": _report,
    "huy": _cancel,
    "trogiup": _help,
    "help": _help,
    "tong": staff_chat.tong,
    "tiendo": staff_chat.tiendo,
    "chuanop": staff_chat.chuanop,
    # What offices call the late units ("/tre", "trễ hạn"): the same view as /chuanop.
    "tre": staff_chat.chuanop,
    "trehan": staff_chat.chuanop,
    "xuat": staff_chat.xuat,
    "baocaovanban": written_report.baocaovanban,
    "bieudo": staff_chat.bieudo,
    "mobaocao": officer_actions.mobaocao,
    "duyet": officer_actions.duyet,
    "xeploai": officer_actions.xeploai,
    "chuaketnoi": office_chat.chuaketnoi,
    "mamoi": office_chat.mamoi,
    "thaythe": office_chat.thaythe,
    "ngung": office_chat.ngung,
    "choduyet": office_chat.choduyet,
    "chuaxeploai": office_chat.chuaxeploai,
    "web": web_chat.web,
    "xephang": web_chat.xephang,
    "lienket": _link_code,
    "later": reminder_replies.later,
    # A digest's "Nhắc ngay" button: an officer's, whoever presses it (or forges it).
    "nudge": staff_only(reminder_replies.nudge),
    "dulieu": privacy.my_data,
    "privacy_ok": privacy.accept_command,
}

# The Telegram command menu, in the order shown.
MENU = [
    ("baocao", "Báo cáo số liệu kỳ này"),
    ("tong", "Tổng số một chỉ số"),
    ("tiendo", "Tiến độ các chỉ tiêu"),
    ("chuanop", "Đơn vị chưa nộp báo cáo"),
    ("xuat", "Xuất bảng Excel"),
    ("baocaovanban", "Báo cáo văn bản (Word)"),
    ("bieudo", "Biểu đồ một chỉ số"),
    ("xephang", "Xếp hạng thi đua"),
    ("web", "Trang theo dõi chỉ tiêu"),
    ("huy", "Dừng lại giữa chừng"),
    ("lienket", "Dùng bot trên cả Zalo"),
    ("dulieu", "Dữ liệu của tôi"),
    ("trogiup", "Hướng dẫn"),
]


async def run(turn: Turn, name: str, args: str) -> None:
    handler = COMMANDS.get(name)
    if handler is None:
        turn.say(vi.NOT_UNDERSTOOD)
        return
    await handler(turn, args)


# Staff questions typed without the slash: the folded words that start them.
PLAIN_STAFF = [
    ("tien do", "tiendo"),
    ("tiendo", "tiendo"),
    ("chua nop", "chuanop"),
    ("chuanop", "chuanop"),
    ("ai chua nop", "chuanop"),
    ("don vi chua nop", "chuanop"),
    ("don vi tre han", "chuanop"),
    ("don vi nop tre", "chuanop"),
    ("tre han", "chuanop"),
    ("trehan", "chuanop"),
    # (before "xuất": "xuất báo cáo văn bản" is the Word report, not the workbook)
    ("bao cao van ban", "baocaovanban"),
    ("baocaovanban", "baocaovanban"),
    ("xuat bao cao van ban", "baocaovanban"),
    ("xuat bao cao word", "baocaovanban"),
    ("xuat word", "baocaovanban"),
    ("bao cao word", "baocaovanban"),
    ("xuat excel", "xuat"),
    ("xuat", "xuat"),
    ("bieu do", "bieudo"),
    ("bieudo", "bieudo"),
    ("mo bao cao", "mobaocao"),
    ("mobaocao", "mobaocao"),
    ("duyet bao cao", "duyet"),
    ("xep loai", "xeploai"),
    ("xeploai", "xeploai"),
    ("duyet", "duyet"),
    ("xep hang", "xephang"),
    ("xephang", "xephang"),
    ("tong", "tong"),
    ("chua ket noi", "chuaketnoi"),
    ("ai chua ket noi", "chuaketnoi"),
    ("chuaketnoi", "chuaketnoi"),
    ("ma moi", "mamoi"),
    ("cap ma moi", "mamoi"),
    ("mamoi", "mamoi"),
    ("thay the", "thaythe"),
    ("thaythe", "thaythe"),
    ("ngung tai khoan", "ngung"),
    ("ngung dung", "ngung"),
    ("cho nghi", "ngung"),
    ("cho duyet", "choduyet"),
    ("bao cao cho duyet", "choduyet"),
    ("choduyet", "choduyet"),
    ("chua xep loai", "chuaxeploai"),
    ("chuaxeploai", "chuaxeploai"),
]
# "thay chi hội thôn 3 bằng …", "thay bằng …": a handover named by its unit or its newcomer
# (a plain "thay" starts too many other sentences: "thay mặt chi hội …"), or by its code
# ("thay KH-CL-02-01 bằng …": the way to tell apart two branches of one name in one commune).
_HANDOVER = re.compile(
    r"^thay (?=(?:chi hoi|xa|phuong|thi tran|co so|huyen|thon|bang|nguoi|ma"
    r"|(?=[a-z0-9-]*\d)(?=[a-z0-9-]*[a-z])[a-z0-9-]+),? )"
)


def plain_staff_command(text: str) -> tuple[str, str] | None:
    """("tong", "thoat ngheo quy 3") for "Tổng thoát nghèo quý 3", or None."""
    folded = fold(text)
    if _HANDOVER.match(folded):
        return "thaythe", text.split(None, 1)[1]
    for words, name in PLAIN_STAFF:
        if folded == words or folded.startswith(words + " "):
            # The rest as typed, as /tong gets it: a unit code ("KH-KS") keeps its case.
            rest = text.split(None, len(words.split()))
            return name, rest[-1].strip() if len(rest) > len(words.split()) else ""
    return None


async def on_action(turn: Turn, action: str) -> None:
    """A pressed button (or a chosen number) outside the reporting flow."""
    if turn.conversation and turn.conversation.flow == staff.FLOW:
        await staff_chat.on_action(turn, action)
    elif turn.conversation and turn.conversation.flow == office_chat.FLOW:
        await office_chat.on_action(turn, action)
    else:
        turn.say(vi.BUTTON_EXPIRED)
