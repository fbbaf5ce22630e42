"""Deadline rules as data files, shared by the plugins (not a plugin itself).

Each plugin keeps its rules in a ``deadlines.toml`` next to its code. The national
rules are the built-in national plugin's (``plugins.national``); a province rule that
restates one more strictly lists it in ``replaces``.
"""

from __future__ import annotations

import copy
import functools
import tomllib
from pathlib import Path
from typing import Any


@functools.cache
def _read(path: str) -> tuple[dict[str, Any], ...]:
    with open(path, "rb") as f:
        return tuple(tomllib.load(f).get("rule", []))


def load(path: Path) -> list[dict[str, Any]]:
    """The ``[[rule]]`` tables of a TOML file, as fresh dicts the caller may adjust."""
    return copy.deepcopy(list(_read(str(path))))
