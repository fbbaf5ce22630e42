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
from typing import Any

import msgspec

from core import clock
from core.accounts.schemas import Actor
from core.plugins import HookView

SOURCE_LABELS = {
    "admission": "新技术准入", "report": "质量控制年报", "summary": "监测期总结",
    "obligation": "时限事项", "overdue": "辖区逾期", "warning": "风险预警", "stop_report": "技术停止报告",
    "filing": "限制类技术备案",
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


# Who reads the institution's obligation counts (core.obligations.service.INSTITUTION_WIDE)
# and may answer its warnings (core.supervision.service.ANSWERERS).
_COUNT_READERS = ("medical_affairs", "hospital_head")


def _roles_key(roles: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(r for r in roles if r.isidentifier()))


def _institution_sql(institution_id: int, roles: tuple[str, ...] = ()) -> str:
    """The one UNION ALL query of an institution's open work (15 columns a row); with the
    reader's ``roles``, also the institution's obligation counts (``obligation_summary``,
    for medical affairs and the hospital head) and the open risk warnings whose audience
    holds one of the roles — the dashboard's figures in this one query."""
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
    """ + _counts_sql(inst, roles) + _warnings_sql(inst, roles) + _filings_sql(inst, roles)


def _filings_sql(inst: int, roles: tuple[str, ...]) -> str:
    """For medical affairs: the institution's returned filings (``core.filing.service.
    waiting_on``'s rows): the code as ``title``, the name as ``lead_name``, the return
    reason as ``ethics_status``, the Beijing day of the last change as ``since``."""
    from core.db import is_sqlite
    from core.filing.schemas import FilingStatus
    from core.filing.tables import Filing

    if "medical_affairs" not in roles:
        return ""
    day = ("date(f.updated_at, '+8 hours')" if is_sqlite()
           else "CAST(f.updated_at AT TIME ZONE 'Asia/Shanghai' AS DATE)")
    return f"""
        UNION ALL
        SELECT 'filing', f.id, NULL, NULL, NULL, NULL, f.technology_code, f.status, NULL, NULL, f.technology_name,
               f.return_reason, NULL, {day}, NULL
        FROM {Filing._meta.tablename} f WHERE f.institution = {inst} AND f.status = '{FilingStatus.returned.value}'
    """


def _counts_sql(inst: int, roles: tuple[str, ...]) -> str:
    """The institution's rows of ``obligation_summary``: n as ``revision``, the due date of
    an open one as ``lead_name``, done_late ('1'/'0') as ``ethics_status``."""
    if not set(roles) & set(_COUNT_READERS):
        return ""
    return f"""
        UNION ALL
        SELECT 'count', NULL, NULL, NULL, o.n, NULL, NULL, o.status, NULL, NULL, o.due,
               CASE WHEN o.done_late THEN '1' ELSE '0' END, NULL, NULL, NULL
        FROM obligation_summary o WHERE o.institution = {inst} AND o.n <> 0
    """


def _warnings_sql(inst: int, roles: tuple[str, ...]) -> str:
    """Open risk warnings of the institution whose audience holds one of ``roles``
    (``core.supervision.service.listing``'s visibility, newest first, at most 50): detail as
    ``lead_name``, the rule id as ``ethics_status``, raised_on as ``since``."""
    from core.supervision import rules as warning_rules
    from core.supervision.tables import RiskWarning

    if not roles:
        return ""
    seen_by = " OR ".join(f"w.audience_key LIKE '%,{r},%'" for r in roles)
    states = ", ".join(f"'{s}'" for s in sorted(warning_rules.OPEN))
    # The limit in a sub-select of ids: a UNION member of bare NULLs takes the other
    # members' column types (PostgreSQL types a sub-select's NULL as text).
    table = RiskWarning._meta.tablename
    return f"""
        UNION ALL
        SELECT 'warning', w.id, NULL, NULL, NULL, NULL, w.title, w.status, NULL, NULL, w.detail, w.rule_id, NULL,
               w.raised_on, NULL
        FROM {table} w
        WHERE w.id IN (SELECT x.id FROM {table} x WHERE x.institution = {inst} AND x.status IN ({states})
                       AND ({seen_by.replace("w.", "x.")}) ORDER BY x.id DESC LIMIT {WARNING_LIMIT})
    """


WARNING_LIMIT = 50


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# What a process keeps of institutions' dashboards while their change counter stands
# (``core.dashboard.tables.InstitutionChange``, read with the session): bounded, cleared whole.
KEPT: dict[tuple, Any] = {}
KEPT_LIMIT = 4000


def kept_key(institution_id: int | None, memo: dict | None, *parts: Any) -> tuple | None:
    """A key for ``KEPT`` when the request read ``institution_id``'s change counter with its
    session (``memo["work_version"]``), else ``None`` (nothing is kept: read afresh). The
    key holds the counter, the switched-off plugins, the holiday notices' signature and
    ``parts``."""
    if memo is None or institution_id is None:
        return None
    version = memo.get("work_version")
    if version is None or version[0] != institution_id:
        return None
    return (*version, memo.get("calendar_key"), *parts)


def keep(key: tuple | None, value: Any) -> Any:
    if key is not None:
        if len(KEPT) >= KEPT_LIMIT:
            KEPT.clear()
        KEPT[key] = value
    return value


async def institution_rows(institution_id: int, memo: dict | None = None, roles: tuple[str, ...] = ()
                           ) -> list[dict]:
    """The institution's open work as rows of the UNION (``part`` says which), with what
    the reader's ``roles`` see of its counts and warnings. With ``memo`` (a request's
    ``HookView.memo``) read once per request: the to-do list, the dashboard's counts and
    the navigation's admission badge share it; and while the institution's change counter
    read with the session stands, not read again (``KEPT``; the rows are never changed
    after they are read)."""
    from core.admission.tables import Project

    roles = _roles_key(roles)
    key = f"institution_rows:{institution_id}:{','.join(roles)}"
    if memo is not None and key in memo:
        return memo[key]
    kept = kept_key(institution_id, memo, "rows", roles)
    if kept is not None and kept in KEPT:
        memo[key] = KEPT[kept]
        return memo[key]
    rows = await Project.raw(_institution_sql(institution_id, roles))
    if memo is not None:
        memo[key] = rows
    keep(kept, rows)
    # ``steps`` stays the column's JSON text: only the current step is read, once per
    # process for the same text (``core.admission.service.work_items``).
    for row in rows:
        for key in ("ethics_due", "since"):
            row[key] = _date(row[key])
    return rows


def _state(due_on: dt.date | None, today: dt.date, soon_until: dt.date) -> str:
    if due_on is None:
        return "none"
    return "overdue" if due_on < today else "due_soon" if due_on <= soon_until else "open"


def _parts(rows: list[dict]) -> dict[str, list[dict]]:
    parts: dict[str, list[dict]] = {"project": [], "vote": [], "panel": [], "report": [], "summary": [],
                                    "count": [], "warning": [], "filing": []}
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
    kept = kept_key(actor.institution_id, memo, "admission_work", actor)
    found = KEPT.get(kept) if kept is not None else None
    if found is None:
        found = keep(kept, _work_of(actor, parts))
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
    warnings = None
    if actor.institution_id is not None:
        rows = await institution_rows(actor.institution_id, hooks.memo, actor.roles)
        tasks += _institution_tasks(actor, rows, cal, today, soon, hooks.memo)
        warnings = institution_warnings(actor, rows)
    for o in await obligations.open_for(actor, hooks, today, limit=limit, brief=True):
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

    if warnings is None:
        warnings = await supervision.listing(actor, status="open", limit=limit)
    for w in warnings[:limit]:
        # The institution answers a warning it has not answered yet; the regulator decides.
        if (w["may_answer"] and w["status"] in ("raised", "seen")) or w["may_decide"]:
            verb = "请答复" if w["may_answer"] else "待处理"
            tasks.append(Task(key=f"warning-{w['id']}", source="warning", title=w["title"],
                              action=f"{verb}：{w['detail']}（{w['status_label']}）", link=f"/warnings/{w['id']}",
                              since=w["raised_on"], rule=w["rule_id"], institution=w["institution.name"]))
    from core.filing import service as filing

    waiting = institution_filings(actor, rows) if actor.institution_id is not None else await filing.waiting_on(actor)
    for f in waiting:
        # NAT-11: a returned filing waits on medical affairs, a withdrawal request on the regulator.
        tasks.append(Task(key=f"filing-{f['id']}", source="filing",
                          title=f"{f['technology_code']} {f['technology_name']}", action=f["action"],
                          link=f"/filings/{f['id']}", since=f["since"], rule="NAT-11",
                          institution=f["institution.name"]))
    from core.lifecycle import service as lifecycle

    for u in await lifecycle.awaiting_cancellation(actor):
        # NAT-25 (2)(3): the licence-issuing department cancels the filing on the stop report.
        tasks.append(Task(key=f"stop-{u['id']}", source="stop_report",
                          title=f"{u['technology_key']} {u['technology_name']}已停止临床应用",
                          action=f"注销备案并在副本备注：{u['trigger_text']}", link=f"/filings/{u['filing_id']}",
                          since=u["since"], rule=u["rule"], institution=u["institution.name"]))
    tasks.sort(key=lambda t: (STATE_ORDER[t.state], t.due_on or dt.date.max, t.since or dt.date.max, t.key))
    return tasks[:limit]


def institution_warnings(actor: Actor, rows: list[dict]) -> list[dict]:
    """The institution's open warnings ``actor`` sees (its roles in their audience), from
    the institution's rows, decorated as ``core.supervision.service.listing`` does."""
    from core.supervision import service as supervision

    return [supervision.decorate({
        "id": r["id"], "institution": actor.institution_id, "institution.name": actor.institution_name or "",
        "title": r["title"], "status": r["status"], "severity": "", "detail": r["lead_name"] or "",
        "rule_id": r["ethics_status"] or "", "raised_on": _date(r["since"])}, actor)
        for r in sorted(_parts(rows)["warning"], key=lambda r: r["id"], reverse=True)]


def obligation_counts(actor: Actor, rows: list[dict], today: dt.date, soon: dt.date) -> list[dict]:
    """``core.obligations.service.status_counts`` for the actor's own institution, from the
    institution's rows (its ``obligation_summary`` rows came with them)."""
    from core.obligations import service as obligations

    groups = [{"institution": actor.institution_id, "name": actor.institution_name or "", "status": r["status"],
               "done_late": r["ethics_status"] == "1", "n": int(r["revision"] or 0),
               "overdue": bool(r["lead_name"]) and r["lead_name"] < today.isoformat(),
               "soon": bool(r["lead_name"]) and r["lead_name"] <= soon.isoformat()}
              for r in _parts(rows)["count"]]
    return obligations.counts_of(groups)


def institution_filings(actor: Actor, rows: list[dict]) -> list[dict]:
    """``core.filing.service.waiting_on`` for a hospital user, from the institution's rows
    (medical affairs resubmits a returned filing, NAT-11)."""
    if not actor.has("medical_affairs"):
        return []
    return [{"id": r["id"], "technology_code": r["title"], "technology_name": r["lead_name"], "status": r["status"],
             "since": _date(r["since"]), "institution.name": actor.institution_name or "",
             "action": f"按退回意见补正后重新提交：{r['ethics_status'] or ''}"}
            for r in sorted(_parts(rows)["filing"], key=lambda r: (str(r["since"]), r["id"]))]
