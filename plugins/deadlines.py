"""Deadline rules as data files, shared by the province plugins (not a plugin itself).

Each plugin keeps its rules in a ``deadlines.toml`` next to its code; the national
rules that a province's document restates live in ``national/deadlines.toml`` and
are shipped by every province plugin, so a province rule can ``replace`` them.
"""

from __future__ import annotations

import copy
import functools
import tomllib
from pathlib import Path
from typing import Any

from plugins import national

NATIONAL = national.DEADLINES


@functools.cache
def _read(path: str) -> tuple[dict[str, Any], ...]:
    with open(path, "rb") as f:
        return tuple(tomllib.load(f).get("rule", []))


def load(path: Path) -> list[dict[str, Any]]:
    """The ``[[rule]]`` tables of a TOML file, as fresh dicts the caller may adjust."""
    return copy.deepcopy(list(_read(str(path))))
