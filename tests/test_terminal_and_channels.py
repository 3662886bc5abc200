"""The terminal chat through the real command line, and the text-only rendering rules."""

from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from schedules.messages import Choice, Inbound, Outbound, render_text_only, split_text
from tests.test_cli import cli_env  # noqa: F401 - the fixture


def test_terminal_chat_completes_a_report(cli_env) -> None:  # noqa: F811
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--small"]).exit_code == 0
    answers = [
        "/baocao",
        "3",
        "1",
        "2 hộ",
        "không",
        "0",  # of those (none trained), none certified: more would be refused
        "5",
        "1",
        "2",
        "180",  # near last month's 179: far from it would ask to confirm
        "Bỏ qua",
        "gửi",
        "/thoat",
    ]
    result = runner.invoke(app, ["chat"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Trò chuyện với bot" in out and "chi hội trưởng" in out
    assert "Câu 1/10" in out and "Hoặc gõ: «0»" in out
    assert "Tóm tắt" in out and "4. Lao động nữ được tư vấn nghề, dạy nghề: 0 người" in out
    assert "Cảm ơn chị, báo cáo đúng hạn" in out

    invites = runner.invoke(app, ["invite", "--unit", "KH-KS", "--out", "inv.csv"])
    assert invites.exit_code == 0 and "invitations written" in invites.output
    lines = Path("inv.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("Họ tên,Vai trò") and "t.me/" in lines[1]
    nobody = runner.invoke(app, ["chat", "--as", "Không Có Ai"])
    assert nobody.exit_code == 1


def test_text_only_rendering() -> None:
    numbered = render_text_only(
        Outbound("Chọn kỳ:", [Choice("Tháng 11", "1:f:0"), Choice("Quý IV", "1:f:1")])
    )
    assert numbered.endswith("1. Tháng 11\n2. Quý IV\nTrả lời 1 hoặc 2.")
    words = render_text_only(
        Outbound("Câu 1/3", [Choice("0", "1:v:0"), Choice("Quay lại", "1:back")], free_text=True)
    )
    assert words == "Câu 1/3\nHoặc gõ: «0», «Quay lại»."
    quoted = render_text_only(
        Outbound(
            "Chị trả lời «Gửi».",
            [Choice("Gửi", "2:send")],
            free_text=True,
            button_only=[Choice("Sửa mục 1", "x")],
        )
    )
    assert quoted == "Chị trả lời «Gửi»."


def test_split_text_at_line_breaks() -> None:
    text = "\n".join(["a" * 1500] * 3)
    assert split_text(text, 2000) == ["a" * 1500] * 3
    long_line = "từ " * 1000
    pieces = split_text(long_line, 2000)
    assert all(len(p) <= 2000 for p in pieces) and "".join(pieces).replace(" ", "") == (
        long_line.replace(" ", "")
    )
    assert split_text("", 10) == [""]


def test_commands_with_bot_suffix() -> None:
    assert Inbound("t", "1", "1", text="/baocao@HoiBot").command == ("baocao", "")
    assert Inbound("t", "1", "1", text="/tong thoát nghèo quý 3").command == (
        "tong",
        "thoát nghèo quý 3",
    )
    assert Inbound("t", "1", "1", text="báo cáo").command is None
