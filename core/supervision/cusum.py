"""CUSUM charts of a newly admitted technology's early cases (learning curve, 学习曲线):
per operator (the lead and each team member who operates) and for the team as a whole,
the first ``FIRST_CASES`` cases in order, a Bernoulli log-likelihood-ratio CUSUM of complications (Steinberg's
risk-unadjusted form): acceptable rate ``p0`` = the rate of the technology's cases in the
province's other institutions (``DEFAULT_P0`` while they have fewer than ``MIN_OTHERS``
cases; kept within 1%–50%), unacceptable ``p1`` = twice the odds; the sum rises by
ln(p1/p0) on a complication, falls by ln((1−p0)/(1−p1)) otherwise, never below 0, and
crossing ``ALARM`` (h) is an alarm. An alarm is a finding of the ``learning_curve``
detector: a warning raised by the plugins' rule, evidence for evaluation (NAT-22) and for
the operator's authorisation (NAT-20).

Server-rendered SVG with the numbers in a table beside it."""

from __future__ import annotations

import datetime as dt
import math
from html import escape

import msgspec

from core import clock
from core.accounts.schemas import Actor
from core.errors import NotFound
from core.supervision.detectors import Finding, Record, Scope, detector

FIRST_CASES = 30
ODDS_RATIO = 2.0
ALARM = 2.5
DEFAULT_P0 = 0.05  # the acceptable rate while other institutions have too few cases to tell
MIN_OTHERS = 50
TEAM = 0  # the series of the project's team: its first cases whoever operated
MONITORED_YEARS = 2  # projects admitted within this many years (HOSP-17's longest monitoring period)


class Series(msgspec.Struct, frozen=True):
    """One operator's early cases of one project: ``values[i]`` is the CUSUM after case i+1."""

    project_id: int
    project_title: str
    institution_id: int
    technology_code: str
    operator_id: int
    operator_name: str
    p0: float
    p1: float
    case_ids: tuple[int, ...]
    case_labels: tuple[str, ...]  # the hospital's own case numbers
    events: tuple[bool, ...]
    values: tuple[float, ...]
    alarm_at: int | None  # the case number (1-based) where the sum first reached ALARM


def odds_p1(p0: float, ratio: float = ODDS_RATIO) -> float:
    odds = p0 / (1 - p0) * ratio
    return odds / (1 + odds)


def run(events: list[bool], p0: float, h: float = ALARM) -> tuple[list[float], int | None]:
    """The CUSUM path over ``events`` (True = complication) and the first alarm (1-based)."""
    p1 = odds_p1(p0)
    up, down = math.log(p1 / p0), math.log((1 - p1) / (1 - p0))
    s, path, alarm = 0.0, [], None
    for i, event in enumerate(events, start=1):
        s = max(0.0, s + (up if event else down))
        path.append(round(s, 3))
        if alarm is None and s >= h:
            alarm = i
    return path, alarm


async def _rates(codes: list[str], *, from_cases: bool = False) -> dict[tuple[str, int], tuple[int, int]]:
    """Cases and complications per technology and institution (every institution's), from
    the summary ``case_summary`` (voided cases are not in it); ``from_cases``: from the case
    rows (every case of the technologies in the province — a test proves both equal)."""
    from core.cases.tables import CaseRecord

    if not codes:
        return {}
    marks = ", ".join("{}" for _ in codes)
    rows = await CaseRecord.raw(f"""
        SELECT c.technology_code AS code, c.institution AS institution, COUNT(*) AS n,
               SUM(CASE WHEN c.complication THEN 1 ELSE 0 END) AS e
        FROM case_record c WHERE NOT c.voided AND c.technology_code IN ({marks})
        GROUP BY c.technology_code, c.institution""" if from_cases else f"""
        SELECT s.technology_code AS code, s.institution AS institution, SUM(s.cases) AS n, SUM(s.complications) AS e
        FROM case_summary s WHERE s.due = '' AND s.technology_code IN ({marks})
        GROUP BY s.technology_code, s.institution HAVING SUM(s.cases) > 0""", *codes)
    return {(r["code"], r["institution"]): (int(r["n"]), int(r["e"] or 0)) for r in rows}


def acceptable_rate(counts: dict[tuple[str, int], tuple[int, int]], code: str, institution_id: int) -> float:
    """The rate of ``code``'s cases in the other institutions (``DEFAULT_P0`` with too few)."""
    n = sum(v[0] for (c, i), v in counts.items() if c == code and i != institution_id)
    e = sum(v[1] for (c, i), v in counts.items() if c == code and i != institution_id)
    return min(0.5, max(0.01, e / n)) if n >= MIN_OTHERS else DEFAULT_P0


async def series(institution_ids: tuple[int, ...] | None, today: dt.date, *, project_id: int | None = None
                 ) -> list[Series]:
    """Every operator's early-case CUSUM of the projects admitted within ``MONITORED_YEARS``."""
    from core.accounts.tables import User
    from core.admission.tables import Project
    from core.cases.tables import CaseRecord

    since = dt.date(today.year - MONITORED_YEARS, today.month, min(today.day, 28))
    query = Project.select(Project.id, Project.title, Project.institution, Project.technology_code).where(
        (Project.status == "admitted") & (Project.admitted_on >= since))
    if institution_ids is not None:
        query = query.where(Project.institution.is_in(list(institution_ids) or [-1]))
    if project_id is not None:
        query = query.where(Project.id == project_id)
    projects = {p["id"]: p for p in await query}
    if not projects:
        return []
    cases = await CaseRecord.select(CaseRecord.id, CaseRecord.external_id, CaseRecord.project,
                                    CaseRecord.technology_code,
                                    CaseRecord.operators, CaseRecord.complication).where(
        CaseRecord.project.is_in(list(projects)) & (CaseRecord.voided == False)).order_by(  # noqa: E712
        CaseRecord.operated_on).order_by(CaseRecord.id).output(load_json=True)
    rates = await _rates(sorted({c["technology_code"] for c in cases if c["technology_code"]}))
    early: dict[tuple[int, int], list[dict]] = {}
    for c in cases:
        team = early.setdefault((c["project"], TEAM), [])
        if len(team) < FIRST_CASES:
            team.append(c)
        for op in c["operators"] or []:
            got = early.setdefault((c["project"], int(op)), [])
            if len(got) < FIRST_CASES:
                got.append(c)
    names = {u["id"]: u["display_name"] for u in await User.select(User.id, User.display_name).where(
        User.id.is_in(sorted({op for _, op in early}) or [-1]))} | {TEAM: "全团队"}
    out = []
    for (pid, op), got in sorted(early.items()):
        p = projects[pid]
        p0 = acceptable_rate(rates, got[0]["technology_code"], p["institution"])
        events = [bool(c["complication"]) for c in got]
        path, alarm = run(events, p0)
        out.append(Series(project_id=pid, project_title=p["title"], institution_id=p["institution"],
                          technology_code=p["technology_code"] or f"P{pid}", operator_id=op,
                          operator_name=names.get(op, str(op)), p0=p0, p1=odds_p1(p0),
                          case_ids=tuple(c["id"] for c in got), case_labels=tuple(c["external_id"] for c in got),
                          events=tuple(events), values=tuple(path),
                          alarm_at=alarm))
    return out


async def _records(finding: Finding, limit: int) -> list[Record]:
    _, project, operator = finding.fingerprint.split(":")
    found = [s for s in await series((finding.institution_id,), finding.fact_on or clock.today(),
                                     project_id=int(project)) if s.operator_id == int(operator)]
    out = [Record(type="cusum", id=int(project), label="学习曲线（CUSUM）图",
                  href=f"/analytics/cusum/{project}")]
    for s in found:
        out += [Record(type="case", id=cid, label=f"第 {i} 例（病例 {s.case_labels[i - 1]}，并发症）", href=f"/cases/{cid}")
                for i, (cid, event) in enumerate(zip(s.case_ids, s.events, strict=True), start=1) if event][:limit - 1]
    return out


@detector("learning_curve", "新技术早期病例的学习曲线（CUSUM）越过报警线", _records)
async def learning_curve(scope: Scope) -> list[Finding]:
    return [Finding(institution_id=s.institution_id, fingerprint=f"cusum:{s.project_id}:{s.operator_id}",
                    technology_code=s.technology_code, technology_name=s.project_title, fact_on=scope.today,
                    detail=f"{s.project_title}：{'全团队' if s.operator_id == TEAM else '术者' + s.operator_name}"
                           f"的前 {len(s.values)} 例中，第 {s.alarm_at} 例时"
                           f"CUSUM 达到报警线 {ALARM:g}（可接受并发症率 {s.p0 * 100:.1f}%）")
            for s in await series(scope.institution_ids, scope.today) if s.alarm_at is not None]


async def for_project(actor: Actor, project_id: int, today: dt.date) -> list[Series]:
    """The project's series, for its institution's medical affairs, QC and department head, and
    its regulators; another tenant's project answers ``NotFound``."""
    from core.admission.tables import Project
    from core.tenancy.service import require_institution

    row = await Project.select(Project.institution).where(Project.id == project_id).first()
    if row is None or not (actor.is_admin or actor.has("regulator", "qc_center", "medical_affairs", "qc_officer",
                                                       "dept_head", "hospital_head")):
        raise NotFound("未找到该项目")
    try:
        await require_institution(actor, row["institution"])
    except NotFound:
        raise NotFound("未找到该项目") from None
    return await series((row["institution"],), today, project_id=project_id)


def svg(s: Series, *, width: int = 560, height: int = 220) -> str:
    pad_l, pad_r, pad_t, pad_b = 40, 16, 28, 32
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b
    top = max(list(s.values) + [ALARM * 1.3])
    n = max(FIRST_CASES, len(s.values))

    def x(i: int) -> float:
        return pad_l + inner_w * i / n

    def y(v: float) -> float:
        return pad_t + inner_h * (1 - v / top)

    title = f"{s.operator_name}：前 {len(s.values)} 例 CUSUM（报警线 {ALARM:g}）"
    pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate((0.0, *s.values)))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart cusum" role="img" viewBox="0 0 {width} {height}" '
           f'width="100%"><title>{escape(title)}</title>',
           f'<text x="{pad_l}" y="16" font-size="12">{escape(title)}</text>',
           f'<line x1="{pad_l}" y1="{pad_t + inner_h}" x2="{pad_l + inner_w}" y2="{pad_t + inner_h}" stroke="#888"/>',
           f'<line class="alarm" x1="{pad_l}" y1="{y(ALARM):.1f}" x2="{pad_l + inner_w}" y2="{y(ALARM):.1f}" '
           f'stroke="#c0392b" stroke-dasharray="5 3"><title>报警线 {ALARM:g}</title></line>',
           f'<polyline class="path" fill="none" stroke="#1f5f99" stroke-width="2" points="{pts}"/>',
           f'<text x="{pad_l + inner_w / 2}" y="{height - 6}" font-size="10" text-anchor="middle">病例序号</text>']
    for i, (v, event) in enumerate(zip(s.values, s.events, strict=True), start=1):
        if event:
            out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="#c0392b"><title>第 {i} 例：并发症，'
                       f'CUSUM {v:g}</title></circle>')
    out.append("</svg>")
    return "".join(out)
