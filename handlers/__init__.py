"""Conversations and commands, written once for every channel."""
