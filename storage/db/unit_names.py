"""A unit named in a file (an office's own sheet names units, not codes): its code, or its
name alone or with its parent's ("Chi hội tổ dân phố 5 phường Vĩnh Phước"), folded
(diacritics, case, commas); when no unit or several fit, the closest codes with their names."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from storage.db.models import OrgUnit
from storage.plan.text import fold


@dataclass
class Named:
    unit: OrgUnit | None = None
    # When `unit` is None: the units that fit equally well (ambiguous), else the closest.
    candidates: list[OrgUnit] = field(default_factory=list)
    ambiguous: bool = False


def _folded(text: str) -> str:
    return fold(text.replace(",", " ").replace("-", " - "))


class UnitNames:
    """The units of the database, looked up by code or by name (built once per file)."""

    def __init__(self, units: list[OrgUnit]) -> None:
        self.by_code = {u.code: u for u in units}
        self._by_upper = {u.code.upper(): u for u in units}
        by_id = {u.id: u for u in units}
        # The spellings of each open unit: its name, with its parent's after or before it.
        self.spellings: dict[str, list[OrgUnit]] = {}
        for unit in units:
            if unit.valid_to is not None:
                continue
            parent = by_id.get(unit.parent_id) if unit.parent_id else None
            names = [unit.name]
            if parent is not None:
                names += [f"{unit.name} {parent.name}", f"{parent.name} {unit.name}"]
            for name in names:
                self.spellings.setdefault(_folded(name), []).append(unit)
        self._parent_name = {u.id: by_id[u.parent_id].name for u in units if u.parent_id in by_id}

    def find(self, typed: str) -> Named:
        typed = typed.strip()
        coded = self.by_code.get(typed) or self._by_upper.get(typed.upper())
        if coded is not None:
            return Named(coded)
        fits = list({u.id: u for u in self.spellings.get(_folded(typed), [])}.values())
        if len(fits) == 1:
            return Named(fits[0])
        if fits:
            return Named(candidates=sorted(fits, key=lambda u: u.code), ambiguous=True)
        close = difflib.get_close_matches(_folded(typed), list(self.spellings), n=6, cutoff=0.75)
        found = {u.id: u for name in close for u in self.spellings[name]}
        return Named(candidates=list(found.values())[:3])

    def shown(self, unit: OrgUnit) -> str:
        """ "KH-NT-02-05: Chi hội tổ dân phố 5, Phường Vĩnh Phước"."""
        parent = self._parent_name.get(unit.id)
        return f"{unit.code}: {unit.name}" + (f", {parent}" if parent else "")

    def problem(self, typed: str, named: Named) -> str:
        """Why `typed` names no one unit, with the codes to give instead."""
        shown = "; ".join(self.shown(u) for u in named.candidates)
        if named.ambiguous:
            return f"unit '{typed}' fits several units ({shown}): give its code"
        return f"unknown unit '{typed}'" + (
            f" (did you mean {shown}?)" if shown else ": give a unit's code or its full name"
        )
