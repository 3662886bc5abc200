"""The terminal chat: lines pasted together are one message (a report one answer a line, as
written on a phone); a line typed alone is its own message; piped input is a message a line."""

from __future__ import annotations

import io
import os
import pty
import sys

import pytest

from bot.channels.terminal import read_message


@pytest.fixture
def keyboard(monkeypatch):
    master, slave = pty.openpty()
    stdin = os.fdopen(slave, "r", buffering=1, encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # the prompt
    yield master
    stdin.close()
    os.close(master)


def test_pasted_lines_make_one_message(keyboard) -> None:
    os.write(keyboard, "3\n1\n2 hộ\n".encode())
    assert read_message() == "3\n1\n2 hộ"


def test_a_typed_line_is_its_own_message(keyboard) -> None:
    os.write(keyboard, b"/baocao\n")
    assert read_message() == "/baocao"
    os.write(keyboard, b"5\n")
    assert read_message() == "5"


def test_piped_input_is_a_message_a_line(monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("/baocao\n3\n"))
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert read_message() == "/baocao"
    assert read_message() == "3"
