"""Form posts → msgspec structs, with Chinese messages naming the field."""

from __future__ import annotations

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
        return msgspec.convert(data, struct, strict=False)
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
