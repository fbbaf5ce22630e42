"""``GET /api/v1/catalog``: the catalogue with the browser's filters, as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import get
from litestar.params import Parameter

from core.catalog import service as catalog
from core.catalog.schemas import TechnologyRef
from core.errors import DomainError
from core.plugins import HookView
from web.context import login_required


class QCIndicatorOut(msgspec.Struct):
    name: str
    code: str = ""
    definition: str = ""


class TechnologyOut(msgspec.Struct):
    """One technology: the ``id`` is what a record stores when it cites it."""

    id: int
    code: str
    name: str
    tech_class: str
    scope: str
    edition_key: str
    edition_title: str
    effective_on: dt.date | None
    superseded_on: dt.date | None
    surgery_levels: list[int]
    specification: str
    qc_indicators: list[QCIndicatorOut]
    note: str
    current: bool
    available: bool


class EditionOut(msgspec.Struct):
    uid: str
    title: str
    scope: str
    effective_on: dt.date | None
    superseded_on: dt.date | None
    current: bool
    entry_count: int


class CatalogPage(msgspec.Struct):
    count: int
    items: list[TechnologyOut]
    editions: list[EditionOut]


def _out(t: TechnologyRef) -> TechnologyOut:
    return msgspec.convert(msgspec.to_builtins(t), TechnologyOut)


@get("/api/v1/catalog", guards=[login_required], tags=["catalog"])
async def catalog_list(hooks: HookView, q: str = "", tech_class: str = "",
                       scope_: Annotated[str, Parameter(query="scope")] = "",
                       edition: str = "") -> CatalogPage:
    """Technologies of the enabled plugins' editions. ``edition``: empty for the current
    editions, an edition ``uid`` for that one (superseded ones too), ``all`` for every one."""
    query = catalog.CatalogQuery(q=q, tech_class=tech_class, scope=scope_, edition=edition)
    if problems := catalog.query_problems(query):
        raise DomainError(problems)
    editions = await catalog.editions(hooks)
    if edition not in ("", "all") and edition not in {e.uid for e in editions}:
        raise DomainError("该目录版本不存在或其插件已停用")
    items = await catalog.search(hooks, query)
    return CatalogPage(count=len(items), items=[_out(t) for t in items],
                       editions=[msgspec.convert(msgspec.to_builtins(e), EditionOut) for e in editions])


@get("/api/v1/catalog/{technology_id:int}", guards=[login_required], tags=["catalog"])
async def catalog_item(hooks: HookView, technology_id: int) -> TechnologyOut:
    """One technology by id, also a cited one whose edition was superseded."""
    return _out(await catalog.get_cited(technology_id, hooks))


ROUTES = [catalog_list, catalog_item]
