"""The to-do list (待办) on the 工作台: every task waiting on the person looking at it, with
its due date where a rule sets one; a task leaves the list when it is done.

Sources, in few queries:

* one UNION ALL query over the actor's institution: open admission projects with the votes
  and panel members of their current step (a step, a vote, a panel review, the lead's
  revision or deferred ethics proof — the step's kind decides whose turn it is), annual QC
  reports awaiting review (HOSP-17) and summaries awaiting a decision (HOSP-19);
* the actor's open obligations (every legal deadline, ``core.obligations``);
* for a region's regulators and the QC centre: their institutions' overdue obligations
  owed to the authorities;
* risk warnings (``core.supervision``): for the institution's medical affairs those waiting
  for its answer, for a regulator those it may close;
* for the licence-issuing department: its institutions' stop reports of restricted
  technologies whose filing it has not cancelled yet (``core.lifecycle``, NAT-25).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import msgspec

from core import clock
from core.accounts.schemas import Actor
from core.plugins import HookView

SOURCE_LABELS = {
    "admission": "新技术准入", "report": "质量控制年报", "summary": "监测期总结",
    "obligation": "时限事项", "overdue": "辖区逾期", "warning": "风险预警", "stop_report": "技术停止报告",
}
STATE_LABELS = {"overdue": "已逾期", "due_soon": "即将到期", "open": "未到期", "none": "无时限"}
STATE_ORDER = {"overdue": 0, "due_soon": 1, "open": 2, "none": 3}


class Task(msgspec.Struct, kw_only=True):
    """One line of the to-do list."""

    key: str  # unique on the page, e.g. "obligation-12"
    source: str
    title: str
    action: str
    link: str
    due_on: dt.date | None = None
    since: dt.date | None = None
    state: str = "none"
    days_left: int | None = None
    rule: str = ""
    article: str = ""  # the rule's text, where the source carries it
    institution: str = ""

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def _institution_sql(institution_id: int) -> str:
    """The one UNION ALL query of an institution's open work (15 columns a row)."""
    from core.accounts.tables import User
    from core.admission.tables import PanelMember, Project, Vote
    from core.qc.tables import QcAnnualReport, QcSummary

    p, u = Project._meta.tablename, User._meta.tablename
    inst = int(institution_id)
    open_projects = f"p.institution = {inst} AND p.status IN ('in_review', 'returned', 'admitted')"
    return f"""
        SELECT 'project' AS part, p.id AS id, p.id AS project, p.current_step AS step, p.revision AS revision,
               NULL AS who, p.title AS title, p.status AS status, p.steps AS steps, p.lead AS lead,
               u.display_name AS lead_name, p.ethics_status AS ethics_status, p.ethics_due AS ethics_due,
               p.step_started_on AS since, p.department AS department
        FROM {p} p JOIN {u} u ON u.id = p.lead WHERE {open_projects}
        UNION ALL
        SELECT 'vote', v.id, v.project, v.step, v.revision, v.voter, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL
        FROM {Vote._meta.tablename} v JOIN {p} p ON p.id = v.project
        WHERE {open_projects} AND v.step = p.current_step AND v.revision = p.revision
        UNION ALL
        SELECT 'panel', m.id, m.project, m.step, m.revision, m.expert, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL
        FROM {PanelMember._meta.tablename} m JOIN {p} p ON p.id = m.project
        WHERE {open_projects} AND m.step = p.current_step AND m.revision = p.revision
        UNION ALL
        SELECT 'report', r.id, r.project, NULL, r.year, NULL, p.title, r.status, NULL, p.lead, NULL, NULL, NULL,
               r.submitted_on, p.department
        FROM {QcAnnualReport._meta.tablename} r JOIN {p} p ON p.id = r.project
        WHERE r.institution = {inst} AND r.status IN ('submitted', 'dept_reviewed')
        UNION ALL
        SELECT 'summary', s.id, s.project, NULL, NULL, NULL, p.title, s.status, NULL, p.lead, NULL, NULL, NULL,
               NULL, p.department
        FROM {QcSummary._meta.tablename} s JOIN {p} p ON p.id = s.project
        WHERE s.institution = {inst} AND s.status = 'submitted'
    """


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


async def institution_rows(institution_id: int, memo: dict | None = None) -> list[dict]:
    """The institution's open work as rows of the UNION (``part`` says which). With
    ``memo`` (a request's ``HookView.memo``) read once per request: the to-do list and
    the navigation's admission badge share it."""
    from core.admission.tables import Project

    key = f"institution_rows:{institution_id}"
    if memo is not None and key in memo:
        return memo[key]
    rows = await Project.raw(_institution_sql(institution_id))
    if memo is not None:
        memo[key] = rows
    for row in rows:
        if isinstance(row["steps"], str):
            row["steps"] = json.loads(row["steps"])
        for key in ("ethics_due", "since"):
            row[key] = _date(row[key])
    return rows


def _state(due_on: dt.date | None, today: dt.date, soon_until: dt.date) -> str:
    if due_on is None:
        return "none"
    return "overdue" if due_on < today else "due_soon" if due_on <= soon_until else "open"


def _parts(rows: list[dict]) -> dict[str, list[dict]]:
    parts: dict[str, list[dict]] = {"project": [], "vote": [], "panel": [], "report": [], "summary": []}
    for row in rows:
        parts[row["part"]].append(row)
    return parts


def _admission_work(actor: Actor, parts: dict[str, list[dict]], memo: dict | None = None
                    ) -> tuple[list, dict[int, dict]]:
    """The admission work items waiting on ``actor`` (with their step), and the projects by
    id; with ``memo`` (the request's) worked out once per request (badge and to-do list)."""
    key = f"admission_work:{actor.id}"
    if memo is not None and key in memo:
        return memo[key]
    found = _work_of(actor, parts)
    if memo is not None:
        memo[key] = found
    return found


def _work_of(actor: Actor, parts: dict[str, list[dict]]) -> tuple[list, dict[int, dict]]:
    from core.admission import service as admission

    projects = [r | {"current_step": r["step"], "lead.display_name": r["lead_name"]} for r in parts["project"]]
    votes = [r | {"voter": r["who"]} for r in parts["vote"]]
    panels = [r | {"expert": r["who"]} for r in parts["panel"]]
    return admission.work_items(actor, projects, votes, panels), {r["id"]: r for r in projects}


def admission_items(actor: Actor, rows: list[dict], memo: dict | None = None) -> list:
    """What waits for ``actor`` in admission (``core.admission.service.inbox``'s items), from
    the institution's rows: the navigation's badge."""
    return [item for item, _ in _admission_work(actor, _parts(rows), memo)[0]]


def _institution_tasks(actor: Actor, rows: list[dict], cal, today: dt.date, soon: dt.date,
                       memo: dict | None = None) -> list[Task]:
    from core.admission import service as admission
    from core.qc.schemas import ReportStatus

    parts = _parts(rows)
    work, by_id = _admission_work(actor, parts, memo)
    tasks = []
    for item, step in work:
        row = by_id[item.project_id]
        due = row["ethics_due"] if row["lead"] == actor.id and row["status"] == "admitted" else (
            admission.publicity_ends(cal, row["since"], step))
        tasks.append(Task(key=f"project-{item.project_id}", source="admission", title=item.title,
                          action=f"{item.step}：{item.action}" if item.step and item.step != item.action
                          else item.action, link=item.link, due_on=due, since=row["since"],
                          state=_state(due, today, soon), rule=(step.rule if step else "") or "HOSP-7"))
    for row in parts["report"]:
        mine = (row["status"] == ReportStatus.submitted and actor.has("dept_head")
                and actor.department_id == row["department"]) or (
            row["status"] == ReportStatus.dept_reviewed and actor.has("medical_affairs"))
        if mine:
            tasks.append(Task(key=f"report-{row['id']}", source="report", title=row["title"],
                              action=f"审核 {row['revision']} 年度质量控制情况年报表", link=f"/qc/reports/{row['id']}",
                              since=row["since"], rule="HOSP-17"))
    if actor.has("medical_affairs"):
        for row in parts["summary"]:
            tasks.append(Task(key=f"summary-{row['id']}", source="summary", title=row["title"],
                              action="对监测期总结报告作出决定", link=f"/qc/reports/summary/{row['project']}",
                              rule="HOSP-19"))
    return tasks


async def for_actor(actor: Actor, hooks: HookView, today: dt.date | None = None, limit: int = 50) -> list[Task]:
    """Everything waiting on ``actor``, overdue first, then by due date (undated last)."""
    from core.obligations import service as obligations

    cal, today, soon = await obligations.read_context(hooks, today or clock.today())
    tasks: list[Task] = []
    if actor.institution_id is not None:
        rows = await institution_rows(actor.institution_id, hooks.memo)
        tasks += _institution_tasks(actor, rows, cal, today, soon, hooks.memo)
    for o in await obligations.open_for(actor, hooks, today, limit=limit):
        tasks.append(Task(key=f"obligation-{o['id']}", source="obligation", title=o["title"],
                          action=o["subject_label"] or o["kind_label"], link=f"/obligations/{o['id']}",
                          due_on=o["due_on"], state=o["state"] if o["state"] in STATE_LABELS else "open",
                          days_left=o["days_left"], rule=o["rule_id"], article=o["article"],
                          institution=o["institution_name"]))
    for o in await obligations.institutions_overdue(actor, hooks, today, limit=limit):
        tasks.append(Task(key=f"overdue-{o['id']}", source="overdue", title=o["title"],
                          action=f"督促{o['institution_name']}办理：{o['subject_label'] or o['kind_label']}",
                          link=f"/obligations/{o['id']}", due_on=o["due_on"], state="overdue",
                          days_left=o["days_left"], rule=o["rule_id"], article=o["article"],
                          institution=o["institution_name"]))
    from core.supervision import service as supervision

    for w in await supervision.listing(actor, status="open", limit=limit):
        # The institution answers a warning it has not answered yet; the regulator decides.
        if (w["may_answer"] and w["status"] in ("raised", "seen")) or w["may_decide"]:
            verb = "请答复" if w["may_answer"] else "待处理"
            tasks.append(Task(key=f"warning-{w['id']}", source="warning", title=w["title"],
                              action=f"{verb}：{w['detail']}（{w['status_label']}）", link=f"/warnings/{w['id']}",
                              since=w["raised_on"], rule=w["rule_id"], institution=w["institution.name"]))
    from core.lifecycle import service as lifecycle

    for u in await lifecycle.awaiting_cancellation(actor):
        # NAT-25 (2)(3): the licence-issuing department cancels the filing on the stop report.
        tasks.append(Task(key=f"stop-{u['id']}", source="stop_report",
                          title=f"{u['technology_key']} {u['technology_name']}已停止临床应用",
                          action=f"注销备案并在副本备注：{u['trigger_text']}", link=f"/filings/{u['filing_id']}",
                          since=u["since"], rule=u["rule"], institution=u["institution.name"]))
    tasks.sort(key=lambda t: (STATE_ORDER[t.state], t.due_on or dt.date.max, t.since or dt.date.max, t.key))
    return tasks[:limit]
