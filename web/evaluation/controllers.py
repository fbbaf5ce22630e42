"""Regulator evaluations (技术评估, seed 003): the region's list and the start form, an
evaluation's page (evidence, data requests, panel, sittings, conclusion), and the
institution's side of a data request (EVAL-6)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import File, Redirect, Template

from core import clock
from core.accounts.schemas import Actor
from core.catalog import service as catalog
from core.errors import DomainError, NotFound
from core.evaluation import periodic, rules
from core.evaluation import service as evaluation
from core.evaluation.schemas import REQUEST_STATUS_LABELS, STATUS_LABELS
from core.plugins import HookView
from web.context import login_required
from web.render import page

PANEL_ROWS = 11
FILE_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


async def _upload(form, key: str = "file") -> tuple[str, bytes]:
    upload = form.get(key)
    if upload is None or isinstance(upload, str):
        return "", b""
    return getattr(upload, "filename", "") or "附件", await upload.read()


def _labels() -> dict:
    return {"triggers": rules.TRIGGERS, "domains": rules.DOMAINS, "file_kinds": rules.FILE_KINDS,
            "fields": rules.FIELDS, "votes": rules.VOTES, "outcomes": rules.OUTCOMES,
            "outcome_short": rules.OUTCOME_SHORT, "status": STATUS_LABELS, "request_status": REQUEST_STATUS_LABELS,
            "results": rules.REVIEW_RESULTS, "adjustment_kinds": rules.ADJUSTMENT_KINDS}


class EvaluationController(Controller):
    path = "/evaluations"
    guards = [login_required]

    async def _index(self, request: Request, actor: Actor, hooks: HookView, errors=(), typed=None,
                     status: int = 200) -> Template:
        if not (actor.is_admin or actor.has(*evaluation.READERS, *evaluation.ANSWERERS)):
            raise NotFound("未找到")
        may_start = actor.has("regulator") and actor.region_id is not None
        return await page(
            request, "evaluation/index.html", status_code=status,
            evaluations=await evaluation.list_evaluations(actor), requests=await evaluation.requests_for(actor),
            may_start=may_start, technologies=await catalog.choices(hooks) if may_start else [],
            errors=list(errors), typed=typed or {}, L=_labels())

    @get("/")
    async def index(self, request: Request, actor: Actor, hooks: HookView) -> Template:
        return await self._index(request, actor, hooks)

    @post("/")
    async def start(self, request: Request, actor: Actor, hooks: HookView) -> Response:
        """EVAL-5: start an evaluation on one of the triggers (EVAL-12's exclusions refused)."""
        form = await request.form()
        typed = {k: str(form.get(k, "")) for k in ("trigger", "situation", "domain", "technology",
                                                    "technology_code", "technology_name", "current_class")}
        choice = typed["technology"].strip()
        data = evaluation.StartInput(
            trigger=_int(typed["trigger"]), situation=typed["situation"], domain=typed["domain"],
            technology_id=_int(choice) if choice != "outside" else None,
            technology_code=typed["technology_code"], technology_name=typed["technology_name"],
            current_class=typed["current_class"] or "routine")
        try:
            evaluation_id = await evaluation.start(actor, hooks, data)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._index(request, actor, hooks, exc.problems, typed, exc.status_code)
        return Redirect(f"/evaluations/{evaluation_id}?ok=started", status_code=303)

    async def _page(self, request: Request, actor: Actor, evaluation_id: int, errors=(), typed=None,
                    status: int = 200, ok: str = "") -> Template:
        view = await evaluation.view(actor, evaluation_id)
        return await page(request, "evaluation/detail.html", status_code=status, v=view, e=view.evaluation,
                          errors=list(errors), typed=typed or {}, ok=ok, L=_labels(), today=clock.today(),
                          panel_rows=PANEL_ROWS)

    @get("/{evaluation_id:int}")
    async def detail(self, request: Request, actor: Actor, evaluation_id: int, ok: str = "") -> Template:
        return await self._page(request, actor, evaluation_id, ok=ok[:20])

    async def _act(self, request: Request, actor: Actor, evaluation_id: int, action, ok: str,
                   typed: dict | None = None) -> Response:
        try:
            result = await action()
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._page(request, actor, evaluation_id, exc.problems, typed, exc.status_code)
        if ok == "sitting" and result is False:
            ok = "no_conclusion"
        return Redirect(f"/evaluations/{evaluation_id}?ok={ok}", status_code=303)

    @post("/{evaluation_id:int}/files")
    async def add_file(self, request: Request, actor: Actor, evaluation_id: int) -> Response:
        """EVAL-6: literature, a guideline or a consensus."""
        form = await request.form()
        name, data = await _upload(form)
        typed = {"file_kind": str(form.get("kind", "")), "file_title": str(form.get("title", ""))}
        return await self._act(request, actor, evaluation_id, lambda: evaluation.add_file(
            actor, evaluation_id, kind=typed["file_kind"], title=typed["file_title"], filename=name, data=data),
            "file", typed)

    @get("/{evaluation_id:int}/files/{file_id:int}")
    async def file(self, actor: Actor, evaluation_id: int, file_id: int) -> File:
        row, path = await evaluation.file_path(actor, evaluation_id, file_id)
        return File(path=path, filename=row["filename"], media_type=row["content_type"],
                    content_disposition_type="attachment", headers=FILE_HEADERS)

    @post("/{evaluation_id:int}/requests")
    async def request_data(self, request: Request, actor: Actor, hooks: HookView, evaluation_id: int) -> Response:
        """EVAL-6: call clinical data from institutions of the region."""
        form = await request.form()
        ids = [i for i in (_int(v) for v in form.getall("institutions", [])) if i is not None]
        typed = {"question": str(form.get("question", "")), "institutions": ids}
        return await self._act(request, actor, evaluation_id, lambda: evaluation.request_data(
            actor, hooks, evaluation_id, ids, typed["question"]), "requested", typed)

    @post("/{evaluation_id:int}/panel")
    async def panel(self, request: Request, actor: Actor, evaluation_id: int) -> Response:
        """EVAL-7: seat the panel (odd, at least 7, the three fields)."""
        form = await request.form()
        experts = []
        typed: dict[str, Any] = {}
        for i in range(PANEL_ROWS):
            row = {k: str(form.get(f"{k}_{i}", "")).strip() for k in ("name", "affiliation", "field")}
            typed.update({f"{k}_{i}": v for k, v in row.items()})
            if row["name"] or row["affiliation"]:
                experts.append(evaluation.ExpertInput(name=row["name"], field=row["field"],
                                                      affiliation=row["affiliation"]))
        return await self._act(request, actor, evaluation_id, lambda: evaluation.seat_panel(
            actor, evaluation_id, _int(form.get("version")) or 0, experts), "panel", typed)

    @post("/{evaluation_id:int}/sittings")
    async def sitting(self, request: Request, actor: Actor, hooks: HookView, evaluation_id: int) -> Response:
        """EVAL-7: one sitting's votes; a valid conclusion takes the measure (EVAL-8)."""
        form = await request.form()
        typed = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        votes = {}
        for key, value in form.items():
            if key.startswith("vote_") and (expert := _int(key[5:])) is not None:
                votes[expert] = (str(value), str(form.get(f"opinion_{expert}", "")))
        data = evaluation.SittingInput(
            held_on=_date(form.get("held_on")), outcome=str(form.get("outcome", "")),
            recommendation=str(form.get("recommendation", "")), effective_on=_date(form.get("effective_on")),
            votes=votes, specification=str(form.get("specification", "")),
            qc_indicators=str(form.get("qc_indicators", "")))
        return await self._act(request, actor, evaluation_id, lambda: evaluation.record_sitting(
            actor, hooks, evaluation_id, _int(form.get("version")) or 0, data), "sitting", typed)

    # ------------------------------------------------------------ the institution's own evaluation (NAT-22)

    async def _periodic(self, request: Request, actor: Actor, errors=(), typed=None, status: int = 200,
                        ok: str = "") -> Template:
        return await page(request, "evaluation/periodic.html", status_code=status,
                          technologies=await periodic.technologies(actor), reviews=await periodic.reviews(actor),
                          can_write=actor.has("medical_affairs"), errors=list(errors), typed=typed or {}, ok=ok,
                          L=_labels(), today=clock.today())

    @get("/periodic")
    async def periodic_page(self, request: Request, actor: Actor, ok: str = "") -> Template:
        return await self._periodic(request, actor, ok=ok[:20])

    @post("/periodic")
    async def periodic_record(self, request: Request, actor: Actor, hooks: HookView) -> Response:
        """NAT-22: the management committee's evaluation of a technology in use and its result."""
        form = await request.form()
        typed = {k: str(form.get(k, "")) for k in ("technology_key", "reviewed_on", "committee", "findings", "result",
                                                    "adjustments")}
        kinds = [str(k) for k in form.getall("adjustment_kinds")] if "adjustment_kinds" in form else []
        typed["adjustment_kinds"] = kinds
        data = periodic.ReviewInput(technology_key=typed["technology_key"], reviewed_on=_date(typed["reviewed_on"]),
                                    committee=typed["committee"], findings=typed["findings"], result=typed["result"],
                                    adjustments=typed["adjustments"], adjustment_kinds=kinds)
        try:
            await periodic.record(actor, hooks, data)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._periodic(request, actor, exc.problems, typed, exc.status_code)
        return Redirect(f"/evaluations/periodic?ok={typed['result'][:10]}", status_code=303)

    # ------------------------------------------------------------ an institution's data request (EVAL-6)

    async def _request(self, request: Request, actor: Actor, request_id: int, errors=(), typed=None,
                       status: int = 200, ok: str = "") -> Template:
        return await page(request, "evaluation/request.html", status_code=status,
                          r=await evaluation.request_view(actor, request_id), errors=list(errors),
                          typed=typed or {}, ok=ok, L=_labels())

    @get("/requests/{request_id:int}")
    async def data_request(self, request: Request, actor: Actor, request_id: int, ok: str = "") -> Template:
        return await self._request(request, actor, request_id, ok=ok[:20])

    @post("/requests/{request_id:int}")
    async def answer(self, request: Request, actor: Actor, hooks: HookView, request_id: int) -> Response:
        form = await request.form()
        answer = str(form.get("answer", ""))
        files = []
        for upload in form.getall("file", []):
            if upload is not None and not isinstance(upload, str):
                content = await upload.read()
                if content:
                    files.append((getattr(upload, "filename", "") or "附件", content))
        try:
            await evaluation.answer_request(actor, hooks, request_id, answer, files)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._request(request, actor, request_id, exc.problems, {"answer": answer}, exc.status_code)
        return Redirect(f"/evaluations/requests/{request_id}?ok=answered", status_code=303)

    @get("/requests/{request_id:int}/files/{attachment_id:int}")
    async def request_file(self, actor: Actor, request_id: int, attachment_id: int) -> File:
        info, path = await evaluation.request_file(actor, request_id, attachment_id)
        return File(path=path, filename=info.filename, media_type=info.content_type,
                    content_disposition_type="attachment", headers=FILE_HEADERS)
