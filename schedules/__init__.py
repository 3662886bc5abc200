"""Reporting calendar: periods, when they open and close, reminders."""
