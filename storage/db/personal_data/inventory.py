"""What personal data the bot holds, what for and how long: `INVENTORY` (every column that
holds it) and `NO_PERSONAL_DATA` (the tables that hold none by design). A test checks that
every text column is in one or the other."""

from __future__ import annotations

DECREE = "Nghị định 13/2023/NĐ-CP"

# ---- the inventory -----------------------------------------------------------------------

# Every column that holds personal data: (table, columns) → (what for, how long). A test
# checks that every text column of every table is either here or in NO_PERSONAL_DATA, so a
# new column cannot hold personal data unnoticed.
INVENTORY: dict[tuple[str, str], tuple[str, str]] = {
    ("people", "full_name, phone, role, unit_id, preferred_channel, last_channel"): (
        "who reports for which unit, and how to reach her",
        "while she holds the role; erased on request (the row stays as 'Người đã xóa')",
    ),
    ("channel_identities", "external_id, chat_id, linked_at, last_seen_at"): (
        "her Telegram or Zalo account, to answer and remind her",
        "until she is deactivated or erased",
    ),
    ("invitations", "code, person_id, used_at"): (
        "the single-use code she joins with",
        "pruned once expired longer than the retention",
    ),
    ("code_attempts", "chat_id"): (
        "wrong codes typed, to slow down guessing",
        "pruned after the retention (only the last 15 minutes count)",
    ),
    ("conversations", "data"): (
        "where she is in a report (her draft answers, the last question)",
        "while she is active; deleted on erasure",
    ),
    ("pending_updates", "payload"): (
        "a message received but not handled yet (her name, ids, text)",
        "deleted as soon as it is handled",
    ),
    ("processed_updates", "key"): (
        "platform message ids already handled, so a redelivery changes nothing",
        "pruned after the retention",
    ),
    ("outbox", "chat_id, payload, error"): (
        "messages owed or sent to her (text, buttons, files)",
        "files dropped a day after delivery; texts of delivered or given-up messages blanked "
        "after the retention",
    ),
    ("person_changes", "before, after, note, by_operator"): (
        "the audit of changes to people (created, edited, replaced, erased)",
        "kept; her name and phone in it are replaced on erasure",
    ),
    ("audit_entries", "changed_by_id, note, old_value, new_value"): (
        "the audit trail of reports (who changed which figure)",
        "kept with the reports; her name is replaced on erasure",
    ),
    ("submissions", "submitted_by_id, approved_by_id"): (
        "who sent and who approved a report",
        "kept with the reports (pointing to 'Người đã xóa' after erasure)",
    ),
    ("submission_values", "value_text"): (
        "the unit's text answers (they may name people)",
        "kept with the reports; her name is replaced on erasure",
    ),
    ("reminder_snoozes", "person_id"): ("'nhắc lại sau': a reminder put off", "until it is due"),
    ("notice_acceptances", "person_id, shown_at, accepted_at"): (
        "proof she was told what is held and accepted it",
        "kept (no name in it)",
    ),
    ("data_access_log", "by_person_id, by_operator, subject_id, detail"): (
        "who looked at or handled whose personal data",
        "kept (no name in it)",
    ),
}
# Tables with text columns that hold no personal data by design (codes, names of units,
# figures, worker ids).
NO_PERSONAL_DATA = (
    "org_units",
    "unit_ancestors",
    "unit_parent_history",
    "unit_period_totals",
    "unit_stock_totals",
    "kept_rankings",
    "kept_ranking_days",
    "workers",
)
