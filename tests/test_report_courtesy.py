"""Courtesy at every state of a report ("cảm ơn em", "ok", "dạ", "vâng ạ", an emoji, "chị bận,
lát chị gửi"): a polite word, where the report stands and what is still waited for; nothing
changes, and she stays where she was (the thanks were answered "Em chưa hiểu ý chị" before)."""

from storage.db.models import Conversation
from storage.plan import texts_vi as vi
from tests.test_sent_report_edits import SENT, send_report, state, world  # noqa: F401

CHATTER = {
    "Cảm ơn em": "Dạ, không có gì ạ.",
    "dạ em cám ơn chị 🙏": "Dạ, không có gì ạ.",
    "ok": "Dạ.",
    "dạ": "Dạ.",
    "vâng ạ": "Dạ.",
    "😊": "Dạ.",
    "👍": "Dạ.",
    "chị bận, lát chị gửi": "Dạ, chị cứ làm việc ạ",
}


async def where(ctx, person_id: int) -> tuple:
    async with ctx.sessions() as session:
        found = await session.get(Conversation, person_id)
        data = found.data or {}
        return found.flow, found.step, data.get("i"), data.get("text"), data.get("pending")


async def chatter_changes_nothing(ctx, people, lan, waits_for: str, *, skip=()) -> None:
    before = await state(ctx, people.tree.b1.id)
    at = await where(ctx, people.leader.id)
    for typed, polite in CHATTER.items():
        if typed in skip:
            continue
        await lan.send(typed)
        assert lan.text.startswith(polite), (typed, lan.text)
        assert waits_for in lan.text, (typed, lan.text)
        assert "chưa hiểu" not in lan.text.lower(), (typed, lan.text)
        assert await where(ctx, people.leader.id) == at, typed
        assert await state(ctx, people.tree.b1.id) == before, typed


async def test_courtesy_at_a_question(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send("3")
    await chatter_changes_nothing(ctx, people, lan, "còn chờ câu 2")
    assert "Câu 2/10" in lan.text  # the question asked again
    await lan.send("0")  # and answered as usual after
    assert "Câu 3/10" in lan.text


async def test_courtesy_at_the_summary(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await lan.send(f"/baocao {SENT}")
    assert "Tóm tắt" in lan.text
    await chatter_changes_nothing(ctx, people, lan, "Báo cáo chưa gửi; em không đổi gì")
    assert "«Gửi»" in lan.text and "Gửi" in lan.buttons  # what sends it, still offered
    await lan.click("Gửi")
    assert "Cảm ơn chị" in lan.text


async def test_courtesy_after_sending_and_at_a_sent_report(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await send_report(lan)
    await lan.send("Cảm ơn em")  # no report open: as before
    assert lan.text == vi.YOU_ARE_WELCOME
    for typed in ("ok", "👍", "vâng ạ", "chị bận, lát chị làm"):
        await lan.send(typed)
        assert lan.text.startswith("Dạ") and "/baocao" in lan.text, typed
        assert "chưa hiểu" not in lan.text, typed
    await lan.send("/baocao")  # the sent report's summary
    await chatter_changes_nothing(ctx, people, lan, "Báo cáo vẫn như đã gửi, em không đổi gì")
    await lan.send("sửa")
    await chatter_changes_nothing(ctx, people, lan, "em chờ các số chị muốn sửa")


async def test_courtesy_while_a_form_is_asked_about_keeps_it(ctx, world) -> None:  # noqa: F811
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send("3")
    await lan.send("1. hvm 5\n2. hvr 0")  # asked first: it would overwrite question 1
    assert "Chị muốn ghi các số này" in lan.text
    # "ok", "dạ", "vâng ạ" are a reflexive yes there: asked to say it plainly (as before).
    reflexive = ("ok", "dạ", "vâng ạ")
    await chatter_changes_nothing(ctx, people, lan, "Chị bấm «Có»", skip=reflexive)
    await lan.send("Có")  # the numbers asked about were kept for her yes
    assert (await state(ctx, people.tree.b1.id))[0] == {"hv_moi": 5, "hv_ra": 0}


async def test_a_thank_you_at_a_confirmation_is_answered_and_it_still_waits(
    ctx,
    world,  # noqa: F811
) -> None:
    people, lan, _ = world
    await lan.send("/baocao")
    await lan.send("2026")  # doubtful: "Chị xác nhận …?"
    at = await where(ctx, people.leader.id)
    await lan.send("cảm ơn em")
    assert lan.text.startswith("Dạ, không có gì ạ.") and "«Đúng»" in lan.text
    assert await where(ctx, people.leader.id) == at
    await send_report_after(lan)
    await lan.send("/baocao")
    await lan.send("sửa 3 thành 5")
    before = await state(ctx, people.tree.b1.id)
    await lan.send("Em cảm ơn chị")
    assert lan.text.startswith("Dạ, không có gì ạ.") and "«Lưu thay đổi»" in lan.text
    assert await state(ctx, people.tree.b1.id) == before


async def send_report_after(lan) -> None:
    await lan.send(SENT)  # the whole form instead of the figure asked about
    if "Chị muốn ghi" in lan.text:
        await lan.send("Có")
    await lan.click("Gửi")
    assert "Cảm ơn chị" in lan.text
