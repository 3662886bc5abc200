"""Signed, expiring links to the tracker pages, one per staff member and scoped to her unit.

A link is `<public base>/web/<person id>.<expiry>.<signature>/`; the signature (the same
signing as file links) covers the person, her unit and the expiry. At each request the person
is read again: a deactivated person's links stop working, and so do the links of someone
moved to another unit (the signature no longer matches).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.files import sign
from storage.db.models import OrgUnit, Person
from storage.plan.clock import Clock

PREFIX = "/web"
MAX_ID = 2**63 - 1  # the database's BIGINT: a larger number cannot be any row's id


def database_id(raw: str) -> int | None:
    """A row id typed in a URL, or None: ASCII digits only (not "²" or "-1"), and small
    enough for the database to compare (a 23-digit number overflows its integers)."""
    if not raw or len(raw) > 19 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= MAX_ID else None


@dataclass
class Access:
    person: Person
    unit: OrgUnit  # everything shown lies inside this unit


class WebLinks:
    def __init__(self, public_base: str, secret: bytes, clock: Clock, lifetime: timedelta) -> None:
        self.public_base = public_base.rstrip("/")
        self.secret = secret
        self.clock = clock
        self.lifetime = lifetime

    def _signature(self, person_id: int, unit_id: int, expires: int) -> str:
        return sign(self.secret, "web", person_id, unit_id, expires)

    def token(self, person: Person) -> str:
        expires = int((self.clock.now() + self.lifetime).timestamp())
        return f"{person.id}.{expires}.{self._signature(person.id, person.unit_id, expires)}"

    def url(self, person: Person) -> str:
        return f"{self.public_base}{PREFIX}/{self.token(person)}/"

    async def check(self, session: AsyncSession, token: str) -> Access | None:
        """Who the link is for, if it is genuine, unexpired and she is still active there."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        person_id, expires, signature = database_id(parts[0]), database_id(parts[1]), parts[2]
        if person_id is None or expires is None or expires < self.clock.now().timestamp():
            return None
        person = await session.get(Person, person_id)
        if person is None or not person.active:
            return None
        good = self._signature(person.id, person.unit_id, expires)
        if not hmac.compare_digest(good, signature):
            return None
        unit = await session.get(OrgUnit, person.unit_id)
        return Access(person, unit) if unit is not None else None
