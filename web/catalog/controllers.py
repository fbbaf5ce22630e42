"""The catalogue browser (every logged-in user), its XLSX export, and the admin's import."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Response, Template

from core import clock
from core.accounts.schemas import Actor
from core.catalog import files
from core.catalog import service as catalog
from core.catalog.schemas import CLASS_LABELS, SCOPE_LABELS
from core.errors import DomainError, Problem
from core.plugins import HookView
from web.context import login_required, roles_required
from web.render import page, partial

XLSX = files.XLSX_TYPE
# ``scope`` is Litestar's reserved name for the ASGI scope: the query parameter is renamed.
ScopeParam = Annotated[str, Parameter(query="scope")]


def _query(q: str, tech_class: str, scope: str, edition: str) -> catalog.CatalogQuery:
    return catalog.CatalogQuery(q=q.strip()[:100], tech_class=tech_class, scope=scope, edition=edition)


def _attachment(name: str) -> str:
    return f"attachment; filename=\"catalog.xlsx\"; filename*=UTF-8''{urllib.parse.quote(name)}"


async def _view(hooks: HookView, query: catalog.CatalogQuery) -> dict:
    errors = catalog.query_problems(query)
    if errors:
        query = catalog.CatalogQuery(q=query.q, edition=query.edition,
                                     tech_class="" if any(p.field == "tech_class" for p in errors) else query.tech_class,
                                     scope="" if any(p.field == "scope" for p in errors) else query.scope)
    editions = await catalog.editions(hooks)
    if query.edition not in ("", "all") and query.edition not in {e.uid for e in editions}:
        errors.append(Problem("该目录版本不存在或其插件已停用", "edition"))
        query = catalog.CatalogQuery(q=query.q, tech_class=query.tech_class, scope=query.scope)
    items = await catalog.search(hooks, query)
    params = {k: v for k, v in (("q", query.q), ("tech_class", query.tech_class), ("scope", query.scope),
                                ("edition", query.edition)) if v}
    return {"items": items, "query": query, "errors": errors, "editions": editions,
            "class_labels": CLASS_LABELS, "scope_labels": SCOPE_LABELS,
            "export_href": "/catalog/export.xlsx" + ("?" + urllib.parse.urlencode(params) if params else "")}


class CatalogController(Controller):
    path = "/catalog"
    guards = [login_required]

    @get("/")
    async def index(self, request: Request, actor: Actor, hooks: HookView, q: str = "", tech_class: str = "",
                    scope_: ScopeParam = "", edition: str = "") -> Template:
        """Search by code or name as you type (htmx swaps ``_results.html``), filter by
        class, scope and edition (current by default; superseded editions selectable).
        A hospital's users also see their institution's routine technologies (HOSP-19)."""
        context = await _view(hooks, _query(q, tech_class, scope_, edition))
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "catalog-results":
            return partial("catalog/_results.html", **context)
        return await page(request, "catalog/index.html", routine=await catalog.hospital_routine(actor), **context)

    @get("/export.xlsx")
    async def export(self, hooks: HookView, q: str = "", tech_class: str = "", scope_: ScopeParam = "",
                     edition: str = "") -> Response:
        """The current view as an XLSX workbook with Chinese headers."""
        context = await _view(hooks, _query(q, tech_class, scope_, edition))
        body = files.export_xlsx(context["items"])
        return Response(body, media_type=XLSX, headers={
            "Content-Disposition": _attachment(f"技术目录-{clock.today().isoformat()}.xlsx")})

    @get("/{technology_id:int}")
    async def detail(self, request: Request, hooks: HookView, technology_id: int) -> Template:
        """All fields, QC indicators and edition history; also for a cited technology
        whose plugin is off or whose edition was superseded (marked so)."""
        technology = await catalog.get_cited(technology_id, hooks)
        edition = next((e for e in await catalog.editions(hooks, include_unavailable=True)
                        if e.id == technology.edition_id), None)
        from core.lifecycle import service as lifecycle
        from web.context import load_actor

        actor = await load_actor(request)
        suspensions, use = [], None
        if actor is not None:
            suspensions = [s for s in await lifecycle.region_suspensions(actor, active_only=True)
                           if s["technology_key"] == technology.code.upper()]
            if actor.institution_id is not None:
                use = await lifecycle.summary(actor.institution_id, technology.code, hooks=hooks)
        return await page(request, "catalog/detail.html", technology=technology, edition=edition,
                          history=await catalog.history(technology_id), suspensions=suspensions, use=use)


class CatalogAdminController(Controller):
    path = "/admin/catalog"
    guards = [roles_required("admin")]

    async def _form(self, request: Request, hooks: HookView, *, form: dict | None = None, errors=(),
                    status: int = 200, done: dict | None = None) -> Template:
        return await page(request, "catalog/import.html", status_code=status, slots=await catalog.import_slots(hooks),
                          form=form or {}, errors=list(errors), done=done,
                          editions=await catalog.editions(hooks, include_unavailable=True),
                          max_mb=files.MAX_UPLOAD_BYTES // 1024 // 1024)

    @get("/import")
    async def import_form(self, request: Request, hooks: HookView, ok: int | None = None) -> Template:
        done = None
        if ok is not None:
            done = next((msgspec.to_builtins(e) for e in await catalog.editions(hooks, include_unavailable=True)
                         if e.id == ok), None)
        return await self._form(request, hooks, done=done)

    @post("/import", request_max_body_size=files.MAX_UPLOAD_BYTES + 256 * 1024)
    async def import_file(self, request: Request, actor: Actor, hooks: HookView) -> Response:
        """Validate every row; import nothing unless all are right ; audited."""
        form = await request.form()
        upload = form.get("file")
        values = {k: str(form.get(k, "")).strip() for k in ("slot", "label", "effective_on")}
        problems: list[Problem] = []
        effective = None
        try:
            effective = dt.date.fromisoformat(values["effective_on"])
        except ValueError:
            problems.append(Problem("请填写施行日期（YYYY-MM-DD）", "effective_on"))
        rows: list = []
        filename = getattr(upload, "filename", "") or ""
        try:
            content = await upload.read() if hasattr(upload, "read") else b""
            rows = files.read_table(filename, content)
        except DomainError as exc:
            problems.extend(exc.problems)
        if not problems:
            try:
                edition_id = await catalog.import_edition(
                    actor, hooks, catalog.ImportInput(slot=values["slot"], label=values["label"], effective_on=effective),
                    rows, filename=filename)
            except DomainError as exc:
                problems.extend(exc.problems)
            else:
                return Redirect(f"/admin/catalog/import?ok={edition_id}", status_code=303)
        return await self._form(request, hooks, form=values, errors=problems, status=422)

    @get("/import/template.xlsx")
    async def template_xlsx(self) -> Response:
        return Response(files.template_xlsx(), media_type=XLSX,
                        headers={"Content-Disposition": _attachment("目录导入模板.xlsx")})

    @get("/import/template.csv")
    async def template_csv(self) -> Response:
        return Response(files.template_csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=\"catalog-template.csv\"; "
                                 f"filename*=UTF-8''{urllib.parse.quote('目录导入模板.csv')}"})

    @post("/sync")
    async def sync(self, request: Request, actor: Actor) -> Response:
        """Re-read every plugin's catalogue files now (after a plugin update)."""
        await catalog.resync(request.app.state.plugin_host, actor)
        return Redirect("/admin/plugins", status_code=303)
