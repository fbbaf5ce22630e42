"""风险预警 and 信誉评分 pages: the list (a regulator's region, an institution's own), one warning with
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
from core.supervision import credit, cusum, funnel, opendata, rules, service
from web.context import login_required, roles_required
from web.forms import form_version
from web.listing import answer, answer_rows
from web.render import page

NOTICES = {"answered": "warnings.answered", "closed": "warnings.closed", "escalated": "warnings.escalated"}


def _filters(status: str, rule: str) -> dict:
    return {"status": status if status in (*rules.STATUS_LABELS, "open") else "",
            "rule_key": rule[:40]}


class WarningController(Controller):
    path = "/warnings"
    guards = [login_required]

    @get("/")
    async def index(self, request: Request, actor: Actor, hooks: HookView, evaluated: str = "") -> Response:
        """The warnings: search, filters (open ones by default), sort, pages; ``?format=xlsx``
        exports every matching one (issue 11 point 11)."""
        warnings = await answer(request, *await service.warning_list(actor, hooks), "warnings", status="open")
        if isinstance(warnings, Response):
            return warnings
        return await page(request, "supervision/index.html", warnings=warnings, evaluated=evaluated)

    @get("/rules")
    async def rules_page(self, request: Request, hooks: HookView) -> Template:
        in_force = service.rules_in_force(hooks)
        by_detector: dict[str, list] = {}
        for r in in_force:
            by_detector.setdefault(r.detector, []).append(r)
        coverage = [{"number": number, "text": text, "rules": [r for d in detectors for r in by_detector.get(d, [])],
                     "note": note} for number, text, detectors, note in rules.NAT41_ITEMS]
        return await page(request, "supervision/rules.html", rules_in_force=in_force,
                          severities=rules.SEVERITY_LABELS, coverage=coverage)

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


CREDIT_READERS = ("medical_affairs", "hospital_head", "regulator", "qc_center", "admin")


def _year(year: int | str | None) -> int:
    """The year asked for when it is one a score is computed for (``credit.years``), else this
    year. The region's list takes the year as text: a field's value that is no year shows
    this year's list, not an error page."""
    if isinstance(year, str):
        year = int(year) if year.strip().isdigit() else None
    return year if year in credit.years() else clock.today().year


def _xlsx(body: bytes, name: str) -> Response:
    quoted = urllib.parse.quote(name)
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=\"credit.xlsx\"; filename*=UTF-8''{quoted}"})


class CreditController(Controller):
    """信誉评分 (NAT-39): a region's institutions, one institution's breakdown and answers."""

    path = "/credit"
    guards = [roles_required(*CREDIT_READERS)]

    @get("/")
    async def index(self, request: Request, actor: Actor, hooks: HookView, year: str = "") -> Response:
        if actor.institution_id is not None:
            return Redirect(f"/credit/{actor.institution_id}" + (f"?year={_year(year)}" if year else ""),
                            status_code=303)
        year = _year(year)
        items = credit.items_in_force(hooks)
        scores = await credit.region_scores(actor, hooks, year)
        found = answer_rows(request, credit.region_list(items), scores, f"credit-{year}",
                            year=str(clock.today().year))
        if isinstance(found, Response):
            return found
        return await page(request, "supervision/credit_index.html", year=year, scores=found, items=items,
                          summary=credit.region_summary(scores))

    @get("/export.xlsx")
    async def export_region(self, actor: Actor, hooks: HookView, year: int | None = None) -> Response:
        year = _year(year)
        scores = ([await credit.score(actor, hooks, actor.institution_id, year)] if actor.institution_id
                  else await credit.region_scores(actor, hooks, year))
        return _xlsx(table_xlsx("信誉评分", credit.EXPORT_COLUMNS, credit.export_rows(scores)), f"信誉评分-{year}.xlsx")

    @get("/{institution_id:int}")
    async def detail(self, request: Request, actor: Actor, hooks: HookView, institution_id: int,
                     year: int | None = None, ok: str = "") -> Template:
        return await self._page(request, actor, hooks, institution_id, _year(year), notice=ok == "answered")

    async def _page(self, request: Request, actor: Actor, hooks: HookView, institution_id: int, year: int, *,
                    errors=(), form=None, notice: bool = False, status: int = 200) -> Template:
        scores = await credit.history(actor, hooks, institution_id, year)
        return await page(request, "supervision/credit.html", status_code=status, score=scores[0], history=scores,
                          answers=await credit.answers(actor, institution_id, year), errors=list(errors),
                          form=form or {}, notice=notice,
                          may_answer=actor.institution_id == institution_id and actor.has("medical_affairs",
                                                                                          "hospital_head"))

    @get("/{institution_id:int}/export.xlsx")
    async def export(self, actor: Actor, hooks: HookView, institution_id: int, year: int | None = None) -> Response:
        scores = await credit.history(actor, hooks, institution_id, _year(year))
        return _xlsx(table_xlsx("信誉评分", credit.EXPORT_COLUMNS, credit.export_rows(scores)),
                     f"信誉评分-{scores[0].institution_name}.xlsx")

    @post("/{institution_id:int}/answer")
    async def answer(self, request: Request, actor: Actor, hooks: HookView, institution_id: int) -> Response:
        form = await request.form()
        text = str(form.get("year", ""))
        year = _year(int(text) if text.isdigit() and len(text) == 4 else None)
        try:
            await credit.answer(actor, hooks, institution_id, year, str(form.get("item", "")), str(form.get("text", "")))
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            return await self._page(request, actor, hooks, institution_id, year, errors=exc.problems,
                                    form=dict(form), status=exc.status_code)
        return Redirect(f"/credit/{institution_id}?year={year}&ok=answered", status_code=303)


class AnalyticsController(Controller):
    """质控分析: funnel plots of a technology's complication and mortality rates (§5)."""

    path = "/analytics"
    guards = [roles_required("regulator", "qc_center", "admin")]

    @get("/funnel")
    async def funnel_page(self, request: Request, actor: Actor, code: str = "", measure: str = "complication"
                          ) -> Template:
        measure = measure if measure in funnel.MEASURES else "complication"
        choices = await funnel.technologies(actor)
        code = code or (choices[0]["code"] if choices else "")
        data = await funnel.funnel(actor, code, measure) if code else None
        return await page(request, "supervision/funnel.html", choices=choices, code=code, measure=measure,
                          measures=funnel.MEASURES, f=data, chart=funnel.svg(data) if data and data.points else "")

    @get("/funnel/{code:str}/institutions/{institution_id:int}")
    async def drill(self, request: Request, actor: Actor, code: str, institution_id: int,
                    measure: str = "complication") -> Template:
        measure = measure if measure in funnel.MEASURES else "complication"
        data = await funnel.institution_cases(actor, code, measure, institution_id)
        from core.cases.rules import OUTCOMES

        return await page(request, "supervision/funnel_drill.html", code=code, measure=measure,
                          measure_label=funnel.MEASURES[measure][0], outcomes=OUTCOMES, **data)


class CusumController(Controller):
    """学习曲线 (CUSUM) of newly admitted technologies: the institution's own, a region's."""

    path = "/analytics/cusum"
    guards = [roles_required("regulator", "qc_center", "medical_affairs", "qc_officer", "dept_head", "hospital_head",
                             "admin")]

    @get("/")
    async def index(self, request: Request, actor: Actor) -> Template:
        from core.tenancy.service import visible_institution_ids

        ids = await visible_institution_ids(actor)
        found = await cusum.series(tuple(ids) if ids is not None else None, clock.today())
        projects: dict[int, dict] = {}
        for s in found:
            entry = projects.setdefault(s.project_id, {"id": s.project_id, "title": s.project_title,
                                                       "code": s.technology_code, "operators": 0, "alarms": 0})
            entry["operators"] += s.operator_id != cusum.TEAM
            entry["alarms"] += s.alarm_at is not None
        return await page(request, "supervision/cusum_index.html", projects=list(projects.values()),
                          first=cusum.FIRST_CASES, alarm=cusum.ALARM)

    @get("/{project_id:int}")
    async def detail(self, request: Request, actor: Actor, project_id: int) -> Template:
        found = await cusum.for_project(actor, project_id, clock.today())
        return await page(request, "supervision/cusum.html", project_id=project_id, series=found,
                          charts=[cusum.svg(s) for s in found], first=cusum.FIRST_CASES, alarm=cusum.ALARM)


def _open_json(body: bytes) -> Response:
    return Response(body, media_type="application/json", headers={"Cache-Control": "public, max-age=300"})


def _open_csv(body: bytes, name: str) -> Response:
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300",
                             "Content-Disposition": f'attachment; filename="{name}"'})


class OpenDataController(Controller):
    """开放数据 (anonymous): the departments' lists of filed institutions (NAT-40) and the
    institutions' own disclosure (NAT-24) as CSV and JSON at stable URLs."""

    path = "/open-data"

    @get("/")
    async def index(self, request: Request) -> Template:
        from web.context import load_actor

        return Template(template_name="supervision/open_data.html", context={
            "actor": await load_actor(request), "nav": [], "current_path": request.url.path,
            "fields": opendata.FIELDS, "disclosure_fields": opendata.DISCLOSURE_FIELDS,
            "version": opendata.SCHEMA_VERSION})

    @get("/filings.json")
    async def filings_json(self) -> Response:
        return _open_json(await opendata.as_json())

    @get("/filings.csv")
    async def filings_csv(self) -> Response:
        return _open_csv(await opendata.as_csv(), "filings.csv")

    @get("/regions/{region_id:int}/filings.json")
    async def region_json(self, region_id: int) -> Response:
        return _open_json(opendata.json_bytes(opendata.FIELDS, await opendata.records(region_id)))

    @get("/regions/{region_id:int}/filings.csv")
    async def region_csv(self, region_id: int) -> Response:
        return _open_csv(opendata.csv_of(opendata.FIELDS, await opendata.records(region_id)),
                         f"filings-region-{region_id}.csv")

    @get("/disclosures.json")
    async def disclosures_json(self) -> Response:
        return _open_json(opendata.json_bytes(opendata.DISCLOSURE_FIELDS, await opendata.disclosure_records()))

    @get("/disclosures.csv")
    async def disclosures_csv(self) -> Response:
        return _open_csv(opendata.csv_of(opendata.DISCLOSURE_FIELDS, await opendata.disclosure_records()),
                         "disclosures.csv")

    @get("/institutions/{institution_id:int}/disclosure.json")
    async def institution_json(self, institution_id: int) -> Response:
        return _open_json(opendata.json_bytes(opendata.DISCLOSURE_FIELDS,
                                              await opendata.disclosure_records(institution_id)))

    @get("/institutions/{institution_id:int}/disclosure.csv")
    async def institution_csv(self, institution_id: int) -> Response:
        return _open_csv(opendata.csv_of(opendata.DISCLOSURE_FIELDS, await opendata.disclosure_records(institution_id)),
                         f"disclosure-{institution_id}.csv")
