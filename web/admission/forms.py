"""Reading the dynamic application form (the plugin's spec) from a form post."""

from __future__ import annotations

import re
from typing import Any

from core.admission.schemas import FormSpec

_CELL = re.compile(r"^(?P<key>[a-z_0-9]+)__(?P<row>\d+)__(?P<col>[a-z_0-9]+)$")


def answers_from(form: Any, spec: FormSpec) -> dict[str, Any]:
    """Field values from the post: ``key`` for plain fields, ``key__<row>__<column>``
    for table cells (rows in order, blank rows dropped later by the service)."""
    tables: dict[str, dict[int, dict[str, str]]] = {}
    for name in form.keys():
        match = _CELL.match(name)
        if match:
            tables.setdefault(match["key"], {}).setdefault(int(match["row"]), {})[match["col"]] = form.get(name)
    answers: dict[str, Any] = {}
    for field in spec.fields():
        if field.kind == "table":
            rows = tables.get(field.key, {})
            answers[field.key] = [rows[i] for i in sorted(rows)]
        else:
            answers[field.key] = form.get(field.key, "")
    return answers


def table_rows(value: Any, extra: int = 2) -> list[dict]:
    """Stored rows plus ``extra`` blank ones to type into."""
    rows = [r for r in (value or []) if isinstance(r, dict)]
    return rows + [{} for _ in range(extra)]
