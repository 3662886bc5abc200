"""What to type next, by role: the line after a greeting, a thank-you for the notice, or a
message the bot did not understand."""

from __future__ import annotations

from storage.db.models import Role
from storage.plan import texts_vi as vi

# Roles that fill a report themselves (a commune officer reports her commune's own form).
REPORTING_ROLES = (Role.BRANCH_LEADER, Role.COMMUNE_OFFICER)


def hint_for(role: str) -> str:
    if role in REPORTING_ROLES:
        return (
            vi.HINT_REPORT
            if role == Role.BRANCH_LEADER
            else (vi.HINT_REPORT + "\n" + vi.HINT_STAFF)
        )
    return vi.HINT_STAFF
