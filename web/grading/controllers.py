"""手术分级管理目录 pages (NAT-16, NAT-15 (2)): the institution's grading catalogue, its
editions, XLSX/CSV import and one-operation edits by medical affairs or the admin, the
export, and its public disclosure (NAT-24)."""

from __future__ import annotations

import urllib.parse

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from core import clock
from core.accounts.roles import HOSPITAL_ROLES, REGION_ROLES
from core.accounts.schemas import Actor
from core.catalog.files import MAX_UPLOAD_BYTES, XLSX_TYPE
from core.errors import DomainError, NotFound, Problem
from core.grading import files
from core.grading import service as grading
from core.tenancy.service import list_institutions
from web.context import load_actor, roles_required
from web.forms import form_date
from web.render import page

readers = [roles_required(*HOSPITAL_ROLES, *REGION_ROLES, "admin")]
FORM_FIELDS = ("effective_on", "basis")



def _listed(problems: list[Problem]) -> list[Problem]:
    """Row problems of an import are listed in the alert (they name their row), not at a field."""
    return [p if p.field in FORM_FIELDS else Problem(p.message, None, p.rule) for p in problems]


def _attachment(name: str) -> str:
    return f"attachment; filename=\"grading.xlsx\"; filename*=UTF-8''{urllib.parse.quote(name)}"


def _level(value: str) -> int | None:
    return int(value) if value in ("1", "2", "3", "4") else None


class GradingController(Controller):
    path = "/grading"
    guards = readers

    @get("/")
    async def index(self, request: Request, actor: Actor) -> Response:
        """A hospital user goes to their institution's catalogue; regulators and the admin choose."""
        if actor.institution_id is not None:
            return Redirect(f"/grading/{actor.institution_id}", status_code=303)
        return await page(request, "grading/choose.html", institutions=await list_institutions(actor))

    async def _page(self, request: Request, actor: Actor, institution_id: int, *, edition: int | None = None,
                    q: str = "", level: str = "", errors=(), typed: dict | None = None, saved: str = "",
                    status: int = 200) -> Template:
        ctx = await grading.catalogue(actor, institution_id, edition_id=edition, q=q[:100], level=_level(level))
        return await page(request, "grading/index.html", status_code=status, errors=list(errors),
                          typed=typed or {"effective_on": clock.today().isoformat()}, q=q, level=level,
                          saved=saved, today=clock.today(), max_mb=MAX_UPLOAD_BYTES // 1024 // 1024, **ctx)

    @get("/{institution_id:int}")
    async def catalogue(self, request: Request, actor: Actor, institution_id: int, edition: int | None = None,
                        q: str = "", level: str = "", saved: str = "") -> Template:
        return await self._page(request, actor, institution_id, edition=edition, q=q, level=level, saved=saved)

    @post("/{institution_id:int}/import", request_max_body_size=MAX_UPLOAD_BYTES + 256 * 1024)
    async def import_file(self, request: Request, actor: Actor, institution_id: int) -> Response:
        """Every row checked; nothing imported if any row is wrong (NAT-16); audited."""
        if not grading.may_edit(actor, institution_id):
            raise NotFound("未找到")
        form = await request.form()
        typed = {k: str(form.get(k, "")).strip() for k in FORM_FIELDS}
        upload = form.get("file")
        filename = getattr(upload, "filename", "") or ""
        try:
            content = await upload.read() if hasattr(upload, "read") else b""
            rows = files.read_rows(filename, content)
            await grading.import_catalogue(actor, institution_id, rows, filename=filename,
                                           effective_on=form_date(typed["effective_on"], "effective_on"), basis=typed["basis"])
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._page(request, actor, institution_id, errors=_listed(exc.problems), typed=typed,
                                    status=422)
        return Redirect(f"/grading/{institution_id}?saved=import", status_code=303)

    @post("/{institution_id:int}/operations")
    async def edit(self, request: Request, actor: Actor, institution_id: int) -> Response:
        """Add, change or remove one operation: a new edition (NAT-16), audited."""
        if not grading.may_edit(actor, institution_id):
            raise NotFound("未找到")
        form = await request.form()
        typed = {k: str(form.get(k, "")).strip() for k in (*FORM_FIELDS, "code", "name", "level", "action")}
        try:
            await grading.edit_operation(actor, institution_id, code=typed["code"], name=typed["name"],
                                         level=typed["level"], effective_on=form_date(typed["effective_on"], "effective_on"),
                                         basis=typed["basis"], remove=typed["action"] == "remove")
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._page(request, actor, institution_id, errors=exc.problems, typed=typed, status=422)
        return Redirect(f"/grading/{institution_id}?saved=edit", status_code=303)

    @get("/template.xlsx")
    async def template(self) -> Response:
        return Response(files.template_xlsx(), media_type=XLSX_TYPE,
                        headers={"Content-Disposition": _attachment("手术分级目录导入模板.xlsx")})

    @get("/{institution_id:int}/export.xlsx")
    async def export(self, actor: Actor, institution_id: int, edition: int | None = None) -> Response:
        ctx = await grading.catalogue(actor, institution_id, edition_id=edition)
        if ctx["chosen"] is None:
            raise NotFound("本机构尚无手术分级目录")
        name = f"手术分级目录第{ctx['chosen']['number']}版.xlsx"
        return Response(files.export_xlsx(ctx["operations"]), media_type=XLSX_TYPE,
                        headers={"Content-Disposition": _attachment(name)})


class PublicGradingController(Controller):
    """Anonymous: the catalogue in force, disclosed with the restricted list (NAT-24)."""

    path = "/public/grading"

    @get("/{institution_id:int}")
    async def show(self, request: Request, institution_id: int) -> Template:
        institution, edition, operations = await grading.public_catalogue(institution_id)
        return Template(template_name="grading/public.html", context={
            "actor": await load_actor(request), "nav": [], "current_path": request.url.path,
            "institution": institution, "edition": edition, "operations": operations})
