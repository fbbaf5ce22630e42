"""新技术准入 pages: projects, the application form, the steps, the inbox, publicity,
the yearly round, printable PDFs, and attachments served within the tenant."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import File, Redirect, Response, Template

from core import clock, listing
from core.accounts.roles import HOSPITAL_ROLES
from core.accounts.schemas import Actor
from core.admission import links, service
from core.admission.schemas import (
    CLASS_LABELS,
    DECISION_LABELS,
    PATH_LABELS,
    STATUS_LABELS,
    VOTE_LABELS,
)
from core.errors import Conflict, DomainError, NotFound, Problem
from core.plugins import HookView
from core.storage import service as storage
from web.admission.forms import answers_from, table_rows
from web.admission.pdf import render_pdf
from web.context import roles_required
from web.forms import form_int, form_version
from web.limits import in_range
from web.listing import answer, params_of, wants_export
from web.render import page, partial

hospital_users = [roles_required(*HOSPITAL_ROLES, "admin")]
LABELS = {"status": STATUS_LABELS, "path": PATH_LABELS, "cls": CLASS_LABELS, "decision": DECISION_LABELS,
          "vote": VOTE_LABELS}


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value).strip()) if str(value or "").strip() else None
    except ValueError:
        raise DomainError(Problem("日期格式应为 2026-03-01", None)) from None


async def _upload(form: Any, name: str = "file") -> tuple[str, bytes] | None:
    upload = form.get(name)
    if upload is None or isinstance(upload, str):
        return None
    data = await upload.read()
    return (upload.filename or "附件", data) if data else None


class AdmissionController(Controller):
    path = "/admission"
    guards = hospital_users

    @get("/")
    async def index(self, request: Request, actor: Actor, hooks: HookView, tech_q: str = "") -> Response:
        """The work list, the new-project form (``tech_q`` searches the catalogue) and the
        project list (search, filters, sort, pages; ``?format=xlsx`` exports it)."""
        if wants_export(request):
            return await answer(request, *service.project_list(actor), "projects")
        return await self._index(request, actor, hooks, q=tech_q)

    async def _index(self, request: Request, actor: Actor, hooks: HookView, *, q: str = "", errors=(),
                     form: dict | None = None, status: int = 200) -> Template:
        choices = await links.technology_choices(hooks, q) if actor.has("clinician") else []
        spec, scope = service.project_list(actor)
        return await page(
            request, "admission/index.html", status_code=status, projects=await listing.fetch(spec, params_of(
                request, spec), scope),
            items=await service.inbox(actor), round=await service.current_round(actor.institution_id or -1),
            choices=choices, q=q, errors=list(errors), form=form or {}, L=LABELS,
        )

    @post("/projects")
    async def create(self, request: Request, actor: Actor, hooks: HookView) -> Response:
        form = await request.form()
        tech = str(form.get("technology_id") or "").strip()
        data = service.NewProject(title=str(form.get("title", "")), path=str(form.get("path", "round")),
                                  technology_id=int(tech) if tech.isdigit() and in_range(int(tech)) else None,
                                  outside_lists=tech == "outside")
        try:
            project_id = await service.create_project(actor, hooks, data)
        except DomainError as exc:
            return await self._index(request, actor, hooks, errors=exc.problems, form=dict(form), status=422)
        return Redirect(f"/admission/projects/{project_id}", status_code=303)

    @get("/inbox")
    async def inbox(self, request: Request, actor: Actor) -> Template:
        return await page(request, "admission/inbox.html", items=await service.inbox(actor))

    @get("/publicity")
    async def publicity(self, request: Request, actor: Actor) -> Template:
        """HOSP-10: every hospital user reads the projects in publicity."""
        return await page(request, "admission/publicity.html", projects=await service.publicity_list(actor), L=LABELS)

    # ------------------------------------------------------------ one project

    async def _project(self, request: Request, actor: Actor, hooks: HookView, project_id: int, *, errors=(),
                       answers: dict | None = None, status: int = 200, notice: str = "") -> Template:
        view = await service.project_view(actor, hooks, project_id)
        values = dict(view.project["form"] or {}) | (answers or {})
        deliveries = []
        if view.project["university_filed_on"] and actor.has("medical_affairs"):
            try:
                from core.outbox.service import delivery_status

                deliveries = await delivery_status("project", project_id)
            except ImportError:
                deliveries = []
        use = None
        if view.project["status"] == "admitted":
            from core.lifecycle import service as lifecycle

            use = await lifecycle.summary(view.project["institution"], lifecycle.technology_key(
                view.project["technology_code"], project_id), project_id, hooks)
        lead_requirement = None
        if view.project["tech_class"] == "restricted" and view.project.get("technology_ref"):
            from core.admission import links

            cited = await links.cited(view.project["technology_ref"])
            lead_requirement = {"lead": getattr(cited, "lead", None)}
        return await page(
            request, "admission/project.html", status_code=status, errors=list(errors), values=values,
            lead_requirement=lead_requirement, table_rows=table_rows, experts=await service.experts(actor) if view.can.panel else [],
            versions=await service.versions(actor, project_id), L=LABELS, notice=notice,
            deliveries=deliveries, use=use, **view.context(),
        )

    @get("/projects/{project_id:int}")
    async def project(self, request: Request, actor: Actor, hooks: HookView, project_id: int,
                      ok: str = "") -> Template:
        return await self._project(request, actor, hooks, project_id, notice=ok)

    @post("/projects/{project_id:int}")
    async def save(self, request: Request, actor: Actor, hooks: HookView, project_id: int) -> Response:
        """Save the draft (action=save), submit it (action=submit) or withdraw (action=withdraw)."""
        form = await request.form()
        action = form.get("action", "save")
        view = await service.project_view(actor, hooks, project_id)
        answers = answers_from(form, view.spec)
        try:
            if action == "withdraw":
                await service.withdraw(actor, project_id, form_version(form), str(form.get("reason", "")))
                return Redirect(f"/admission/projects/{project_id}?ok=withdrawn", status_code=303)
            if action == "submit":
                await service.submit(actor, hooks, project_id, answers, str(form.get("title", "")))
                return Redirect(f"/admission/projects/{project_id}?ok=submitted", status_code=303)
            problems = await service.save_draft(actor, hooks, project_id, answers, str(form.get("title", "")),
                                                path=str(form.get("path", "")) or None)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._project(request, actor, hooks, project_id, errors=exc.problems, answers=answers,
                                       status=exc.status_code)
        if problems:
            return await self._project(request, actor, hooks, project_id, errors=problems, answers=answers,
                                       status=422, notice="saved")
        return Redirect(f"/admission/projects/{project_id}?ok=saved", status_code=303)

    @post("/projects/{project_id:int}/validate")
    async def validate(self, request: Request, actor: Actor, hooks: HookView, project_id: int,
                       field: str = "") -> Template:
        """htmx: check one field as the user leaves it; answers the field's error slot."""
        form = await request.form()
        view = await service.project_view(actor, hooks, project_id)
        spec_field = view.spec.field(field)
        if spec_field is None:
            from core.errors import NotFound

            raise NotFound("未找到该字段")
        problems = await service.check_field(actor, hooks, project_id, field, form.get(field, ""))
        return partial("admission/_field_errors.html", field=spec_field, errors=problems)

    @post("/projects/{project_id:int}/step")
    async def step(self, request: Request, actor: Actor, hooks: HookView, project_id: int) -> Response:
        """Act on the current step: decide, vote, panel, proceed (HOSP-7), objection,
        close (publicity), document, filing."""
        form = await request.form()
        action = str(form.get("action", ""))
        handler = STEP_ACTIONS.get(action)
        try:
            if handler is None:
                raise DomainError(Problem("未知的操作", "action"))
            await handler(self, request, actor, hooks, project_id, form, form_version(form))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._project(request, actor, hooks, project_id, errors=exc.problems,
                                       status=exc.status_code)
        return Redirect(f"/admission/projects/{project_id}?ok={action}", status_code=303)

    async def _documents(self, request: Request, actor: Actor, hooks: HookView,
                         project_id: int) -> dict[str, tuple[str, bytes]]:
        """HOSP-11 materials: the printed application form and, if issued, the approval document."""
        page_ = await service.project_view(actor, hooks, project_id)
        view = page_.context() | {"L": LABELS}
        docs = {"application": (f"申请表-{project_id}.pdf", await render_pdf(request, "admission/pdf_form.html", view))}
        if page_.project["document_no"]:
            docs["approval"] = (f"准入文件-{project_id}.pdf",
                                await render_pdf(request, "admission/pdf_approval.html", view))
        return docs

    @post("/projects/{project_id:int}/attachments")
    async def attach(self, request: Request, actor: Actor, hooks: HookView, project_id: int) -> Response:
        """Upload evidence (HOSP-6) or other files; ``kind=ethics_proof`` submits the
        deferred ethics approval (HOSP-7)."""
        form = await request.form()
        upload = await _upload(form)
        kind = str(form.get("kind", "evidence"))
        upload = upload or ("", b"")
        try:
            if kind == "ethics_proof":
                await service.submit_ethics_proof(actor, hooks, project_id, *upload)
            else:
                await service.attach(actor, project_id, upload[0], upload[1], kind)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._project(request, actor, hooks, project_id, errors=exc.problems,
                                       status=exc.status_code)
        return Redirect(f"/admission/projects/{project_id}?ok=uploaded", status_code=303)

    @get("/projects/{project_id:int}/pdf/{document:str}")
    async def pdf(self, request: Request, actor: Actor, hooks: HookView, project_id: int,
                  document: str) -> Response:
        """The application form (``form``) or the approval document (``approval``), to print,
        stamp and sign."""
        view = await service.project_view(actor, hooks, project_id)
        if document not in ("form", "approval") or (document == "approval" and not view.project["document_no"]):
            from core.errors import NotFound

            raise NotFound("未找到该文件")
        body = await render_pdf(request, f"admission/pdf_{document}.html", view.context() | {"L": LABELS})
        name = "application" if document == "form" else "approval"
        return Response(body, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{name}-{project_id}.pdf"'})

    # ------------------------------------------------------------ the yearly round (HOSP-4)

    @get("/rounds", guards=[roles_required("medical_affairs")])
    async def rounds(self, request: Request, actor: Actor) -> Template:
        return await self._rounds(request, actor)

    async def _rounds(self, request: Request, actor: Actor, errors=(), status: int = 200) -> Template:
        year = clock.today().year
        return await page(request, "admission/rounds.html", status_code=status, rounds=await service.list_rounds(actor),
                          errors=list(errors), year=year)

    @post("/rounds", guards=[roles_required("medical_affairs")])
    async def open_round(self, request: Request, actor: Actor) -> Response:
        form = await request.form()
        try:
            year = form_int(form, "year", label="年度", default=0) or 0
            await service.open_round(actor, year, _date(form.get("opens_on")), _date(form.get("closes_on")))
        except ValueError:
            return await self._rounds(request, actor, [Problem("请填写年度", "year")], 422)
        except DomainError as exc:
            return await self._rounds(request, actor, exc.problems, 422)
        return Redirect("/admission/rounds", status_code=303)

    @post("/rounds/{round_id:int}/close", guards=[roles_required("medical_affairs")])
    async def close_round(self, request: Request, actor: Actor, round_id: int) -> Response:
        await service.close_round(actor, round_id)
        return Redirect("/admission/rounds", status_code=303)


# ---------------------------------------------------------------- the step form's actions
# One handler per form action (reading the form, calling the use case); which actions the
# current step offers, and to whom, is its kind's (core.admission.kinds).


async def _decide(ctl, request, actor, hooks, project_id, form, version) -> None:
    considerations = {k[2:]: str(v) for k, v in form.items() if k.startswith("c_")}
    upload = await _upload(form)
    await service.decide(actor, hooks, project_id, service.Decision(
        version=version, decision=str(form.get("decision", "")), reason=str(form.get("reason", "")),
        considerations=considerations), files=[upload] if upload else None)


async def _vote(ctl, request, actor, hooks, project_id, form, version) -> None:
    scores = {k[2:]: str(v) for k, v in form.items() if k.startswith("s_")}
    await service.vote(actor, hooks, project_id, service.Ballot(
        vote=str(form.get("vote", "")), score=str(form.get("score", "")), scores=scores,
        comment=str(form.get("comment", ""))))


async def _panel(ctl, request, actor, hooks, project_id, form, version) -> None:
    await service.assemble_panel(actor, hooks, project_id, version,
                                 [int(i) for i in form.getall("experts", []) if str(i).isdigit() and in_range(int(i))])


async def _proceed(ctl, request, actor, hooks, project_id, form, version) -> None:
    await service.proceed_without_ethics(actor, hooks, project_id, version, str(form.get("reason", "")))


async def _objection(ctl, request, actor, hooks, project_id, form, version) -> None:
    await service.lodge_objection(actor, project_id, str(form.get("text", "")))


async def _answer(ctl, request, actor, hooks, project_id, form, version) -> None:
    objection = form_int(form, "objection_id", label="异议", default=0) or 0
    await service.answer_objection(actor, objection,
                                   str(form.get("answer", "")), project_id=project_id)


async def _close(ctl, request, actor, hooks, project_id, form, version) -> None:
    await service.close_publicity(actor, hooks, project_id, version)


async def _document(ctl, request, actor, hooks, project_id, form, version) -> None:
    await service.issue_document(actor, hooks, project_id, version, str(form.get("document_no", "")))


async def _filing(ctl, request, actor, hooks, project_id, form, version) -> None:
    await service.file_with_university(actor, hooks, project_id, version,
                                       documents=await ctl._documents(request, actor, hooks, project_id))


STEP_ACTIONS = {"decide": _decide, "vote": _vote, "panel": _panel, "proceed": _proceed, "objection": _objection,
                "answer": _answer, "close": _close, "document": _document, "filing": _filing}


async def _read_filing(actor: Actor, filing_id: int) -> None:
    from core.filing import service as filing

    await filing.readable(actor, filing_id)


_OWNER_READERS = {"project": service.get_project, "filing": _read_filing}


class FileController(Controller):
    """Attachments, served only to users of the tenant that holds them."""

    path = "/files"
    guards = hospital_users

    @get("/{attachment_id:int}")
    async def download(self, actor: Actor, attachment_id: int) -> File:
        info, path = await storage.read(actor, attachment_id)
        # A file is readable by exactly those who may read the record it belongs to
        # (drafts stay their lead's; a filing's materials its readers'); any other
        # owner type is served by its own record's route, never here.
        reader = _OWNER_READERS.get(info.owner_type)
        if reader is None:
            raise NotFound("未找到该附件")
        await reader(actor, info.owner_id)
        return File(path=path, filename=info.filename, media_type=info.content_type,
                    content_disposition_type="inline" if info.content_type != "application/pdf" else "attachment",
                    headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


__all__ = ["AdmissionController", "FileController", "Conflict"]
