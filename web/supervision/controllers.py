"""风险预警 pages: the list (a regulator's region, an institution's own), one warning with
its history, the institution's answer with attachments, the regulator's close and
escalate, 重新检测, the rules in force and the XLSX export."""

from __future__ import annotations

import urllib.parse

from litestar import Controller, Request, get, post
from litestar.response import File, Redirect, Response, Template

from core import clock
from core.accounts.schemas import Actor
from core.errors import DomainError, NotFound
from core.exports import table_xlsx
from core.messages import t
from core.plugins import HookView
from core.supervision import rules, service
from web.context import login_required
from web.forms import form_version
from web.render import page

NOTICES = {"answered": "warnings.answered", "closed": "warnings.closed", "escalated": "warnings.escalated"}


def _filters(status: str, rule: str) -> dict:
    return {"status": status if status in (*rules.STATUS_LABELS, "open") else "",
            "rule_key": rule[:40]}


class WarningController(Controller):
    path = "/warnings"
    guards = [login_required]

    @get("/")
    async def index(self, request: Request, actor: Actor, hooks: HookView, status: str = "open", rule: str = "",
                    evaluated: str = "") -> Template:
        filters = _filters(status, rule)
        return await page(request, "supervision/index.html", warnings=await service.listing(actor, **filters),
                          filters=filters, statuses=rules.STATUS_LABELS, rules_in_force=service.rules_in_force(hooks),
                          evaluated=evaluated)

    @get("/rules")
    async def rules_page(self, request: Request, hooks: HookView) -> Template:
        return await page(request, "supervision/rules.html", rules_in_force=service.rules_in_force(hooks),
                          severities=rules.SEVERITY_LABELS)

    @get("/export.xlsx")
    async def export(self, actor: Actor, status: str = "", rule: str = "") -> Response:
        body = table_xlsx("风险预警", service.EXPORT_COLUMNS, await service.export_rows(actor, **_filters(status, rule)))
        name = urllib.parse.quote(f"风险预警-{clock.today().isoformat()}.xlsx")
        return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename=\"warnings.xlsx\"; filename*=UTF-8''{name}"})

    @post("/evaluate")
    async def evaluate(self, actor: Actor, hooks: HookView) -> Redirect:
        counts = await service.evaluate_for(actor, hooks)
        return Redirect("/warnings?" + urllib.parse.urlencode({"evaluated": t("warnings.evaluated").format(**counts)}),
                        status_code=303)

    @get("/{warning_id:int}")
    async def detail(self, request: Request, actor: Actor, warning_id: int, ok: str = "") -> Template:
        return await self._page(request, actor, warning_id, notice=t(NOTICES[ok]) if ok in NOTICES else "")

    async def _page(self, request: Request, actor: Actor, warning_id: int, *, errors=(), form=None,
                    notice: str = "", status: int = 200) -> Template:
        return await page(request, "supervision/detail.html", status_code=status,
                          w=await service.get(actor, warning_id, mark_seen=True), errors=list(errors),
                          form=form or {}, notice=notice, answers=rules.ANSWERS)

    async def _act(self, request: Request, actor: Actor, warning_id: int, form, change, ok: str) -> Response:
        try:
            await change
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            return await self._page(request, actor, warning_id, errors=exc.problems, form=dict(form),
                                    status=exc.status_code)
        return Redirect(f"/warnings/{warning_id}?ok={ok}", status_code=303)

    @post("/{warning_id:int}/answer")
    async def answer(self, request: Request, actor: Actor, warning_id: int) -> Response:
        form = await request.form()
        files = []
        for upload in form.getall("files", []):
            if upload is None or isinstance(upload, str):
                continue
            files.append((getattr(upload, "filename", "") or "附件", await upload.read()))
        return await self._act(request, actor, warning_id, form, service.answer(
            actor, warning_id, str(form.get("kind", "")), str(form.get("answer", "")), files,
            form_version(form)), "answered")

    @post("/{warning_id:int}/close")
    async def close(self, request: Request, actor: Actor, warning_id: int) -> Response:
        form = await request.form()
        return await self._act(request, actor, warning_id, form, service.close(
            actor, warning_id, str(form.get("note", "")), form_version(form)), "closed")

    @post("/{warning_id:int}/escalate")
    async def escalate(self, request: Request, actor: Actor, warning_id: int) -> Response:
        form = await request.form()
        return await self._act(request, actor, warning_id, form, service.escalate(
            actor, warning_id, str(form.get("note", "")), form_version(form)), "escalated")

    @get("/{warning_id:int}/files/{attachment_id:int}")
    async def download(self, actor: Actor, warning_id: int, attachment_id: int) -> File:
        info, path = await service.attachment(actor, warning_id, attachment_id)
        return File(path=path, filename=info.filename, media_type=info.content_type,
                    content_disposition_type="attachment",
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
