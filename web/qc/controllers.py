"""质量控制 pages: figures and SVG charts per technology and department in the actor's QC
scope (HOSP-13), the region's ranking for regulators and the QC centre, XLSX export,
the annual QC report (HOSP-17) with its PDF, and the summary decision (HOSP-19)."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from core import clock
from core.accounts.roles import HOSPITAL_ROLES
from core.accounts.schemas import Actor
from core.errors import DomainError
from core.plugins import HookView
from core.qc import charts
from core.qc import service as qc
from web.context import roles_required
from web.forms import form_date, form_int
from web.listing import answer_rows
from web.render import page

qc_readers = [roles_required(*HOSPITAL_ROLES, "regulator", "qc_center", "admin")]
hospital = [roles_required(*HOSPITAL_ROLES, "admin")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filter(technology_code: str = "", department_id: int | None = None, since: str = "", until: str = "",
            period: str = "") -> qc.Filter:
    """Explicit dates win; otherwise the chosen period, by default the last 12 months."""
    def day(text: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(text) if text else None
        except ValueError:
            return None

    start, end = day(since), day(until)
    if start is None and end is None:
        start = qc.window_start(period if period in qc.PERIODS else qc.DEFAULT_PERIOD, clock.today())
    return qc.Filter(technology_code=technology_code, department_id=department_id, since=start, until=end)


def _period(since: str, until: str, period: str) -> str:
    if since or until:
        return ""
    return period if period in qc.PERIODS else qc.DEFAULT_PERIOD


def _charts(data: dict, title: str) -> dict:
    out = {"monthly": charts.monthly(data["months"], title=f"{title}：每月病例数与并发症发生率")}
    if data["institutions"]:
        top = [{"label": r["name"], "timeliness": r["timeliness"] or 0, "complication_rate": r["complication_rate"]}
               for r in data["institutions"][:20]]
        out["timeliness"] = charts.ranking(top, title="报送及时率（按时报送/应报送）", value="timeliness")
        out["complications"] = charts.ranking(top, title="并发症发生率", value="complication_rate")
    return out


class QcController(Controller):
    path = "/qc"
    guards = qc_readers

    @get("/")
    async def index(self, request: Request, actor: Actor, department_id: int | None = None, since: str = "",
                    until: str = "", period: str = "") -> Template:
        flt = _filter(department_id=department_id, since=since, until=until, period=period)
        data = await qc.figures(actor, flt)
        return await page(request, "qc/index.html", data=data, charts=_charts(data, "本范围"), flt=flt,
                          technology=None, indicators=[], since=since, until=until,
                          period=_period(since, until, period), periods=qc.PERIODS)

    @get("/departments")
    async def departments(self, request: Request, actor: Actor, technology_code: str = "", since: str = "",
                          until: str = "", period: str = "") -> Response:
        return await self._list(request, actor, "departments", technology_code, since, until, period)

    @get("/institutions")
    async def institutions(self, request: Request, actor: Actor, technology_code: str = "", since: str = "",
                           until: str = "", period: str = "") -> Response:
        return await self._list(request, actor, "institutions", technology_code, since, until, period)

    async def _list(self, request: Request, actor: Actor, kind: str, technology_code: str, since: str, until: str,
                    period: str) -> Response:
        """Every department's (institution's) figures of the page, paged, searched, sorted and
        exported whole (``core.qc.service.figures_list``)."""
        flt = _filter(technology_code=technology_code.strip(), since=since, until=until, period=period)
        data = await qc.figures(actor, flt)
        # The default period stays in the list's links; explicit dates win over any period.
        found = answer_rows(request, qc.figures_list(kind), data[kind], f"qc-{kind}",
                            **({} if since or until else {"period": qc.DEFAULT_PERIOD}))
        if isinstance(found, Response):
            return found
        return await page(request, "qc/list.html", kind=kind, rows=found, flt=flt, total=data["total"],
                          path=f"/qc/{kind}")

    @get("/technology/{code:str}")
    async def technology(self, request: Request, actor: Actor, hooks: HookView, code: str, since: str = "",
                         until: str = "", period: str = "") -> Template:
        flt = _filter(technology_code=code, since=since, until=until, period=period)
        data = await qc.figures(actor, flt)
        name = data["technologies"][0]["name"] if data["technologies"] else code
        return await page(request, "qc/index.html", data=data, charts=_charts(data, f"{code} {name}"), flt=flt,
                          technology={"code": code, "name": name}, cumulative=await qc.cumulative(actor, code),
                          indicators=await qc.indicator_figures(actor, hooks, flt), since=since, until=until,
                          period=_period(since, until, period), periods=qc.PERIODS)

    @get("/export.xlsx")
    async def export(self, actor: Actor, hooks: HookView, technology_code: str = "", department_id: int | None = None,
                     since: str = "", until: str = "", period: str = "") -> Response:
        flt = _filter(technology_code, department_id, since, until, period)
        data = await qc.figures(actor, flt)
        indicators = await qc.indicator_figures(actor, hooks, flt) if technology_code else []
        return Response(qc.export_xlsx(data, indicators), media_type=XLSX,
                        headers={"Content-Disposition": 'attachment; filename="qc.xlsx"'})


class QcReportController(Controller):
    """《临床新技术质量控制情况年报表》 (HOSP-17) and the summary (HOSP-19)."""

    path = "/qc/reports"
    guards = hospital

    @get("/")
    async def index(self, request: Request, actor: Actor, hooks: HookView) -> Template:
        return await page(request, "qc/reports.html", due=await qc.due_reports(actor, hooks),
                          reports=await qc.list_reports(actor))

    @post("/open")
    async def open(self, request: Request, actor: Actor, hooks: HookView) -> Response:
        form = await request.form()
        project = form_int(form, "project_id", label="项目", default=-1)
        year = form_int(form, "year", label="年度", default=clock.today().year)
        report_id = await qc.open_report(actor, hooks, project, year)
        return Redirect(f"/qc/reports/{report_id}", status_code=303)

    async def _report(self, request: Request, actor: Actor, report_id: int, errors=(), status: int = 200,
                      typed: dict | None = None) -> Template:
        report = await qc.get_report(actor, report_id)
        return await page(request, "qc/report.html", status_code=status, report=report, fields=qc.ANSWER_FIELDS,
                          errors=list(errors), typed=typed or report["answers"] or {})

    @get("/{report_id:int}")
    async def report(self, request: Request, actor: Actor, report_id: int) -> Template:
        return await self._report(request, actor, report_id)

    @post("/{report_id:int}")
    async def act(self, request: Request, actor: Actor, hooks: HookView, report_id: int) -> Response:
        form = await request.form()
        action = str(form.get("action", ""))
        version = str(form.get("version", ""))
        try:
            if action == "submit":
                await qc.submit_report(actor, report_id, {k: str(form.get(k, "")) for k, _ in qc.ANSWER_FIELDS},
                                       version=int(version) if version.isdigit() else None)
            else:
                await qc.review_report(actor, hooks, report_id, str(form.get("decision", "")),
                                       str(form.get("comment", "")), version=int(version) if version.isdigit() else None)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._report(request, actor, report_id, errors=exc.problems, status=exc.status_code,
                                      typed={k: str(form.get(k, "")) for k, _ in qc.ANSWER_FIELDS})
        return Redirect(f"/qc/reports/{report_id}", status_code=303)

    @get("/{report_id:int}/pdf")
    async def pdf(self, request: Request, actor: Actor, report_id: int) -> Response:
        from web.admission.pdf import render_pdf

        report = await qc.get_report(actor, report_id)
        data = await render_pdf(request, "qc/report_pdf.html", {"report": report, "fields": qc.ANSWER_FIELDS})
        return Response(data, media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="qc-report-{report_id}.pdf"'})

    @get("/summary/{project_id:int}")
    async def summary(self, request: Request, actor: Actor, project_id: int) -> Template:
        return await page(request, "qc/summary.html", summary=await qc.get_summary(actor, project_id),
                          project_id=project_id, fields=qc.SUMMARY_FIELDS, decisions=qc.DECISIONS, errors=[])

    @post("/summary/{project_id:int}")
    async def summary_act(self, request: Request, actor: Actor, hooks: HookView, project_id: int) -> Response:
        form = await request.form()
        try:
            if form.get("action") == "decide":
                await qc.decide_summary(actor, hooks, project_id, str(form.get("decision", "")),
                                        str(form.get("reason", "")), committee=str(form.get("committee", "")),
                                        meeting_on=form_date(form.get("meeting_on"), "meeting_on"))
            else:
                await qc.submit_summary(actor, hooks, project_id, {k: str(form.get(k, "")) for k, _ in qc.SUMMARY_FIELDS})
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await page(request, "qc/summary.html", status_code=exc.status_code,
                              summary=await qc.get_summary(actor, project_id), project_id=project_id,
                              fields=qc.SUMMARY_FIELDS, decisions=qc.DECISIONS, errors=exc.problems)
        return Redirect(f"/qc/reports/summary/{project_id}", status_code=303)


QC_ROUTES = [QcController, QcReportController]
