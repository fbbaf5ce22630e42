"""Shapes shared by the province plugins (not a plugin itself)."""

from __future__ import annotations

from typing import Any

import msgspec


class Material(msgspec.Struct, frozen=True):
    """One filing material a province requires, in the province's order."""

    key: str
    title: str
    rule: str
    required: bool = True
    # Required where the licence-issuing region's department specifies such materials
    # (its setting on the region), not asked for otherwise.
    local: bool = False

    def as_dict(self) -> dict[str, Any]:
        return msgspec.to_builtins(self)
