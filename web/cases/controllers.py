"""病例登记 pages: record a case (fields from the technology's QC indicators, htmx), the
institution's cases, one case, the spreadsheet template and upload with its progress."""

from __future__ import annotations

import datetime as dt
from typing import Any

import anyio
import msgspec
from litestar import Controller, Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.response import Redirect, Response, Template

from core import listing
from core.accounts.schemas import Actor
from core.cases import corrections, service, spreadsheet
from core.cases.rules import OUTCOMES, CaseInput
from core.errors import DomainError, NotFound, Problem
from core.plugins import HookView
from web.context import roles_required
from web.listing import answer, params_of, wants_export
from web.render import page, partial

# Who opens the case pages: those who record, the hospital head (reading), and the
# region's regulators and QC centre (reading their region's cases, pseudonymous).
recorders = [roles_required(*service.RECORDERS, "dept_head", "hospital_head", "regulator", "qc_center")]
FIELDS = ("case_id", "patient_key", "admitted_on", "operated_on", "discharged_on", "indication", "outcome",
          "complications", "adverse_events", "follow_up", "operation_code")


def case_from_form(form: Any) -> tuple[CaseInput | None, list[Problem], dict]:
    """The page's form → a case; a date that is not a date is a problem on its field.
    Returns what was typed too, so nothing is lost on an error."""
    typed = {k: str(form.get(k, "")).strip() for k in (*FIELDS, "technology_code")}
    typed["operators"] = [v for v in form.getall("operators", []) if v]
    typed["assistants"] = [v for v in form.getall("assistants", []) if v]
    for flag in ("complication", "adverse_event", "consent"):
        typed[flag] = form.get(flag) in ("on", "1", "true", "是")
    typed["qc_values"] = {k[3:]: str(v).strip() for k, v in form.items() if k.startswith("qc:") and str(v).strip()}
    problems = []
    data = dict(typed)
    for field in ("admitted_on", "operated_on", "discharged_on"):
        try:
            data[field] = dt.date.fromisoformat(typed[field])
        except ValueError:
            problems.append(Problem("请填写日期，如 2026-03-01", field, "NAT-37"))
    if problems:
        return None, problems, typed
    return msgspec.convert(data, CaseInput), [], typed


_LIMITER: list[anyio.CapacityLimiter] = []


def _parse_limiter() -> anyio.CapacityLimiter:
    if not _LIMITER:
        _LIMITER.append(anyio.CapacityLimiter(2))
    return _LIMITER[0]


class CaseController(Controller):
    path = "/cases"
    guards = recorders

    async def _index(self, request: Request, actor: Actor, hooks: HookView, *, code: str = "", errors=(),
                     typed: dict | None = None, status: int = 200) -> Template:
        may_record = actor.has(*service.RECORDERS) and actor.institution_id is not None
        ctx = await service.form_context(actor, hooks, code or (typed or {}).get("technology_code")) \
            if may_record else {}
        spec = await service.list_spec(actor)
        cases = await listing.fetch(spec, params_of(request, spec), await service.case_scope(actor))
        return await page(request, "cases/index.html", status_code=status, cases=cases,
                          errors=list(errors), typed=typed or {}, may_record=may_record,
                          regional=actor.institution_id is None, **ctx)

    @get("/")
    async def index(self, request: Request, actor: Actor, hooks: HookView, technology_code: str = "") -> Response:
        """The case form (for those who record) and the list: search, filters, sort, pages;
        ``?format=xlsx`` exports every matching case (issue 11 point 11)."""
        if wants_export(request):
            spec = await service.list_spec(actor)
            return await answer(request, spec, await service.case_scope(actor), "cases")
        return await self._index(request, actor, hooks, code=technology_code)

    @get("/fields")
    async def fields(self, actor: Actor, hooks: HookView, technology_code: str = "") -> Template:
        """htmx: the indicator fields of the chosen technology."""
        ctx = await service.form_context(actor, hooks, technology_code)
        return partial("cases/_indicator_fields.html", errors=[], typed={}, **ctx)

    @post("/")
    async def record(self, request: Request, actor: Actor, hooks: HookView) -> Response:
        if not actor.has(*service.RECORDERS) or actor.institution_id is None:
            raise NotFound("未找到")  # readers (the hospital head, regulators) do not record
        form = await request.form()
        case, problems, typed = case_from_form(form)
        typed["declare_unauthorised"] = form.get("declare_unauthorised") in ("on", "1", "true")
        if case is not None:
            try:
                results = await service.record_cases(actor, hooks, [case], source="page", label="case",
                                                     declare_unauthorised=typed["declare_unauthorised"])
            except DomainError as exc:
                problems = [Problem(p.message, (p.field or "").removeprefix("case[0].") or None, p.rule)
                            for p in exc.problems]
        if problems:
            return await self._index(request, actor, hooks, errors=problems, typed=typed, status=422)
        return Redirect(f"/cases/{results[0].id}?saved=1", status_code=303)

    async def _detail(self, request: Request, actor: Actor, case_id: int, *, saved: str = "", errors=(),
                      typed: dict | None = None, form: str = "", status: int = 200) -> Template:
        from core.people.service import case_findings

        view = await service.case_view(actor, case_id)
        return await page(request, "cases/detail.html", status_code=status, saved=saved, errors=list(errors),
                          typed=typed or {}, open_form=form, outcomes=list(OUTCOMES.items()),
                          operator_findings=await case_findings(case_id), **view.context())

    @get("/{case_id:int}")
    async def detail(self, request: Request, actor: Actor, case_id: int, saved: str = "",
                     version: int = 0) -> Template:
        return await self._detail(request, actor, case_id, saved=saved)

    @post("/{case_id:int}/correct")
    async def correct(self, request: Request, actor: Actor, hooks: HookView, case_id: int) -> Response:
        """Medical affairs corrects a reported case (NAT-37): reason, new version, audit, message."""
        form = await request.form()
        row = await service.get_case(actor, case_id)
        change, problems, typed = corrections.correction_from_form(form, row)
        typed["reason"] = str(form.get("reason", "")).strip()
        if change is not None:
            try:
                await corrections.correct(actor, hooks, case_id, change, typed["reason"])
            except DomainError as exc:
                if exc.status_code in (403, 404):
                    raise
                problems = list(exc.problems)
        if problems:
            return await self._detail(request, actor, case_id, errors=problems, typed=typed, form="correct",
                                      status=422)
        return Redirect(f"/cases/{case_id}?saved=correct", status_code=303)

    @post("/{case_id:int}/void")
    async def void(self, request: Request, actor: Actor, hooks: HookView, case_id: int) -> Response:
        """Medical affairs voids a case recorded in error, with a reason (NAT-37)."""
        form = await request.form()
        reason = str(form.get("reason", "")).strip()
        try:
            await corrections.void(actor, hooks, case_id, reason)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return await self._detail(request, actor, case_id, errors=exc.problems, typed={"void_reason": reason},
                                      form="void", status=422)
        return Redirect(f"/cases/{case_id}?saved=void", status_code=303)

    @post("/{case_id:int}/follow-up")
    async def follow_up(self, request: Request, actor: Actor, hooks: HookView, case_id: int) -> Response:
        """30-day 转归 and mortality, added after discharge (HOSP-15)."""
        form = await request.form()
        typed = {k: str(form.get(k, "")).strip() for k in ("outcome", "followed_on", "note")}
        typed["died"] = form.get("died") in ("on", "1", "是")
        problems: list[Problem] = []
        try:
            day = dt.date.fromisoformat(typed["followed_on"])
        except ValueError:
            problems = [Problem("请填写随访日期，如 2026-04-20", "followed_on", "HOSP-15")]
        if not problems:
            try:
                await corrections.add_follow_up(actor, hooks, case_id, corrections.FollowUp(
                    outcome=typed["outcome"], died=typed["died"], followed_on=day, note=typed["note"]))
            except DomainError as exc:
                if exc.status_code in (403, 404):
                    raise
                problems = list(exc.problems)
        if problems:
            return await self._detail(request, actor, case_id, errors=problems, typed=typed, form="follow_up",
                                      status=422)
        return Redirect(f"/cases/{case_id}?saved=follow_up", status_code=303)

    @get("/template.xlsx")
    async def template(self, actor: Actor, hooks: HookView, technology_code: str = "") -> Response:
        ctx = await service.form_context(actor, hooks, technology_code)
        if ctx["chosen"] is None:
            raise DomainError(Problem("本机构尚无已准入的技术", "technology_code", "HOSP-3"))
        data = spreadsheet.template_xlsx(ctx["indicators"], ctx["projects"][0]["label"] if not technology_code
                                         else next(p["label"] for p in ctx["projects"] if p["code"] == ctx["code"]))
        return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="case-template-{ctx["code"]}.xlsx"'})

    @post("/upload")
    async def upload(self, request: Request, actor: Actor, hooks: HookView) -> Response:
        if not actor.has(*service.RECORDERS) or actor.institution_id is None:
            raise NotFound("未找到")
        form = await request.form()
        code = str(form.get("technology_code", "")).strip()
        upload = form.get("file")
        try:
            if upload is None or isinstance(upload, str):
                raise DomainError(Problem("请选择要上传的 XLSX 或 CSV 文件", "file"))
            # Parsed in a worker thread (at most two at a time): other users do not wait.
            rows = await anyio.to_thread.run_sync(spreadsheet.read_rows, upload.filename or "", await upload.read(),
                                                  limiter=_parse_limiter())
            job_id = await service.start_import(actor, code, upload.filename or "", rows,
                                                declare_unauthorised=form.get("declare_unauthorised") in ("on", "1"))
        except DomainError as exc:
            return await self._index(request, actor, hooks, code=code, errors=exc.problems,
                                     typed={"technology_code": code}, status=422)
        # The check and the import run after the answer; the page polls the job's progress.
        return Redirect(f"/cases/imports/{job_id}", status_code=303,
                        background=BackgroundTask(service.run_import, actor, hooks, job_id))

    @get("/imports/{job_id:int}")
    async def import_status(self, request: Request, actor: Actor, job_id: int) -> Template:
        job = await service.get_import(actor, job_id)
        if request.headers.get("hx-request"):
            return partial("cases/_import.html", job=job)
        return await page(request, "cases/import.html", job=job)

