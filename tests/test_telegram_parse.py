"""The webhook reads updates straight from the JSON: it must see what aiogram's Update sees."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import Update

from bot.channels.telegram import inbound_from_json, to_inbound

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


@pytest.mark.parametrize("data", UPDATES, ids=lambda d: str(d["update_id"]))
def test_same_inbound_as_aiogram(data: dict[str, Any]) -> None:
    assert inbound_from_json(data) == to_inbound(Update.model_validate(data))


@pytest.mark.parametrize(
    "data", [[], "x", {"message": message(text="3")}, {"update_id": 1, "message": {"text": "3"}}]
)
def test_not_an_update(data: Any) -> None:
    with pytest.raises(ValueError):
        inbound_from_json(data)
