"""Shapes of accounts that cross boundaries."""

from __future__ import annotations

import datetime as dt

import msgspec


class Actor(msgspec.Struct, frozen=True):
    """The logged-in user as services see them, with the scope of their tenant."""

    id: int
    username: str
    display_name: str
    roles: tuple[str, ...]
    institution_id: int | None = None
    institution_name: str | None = None
    department_id: int | None = None
    region_id: int | None = None
    region_path: str | None = None
    region_name: str | None = None

    def has(self, *roles: str) -> bool:
        # A plain loop: asked some forty times a dashboard, a generator cost more than the test.
        for r in roles:
            if r in self.roles:
                return True
        return False

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


SYSTEM = Actor(id=0, username="system", display_name="系统", roles=("admin",))


class UserRow(msgspec.Struct):
    id: int
    username: str
    display_name: str
    roles: list[str]
    institution: int | None
    department: int | None
    region: int | None
    title: str
    active: bool


class UserInput(msgspec.Struct):
    """What the admin submits for a user; validated by ``accounts.rules``."""

    username: str
    display_name: str
    roles: list[str]
    institution: int | None = None
    department: int | None = None
    region: int | None = None
    title: str = ""
    active: bool = True
    password: str | None = None


class PersonInput(msgspec.Struct):
    """A physician's person attributes as the admin edits them (HOSP-5): the start of the
    resident post, the visiting (进修) flag and the qualifications (certificates)."""

    resident_since: dt.date | None = None
    visiting: bool = False
    qualifications: list[str] = []
