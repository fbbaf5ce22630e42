"""限制类技术备案 pages: medical affairs assembles and submits a filing; the regulator's
desk returns, completes, withdraws and cancels; the consistency check; the
public lists of filed institutions (NAT-40) and disclosure (NAT-24)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import File, Redirect, Response, Template

from core import clock, listing
from core.accounts.schemas import Actor
from core.errors import DomainError
from core.filing import service
from core.outbox import service as outbox
from core.plugins import HookView
from web.admission.pdf import render_pdf
from web.context import load_actor, load_hooks, roles_required
from web.forms import form_date, form_version
from web.listing import answer, params_of, wants_export
from web.render import page

READERS = ("medical_affairs", "hospital_head", "regulator", "qc_center", "admin")
NOTICES = {
    "opened": "已登记首例病例，备案已开启", "saved": "备案信息已保存", "uploaded": "材料已上传",
    "submitted": "备案已提交，正在通过报送渠道发送", "returned": "已退回补正", "completed": "已完成备案",
    "annotation": "副本备注已登记", "withdrawal": "撤销申请已提交", "withdrawn": "备案已撤销", "cancelled": "备案已注销",
}




def _rows(form: Any) -> list[dict]:
    """The physicians table: parallel lists phys_user / phys_sex / phys_scope / phys_title."""
    cols = {c: form.getall(f"phys_{c}", []) for c in ("user", "sex", "scope", "title")}
    rows = []
    for i, uid in enumerate(cols["user"]):
        rows.append({"user_id": uid, "sex": (cols["sex"][i:i + 1] or [""])[0],
                     "scope": (cols["scope"][i:i + 1] or [""])[0], "title": (cols["title"][i:i + 1] or [""])[0]})
    return [r for r in rows if str(r["user_id"]).strip()]


class FilingController(Controller):
    path = "/filings"
    guards = [roles_required(*READERS)]

    @get("/")
    async def index(self, request: Request, actor: Actor, ok: str = "") -> Response:
        if wants_export(request) and actor.institution_id is not None:
            return await answer(request, *service.hospital_list(actor), "filings")
        return await self._index(request, actor, notice=ok)

    async def _index(self, request: Request, actor: Actor, *, errors=(), form: dict | None = None,
                     status: int = 200, notice: str = "") -> Template:
        if actor.institution_id is None and not actor.is_admin:
            return Redirect("/filings/desk", status_code=303)  # type: ignore[return-value]
        waiting = await service.awaiting_first_case(actor) if actor.has("medical_affairs") else []
        spec, scope = service.hospital_list(actor)
        filings = await listing.fetch(spec, params_of(request, spec), scope)
        return await page(request, "filing/index.html", status_code=status, filings=filings,
                          waiting=waiting, errors=list(errors), form=form or {}, notice=NOTICES.get(notice, ""),
                          today=clock.today())

    # ------------------------------------------------------------ the regulator's desk

    @get("/desk", guards=[roles_required("regulator", "qc_center", "admin")])
    async def desk(self, request: Request, actor: Actor, hooks: HookView) -> Response:
        """The regulator's desk: search, filters, sort (waiting first), pages, XLSX export."""
        filings = await answer(request, *await service.desk_list(actor, hooks), "filing-desk")
        if isinstance(filings, Response):
            return filings
        return await page(request, "filing/desk.html", filings=filings, today=clock.today(),
                          pushes=await service.pushes(actor), now=outbox.now_utc())

    @get("/consistency", guards=[roles_required("regulator", "qc_center", "admin")])
    async def consistency(self, request: Request, actor: Actor, hooks: HookView) -> Template:
        """Licence annotations missing or disagreeing; cases without a completed filing."""
        return await page(request, "filing/consistency.html", **await service.consistency(actor, hooks))

    # ------------------------------------------------------------ one filing

    async def _filing(self, request: Request, actor: Actor, hooks: HookView, filing_id: int, *, errors=(),
                      status: int = 200, notice: str = "", typed: dict | None = None) -> Template:
        view = await service.filing_view(actor, hooks, filing_id)
        return await page(request, "filing/filing.html", status_code=status, errors=list(errors),
                          notice=NOTICES.get(notice, ""), typed=typed or {}, **view.context())

    @get("/{filing_id:int}")
    async def filing(self, request: Request, actor: Actor, hooks: HookView, filing_id: int, ok: str = "") -> Template:
        return await self._filing(request, actor, hooks, filing_id, notice=ok)

    @get("/{filing_id:int}/deliveries")
    async def deliveries(self, request: Request, actor: Actor, hooks: HookView, filing_id: int) -> Template:
        """htmx: the delivery status partial, polled while something is in flight."""
        view = await service.filing_view(actor, hooks, filing_id)
        return Template("outbox/_status.html", context={"deliveries": view.deliveries})

    async def _act(self, request: Request, actor: Actor, hooks: HookView, filing_id: int, action, ok: str,
                   typed: dict | None = None) -> Response:
        try:
            await action()
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._filing(request, actor, hooks, filing_id, errors=exc.problems,
                                      status=exc.status_code, typed=typed)
        return Redirect(f"/filings/{filing_id}?ok={ok}", status_code=303)

    @post("/{filing_id:int}/details")
    async def details(self, request: Request, actor: Actor, hooks: HookView, filing_id: int) -> Response:
        form = await request.form()
        answers = {k[5:]: str(v) for k, v in form.items() if k.startswith("form_")}
        data = service.FilingDetails(
            version=form_version(form), self_assessment=str(form.get("self_assessment", "")),
            assessment_basis=str(form.get("assessment_basis", "")),
            assessment_reference=str(form.get("assessment_reference", "")), form=answers, physicians=_rows(form))
        typed = {"self_assessment": data.self_assessment, "assessment_basis": data.assessment_basis,
                 "assessment_reference": data.assessment_reference, "form": answers}
        return await self._act(request, actor, hooks, filing_id,
                               lambda: service.save_details(actor, hooks, filing_id, data), "saved", typed)

    @post("/{filing_id:int}/materials")
    async def upload(self, request: Request, actor: Actor, hooks: HookView, filing_id: int) -> Response:
        form = await request.form()
        upload = form.get("file")
        data = await upload.read() if upload is not None and not isinstance(upload, str) else b""
        name = getattr(upload, "filename", "") or "附件"
        return await self._act(request, actor, hooks, filing_id, lambda: service.upload_material(
            actor, hooks, filing_id, str(form.get("material", "")), name, data), "uploaded")

    @get("/{filing_id:int}/files/{attachment_id:int}")
    async def download(self, actor: Actor, filing_id: int, attachment_id: int) -> File:
        info, path = await service.attachment(actor, filing_id, attachment_id)
        return File(path=path, filename=info.filename, media_type=info.content_type,
                    content_disposition_type="attachment",
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})

    @get("/{filing_id:int}/form.pdf")
    async def form_pdf(self, request: Request, actor: Actor, hooks: HookView, filing_id: int) -> Response:
        """The province's filing form, filled in, to print, sign and stamp."""
        doc = await service.form_document(actor, hooks, filing_id)
        body = await render_pdf(request, doc["spec"].template, doc)
        return Response(body, media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="filing-form-{filing_id}.pdf"'})

    @post("/{filing_id:int}/submit")
    async def submit(self, request: Request, actor: Actor, hooks: HookView, filing_id: int) -> Response:
        form = await request.form()
        version = str(form.get("version") or "")
        return await self._act(request, actor, hooks, filing_id, lambda: service.submit(
            actor, hooks, filing_id, int(version) if version.isdigit() else None), "submitted")

    @post("/{filing_id:int}/withdrawal")
    async def request_withdrawal(self, request: Request, actor: Actor, hooks: HookView, filing_id: int) -> Response:
        form = await request.form()
        return await self._act(request, actor, hooks, filing_id, lambda: service.request_withdrawal(
            actor, hooks, filing_id, str(form.get("reason", ""))), "withdrawal")

    @post("/{filing_id:int}/return")
    async def return_filing(self, request: Request, actor: Actor, hooks: HookView, filing_id: int) -> Response:
        form = await request.form()
        return await self._act(request, actor, hooks, filing_id, lambda: service.return_filing(
            actor, hooks, filing_id, str(form.get("reason", ""))), "returned")

    @post("/{filing_id:int}/complete")
    async def complete(self, request: Request, actor: Actor, hooks: HookView, filing_id: int) -> Response:
        form = await request.form()

        async def act():
            await service.complete(actor, hooks, filing_id, form_date(form.get("completed_on"), "completed_on"))

        return await self._act(request, actor, hooks, filing_id, act, "completed")

    @post("/{filing_id:int}/annotation")
    async def annotation(self, request: Request, actor: Actor, hooks: HookView, filing_id: int) -> Response:
        form = await request.form()
        return await self._act(request, actor, hooks, filing_id, lambda: service.record_annotation(
            actor, hooks, filing_id, str(form.get("annotation", ""))), "annotation")

    @post("/{filing_id:int}/confirm-withdrawal")
    async def confirm_withdrawal(self, request: Request, actor: Actor, hooks: HookView, filing_id: int) -> Response:
        return await self._act(request, actor, hooks, filing_id,
                               lambda: service.confirm_withdrawal(actor, hooks, filing_id), "withdrawn")

    @post("/{filing_id:int}/cancel")
    async def cancel(self, request: Request, actor: Actor, hooks: HookView, filing_id: int) -> Response:
        form = await request.form()
        return await self._act(request, actor, hooks, filing_id, lambda: service.cancel(
            actor, hooks, filing_id, str(form.get("ground", "")), str(form.get("reason", ""))), "cancelled")


class PublicFilingController(Controller):
    """Anonymous pages: no login, no session needed (NAT-24, NAT-40)."""

    path = "/public"

    async def _page(self, request: Request, template: str, **context: Any) -> Template:
        hooks = await load_hooks(request)
        return Template(template_name=template, context={
            "actor": await load_actor(request), "nav": [], "current_path": request.url.path,
            "fields": service.disclosure_fields(hooks), **context})

    @get("/filings")
    async def index(self, request: Request) -> Template:
        regions, techs = await service.public_regions()
        return await self._page(request, "filing/public_index.html", regions=regions, techs=techs,
                                institutions=await service.disclosing_institutions())

    @get("/filings/region/{region_id:int}")
    async def by_region(self, request: Request, region_id: int) -> Template:
        region, rows = await service.public_by_region(region_id)
        return await self._page(request, "filing/public_list.html", heading=f"{region['name']}限制类技术备案机构名单",
                                rows=rows, open_data=f"/open-data/regions/{region_id}/filings")

    @get("/filings/technology/{code:str}")
    async def by_technology(self, request: Request, code: str) -> Template:
        name, rows = await service.public_by_technology(code)
        return await self._page(request, "filing/public_list.html", heading=f"{code} {name} 备案机构名单", rows=rows)

    @get("/institutions/{institution_id:int}")
    async def disclosure(self, request: Request, institution_id: int) -> Template:
        inst, rows = await service.institution_disclosure(institution_id)
        return await self._page(request, "filing/public_institution.html", institution=inst, rows=rows,
                                grading=await service.grading_disclosure(institution_id))
