"""What the texts read of the catalog: only its levels' names, so the message catalogue
imports nothing of the project."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Level(Protocol):
    @property
    def code(self) -> str: ...


class Levels(Protocol):
    """What the texts read of the catalog (storage.plan.catalog.Catalog): only its levels' names,
    so the message catalogue imports nothing of the project."""

    @property
    def levels(self) -> Sequence[Level]: ...
    def level_word(self, code: str) -> str: ...
    def role_of_level(self, code: str) -> str | None: ...
    def level_index(self, code: str) -> int: ...
