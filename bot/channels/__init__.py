"""Channels: how the same conversations reach Telegram, Zalo and the terminal."""
