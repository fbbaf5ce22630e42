"""``GET /api/v1/catalog``: the catalogue with the browser's filters, as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from litestar import get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from core.catalog import service as catalog
from core.catalog.schemas import TechnologyRef
from core.errors import DomainError
from core.plugins import HookView
from web.context import login_or_token


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


class ApiError(msgspec.Struct):
    error: str
    status: int


TechClass = Literal["", "prohibited", "restricted", "routine"]
Scope = Literal["", "national", "provincial", "hospital"]
_ERRORS = {400: ResponseSpec(ApiError, description="查询参数格式不正确"),
           401: ResponseSpec(ApiError, description="未登录，或令牌缺失、无效、已吊销"),
           422: ResponseSpec(ApiError, description="查询条件无效，或该目录版本不存在、其插件已停用")}


@get("/api/v1/catalog", guards=[login_or_token], tags=["catalog"], responses=_ERRORS)
async def catalog_list(hooks: HookView, q: Annotated[str, Parameter(max_length=200)] = "",
                       tech_class: TechClass = "",
                       scope_: Annotated[Scope, Parameter(query="scope")] = "",
                       edition: Annotated[str, Parameter(max_length=200)] = "") -> CatalogPage:
    """Technologies of the enabled plugins' editions. ``edition``: empty for the current
    editions, an edition ``uid`` for that one (superseded ones too), ``all`` for every one.
    Hospital systems call it with their institution's bearer token (``Authorization:
    Bearer ct_…``), people with their login session."""
    query = catalog.CatalogQuery(q=q, tech_class=tech_class, scope=scope_, edition=edition)
    if problems := catalog.query_problems(query):
        raise DomainError(problems)
    editions = await catalog.editions(hooks)
    if edition not in ("", "all") and edition not in {e.uid for e in editions}:
        raise DomainError("该目录版本不存在或其插件已停用")
    items = await catalog.search(hooks, query)
    return CatalogPage(count=len(items), items=[_out(t) for t in items],
                       editions=[msgspec.convert(msgspec.to_builtins(e), EditionOut) for e in editions])


@get("/api/v1/catalog/{technology_id:int}", guards=[login_or_token], tags=["catalog"],
     responses={**_ERRORS, 404: ResponseSpec(ApiError, description="没有该 id 的技术")})
async def catalog_item(hooks: HookView, technology_id: int) -> TechnologyOut:
    """One technology by id, also a cited one whose edition was superseded."""
    return _out(await catalog.get_cited(technology_id, hooks))


ROUTES = [catalog_list, catalog_item]
