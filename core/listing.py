"""Lists people search, filter, sort, page and export (issue 11 point 11): one mechanism
for every list page instead of a copy per page.

A list is declared once as a ``ListSpec`` (the table, the columns read, the columns searched,
its filters, its sort keys and its export columns). ``parse`` turns the query string into
``ListParams`` (anything unknown or malformed falls back to the default, with a Chinese
message for a malformed date); ``fetch`` runs one page (a COUNT and a SELECT … LIMIT/OFFSET)
inside the caller's tenancy clause, which is a required argument — ``None`` only where the
caller has decided the actor sees everything; ``export`` writes the filtered, sorted rows to
XLSX through ``core.exports``.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import msgspec
from piccolo.query.methods.count import Count

from core.db import is_sqlite
from core.errors import Problem

PAGE_SIZE = 50
EXPORT_LIMIT = 20_000  # rows in one spreadsheet; the page says when a filter is needed
SEARCH_MAX = 100


class Filter(msgspec.Struct, frozen=True, kw_only=True):
    """One filter of a list. ``kind``: ``choice`` (a value of ``choices``, compared with
    ``column``), ``text`` (an exact value, e.g. a technology code), ``yes_no`` (a boolean
    column), ``since`` / ``until`` (a date column, both ends included). ``clause``, when
    given, builds the where-clause from the checked value instead of ``column == value``."""

    key: str
    label: str
    column: Any = None
    kind: str = "choice"
    choices: tuple[tuple[str, str], ...] = ()
    clause: Callable[[Any], Any] | None = None
    blank: str = "（全部）"  # a choice filter's empty option: no filter, or the page's default


class Sort(msgspec.Struct, frozen=True):
    key: str
    label: str
    column: Any


class ExportColumn(msgspec.Struct, frozen=True):
    label: str
    value: Callable[[dict], Any]


def field(label: str, key: str) -> ExportColumn:
    """An export column showing a row's ``key`` as it is."""
    return ExportColumn(label, operator.itemgetter(key))


def attribute(label: str, name: str) -> ExportColumn:
    """An export column showing an attribute of a row that ``decorate`` made a struct."""
    return ExportColumn(label, operator.attrgetter(name))


class ListSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What one list page offers. ``decorate`` adds derived fields (labels, states) to a
    page's rows in as few queries as it needs."""

    table: Any
    columns: tuple[Any, ...]
    search: tuple[Any, ...] = ()
    search_hint: str = ""
    filters: tuple[Filter, ...] = ()
    sorts: tuple[Sort, ...] = ()
    default_sort: str = "-id"  # a sort key, "-" for descending
    export: tuple[ExportColumn, ...] = ()
    title: str = ""
    decorate: Callable[[list[dict]], Awaitable[list[dict]]] | None = None
    page_size: int = PAGE_SIZE

    def filter(self, key: str) -> Filter | None:
        return next((f for f in self.filters if f.key == key), None)

    def sort(self, key: str) -> Sort | None:
        return next((s for s in self.sorts if s.key == key), None)


class ListParams(msgspec.Struct, kw_only=True):
    q: str = ""
    sort: str = ""
    page: int = 1
    values: dict[str, str] = {}  # filter key → the value as typed (checked)
    problems: list[Problem] = []
    defaults: dict[str, str] = {}  # values the page chose when the query string left them out

    @property
    def narrowed(self) -> bool:
        """Whether the person set anything to clear (a search, a sort, a filter other than the
        page's default): the defaults alone are no condition."""
        return any(self.defaults.get(k) != v for k, v in self.query(page=None).items())

    def query(self, **changes: Any) -> dict[str, str]:
        """The query-string values of this list state, with ``changes`` (None drops one)."""
        out = {"q": self.q, "sort": self.sort, "page": str(self.page), **self.values}
        for key, value in changes.items():
            out[key] = "" if value is None else str(value)
        return {k: v for k, v in out.items() if v not in ("", None) and not (k == "page" and v == "1")}

    def url(self, path: str, **changes: Any) -> str:
        query = urlencode(self.query(**changes))
        return f"{path}?{query}" if query else path



class ListPage(msgspec.Struct, kw_only=True):
    rows: list[Any]
    total: int
    params: ListParams
    spec: ListSpec

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.spec.page_size))

    @property
    def current_sort(self) -> str:
        return self.params.sort or self.spec.default_sort

    def sort_url(self, path: str, key: str) -> str:
        """Sort by ``key`` ascending; the current ascending key again, descending. Back to page 1."""
        return self.params.url(path, sort=f"-{key}" if self.current_sort == key else key, page=None)

    @property
    def first_row(self) -> int:
        return (self.params.page - 1) * self.spec.page_size + 1 if self.total else 0

    @property
    def last_row(self) -> int:
        return min(self.total, self.params.page * self.spec.page_size)


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def parse(spec: ListSpec, raw: Mapping[str, str]) -> ListParams:
    """The list state the query string asks for; unknown keys are ignored, a choice not on
    offer or an unknown sort falls back to the default, a malformed date says so."""
    params = ListParams(q=str(raw.get("q") or "").strip()[:SEARCH_MAX])
    sort = str(raw.get("sort") or "")
    params.sort = sort if spec.sort(sort.lstrip("-")) is not None else ""
    try:
        params.page = max(1, min(int(raw.get("page") or 1), 100_000))
    except ValueError:
        params.page = 1
    values, problems = {}, []
    for f in spec.filters:
        value = str(raw.get(f.key) or "").strip()[:SEARCH_MAX]
        if not value:
            continue
        if f.kind == "choice" and value not in {k for k, _ in f.choices}:
            continue
        if f.kind == "yes_no" and value not in ("yes", "no"):
            continue
        if f.kind in ("since", "until") and _date(value) is None:
            problems.append(Problem(f"「{f.label}」的日期格式应为 YYYY-MM-DD", f.key))
            continue
        values[f.key] = value
    params.values, params.problems = values, problems
    return params


def _typed(f: Filter, value: str) -> Any:
    if f.kind in ("since", "until"):
        return _date(value)
    if f.kind == "yes_no":
        return value == "yes"
    return value


def _clauses(spec: ListSpec, params: ListParams, scope: Any) -> list[Any]:
    where = [] if scope is None else [scope]
    if params.q and spec.search:
        # SQLite's LIKE is already case-insensitive (ASCII) and has no ILIKE.
        op = "like" if is_sqlite() else "ilike"
        pattern = f"%{params.q}%"
        match = None
        for column in spec.search:
            clause = getattr(column, op)(pattern)
            match = clause if match is None else match | clause
        where.append(match)
    for key, value in params.values.items():
        f = spec.filter(key)
        if f is None:
            continue
        typed = _typed(f, value)
        if f.clause is not None:
            where.append(f.clause(typed))
        elif f.kind == "since":
            where.append(f.column >= typed)
        elif f.kind == "until":
            where.append(f.column <= typed)
        else:
            where.append(f.column == typed)
    return where


def _ordered(spec: ListSpec, params: ListParams, query: Any) -> Any:
    key = params.sort or spec.default_sort
    sort = spec.sort(key.lstrip("-"))
    descending = key.startswith("-")
    if sort is not None:
        query = query.order_by(sort.column, ascending=not descending)
    # Ties in a stable order, so a row never shows on two pages.
    return query.order_by(spec.table._meta.primary_key, ascending=not descending)


async def fetch(spec: ListSpec, params: ListParams, scope: Any) -> ListPage:
    """One page of the list within ``scope`` (the caller's tenancy where-clause; ``None``
    only for an actor who sees every row)."""
    # The Count query by hand: a table with a column named ``count`` hides the classmethod.
    query, count = spec.table.select(*spec.columns), Count(table=spec.table)
    for clause in _clauses(spec, params, scope):
        query, count = query.where(clause), count.where(clause)
    total = await count
    pages = max(1, -(-total // spec.page_size))
    params.page = min(params.page, pages)
    rows = await _ordered(spec, params, query).limit(spec.page_size).offset(
        (params.page - 1) * spec.page_size).output(load_json=True)
    if spec.decorate is not None:
        rows = await spec.decorate(rows)
    return ListPage(rows=rows, total=total, params=params, spec=spec)


async def export(spec: ListSpec, params: ListParams, scope: Any) -> bytes:
    """Every row matching the list's search and filters (up to ``EXPORT_LIMIT``), sorted
    as on screen, as an XLSX workbook (through ``core.exports``)."""
    query = spec.table.select(*spec.columns)
    for clause in _clauses(spec, params, scope):
        query = query.where(clause)
    rows = await _ordered(spec, params, query).limit(EXPORT_LIMIT).output(load_json=True)
    if spec.decorate is not None:
        rows = await spec.decorate(rows)
    return _workbook(spec, rows)


def _matching(spec: ListSpec, params: ListParams, rows: Sequence[Any]) -> list[Any]:
    """``rows`` searched and sorted as ``page_of`` and ``export_of`` show them."""
    found = list(rows)
    if params.q and spec.search:
        needle = params.q.casefold()
        found = [r for r in found if any(needle in str(text(r) or "").casefold() for text in spec.search)]
    key = params.sort or spec.default_sort
    sort = spec.sort(key.lstrip("-"))
    if sort is not None:
        # Python's sort is stable: ties keep the caller's order, so a row never shows on two pages.
        found.sort(key=sort.column, reverse=key.startswith("-"))
    return found


def page_of(spec: ListSpec, params: ListParams, rows: Sequence[Any]) -> ListPage:
    """One page of a list computed in Python (a score per institution, figures per
    department), with the same controls as ``fetch``: the caller reads ``rows`` within its
    tenancy and applies its filters; here ``spec.search`` and a ``Sort``'s ``column`` are
    functions of a row (the text searched, the sort key)."""
    found = _matching(spec, params, rows)
    pages = max(1, -(-len(found) // spec.page_size))
    params.page = min(params.page, pages)
    start = (params.page - 1) * spec.page_size
    return ListPage(rows=found[start:start + spec.page_size], total=len(found), params=params, spec=spec)


def export_of(spec: ListSpec, params: ListParams, rows: Sequence[Any]) -> bytes:
    """Every row of a list computed in Python matching the search, sorted as on screen, as
    an XLSX workbook (``page_of``'s rows, all pages)."""
    return _workbook(spec, _matching(spec, params, rows)[:EXPORT_LIMIT])


def _workbook(spec: ListSpec, rows: Sequence[Any]) -> bytes:
    from openpyxl import Workbook

    from core.exports import xlsx_bytes

    wb = Workbook()
    ws = wb.active
    ws.title = (spec.title or "列表")[:31]
    ws.append([c.label for c in spec.export])
    for row in rows:
        ws.append([_cell(c.value(row)) for c in spec.export])
    return xlsx_bytes(wb)


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        from core.timefmt import local_time

        return local_time(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "、".join(str(v) for v in value)
    return value
