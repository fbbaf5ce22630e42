"""Quality control (质量控制): figures from the case records, the annual QC report
(HOSP-17) and the summary after the monitoring period (HOSP-19). The only writer of
``qc_annual_report`` and ``qc_summary``.

Figures are aggregated in the database (GROUP BY), a handful of queries per page
whatever the number of cases or institutions. Every figure is limited to the actor's
QC level (HOSP-13): the project QC group its projects, the department head the
department, the hospital (medical affairs, hospital head) the institution,
regulators and the provincial QC centre their region.

Reporting timeliness is DHIS2-style: on-time reports over all reports due (NAT-37).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from core import changes, clock, listing
from core.accounts.schemas import Actor
from core.admission.tables import Project
from core.audit import service as audit
from core.cases import service as cases
from core.cases.rules import Indicator
from core.db import is_sqlite, write_transaction
from core.errors import DomainError, Forbidden, NotFound, Problem
from core.plugins import HookView
from core.qc.indicators import indicators_for, meets
from core.qc.schemas import REPORT_STATUS_LABELS, ReportStatus, SummaryStatus
from core.qc.tables import QcAnnualReport, QcSummary

HOSPITAL_QC = ("medical_affairs", "hospital_head")
REGION_QC = ("regulator", "qc_center")


def _p(value: Any) -> Any:
    """A date parameter as each database wants it."""
    return value.isoformat() if is_sqlite() and isinstance(value, dt.date) else value


def _month_expr() -> str:
    return "strftime('%Y-%m', c.operated_on)" if is_sqlite() else "to_char(c.operated_on, 'YYYY-MM')"


# The QC pages' period (operation date): the last 12 calendar months by default, so a
# page reads one year of cases whatever the years of history (fast at 1,000,000 cases);
# longer windows and "all" are one choice away, explicit dates override.
PERIODS = {"12": "近12个月", "24": "近24个月", "36": "近36个月", "all": "全部"}
DEFAULT_PERIOD = "12"


def window_start(period: str, today: dt.date) -> dt.date | None:
    """The first day of the window ``period`` (months, "all" for none) ending ``today``:
    the first of the month ``period - 1`` months before today's (the current month counts)."""
    if period not in PERIODS or period == "all":
        return None
    months = today.year * 12 + today.month - 1 - (int(period) - 1)
    return dt.date(months // 12, months % 12 + 1, 1)


class Filter:
    """What a QC page is about: a technology code, a department, a project, a period."""

    def __init__(self, *, technology_code: str = "", department_id: int | None = None,
                 project_id: int | None = None, since: dt.date | None = None, until: dt.date | None = None):
        self.technology_code = technology_code.strip().upper()
        self.department_id = department_id
        self.project_id = project_id
        self.since = since
        self.until = until


def summary_months(flt: Filter) -> tuple[str | None, str | None] | None:
    """The filter's period as months (YYYY-MM, None for open) when it is made of whole
    calendar months — the summary tables can answer it; None when it is not (explicit
    dates mid-month: the page reads the case rows)."""
    since = until = None
    if flt.since is not None:
        if flt.since.day != 1:
            return None
        since = f"{flt.since:%Y-%m}"
    if flt.until is not None:
        if (flt.until + dt.timedelta(days=1)).day != 1:
            return None
        until = f"{flt.until:%Y-%m}"
    return since, until


async def _where(actor: Actor, flt: Filter, summary: bool = False) -> tuple[str, list[Any]] | None:
    """The SQL condition (on ``case_record c`` joined to ``institution i``, ``region r``;
    with ``summary``, on the summary table ``s`` by month, see ``summary_months``) for the
    actor's QC level and the filter; None when the actor sees no cases."""
    # A case voided by medical affairs counts nowhere (NAT-37; the summaries leave it out).
    parts: list[str] = [] if summary else ["NOT c.voided"]
    args: list[Any] = []
    if actor.is_admin:
        pass
    elif actor.institution_id is not None:
        parts.append("c.institution = {}")
        args.append(actor.institution_id)
        if actor.has(*HOSPITAL_QC, "his"):
            pass
        elif actor.has("dept_head") and actor.department_id:
            parts.append("c.department = {}")
            args.append(actor.department_id)
        else:
            ids = await cases.group_projects(actor)
            if not ids:
                return None
            parts.append(f"c.project IN ({', '.join(str(int(i)) for i in ids)})")
    elif actor.region_path and actor.has(*REGION_QC):
        # The region's institutions as a list of ids, not ``r.path LIKE``: PostgreSQL
        # estimates a LIKE on the path at one row and then walks every case of every
        # institution (15 s for a technology page at 1,000,000 cases); with the ids it
        # reads the technology's index and hash-joins (tens of ms).
        ids = await cases.institution_ids_in_scope(actor)
        if not ids:
            return None
        parts.append(f"c.institution IN ({', '.join(str(int(i)) for i in ids)})")
    else:
        return None
    if flt.technology_code:
        if flt.technology_code.startswith("P") and flt.technology_code[1:].isdigit():
            parts.append("c.project = {}")
            args.append(int(flt.technology_code[1:]))
        else:
            parts.append("c.technology_code = {}")
            args.append(flt.technology_code)
    if flt.department_id is not None:
        parts.append("c.department = {}")
        args.append(flt.department_id)
    if flt.project_id is not None:
        parts.append("c.project = {}")
        args.append(flt.project_id)
    if summary:
        since, until = summary_months(flt) or (None, None)
        if since is not None:
            parts.append("c.month >= {}")
            args.append(since)
        if until is not None:
            parts.append("c.month <= {}")
            args.append(until)
    else:
        if flt.since is not None:
            parts.append("c.operated_on >= {}")
            args.append(_p(flt.since))
        if flt.until is not None:
            parts.append("c.operated_on <= {}")
            args.append(_p(flt.until))
    where = " AND ".join(parts) or "1 = 1"
    return (where.replace("c.", "s.") if summary else where), args


def _measures(today: dt.date) -> str:
    """Counts per group. Timeliness is judged by the authority's receipt (NAT-37):
    a report is due ("应报送") once received or once its due date has passed; it is on
    time only when received (``reported_on`` is the receipt's date) by its due date. A
    delivery still queued or waiting for manual upload is not reported."""
    day = today.isoformat()  # a date we made, inlined: the placeholders belong to WHERE
    return f"""COUNT(*) AS cases,
       SUM(CASE WHEN c.complication THEN 1 ELSE 0 END) AS complications,
       SUM(CASE WHEN c.adverse_event THEN 1 ELSE 0 END) AS adverse_events,
       SUM(CASE WHEN c.report_rule <> '' AND (c.reported_on IS NOT NULL OR c.report_due_on < '{day}')
                THEN 1 ELSE 0 END) AS reports,
       SUM(CASE WHEN c.report_rule <> '' AND c.reported_on IS NOT NULL AND NOT c.report_late
                THEN 1 ELSE 0 END) AS on_time"""
_FROM = "FROM case_record c JOIN institution i ON i.id = c.institution JOIN region r ON r.id = i.region"


def _rates(row: dict) -> dict:
    n = int(row.get("cases") or 0)
    reports = int(row.get("reports") or 0)
    for key in ("cases", "complications", "adverse_events", "reports", "on_time"):
        row[key] = int(row.get(key) or 0)
    row["complication_rate"] = round(100 * row["complications"] / n, 2) if n else 0.0
    row["adverse_rate"] = round(100 * row["adverse_events"] / n, 2) if n else 0.0
    row["timeliness"] = round(100 * row["on_time"] / reports, 2) if reports else None
    return row


def _summary_measures(today: dt.date) -> str:
    """``_measures`` from ``case_summary`` (``core.qc.tables.CaseSummary``): the reports
    due are those received plus the pending ones whose due date has passed."""
    day = today.isoformat()
    return f"""SUM(s.cases) AS cases, SUM(s.complications) AS complications,
       SUM(s.adverse_events) AS adverse_events,
       SUM(s.reported) + SUM(CASE WHEN s.due <> '' AND s.due < '{day}' THEN s.pending ELSE 0 END) AS reports,
       SUM(s.on_time) AS on_time"""
_SUMMARY_FROM = "FROM case_summary s JOIN institution i ON i.id = s.institution JOIN region r ON r.id = i.region"


async def _grouped_rows(where: str, args: list, keys: str, group: str, order: str, summary: bool = False) -> list[dict]:
    from core.cases.tables import CaseRecord

    if summary:
        keys, group = keys.replace("c.", "s.").replace("s.operated_on", "s.month"), group.replace("c.", "s.")
        sql = (f"SELECT {keys}, {_summary_measures(clock.today())} {_SUMMARY_FROM} WHERE {where} "
               f"GROUP BY {group} HAVING SUM(s.cases) > 0 ORDER BY {order}")
    else:
        sql = f"SELECT {keys}, {_measures(clock.today())} {_FROM} WHERE {where} GROUP BY {group} ORDER BY {order}"
    return [_rates(dict(r)) for r in await CaseRecord.raw(sql, *args)]


async def figures(actor: Actor, flt: Filter | None = None, *, rank: bool | None = None,
                  from_cases: bool = False, one_scan: bool = True) -> dict:
    """Totals, per technology, per department, per month — and, for regulators and the QC
    centre (or ``rank=True``), per institution ranked by timeliness and complication rate.
    Four grouped queries at most (the total is the months' sum), on the summary table
    ``case_summary`` when the period is whole months (the default windows are), else — or
    with ``from_cases`` — on the case rows themselves; on PostgreSQL the summary's four
    groupings are one statement (``_figures_in_one_scan``; ``one_scan=False`` runs the four)."""
    flt = flt or Filter()
    summary = not from_cases and summary_months(flt) is not None
    scoped = await _where(actor, flt, summary)
    empty = _rates({"cases": 0})
    if scoped is None:
        return {"total": empty, "technologies": [], "departments": [], "months": [], "institutions": []}
    where, args = scoped
    with_institutions = rank if rank is not None else bool(actor.region_path or actor.is_admin)
    if summary and one_scan and not is_sqlite():
        return await _figures_in_one_scan(where, args, with_institutions)
    month = "s.month" if summary else _month_expr()

    def grouped(keys: str, group: str, order: str):
        return _grouped_rows(where, args, keys, group, order, summary=summary)

    months = await grouped(f"{month} AS month", month, "month")
    # The total is the sum of the months (every case has an operation date): one query fewer.
    keys = ("cases", "complications", "adverse_events", "reports", "on_time")
    total = _rates({k: sum(m[k] for m in months) for k in keys}) if months else empty
    out = {
        "total": total,
        "technologies": await grouped("c.technology_code AS code, MAX(c.technology_name) AS name",
                                       "c.technology_code", "cases DESC"),
        "departments": await grouped(_DEPARTMENT_KEYS, "c.department", "cases DESC"),
        "months": months,
        "institutions": [],
    }
    if with_institutions:
        rows = await grouped("c.institution AS institution, MAX(i.name) AS name", "c.institution",
                              "cases DESC")
        out["institutions"] = ranked(rows)
    return out


_DEPARTMENT_KEYS = ("c.department AS department, MAX(i.name) AS institution_name, "
                    "(SELECT d.name FROM department d WHERE d.id = c.department) AS name")


async def _figures_in_one_scan(where: str, args: list, with_institutions: bool) -> dict:
    """``figures`` from ``case_summary`` in one statement on PostgreSQL: the four groupings
    (month, technology, department, institution) as GROUPING SETS of one scan of the
    region's summary rows instead of four scans (SQLite has no GROUPING SETS and keeps the
    four queries). Same rows; ties in the case counts ordered by key."""
    from core.cases.tables import CaseRecord

    sets = "(s.month), (s.technology_code), (s.department)" + (", (s.institution)" if with_institutions else "")
    institution = "s.institution" if with_institutions else "CAST(NULL AS INTEGER)"
    # The names joined to the groups, not aggregated per row (MAX over text in every set
    # cost a third of the statement); a department's institution is its cases' (``owner``).
    rows = await CaseRecord.raw(
        f"SELECT g.*, gi.name AS institution_name, gd.name AS department_name FROM ("
        f"SELECT GROUPING(s.month) AS g_month, GROUPING(s.technology_code) AS g_code, "
        f"GROUPING(s.department) AS g_department, s.month AS month, s.technology_code AS code, "
        f"MAX(s.technology_name) AS name, s.department AS department, {institution} AS institution, "
        f"MAX(s.institution) AS owner, MIN(s.institution) AS owner_min, "
        f"{_summary_measures(clock.today())} {_SUMMARY_FROM} WHERE {where} "
        f"GROUP BY GROUPING SETS ({sets}) HAVING SUM(s.cases) > 0) g "
        f"LEFT JOIN institution gi ON gi.id = COALESCE(g.institution, g.owner) "
        f"LEFT JOIN department gd ON gd.id = g.department", *args)
    months, technologies, departments, institutions = [], [], [], []
    for r in rows:
        r = dict(r)
        if not r.pop("g_month"):
            months.append(_rates({"month": r["month"], **_counts(r)}))
        elif not r.pop("g_code"):
            technologies.append(_rates({"code": r["code"], "name": r["name"], **_counts(r)}))
        elif not r.pop("g_department"):
            departments.append(_rates({"department": r["department"], "institution_name": r["institution_name"],
                                       "name": r["department_name"], "spans": r["owner"] != r["owner_min"],
                                       **_counts(r)}))
        else:
            institutions.append(_rates({"institution": r["institution"], "name": r["institution_name"],
                                        **_counts(r)}))
    if any(d.pop("spans") for d in departments):
        # Cases of several institutions under one department (none recorded): the grouping's
        # own institution name (the greatest), as the four queries read it.
        departments = await _grouped_rows(where, args, _DEPARTMENT_KEYS, "c.department", "cases DESC", summary=True)
    months.sort(key=lambda m: m["month"])
    technologies.sort(key=lambda t: (-t["cases"], t["code"]))
    departments.sort(key=lambda d: (-d["cases"], d["department"] or 0))
    keys = ("cases", "complications", "adverse_events", "reports", "on_time")
    total = _rates({k: sum(m[k] for m in months) for k in keys}) if months else _rates({"cases": 0})
    return {"total": total, "technologies": technologies, "departments": departments, "months": months,
            "institutions": ranked(sorted(institutions, key=lambda r: (-r["cases"], r["institution"])))
            if with_institutions else []}


_MEASURE_SORTS = (
    ("cases", "病例数", lambda r: r["cases"]),
    ("complication_rate", "并发症发生率", lambda r: r["complication_rate"]),
    ("adverse_rate", "不良事件发生率", lambda r: r["adverse_rate"]),
    ("timeliness", "报送及时率", lambda r: r["timeliness"] if r["timeliness"] is not None else -1),
)
_MEASURE_EXPORT = (("病例数", "cases"), ("并发症例数", "complications"), ("并发症发生率%", "complication_rate"),
                   ("不良事件例数", "adverse_events"), ("不良事件发生率%", "adverse_rate"), ("应报送", "reports"),
                   ("按时报送", "on_time"), ("报送及时率%", "timeliness"))


def figures_list(kind: str) -> listing.ListSpec:
    """``figures``' rows per department or per institution (``kind``: ``departments``,
    ``institutions``) as a list of their own (``listing.page_of``): a province has thousands
    of departments and a thousand institutions. Searched by name, sorted by any measure,
    exported whole; the period and technology are filters the page reads itself (they stay
    in the list's links)."""
    filters = (listing.Filter(key="period", label="统计期间", choices=tuple(PERIODS.items()),
                              blank=f"（默认：{PERIODS[DEFAULT_PERIOD]}）"),
               listing.Filter(key="since", label="或手术日期自", kind="since"),
               listing.Filter(key="until", label="至", kind="until"),
               listing.Filter(key="technology_code", label="技术编码", kind="text"))
    sorts = tuple(listing.Sort(k, label, key) for k, label, key in _MEASURE_SORTS)
    measures = tuple(listing.field(label, key) for label, key in _MEASURE_EXPORT)
    if kind == "departments":
        return listing.ListSpec(
            table=None, columns=(), title="质控数据（按科室）", filters=filters, search_hint="科室或医疗机构名称",
            search=(lambda r: r["name"], lambda r: r["institution_name"]),
            sorts=(*sorts, listing.Sort("name", "科室", lambda r: r["name"] or "")), default_sort="-cases",
            export=(listing.field("科室", "name"), listing.field("医疗机构", "institution_name"), *measures))
    return listing.ListSpec(
        table=None, columns=(), title="质控数据（医疗机构排名）", filters=filters, search_hint="医疗机构名称",
        search=(lambda r: r["name"],),
        sorts=(listing.Sort("rank", "排名", lambda r: r["rank"]), *sorts,
               listing.Sort("name", "医疗机构", lambda r: r["name"] or "")), default_sort="rank",
        export=(listing.field("排名", "rank"), listing.field("医疗机构", "name"), *measures))


def _counts(row: dict) -> dict:
    return {k: row[k] for k in ("cases", "complications", "adverse_events", "reports", "on_time")}


async def cumulative(actor: Actor, technology_code: str) -> list[dict]:
    """The technology's cumulative cases (累计开展例数, whatever the page's period) per
    institution of the actor's QC level that has any — the number the institution's public
    page (NAT-24) and its annual report show, by the one definition
    (``core.cases.counts``). A hospital user gets its own institution's row."""
    from core.cases import counts
    from core.tenancy.tables import Institution

    key = technology_code.strip().upper()
    if not key:
        return []
    if actor.institution_id is not None:
        ids: list[int] | None = [actor.institution_id]
    elif actor.is_admin or (actor.region_path and actor.has(*REGION_QC)):
        ids = await cases.institution_ids_in_scope(actor)
    else:
        return []
    if ids is None:
        ids = [r["id"] for r in await Institution.select(Institution.id)]
    found = await counts.cumulative_cases_many([(i, key) for i in ids])
    shown = [i for i in ids if found[(i, key)] or i == actor.institution_id]
    names = {r["id"]: r["name"] for r in await Institution.select(Institution.id, Institution.name).where(
        Institution.id.is_in(shown or [-1]))}
    return sorted(({"institution": i, "name": names.get(i, ""), "cases": found[(i, key)]} for i in shown),
                  key=lambda r: (-r["cases"], r["name"]))


def ranked(rows: list[dict]) -> list[dict]:
    """Institutions ranked: best timeliness first, then lowest complication rate."""
    rows = sorted(rows, key=lambda r: (-(r["timeliness"] if r["timeliness"] is not None else -1),
                                       r["complication_rate"], r["name"]))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    return rows


async def _project_for(actor: Actor, flt: Filter) -> dict | None:
    """The project whose indicators and targets a technology page compares against."""
    query = Project.select(Project.id, Project.institution, Project.department, Project.lead, Project.title,
                           Project.technology_code, Project.technology_name, Project.technology_ref,
                           Project.tech_class, Project.form, Project.admitted_on, Project.monitoring_until
                           ).where(Project.status == "admitted").order_by(Project.id, ascending=False)
    code = flt.technology_code
    if code.startswith("P") and code[1:].isdigit():
        query = query.where(Project.id == int(code[1:]))
    elif code:
        query = query.where(Project.technology_code == code)
    elif flt.project_id:
        query = query.where(Project.id == flt.project_id)
    else:
        return None
    if actor.institution_id is not None:
        query = query.where(Project.institution == actor.institution_id)
    return await query.first().output(load_json=True)


async def _indicator_sums(where: str, args: list, indicators: list[Indicator]) -> dict[str, dict]:
    """Per indicator name, from ``case_indicator_summary``: how many cases recorded it, how
    many "1", the numeric sum and count — ONE grouped query."""
    from core.cases.tables import CaseRecord

    names = ", ".join("{}" for _ in indicators)
    sql = (f"SELECT s.name AS name, SUM(s.recorded) AS recorded, SUM(s.ones) AS ones, "
           f"SUM(s.number_sum) AS number_sum, SUM(s.number_count) AS number_count "
           f"FROM case_indicator_summary s JOIN institution i ON i.id = s.institution "
           f"JOIN region r ON r.id = i.region WHERE {where} AND s.name IN ({names}) GROUP BY s.name")
    return {r["name"]: r for r in await CaseRecord.raw(sql, *args, *(ind.name for ind in indicators))}


async def indicator_figures(actor: Actor, hooks: HookView | None, flt: Filter, *,
                            from_cases: bool = False) -> list[dict]:
    """Each QC indicator of the technology against its target (HOSP-14): rates as the share
    of cases where it happened (%), numbers as the mean — ONE aggregated query, on the
    summary table ``case_indicator_summary`` when the period is whole months (else, or
    with ``from_cases``, on the case rows)."""
    project = await _project_for(actor, flt)
    if project is None:
        return []
    indicators: list[Indicator] = await indicators_for(hooks, project)
    summary = not from_cases and summary_months(flt) is not None
    scoped = await _where(actor, flt, summary)
    if not indicators or scoped is None:
        return []
    where, args = scoped
    if summary:
        sums = await _indicator_sums(where, args, indicators)
        row = {}
        for k, ind in enumerate(indicators):
            found = sums.get(ind.name) or {}
            row[f"n{k}"] = found.get("recorded")
            if ind.kind == "rate":
                row[f"v{k}"] = found.get("ones")
            elif ind.kind == "number":
                count = int(found.get("number_count") or 0)
                row[f"v{k}"] = float(found["number_sum"]) / count if count else None
            else:
                row[f"v{k}"] = found.get("recorded")
        return _indicator_rows(indicators, row)
    selects, params = [], []
    for k, ind in enumerate(indicators):
        value = "json_extract(c.qc_values, {})" if is_sqlite() else "(c.qc_values::jsonb ->> {})"
        # SQLite matches a path against the stored (ASCII-escaped) label, not the decoded one.
        key = f"$.{json.dumps(ind.name)}" if is_sqlite() else ind.name
        if ind.kind == "rate":
            selects.append(f"SUM(CASE WHEN {value} = '1' THEN 1 ELSE 0 END) AS v{k}")
            params.append(key)
        elif ind.kind == "number":
            selects.append(f"AVG(CAST({value} AS REAL)) AS v{k}")
            params.append(key)
        else:
            selects.append(f"SUM(CASE WHEN {value} IS NOT NULL THEN 1 ELSE 0 END) AS v{k}")
            params.append(key)
        selects.append(f"SUM(CASE WHEN {value} IS NOT NULL THEN 1 ELSE 0 END) AS n{k}")
        params.append(key)
    from core.cases.tables import CaseRecord

    sql = f"SELECT {', '.join(selects)} {_FROM} WHERE {where}"
    return _indicator_rows(indicators, (await CaseRecord.raw(sql, *params, *args))[0])


def _indicator_rows(indicators: list[Indicator], row: dict) -> list[dict]:
    out = []
    for k, ind in enumerate(indicators):
        n = int(row[f"n{k}"] or 0)
        raw = row[f"v{k}"]
        if ind.kind == "rate":
            value = round(100 * int(raw or 0) / n, 2) if n else None
            shown = f"{value}%" if value is not None else "—"
        elif ind.kind == "number":
            value = round(float(raw), 2) if raw is not None else None
            shown = f"{value}{ind.unit}" if value is not None else "—"
        else:
            value, shown = None, f"{int(raw or 0)} 例已填写"
        out.append({"name": ind.name, "kind": ind.kind, "target": ind.target, "recorded": n, "value": value,
                    "shown": shown, "meets": meets(ind.target, value), "source": ind.source})
    return out


def export_xlsx(data: dict, indicators: list[dict] | None = None, title: str = "质控数据") -> bytes:
    """The figures as a workbook: per technology, department, month, institution, indicator."""
    from openpyxl import Workbook

    from core.exports import xlsx_bytes

    wb = Workbook()
    measures = [("病例数", "cases"), ("并发症例数", "complications"), ("并发症发生率%", "complication_rate"),
                ("不良事件例数", "adverse_events"), ("不良事件发生率%", "adverse_rate"), ("应报送", "reports"),
                ("按时报送", "on_time"), ("报送及时率%", "timeliness")]
    sheets = [("按技术", [("技术编码", "code"), ("技术名称", "name")], data["technologies"]),
              ("按科室", [("科室", "name"), ("医疗机构", "institution_name")], data["departments"]),
              ("按月", [("月份", "month")], data["months"])]
    if data.get("institutions"):
        sheets.append(("机构排名", [("排名", "rank"), ("医疗机构", "name")], data["institutions"]))
    first = True
    for name, keys, rows in sheets:
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = name
        ws.append([h for h, _ in keys + measures])
        for r in rows:
            ws.append([r.get(k) for _, k in keys + measures])
    if indicators:
        ws = wb.create_sheet("质控指标")
        ws.append(["指标", "目标值", "已填报例数", "实际值", "是否达标"])
        for i in indicators:
            ws.append([i["name"], i["target"], i["recorded"], i["shown"],
                       {True: "达标", False: "未达标", None: "—"}[i["meets"]]])
    return xlsx_bytes(wb)


# ---------------------------------------------------------------- annual QC report (HOSP-17)

REPORT_STATUS = REPORT_STATUS_LABELS
ANSWER_FIELDS = [
    ("summary", "质量控制工作开展情况"),
    ("problems", "存在的问题及不良事件分析"),
    ("improvements", "改进措施"),
    ("discussions", "病例讨论开展情况（HOSP-15）"),
]


async def _project(actor: Actor, project_id: int) -> dict:
    row = await Project.select(*Project.all_columns(exclude=[Project.steps]), Project.department.name,
                               Project.lead.display_name, Project.institution.name).where(
        Project.id == project_id).first().output(load_json=True)
    if row is None or (not actor.is_admin and row["institution"] != actor.institution_id):
        raise NotFound("未找到该项目")
    return row


def in_monitoring(project: dict, year: int) -> bool:
    """HOSP-17: the January of ``year`` falls inside the project's monitoring period."""
    admitted, until = project.get("admitted_on"), project.get("monitoring_until")
    return bool(admitted and until and admitted < dt.date(year, 1, 31) and until >= dt.date(year, 1, 1))


def year_label(year: int | str) -> str:
    """The report filed in January of ``year`` covers the year before (HOSP-17): its label
    names the period's year, as its figures do, and when it is filed."""
    filed = int(year)
    return f"{filed - 1} 年度（{filed} 年 1 月填报）"


async def prefill(actor: Actor, hooks: HookView | None, project: dict, year: int) -> dict:
    """The report's figures from the cases of the year before ``year`` (or since
    admission): case count, complications, adverse events, timeliness, each indicator."""
    since = max(dt.date(year - 1, 1, 1), project["admitted_on"] or dt.date(year - 1, 1, 1))
    flt = Filter(technology_code=f"P{project['id']}", since=since, until=dt.date(year - 1, 12, 31))
    system = Actor(id=actor.id, username=actor.username, display_name=actor.display_name, roles=("medical_affairs",),
                   institution_id=project["institution"])
    data = await figures(system, flt, rank=False)
    total = data["total"]
    from core.cases import counts
    from core.lifecycle.rules import technology_key

    # The technology's cumulative cases in the institution up to the period's end, by the
    # one definition the public page (NAT-24) and the QC pages show.
    cumulative = await counts.cumulative_cases(project["institution"],
                                               technology_key(project["technology_code"], project["id"]),
                                               until=dt.date(year - 1, 12, 31))
    return {
        "cumulative_cases": cumulative, "cumulative_until": dt.date(year - 1, 12, 31).isoformat(),
        "period": f"{since.isoformat()} 至 {dt.date(year - 1, 12, 31).isoformat()}",
        "cases": total["cases"], "complications": total["complications"],
        "complication_rate": total["complication_rate"], "adverse_events": total["adverse_events"],
        "adverse_rate": total["adverse_rate"], "reports": total["reports"], "on_time": total["on_time"],
        "timeliness": total["timeliness"], "months": [{"month": m["month"], "cases": m["cases"]} for m in data["months"]],
        "indicators": await indicator_figures(system, hooks, flt),
    }


async def open_report(actor: Actor, hooks: HookView, project_id: int, year: int) -> int:
    """The project's annual report for ``year`` (created prefilled on first open): the lead,
    the project's QC officer or medical affairs open it; only inside the monitoring
    period (HOSP-17)."""
    project = await _project(actor, project_id)
    if not (actor.has("medical_affairs") or project["lead"] == actor.id
            or str((project["form"] or {}).get("qc_officer") or "") == actor.display_name):
        raise NotFound("未找到该项目")
    existing = await QcAnnualReport.select(QcAnnualReport.id).where(
        (QcAnnualReport.project == project_id) & (QcAnnualReport.year == year)).first()
    if existing:
        return existing["id"]
    if project["status"] != "admitted" or not in_monitoring(project, year):
        raise DomainError(Problem(f"{year} 年 1 月该项目不在质控监管期内（常规类 1 年、限制类 2 年），无需填报年报表",
                                  "year", "HOSP-17"))
    from core.lifecycle import service as lifecycle

    # The technology's state of use (core.lifecycle): one stopped, or whose filing was
    # cancelled, before the reported year began was not applied in it — nothing to report
    # (NAT-25); one stopped or suspended during the year reports the year, saying so.
    key = lifecycle.technology_key(project["technology_code"], project_id)
    before = await lifecycle.state(project["institution"], key, dt.date(year - 1, 1, 1))
    if before.status in ("stopped", "cancelled"):
        raise DomainError(Problem(f"该技术自{before.since}起{before.label}（{before.rule}），{year - 1}年未在本机构临床应用，"
                                  "无需填报该年度年报表", "year", before.rule or "NAT-25"))
    values = await prefill(actor, hooks, project, year)
    now = await lifecycle.state(project["institution"], key)
    if not now.in_use:
        values["use"] = f"{now.label}（{now.by_label}，{now.rule}，自{now.since}）：{now.reason}"
    async with QC_REPORT.create(actor, {"institution": project["institution"], "project": project_id, "year": year,
                                        "prefill": values}, "open") as change:
        change.snapshot = ("project", "year", "status")
    return change.row["id"]


async def get_report(actor: Actor, report_id: int) -> dict:
    """A report within the actor's institution (regulators of the region read it too)."""
    row = await QcAnnualReport.select(*QcAnnualReport.all_columns(), QcAnnualReport.project.title,
                                      QcAnnualReport.project.technology_code, QcAnnualReport.project.technology_name,
                                      QcAnnualReport.project.tech_class, QcAnnualReport.project.lead,
                                      QcAnnualReport.project.department, QcAnnualReport.project.admitted_on,
                                      QcAnnualReport.project.monitoring_until, QcAnnualReport.institution.name,
                                      QcAnnualReport.project.lead.display_name,
                                      ).where(QcAnnualReport.id == report_id).first().output(load_json=True)
    if row is None:
        raise NotFound("未找到该年报表")
    from core.tenancy.service import require_institution

    await require_institution(actor, row["institution"])
    row["status_label"] = REPORT_STATUS.get(row["status"], row["status"])
    row["year_label"] = year_label(row["year"])
    return row


async def list_reports(actor: Actor) -> list[dict]:
    query = QcAnnualReport.select(QcAnnualReport.id, QcAnnualReport.year, QcAnnualReport.status,
                                  QcAnnualReport.project.title, QcAnnualReport.project.technology_code,
                                  QcAnnualReport.institution.name).order_by(QcAnnualReport.id, ascending=False)
    if not actor.is_admin:
        query = query.where(QcAnnualReport.institution == (actor.institution_id or -1))
    rows = await query
    for r in rows:
        r["status_label"] = REPORT_STATUS.get(r["status"], r["status"])
        r["year_label"] = year_label(r["year"])
    return rows


async def _report_row(report_id: int) -> dict:
    return await QcAnnualReport.select(*QcAnnualReport.all_columns()).where(
        QcAnnualReport.id == report_id).first().output(load_json=True)


# How an annual report changes (core.changes): the optimistic lock on its version (and its
# status: a report someone else moved on is not moved twice), the audit event's snapshot.
QC_REPORT = changes.Versioned(
    table=QcAnnualReport, record_type="qc_annual_report", action_prefix="qc_report",
    snapshot=("status",), read=_report_row, moved_on="该年报表已由他人处理，请刷新页面",
    link=lambda report_id: f"/qc/reports/{report_id}", source=lambda report_id: f"qc_report:{report_id}",
)


async def _move(actor: Actor, report: dict, status: str, values: dict, action: str, version: int | None) -> None:
    async with QC_REPORT.change(actor, report, version, action,
                                where=QcAnnualReport.status == report["status"]) as change:
        change.values.update({QcAnnualReport.status: status, **values})


async def submit_report(actor: Actor, report_id: int, answers: dict[str, str], today: dt.date | None = None,
                        version: int | None = None) -> None:
    """The lead (or the QC officer) completes and submits the report (HOSP-17)."""
    report = await get_report(actor, report_id)
    project = await _project(actor, report["project"])
    if not (project["lead"] == actor.id or str((project["form"] or {}).get("qc_officer") or "") == actor.display_name):
        raise Forbidden("只有项目负责人或项目质控员可以填报年报表（HOSP-13、HOSP-17）")
    if report["status"] != ReportStatus.draft:
        raise DomainError(Problem("该年报表已提交", None, "HOSP-17"))
    clean = {k: str(answers.get(k, "")).strip() for k, _ in ANSWER_FIELDS}
    missing = [Problem(f"请填写「{label}」", key, "HOSP-17") for key, label in ANSWER_FIELDS[:3] if len(clean[key]) < 5]
    if missing:
        raise DomainError(missing)
    await _move(actor, report, ReportStatus.submitted, {QcAnnualReport.answers: clean,
                                                        QcAnnualReport.submitted_on: today or clock.today(),
                                                        QcAnnualReport.return_reason: ""}, "submit", version)


async def review_report(actor: Actor, hooks: HookView, report_id: int, decision: str, comment: str = "",
                        today: dt.date | None = None, version: int | None = None) -> None:
    """The department head reviews a submitted report, then medical affairs approves it
    (HOSP-16, HOSP-17); either may return it to the lead with a reason. Approval
    fulfils the year's ``qc_annual_report`` obligation."""
    report = await get_report(actor, report_id)
    day = today or clock.today()
    if decision not in ("approve", "return"):
        raise DomainError(Problem("请选择通过或退回", "decision"))
    if decision == "return" and len(comment.strip()) < 2:
        raise DomainError(Problem("退回须写明理由", "comment", "HOSP-17"))
    if report["status"] == ReportStatus.submitted and actor.has("dept_head") and actor.department_id == report[
            "project.department"]:
        if decision == "return":
            await _move(actor, report, ReportStatus.draft, {QcAnnualReport.return_reason: comment.strip()}, "return", version)
        else:
            await _move(actor, report, ReportStatus.dept_reviewed, {QcAnnualReport.dept_reviewed_by: actor.display_name,
                                                         QcAnnualReport.dept_comment: comment.strip()}, "dept_review",
                        version)
        return
    if report["status"] == ReportStatus.dept_reviewed and actor.has("medical_affairs"):
        if decision == "return":
            await _move(actor, report, ReportStatus.draft, {QcAnnualReport.return_reason: comment.strip()}, "return", version)
            return
        from core.obligations import service as obligations

        async with write_transaction():
            await _move(actor, report, ReportStatus.approved, {QcAnnualReport.approved_by: actor.display_name,
                                                    QcAnnualReport.approved_on: day}, "approve", version)
            await obligations.fulfil(actor, hooks, subject_type="project", subject_id=report["project"],
                                     kind="qc_annual_report", done_on=report["submitted_on"] or day,
                                     occurrence=str(report["year"]))
        return
    raise Forbidden("当前状态下您不能审核该年报表")


async def due_reports(actor: Actor, hooks: HookView, today: dt.date | None = None) -> list[dict]:
    """Projects in the actor's view whose annual report is due (the HOSP-17 obligations
    the engine opened each January), with the report if it was started."""
    from core.obligations.tables import Obligation

    query = Obligation.select(Obligation.id, Obligation.subject_id, Obligation.subject_label, Obligation.occurrence,
                              Obligation.due_on, Obligation.status, Obligation.done_late).where(
        Obligation.kind == "qc_annual_report").order_by(Obligation.due_on)
    if not actor.is_admin:
        query = query.where(Obligation.institution == (actor.institution_id or -1))
    rows = await query
    if not actor.has("medical_affairs", "admin", "hospital_head"):
        mine = set(await cases.group_projects(actor))
        if actor.has("dept_head") and actor.department_id:
            mine |= {p["id"] for p in await Project.select(Project.id).where(
                Project.department == actor.department_id)}
        rows = [r for r in rows if r["subject_id"] in mine]
    reports = {(r["project"], str(r["year"])): r for r in await QcAnnualReport.select(
        QcAnnualReport.id, QcAnnualReport.project, QcAnnualReport.year, QcAnnualReport.status).where(
        QcAnnualReport.project.is_in([r["subject_id"] for r in rows] or [-1]))}
    for r in rows:
        rep = reports.get((r["subject_id"], r["occurrence"]))
        r["report"] = rep
        r["report_status"] = REPORT_STATUS.get(rep["status"]) if rep else "未开始"
        r["year_label"] = year_label(r["occurrence"]) if str(r["occurrence"]).isdigit() else r["occurrence"]
    return rows


# ---------------------------------------------------------------- summary after the monitoring period (HOSP-19)

SUMMARY_FIELDS = [("indications", "适应症"), ("efficacy", "疗效"), ("complications", "并发症"),
                  ("adverse_reactions", "不良反应"), ("follow_up", "随访情况"), ("safety", "安全性评价"),
                  ("effectiveness", "有效性评价")]
DECISIONS = {"routine": "转为常规技术管理", "extend": "延长质控监管期", "stop": "停止临床应用"}


async def submit_summary(actor: Actor, hooks: HookView, project_id: int, answers: dict[str, str]) -> int:
    """The department submits the summary (HOSP-19), prefilled with the case figures of the
    whole monitoring period."""
    project = await _project(actor, project_id)
    if not (project["lead"] == actor.id or actor.has("dept_head") and actor.department_id == project["department"]):
        raise Forbidden("只有项目负责人或科室主任可以提交总结（HOSP-19）")
    clean = {k: str(answers.get(k, "")).strip() for k, _ in SUMMARY_FIELDS}
    missing = [Problem(f"请填写「{label}」", key, "HOSP-19") for key, label in SUMMARY_FIELDS if len(clean[key]) < 2]
    if missing:
        raise DomainError(missing)
    system = Actor(id=actor.id, username=actor.username, display_name=actor.display_name, roles=("medical_affairs",),
                   institution_id=project["institution"])
    data = await figures(system, Filter(technology_code=f"P{project_id}"), rank=False)
    values = {"cases": data["total"]["cases"], "complication_rate": data["total"]["complication_rate"],
              "adverse_rate": data["total"]["adverse_rate"], "timeliness": data["total"]["timeliness"]}
    async with write_transaction():
        existing = await QcSummary.select(QcSummary.id, QcSummary.status).where(QcSummary.project == project_id).first()
        if existing and existing["status"] == SummaryStatus.decided:
            raise DomainError(Problem("医务处已作出决定，总结不能再修改", None, "HOSP-19"))
        if existing:
            await QcSummary.update({QcSummary.answers: clean, QcSummary.prefill: values,
                                    QcSummary.status: SummaryStatus.submitted}).where(QcSummary.id == existing["id"])
            summary_id = existing["id"]
        else:
            rows = await QcSummary.insert(QcSummary(institution=project["institution"], project=project_id,
                                                    status=SummaryStatus.submitted, prefill=values, answers=clean)
                                          ).returning(QcSummary.id)
            summary_id = rows[0]["id"]
        await audit.record(actor, "qc_summary.submit", "qc_summary", summary_id, after=values,
                           institution_id=project["institution"])
    return summary_id


async def decide_summary(actor: Actor, hooks: HookView, project_id: int, decision: str, reason: str,
                         today: dt.date | None = None, *, committee: str = "",
                         meeting_on: dt.date | None = None) -> None:
    """Medical affairs decides whether the technology becomes routine (HOSP-19); a
    "routine" decision enters it in the hospital's catalogue through the catalogue's
    public API (``core.catalog.service.add_hospital_routine``); a "stop" decision stops
    the technology's use at once through ``core.lifecycle.service.stop`` (HOSP-19, the
    management committee who decided and its meeting date recorded as for any stop)."""
    if not actor.has("medical_affairs"):
        raise Forbidden("只有医务处可以作出决定（HOSP-19）")
    project = await _project(actor, project_id)
    summary = await QcSummary.select().where(QcSummary.project == project_id).first()
    if summary is None or summary["status"] != SummaryStatus.submitted:
        raise DomainError(Problem("科室尚未提交总结", None, "HOSP-19"))
    if decision not in DECISIONS:
        raise DomainError(Problem("请选择决定", "decision", "HOSP-19"))
    if len(reason.strip()) < 2:
        raise DomainError(Problem("请写明决定理由", "reason", "HOSP-19"))
    day = today or clock.today()
    entry = ""
    async with write_transaction():
        if decision == "stop":
            from core.lifecycle import service as lifecycle

            await lifecycle.stop(actor, hooks, technology_key=lifecycle.technology_key(
                project["technology_code"], project_id), trigger="summary", reason=reason.strip(),
                committee=committee, meeting_on=meeting_on, today=day)
        if decision == "routine":
            from core.catalog import service as catalog

            ref = str(project.get("technology_ref") or "")
            entry = str(await catalog.add_hospital_routine(
                actor, project["institution"], code=project["technology_code"] or f"P{project_id}",
                name=project["technology_name"] or project["title"], decided_on=day,
                technology_ref=int(ref) if ref.isdigit() else None, project_id=project_id,
                note=f"HOSP-19 项目 {project_id}：{reason.strip()}"))
        await QcSummary.update({QcSummary.status: SummaryStatus.decided, QcSummary.decision: decision,
                                QcSummary.decision_reason: reason.strip(), QcSummary.decided_by: actor.display_name,
                                QcSummary.decided_on: day, QcSummary.catalog_entry: entry}).where(
            QcSummary.id == summary["id"])
        await audit.record(actor, "qc_summary.decide", "qc_summary", summary["id"],
                           after={"decision": decision, "catalog_entry": entry},
                           institution_id=project["institution"])


async def get_summary(actor: Actor, project_id: int) -> dict | None:
    await _project(actor, project_id)
    return await QcSummary.select().where(QcSummary.project == project_id).first().output(load_json=True)
