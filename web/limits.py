"""Numbers from the URL that no record can carry: answered before any query runs.

Record ids are PostgreSQL ``integer`` columns (and SQLite's integers stop at 64 bits):
an id beyond them cannot name a record, so it is a 404 — not a 500 from the driver's
overflow, nor a false "database down" from PostgreSQL's "out of int32 range". An int
query parameter beyond that range (``?year=…``, ``?department_id=…``) is a 400 with the
Chinese message, like any other malformed parameter (issue 12.5)."""

from __future__ import annotations

import functools
import re
import types
import typing

from litestar import Request
from litestar.exceptions import NotFoundException, ValidationException

INT_MIN = -(2**31)
INT_MAX = 2**31 - 1


def in_range(value: int) -> bool:
    return INT_MIN <= value <= INT_MAX


def _is_int(annotation: typing.Any) -> bool:
    if annotation is int:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(a is int for a in typing.get_args(annotation))
    return False


@functools.cache
def _int_query_params(handler) -> tuple[str, ...]:
    """The query-string names of the handler's int parameters (its path parameters aside)."""
    names = []
    for name, field in handler.parsed_fn_signature.parameters.items():
        if not _is_int(field.annotation):
            continue
        kwarg = field.kwarg_definition
        if getattr(kwarg, "header", None) or getattr(kwarg, "cookie", None):
            continue
        names.append(getattr(kwarg, "query", None) or name)
    return tuple(names)


MAX_JSON_DEPTH = 64


async def check_request(request: Request) -> None:
    """App-wide ``before_request``: the CSRF token is the session's, ids and int queries
    in range, JSON bodies sane."""
    if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
        from litestar.exceptions import PermissionDeniedException

        from core.settings import get_settings
        from web.security import csrf_bound_to_session

        excluded = request.url.path.startswith("/api/") or request.url.path == "/login"
        if not excluded and not csrf_bound_to_session(request.cookies, get_settings().secret):
            raise PermissionDeniedException("CSRF token is not bound to the session")
    reject_out_of_range(request)
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and "json" in request.headers.get("content-type", ""):
        await reject_bad_json(request)


async def reject_bad_json(request: Request) -> None:
    """A JSON body that is not UTF-8 or nests deeper than any document of ours → 400
    before the handler decodes it (msgspec raised UnicodeDecodeError / RecursionError,
    which answered 500). The body is cached on the request: the handler reuses it."""
    import msgspec

    from core.messages import t

    message = t("error.json", depth=MAX_JSON_DEPTH)
    body = await request.body()
    try:
        body.decode("utf-8")
        if _depth_exceeds(body, MAX_JSON_DEPTH):
            raise ValueError("too deep")
        msgspec.json.decode(body)
    except (ValueError, msgspec.DecodeError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ValidationException(message, extra=[{"key": "", "message": message}]) from exc


# A complete JSON string (escapes included; the unrolled form matches what
# ``"(?:[^"\\]|\\.)*"`` matches at a third of its time), and every byte that is not a bracket.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than ``limit`` (a cheap pre-scan:
    only bodies with that many opening brackets are walked — over their brackets only,
    the strings cut out first, so a batch of 1000 cases is not walked byte by byte)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    outside = _JSON_STRING.sub(b"", body)
    unterminated = outside.find(b'"')  # a string left open runs to the end
    if unterminated >= 0:
        outside = outside[:unterminated]
    depth = 0
    for byte in outside.translate(None, _NOT_BRACKETS):
        if byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def reject_out_of_range(request: Request) -> None:
    """An over-range id → 404, an over-range int query → 400."""
    for value in request.path_params.values():
        if isinstance(value, int) and not in_range(value):
            raise NotFoundException()
    query = request.query_params
    for name in _int_query_params(request.route_handler):
        for raw in query.getall(name, []):
            text = str(raw).strip()
            if text.lstrip("+-").isdigit() and not in_range(int(text)):
                raise ValidationException(f"{name}: out of range")
