"""The bot reads updates straight from the JSON (webhook and polling): it must see what
aiogram's Update sees. `to_inbound` is that reading through aiogram's model, as the bot did
before (#25), kept here as the reference."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import Update

from bot.channels.telegram import TelegramChannel, inbound_from_json, read_updates
from schedules.messages import Inbound

USER = {"id": 5001, "is_bot": False, "first_name": "Lan"}
FULL = {"id": 5002, "is_bot": False, "first_name": "Nguyễn", "last_name": "Thị Hoa"}
PRIVATE = {"id": 5001, "type": "private"}


def message(**fields: Any) -> dict[str, Any]:
    return {"message_id": 7, "date": 1764200000, "chat": PRIVATE, "from": USER} | fields


UPDATES = [
    {"update_id": 1, "message": message(text="3")},
    {"update_id": 2, "message": message(text="/baocao", **{"from": FULL})},
    {"update_id": 3, "edited_message": message(text="4", edit_date=1764200100)},
    {"update_id": 4, "message": message(caption="ảnh hoạt động")},
    {"update_id": 5, "message": message()},  # a sticker: no text
    {"update_id": 6, "message": message(text="hi", chat={"id": -100, "type": "group"})},
    {"update_id": 7, "message": {k: v for k, v in message(text="x").items() if k != "from"}},
    {
        "update_id": 8,
        "callback_query": {
            "id": "cb-1",
            "from": FULL,
            "chat_instance": "ci",
            "data": "3:v:0",
            "message": message(text="Câu 2/10", **{"from": {**USER, "is_bot": True}}),
        },
    },
    {"update_id": 9, "callback_query": {"id": "cb-2", "from": USER, "chat_instance": "ci"}},
    {"update_id": 10, "my_chat_member": None},
]


def to_inbound(update: Update) -> Inbound | None:
    """The reference: what the engine should see of an update, read through aiogram."""
    message = update.message or update.edited_message
    if message is not None:
        user = message.from_user
        if message.chat.type != "private" or user is None:
            return None
        return Inbound(
            TelegramChannel.name,
            str(user.id),
            str(message.chat.id),
            text=message.text or message.caption or "",
            update_key=str(update.update_id),
            display_name=user.full_name,
            message_id=str(message.message_id),
            edited=update.message is None,
        )
    query = update.callback_query
    if query is not None and query.message is not None:
        return Inbound(
            TelegramChannel.name,
            str(query.from_user.id),
            str(query.message.chat.id),
            choice=query.data,
            update_key=str(update.update_id),
            display_name=query.from_user.full_name,
            callback_id=query.id,
        )
    return None


@pytest.mark.parametrize("data", UPDATES, ids=lambda d: str(d["update_id"]))
def test_same_inbound_as_aiogram(data: dict[str, Any]) -> None:
    assert inbound_from_json(data) == to_inbound(Update.model_validate(data))


@pytest.mark.parametrize(
    "data", [[], "x", {"message": message(text="3")}, {"update_id": 1, "message": {"text": "3"}}]
)
def test_not_an_update(data: Any) -> None:
    with pytest.raises(ValueError):
        inbound_from_json(data)


def test_a_polled_batch_is_confirmed_past_an_unreadable_update() -> None:
    """getUpdates' answer: the readable updates go in, the unreadable one is skipped (it
    would be fetched again forever), and the offset confirms the whole batch."""
    broken = {"update_id": 7, "message": {"text": "3"}}
    batch = [UPDATES[0], UPDATES[5], broken, UPDATES[7]]
    inbounds, offset = read_updates(batch)
    assert [i.update_key for i in inbounds] == ["1", "8"]
    assert offset == 9  # the last update's id + 1 (the fake and Telegram keep them in order)
    assert read_updates([]) == ([], None)
