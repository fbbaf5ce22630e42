"""Form posts → msgspec structs, with Chinese messages naming the field."""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from typing import Any, TypeVar

import msgspec

from core.errors import DomainError, Problem

T = TypeVar("T", bound=msgspec.Struct)

_FIELD = re.compile(r"at `\$\.([a-zA-Z_0-9]+)")


def _kind(annotation: Any) -> tuple[str, bool]:
    """('list' | 'bool' | 'scalar', optional?) for a struct field annotation."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    optional = False
    if origin in (typing.Union, types.UnionType):
        optional = type(None) in args
        non_none = [a for a in args if a is not type(None)]
        annotation = non_none[0] if len(non_none) == 1 else annotation
        origin = typing.get_origin(annotation)
    if origin is list or annotation is list:
        return "list", optional
    if annotation is bool:
        return "bool", optional
    return "scalar", optional


def form_int(form: Any, name: str, *, label: str | None = None, default: int | None = None) -> int | None:
    """An integer form field: empty → ``default``; a word, or a number no record can carry
    (beyond PostgreSQL's ``integer``), → ``DomainError`` on that field in Chinese (issue 12.5)."""
    from core.messages import t
    from web.limits import in_range

    text = str(form.get(name, "") or "").strip()
    if not text:
        return default
    if not text.lstrip("+-").isdigit() or not in_range(int(text)):
        raise DomainError(Problem(t("error.number", label=label or name), name))
    return int(text)


def form_date(value: Any, field: str) -> dt.date | None:
    """A date form field (``2026-03-01``): empty → ``None``; anything else →
    ``DomainError`` on that field in Chinese."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DomainError(Problem("日期格式应为 2026-03-01", field)) from None


def form_version(form: Any) -> int:
    """The record version a form was rendered with (optimistic locking). Anything but a
    number is a stale or forged page: -1, which no record has, so the service answers
    its Chinese "moved on, refresh" conflict — after its tenancy check (a foreign id
    stays a 404)."""
    from web.limits import in_range

    text = str(form.get("version", "") or "").strip()
    if not text:
        return 0
    if not text.isdigit() or not in_range(int(text)):
        return -1
    return int(text)


def parse_form(form: Any, struct: type[T], labels: dict[str, str] | None = None) -> T:
    """Convert a form (a multidict) to ``struct``.

    Unchecked checkboxes are absent: a ``bool`` field absent from the form is False.
    An empty input for an optional field is None. A malformed value raises
    ``DomainError`` with a Chinese message on that field; nothing is changed.
    """
    hints = typing.get_type_hints(struct)
    data: dict[str, Any] = {}
    for field in struct.__struct_fields__:
        kind, optional = _kind(hints[field])
        if kind == "list":
            data[field] = [v for v in form.getall(field, []) if v != ""] if hasattr(form, "getall") else form.get(field, [])
        elif kind == "bool":
            data[field] = form.get(field) in ("on", "true", "1", "yes")
        elif field in form:
            value = form.get(field)
            if isinstance(value, str):
                value = value.strip()
            if value == "" and optional:
                value = None
            data[field] = value
    try:
        parsed = msgspec.convert(data, struct, strict=False)
    except msgspec.ValidationError as exc:
        match = _FIELD.search(str(exc))
        field = match.group(1) if match else None
        label = (labels or {}).get(field or "", field or "")
        if "missing required field" in str(exc):
            missing = re.search(r"`([a-zA-Z_0-9]+)`", str(exc))
            field = missing.group(1) if missing else field
            label = (labels or {}).get(field or "", field or "")
            raise DomainError(Problem(f"请填写「{label}」", field)) from exc
        raise DomainError(Problem(f"「{label}」的格式不正确", field)) from exc
    _check_int_ranges(parsed, labels)
    return parsed


def _check_int_ranges(parsed: msgspec.Struct, labels: dict[str, str] | None) -> None:
    """A number in a form that no record or year can carry (an id beyond PostgreSQL's
    ``integer``) is the user's input error, never a driver overflow (issue 12.5)."""
    from core.messages import t
    from web.limits import in_range

    for field in parsed.__struct_fields__:
        value = getattr(parsed, field)
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, int) and not isinstance(v, bool) and not in_range(v) for v in values):
            label = (labels or {}).get(field, field)
            raise DomainError(Problem(t("error.number", label=label), field))
