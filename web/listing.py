"""The HTTP half of ``core.listing``: a list page's query string in, a page or an XLSX
download out. Templates render the controls with ``_list.html``'s macros."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Response

from core import listing
from core.listing import ListPage, ListSpec

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def params_of(request: Request, spec: ListSpec, **defaults: str) -> listing.ListParams:
    """The list state of this request (``defaults`` for keys the query string leaves out)."""
    raw = {**defaults, **{k: v for k, v in request.query_params.items()}}
    params = listing.parse(spec, raw)
    params.defaults = dict(defaults)
    return params


def wants_export(request: Request) -> bool:
    return request.query_params.get("format") == "xlsx"


async def answer(request: Request, spec: ListSpec, scope: Any, filename: str,
                 **defaults: str) -> ListPage | Response:
    """One page of the list, or, with ``?format=xlsx``, every matching row as a download."""
    params = params_of(request, spec, **defaults)
    if wants_export(request):
        data = await listing.export(spec, params, scope)
        return Response(data, media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'})
    return await listing.fetch(spec, params, scope)


def answer_rows(request: Request, spec: ListSpec, rows: list[Any], filename: str,
                **defaults: str) -> ListPage | Response:
    """``answer`` for a list computed in Python (``core.listing.page_of``): one page of
    ``rows``, or every matching row as a download."""
    params = params_of(request, spec, **defaults)
    if wants_export(request):
        return xlsx(listing.export_of(spec, params, rows), filename)
    return listing.page_of(spec, params, rows)


def xlsx(data: bytes, filename: str) -> Response:
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'})
