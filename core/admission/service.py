"""New-technology admission (新技术新项目准入): the use cases, the only writer of the
admission tables.

The workflow's steps come from the hospital plugin (``admission_steps``), the form from
``application_form``, the grade scale from ``grades`` and extra refusals from
``validate_project``; core runs the steps by their ``kind``. Each transition is one
function that checks the actor's role and the project's state, takes the project's
row with an optimistic version check (two reviewers cannot both win), writes the
timeline entry and the audit event in one transaction, and notifies the next people.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

import msgspec

from core import changes, clock, listing
from core.accounts.schemas import SYSTEM, Actor
from core.accounts.tables import User
from core.admission import kinds, links, rules
from core.admission.schemas import (
    DECISION_LABELS,
    PATH_LABELS,
    Abilities,
    EthicsStatus,
    FormSpec,
    InstitutionInfo,
    PersonInfo,
    ProjectInfo,
    ProjectPage,
    ProjectStatus,
    RoundStatus,
    Step,
    WorkItem,
)
from core.admission.tables import (
    AdmissionRound,
    Objection,
    PanelMember,
    Project,
    ProjectVersion,
    StepDecision,
    Vote,
)
from core.audit import service as audit
from core.db import write_transaction
from core.errors import Conflict, DomainError, Forbidden, NotFound, Problem
from core.holidays.service import work_calendar
from core.messages import t
from core.plugins import HookView
from core.policy import policy
from core.storage import service as storage
from core.tenancy.tables import Institution

MOVED_ON = "该步骤已由他人处理或项目已有更新，流程已推进，请刷新页面后查看最新状态"
OPEN_STATUSES = (ProjectStatus.draft, ProjectStatus.in_review, ProjectStatus.returned)
# The lead edits the form and its attachments only before submission or after a return.
EDITABLE_STATUSES = (ProjectStatus.draft, ProjectStatus.returned)


def _today(today: dt.date | None) -> dt.date:
    return today or clock.today()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------- plugin answers


async def institution_info(institution_id: int) -> InstitutionInfo:
    row = await Institution.select().where(Institution.id == institution_id).first().output(load_json=True)
    if row is None:
        raise NotFound("未找到该医疗机构")
    return InstitutionInfo(id=row["id"], name=row["name"], licence_no=row["licence_no"], grade=row["grade"],
                           registered_subjects=tuple(row["registered_subjects"] or ()))


async def person_info(user_id: int, today: dt.date | None = None) -> PersonInfo:
    from core.people.service import practice_since

    row = await User.select().where(User.id == user_id).first().output(load_json=True)
    if row is None:
        raise NotFound("未找到该人员")
    since = await practice_since(user_id)
    return PersonInfo(
        id=row["id"], display_name=row["display_name"], title=row["title"], roles=tuple(row["roles"] or ()),
        institution_id=row["institution"], resident_since=row["resident_since"],
        years_as_resident=rules.years_between(row["resident_since"], _today(today)),
        visiting=bool(row["visiting"]), qualifications=tuple(row["qualifications"] or ()),
        years_in_practice=rules.years_between(since, _today(today)) if since else None,
    )


def project_info(row: dict, today: dt.date | None = None, technology: Any = None,
                 has_evidence_files: bool = False) -> ProjectInfo:
    """The struct plugins receive for a project row (from ``_load``) or a new one."""
    lead = getattr(technology, "lead", None)
    requirements = tuple(lead.certificates) + tuple(lead.titles) if lead else ()
    return ProjectInfo(
        id=row.get("id"), institution_id=row["institution"], department_id=row.get("department"),
        department_subject=row.get("department.subject") or "", title=row.get("title") or "",
        path=row.get("path") or "round", tech_class=row.get("tech_class") or "routine",
        outside_lists=bool(row.get("outside_lists")), technology_code=row.get("technology_code") or "",
        technology_name=row.get("technology_name") or "",
        technology_specification=getattr(technology, "specification", "") or "",
        technology_requirements=requirements, technology_lead=lead, grade=row.get("grade") or "", form=dict(row.get("form") or {}),
        has_evidence_files=has_evidence_files, today=today,
    )


def steps_for(hooks: HookView, project: ProjectInfo, institution: InstitutionInfo | None = None) -> list[Step]:
    """The hospital plugin's workflow for this project (first answer wins)."""
    answer = hooks.call("admission_steps", project=project)
    if not answer:
        raise DomainError("本机构未配置准入流程（admission_steps），请联系系统管理员")
    return list(answer)


def form_for(hooks: HookView, project: ProjectInfo, institution: InstitutionInfo | None = None) -> FormSpec:
    """The hospital plugin's application form for this project."""
    answer = hooks.call("application_form", project=project)
    if answer is None:
        raise DomainError("本机构未配置申请表（application_form），请联系系统管理员")
    return answer


def grades_for(hooks: HookView, project: ProjectInfo) -> list[tuple[str, str]]:
    """The hospital's grade scale (HOSP-1 by default): ``[(value, label), …]``."""
    answer = hooks.call("grades", project=project) or []
    return [(str(v), str(label)) for v, label in answer]


def frozen_step(stored: dict) -> Step:
    """A step as frozen on a project. Projects submitted before the typed contract (API 1)
    kept a step's options in an ``options`` dict; they read as the typed step's fields."""
    if "options" in stored:
        stored = {k: v for k, v in stored.items() if k != "options"} | dict(stored.get("options") or {})
    return msgspec.convert(stored, Step)


def _frozen_steps(row: dict) -> list[Step]:
    return [frozen_step(s) for s in row.get("steps") or []]


def _current_step(stored: list[dict] | str | None, key: str | None) -> Step | None:
    """``_step(...)[1]`` converting only the step with ``key`` (the work lists read every
    open project's current step, not its whole workflow). ``stored`` may be the column's
    JSON text: its step is worked out once per process (``_current_step_of_json``)."""
    if isinstance(stored, str):
        return _current_step_of_json(stored, key)
    for s in stored or []:
        found = s.get("key") if "options" not in s else (s.get("options") or {}).get("key", s.get("key"))
        if found == key:
            return frozen_step(s)
    return None


@functools.lru_cache(maxsize=4096)
def _current_step_of_json(text: str, key: str | None) -> Step | None:
    """A project's frozen steps, as stored (JSON), read for the to-do list and the work
    badge at every request: the same text gives the same (immutable) step."""
    return _current_step(json.loads(text), key)


def _step(steps: list[Step], key: str | None) -> tuple[int, Step | None]:
    for i, s in enumerate(steps):
        if s.key == key:
            return i, s
    return -1, None


def _problems(answers: list[Any]) -> list[Problem]:
    out = []
    for answer in answers:
        for p in answer if isinstance(answer, list | tuple) else [answer]:
            out.append(p)
    return out


# ---------------------------------------------------------------- reading


_COLUMNS = (
    Project.department.name, Project.department.subject, Project.lead.display_name, Project.institution.name,
)


async def _load(actor: Actor, project_id: int) -> dict:
    """The project if the actor's tenant holds it (drafts: their lead only); else NotFound."""
    row = await Project.select(*Project.all_columns(), *_COLUMNS).where(
        Project.id == project_id).first().output(load_json=True)
    if row is None:
        raise NotFound("未找到该项目")
    if not actor.is_admin and actor.institution_id != row["institution"]:
        raise NotFound("未找到该项目")
    if row["status"] == ProjectStatus.draft and actor.id != row["lead"] and not actor.is_admin:
        raise NotFound("未找到该项目")
    return row


async def get_project(actor: Actor, project_id: int) -> dict:
    """A project with its steps (frozen, or the plugin's current ones for a draft)."""
    return await _load(actor, project_id)


async def project_view(actor: Actor, hooks: HookView, project_id: int, today: dt.date | None = None) -> ProjectPage:
    """Everything the project page shows: the project, its form spec, steps, timeline,
    votes, panel, objections, attachments, and what the actor may do now."""
    row = await _load(actor, project_id)
    inst = await institution_info(row["institution"])
    info = project_info(row, today)
    spec = form_for(hooks, info, inst)
    steps = _frozen_steps(row) or steps_for(hooks, info, inst)
    _, step = _step(steps, row["current_step"])
    timeline = await StepDecision.select().where(StepDecision.project == project_id).order_by(
        StepDecision.id).output(load_json=True)
    votes = await Vote.select(*Vote.all_columns(), Vote.voter.display_name).where(
        Vote.project == project_id).order_by(Vote.id).output(load_json=True)
    panel = await PanelMember.select(PanelMember.expert, PanelMember.expert.display_name, PanelMember.step,
                                     PanelMember.revision).where(PanelMember.project == project_id)
    objections = await Objection.select(*Objection.all_columns(), Objection.author.display_name).where(
        Objection.project == project_id).order_by(Objection.id)
    files = await storage.list_for("project", [project_id])
    cal = await work_calendar(hooks)
    publicity_ends = None
    if step is not None and step.kind == "publicity" and row["step_started_on"]:
        publicity_ends = _publicity_ends(cal, row["step_started_on"], step)
    return ProjectPage(
        project=row, spec=spec, steps=steps, step=step, timeline=timeline, votes=votes,
        panel=[p for p in panel if step and p["step"] == step.key and p["revision"] == row["revision"]],
        objections=objections, files=files, publicity_ends=publicity_ends,
        grades=grades_for(hooks, info), institution=inst,
        can=await _abilities(actor, row, step, votes, panel, objections),
        step_template=kinds.of(step).template if step is not None else "",
    )


def _context(actor: Actor, row: dict, step: Step, votes: list, panel: list) -> kinds.StepContext:
    """The actor at the project's current step, for its kind (``core.admission.kinds``)."""
    here = (step.key, row["revision"])
    return kinds.StepContext(
        actor=actor, project=row, step=step,
        members=frozenset(p["expert"] for p in panel if (p["step"], p["revision"]) == here),
        voters=frozenset(v["voter"] for v in votes if (v["step"], v["revision"]) == here))


async def _abilities(actor: Actor, row: dict, step: Step | None, votes: list, panel: list,
                     objections: list) -> Abilities:
    """What the actor may do on the project page: the lead's own actions, and the current
    step's, as its kind grants them."""
    is_lead = actor.id == row["lead"]
    can = {"edit": is_lead and row["status"] in (ProjectStatus.draft, ProjectStatus.returned),
           "withdraw": is_lead and row["status"] in OPEN_STATUSES,
           "ethics_proof": (is_lead or actor.has("medical_affairs")) and row["status"] == ProjectStatus.admitted
           and row["ethics_status"] == EthicsStatus.deferred} | dict.fromkeys(kinds.STEP_ACTIONS, False)
    if step is not None:
        can |= dict.fromkeys(kinds.of(step).abilities(_context(actor, row, step, votes, panel)), True)
    can["step_action"] = any(can[a] for a in kinds.STEP_ACTIONS)
    return Abilities(**can)


async def _with_step(rows: list[dict]) -> list[dict]:
    for row in rows:
        _, step = _step(_frozen_steps(row), row["current_step"])
        row["step_title"] = step.title if step else ""
    return rows


def project_list(actor: Actor) -> tuple[listing.ListSpec, Any]:
    """Projects of the actor's institution (drafts only their lead's) as a list (issue 11
    point 11): search, filters, sort, pages, export. (spec, tenancy clause)"""
    from core.admission.schemas import CLASS_LABELS, STATUS_LABELS

    scope = (Project.status != ProjectStatus.draft) | (Project.lead == actor.id)
    if not actor.is_admin:
        scope = scope & (Project.institution == (actor.institution_id or -1))
    spec = listing.ListSpec(
        table=Project, columns=(*Project.all_columns(exclude=[Project.form]), *_COLUMNS), title="新技术项目",
        search=(Project.title, Project.technology_code, Project.technology_name), search_hint="项目名称、技术名称或编码",
        filters=(listing.Filter(key="status", label="状态", column=Project.status, choices=tuple(STATUS_LABELS.items())),
                 listing.Filter(key="path", label="准入途径", column=Project.path, choices=tuple(PATH_LABELS.items())),
                 listing.Filter(key="class", label="类别", column=Project.tech_class, choices=tuple(CLASS_LABELS.items())),
                 listing.Filter(key="mine", label="我负责的", kind="yes_no",
                                clause=lambda yes: (Project.lead == actor.id) if yes else (Project.lead != actor.id))),
        sorts=(listing.Sort("title", "项目", Project.title), listing.Sort("admitted_on", "准入日期", Project.admitted_on),
               listing.Sort("updated_at", "最近更新", Project.updated_at), listing.Sort("id", "申报顺序", Project.id)),
        export=(listing.field("项目", "title"),
                listing.field("技术编码", "technology_code"),
                listing.ExportColumn("技术名称", lambda r: r["technology_name"] or "目录外技术"),
                listing.ExportColumn("类别", lambda r: CLASS_LABELS.get(r["tech_class"], "")),
                listing.field("科室", "department.name"),
                listing.field("负责人", "lead.display_name"),
                listing.ExportColumn("途径", lambda r: PATH_LABELS.get(r["path"], "")),
                listing.ExportColumn("状态", lambda r: STATUS_LABELS.get(r["status"], "")),
                listing.field("当前步骤", "step_title"),
                listing.field("准入日期", "admitted_on")),
        decorate=_with_step)
    return spec, scope


async def list_projects(actor: Actor, *, mine: bool = False) -> list[dict]:
    """Projects of the actor's institution (drafts only their lead's); ``mine``: led by the actor."""
    spec, scope = project_list(actor)
    query = Project.select(*spec.columns).where(scope).order_by(Project.id, ascending=False)
    if mine:
        query = query.where(Project.lead == actor.id)
    return await _with_step(await query.output(load_json=True))


async def publicity_list(actor: Actor) -> list[dict]:
    """HOSP-10: projects in publicity, readable by every user of the institution."""
    rows = await Project.select(*Project.all_columns(exclude=[Project.form]), *_COLUMNS).where(
        (Project.institution == (actor.institution_id or -1)) & (Project.status == ProjectStatus.in_review)
    ).order_by(Project.id).output(load_json=True)
    out = []
    for row in rows:
        _, step = _step(_frozen_steps(row), row["current_step"])
        if step is not None and step.kind == "publicity":
            out.append(row | {"step_title": step.title})
    return out


async def timeline(actor: Actor, project_id: int) -> list[dict]:
    await _load(actor, project_id)
    return await StepDecision.select().where(StepDecision.project == project_id).order_by(
        StepDecision.id).output(load_json=True)


async def versions(actor: Actor, project_id: int) -> list[dict]:
    """Every submitted revision of the application (HOSP-8 history)."""
    await _load(actor, project_id)
    return await ProjectVersion.select(*ProjectVersion.all_columns(), ProjectVersion.submitted_by.display_name).where(
        ProjectVersion.project == project_id).order_by(ProjectVersion.revision).output(load_json=True)


# ---------------------------------------------------------------- writing helpers


async def _fresh(project_id: int) -> dict:
    return await Project.select(*Project.all_columns(), *_COLUMNS).where(
        Project.id == project_id).first().output(load_json=True)


# How a project changes (core.changes): the optimistic lock on its version, the audit
# event's snapshot, the conflict message and the notices' title and link.
PROJECT = changes.Versioned(
    table=Project, record_type="admission_project", action_prefix="admission",
    snapshot=("title", "grade", "status", "current_step", "revision", "tech_class", "technology_code",
              "technology_name", "ethics_status"),
    read=_fresh, moved_on=MOVED_ON, link=lambda project_id: f"/admission/projects/{project_id}",
    source=lambda project_id: f"admission:{project_id}",
    title=lambda project, text: f"【新技术准入】{project['title']}：{text}",
)


async def record_entry(project: dict, actor: Actor, step: Step | None, decision: str, *, reason: str = "",
                       details: dict | None = None, attachments: list[int] | None = None, role: str = "") -> None:
    """One timeline entry (办理记录) of the project, in the caller's transaction."""
    await StepDecision.insert(StepDecision(
        project=project["id"], step=step.key if step else "", step_title=step.title if step else "",
        revision=project["revision"], actor=actor.id or None, actor_name=actor.display_name, role=role,
        decision=decision, reason=reason, details=details or {}, attachments=attachments or [],
    ))


async def users_with(institution_id: int, role: str, department_id: int | None = None) -> list[int]:
    rows = await User.select(User.id, User.roles, User.department).where(
        (User.institution == institution_id) & (User.active == True)  # noqa: E712
    ).output(load_json=True)
    return [r["id"] for r in rows if role in (r["roles"] or [])
            and (department_id is None or r["department"] == department_id)]


async def _recipients(project: dict, step: Step | None) -> list[int]:
    """Who a step is handed over to: its kind's acting role (the department head of the
    project's own department)."""
    if step is None:
        return []
    role = kinds.of(step).acting_role(step)
    return await users_with(project["institution"], role, project["department"] if role == "dept_head" else None)


def _link(project_id: int) -> str:
    return f"/admission/projects/{project_id}"


def _publicity_ends(cal, start: dt.date, step: Step) -> dt.date:
    """HOSP-10: publicity lasts ``weeks`` (one by default) from its first day (CAL-2)."""
    return cal.add_weeks(start, step.weeks).date


async def _enter(actor: Actor, hooks: HookView, project: dict, steps: list[Step], index: int,
                 today: dt.date, values: dict) -> Step | None:
    """Move to ``steps[index]`` (or past the end); notify who acts there."""
    step = steps[index] if 0 <= index < len(steps) else None
    values.update({
        Project.current_step: step.key if step else None,
        Project.current_role: step.role if step else None,
        Project.step_started_on: today if step else None,
    })
    if step is not None:
        await PROJECT.notify(project, await _recipients(project, step), f"待您办理「{step.title}」")
        await kinds.of(step).on_enter(actor, hooks, project, step, today)
    return step


async def _admit(actor: Actor, hooks: HookView, project: dict, today: dt.date, values: dict) -> None:
    """Admission (准入): the QC monitoring period starts (HOSP-17: 1 year routine, 2 years
    restricted); a restricted project waits for its first case; a project that went
    ahead without ethics approval owes it within 3 months (HOSP-7, CAL-2)."""
    cal = await work_calendar(hooks)
    months = rules.monitoring_months(project["tech_class"])
    values.update({
        Project.status: ProjectStatus.admitted, Project.admitted_on: today,
        Project.monitoring_until: cal.add_months(today, months).date,
        Project.awaiting_first_case: project["tech_class"] == "restricted",
    })
    if project["ethics_status"] == EthicsStatus.deferred:
        values[Project.ethics_due] = cal.add_months(today, 3).date
    await links.emit(actor, hooks, "admission", project, today,
                     ethics_pending=project["ethics_status"] == EthicsStatus.deferred)


async def advance(actor: Actor, hooks: HookView, project: dict, steps: list[Step], step: Step,
                   today: dt.date, values: dict) -> Step | None:
    """After ``step`` is approved: admit if it admits, then enter the next step."""
    index, _ = _step(steps, step.key)
    if step.admits:
        await _admit(actor, hooks, project, today, values)
    return await _enter(actor, hooks, project, steps, index + 1, today, values)


def _require(problems: list[Problem]) -> None:
    if problems:
        raise DomainError(problems)


# ---------------------------------------------------------------- rounds (HOSP-4, HOSP-12)


async def current_round(institution_id: int, today: dt.date | None = None) -> dict | None:
    """The open yearly round on ``today`` (HOSP-4), if any."""
    day = _today(today)
    rows = await AdmissionRound.select().where(
        (AdmissionRound.institution == institution_id) & (AdmissionRound.status == RoundStatus.open))
    return next((r for r in rows if rules.round_is_open(r, day)), None)


async def list_rounds(actor: Actor, today: dt.date | None = None) -> list[dict]:
    """The institution's rounds, each with its ``state`` on ``today`` (dates and status agree)."""
    day = _today(today)
    rows = await AdmissionRound.select().where(
        AdmissionRound.institution == (actor.institution_id or -1)).order_by(AdmissionRound.id, ascending=False)
    for row in rows:
        row["state"] = rules.round_state(row, day)
    return rows


async def open_round(actor: Actor, year: int, opens_on: dt.date | None = None,
                     closes_on: dt.date | None = None) -> int:
    """Medical affairs opens the yearly round (HOSP-4: the first half of the year unless
    it says otherwise). One open round per institution and year."""
    if not actor.has("medical_affairs") or actor.institution_id is None:
        raise NotFound("未找到")
    first, last = rules.default_round_dates(year, clock.today())
    opens_on, closes_on = opens_on or first, closes_on or last
    problems = []
    if closes_on < opens_on:
        problems.append(Problem("截止日期不能早于开始日期", "closes_on", "HOSP-4"))
    if opens_on.year != year:
        problems.append(Problem("开始日期须在该年度内", "opens_on", "HOSP-4"))
    if await AdmissionRound.exists().where(
        (AdmissionRound.institution == actor.institution_id) & (AdmissionRound.year == year)
        & (AdmissionRound.status == RoundStatus.open)
    ):
        problems.append(Problem(f"{year} 年度已有开放中的准入申报", "year", "HOSP-4"))
    _require(problems)
    async with write_transaction():
        rows = await AdmissionRound.insert(AdmissionRound(
            institution=actor.institution_id, year=year, opens_on=opens_on, closes_on=closes_on,
            opened_by=actor.id)).returning(AdmissionRound.id)
        round_id = rows[0]["id"]
        await audit.record(actor, "admission.round_open", "admission_round", round_id,
                           after={"year": year, "opens_on": opens_on, "closes_on": closes_on},
                           institution_id=actor.institution_id)
    return round_id


async def close_round(actor: Actor, round_id: int) -> None:
    """Medical affairs closes a round; from then on only the temporary path (HOSP-12)."""
    row = await AdmissionRound.select().where(AdmissionRound.id == round_id).first()
    if row is None or not actor.has("medical_affairs") or row["institution"] != actor.institution_id:
        raise NotFound("未找到该年度申报")
    if row["status"] != RoundStatus.open:
        raise DomainError("该年度申报已关闭")
    async with write_transaction():
        await AdmissionRound.update({AdmissionRound.status: RoundStatus.closed,
                                     AdmissionRound.closed_at: _now()}).where(
            AdmissionRound.id == round_id)
        await audit.record(actor, "admission.round_close", "admission_round", round_id,
                           before={"status": "open"}, after={"status": "closed"}, institution_id=row["institution"])


# ---------------------------------------------------------------- the application


class NewProject(msgspec.Struct):
    title: str
    path: str = "round"
    technology_id: int | None = None
    outside_lists: bool = False


async def create_project(actor: Actor, hooks: HookView, data: NewProject, today: dt.date | None = None) -> int:
    """A clinician starts a draft from a catalogue technology or as one outside every
    list (NAT-12: then routine). A prohibited technology is refused outright (NAT-9)."""
    if not actor.has("clinician") or actor.institution_id is None:
        raise NotFound("未找到")
    problems = []
    if not data.title.strip():
        problems.append(Problem("请填写项目名称", "title"))
    if data.path not in ("round", "temporary"):
        problems.append(Problem("请选择准入途径", "path"))
    if actor.department_id is None:
        problems.append(Problem("您的账号未归属科室，不能申报新技术", "title"))
    if data.technology_id is None and not data.outside_lists:
        problems.append(Problem("请从技术目录中选择技术，或勾选“不在任何目录内的技术”", "technology"))
    _require(problems)
    values: dict[str, Any] = {"tech_class": "routine", "outside_lists": True}
    if data.technology_id is not None:
        ref, tech = await links.cite(hooks, data.technology_id, _today(today))
        _require(rules.check_not_prohibited(getattr(tech, "tech_class", "")))
        values = {"technology_id": data.technology_id, "technology_ref": ref,
                  "technology_code": getattr(tech, "code", ""), "technology_name": getattr(tech, "name", ""),
                  "tech_class": getattr(tech, "tech_class", "routine"), "outside_lists": False}
    async with PROJECT.create(actor, {"institution": actor.institution_id, "department": actor.department_id,
                                      "lead": actor.id, "title": data.title.strip(), "path": data.path, **values},
                              "create") as change:
        await record_entry(change.row, actor, None, "create", role="clinician")
    return change.row["id"]


def normalise_answers(spec: FormSpec, raw: dict[str, Any]) -> dict[str, Any]:
    """The form's answers as stored: tables as lists of non-blank rows, others as text."""
    answers: dict[str, Any] = {}
    for field in spec.fields():
        value = raw.get(field.key)
        if field.kind == "table":
            answers[field.key] = rules.clean_rows(value, field.columns)
        else:
            answers[field.key] = "" if value is None else str(value).strip()
    return answers


async def _editable(actor: Actor, project_id: int) -> dict:
    row = await _load(actor, project_id)
    if actor.id != row["lead"]:
        raise NotFound("未找到该项目")
    if row["status"] not in (ProjectStatus.draft, ProjectStatus.returned):
        raise DomainError("项目已提交审核，当前不能修改；如需修改请等待退回或撤回后重新申报")
    return row


async def _spec_for(hooks: HookView, row: dict, today: dt.date | None = None):
    inst = await institution_info(row["institution"])
    return inst, form_for(hooks, project_info(row, today), inst)


async def save_draft(actor: Actor, hooks: HookView, project_id: int, raw: dict[str, Any],
                     title: str | None = None, today: dt.date | None = None, path: str | None = None) -> list[Problem]:
    """Keep what the lead typed (even with mistakes) and return format problems. ``path``
    (年度/临时准入) may change while the draft has never been submitted (HOSP-4, HOSP-12)."""
    row = await _editable(actor, project_id)
    if path and path != row["path"]:
        if path not in PATH_LABELS:
            raise DomainError(Problem("请选择年度准入或临时准入", "path", "HOSP-4"))
        if row["status"] != ProjectStatus.draft:
            raise DomainError(Problem("已提交过的申请不能更改申报途径", "path", "HOSP-4"))
    inst, spec = await _spec_for(hooks, row, today)
    answers = normalise_answers(spec, raw)
    grades = tuple(v for v, _ in grades_for(hooks, project_info(row, today)))
    problems = rules.check_form(spec, answers, registered_subjects=inst.registered_subjects, grades=grades,
                                for_submission=False)
    values = {Project.form: answers, Project.grade: str(answers.get("grade") or row["grade"] or "")}
    if title is not None and title.strip():
        values[Project.title] = title.strip()[:200]
    if path and path != row["path"]:
        values[Project.path] = path
    async with PROJECT.change(actor, row, None, "save_draft") as change:
        change.values.update(values)
        change.snapshot = ("form", "path")
    return problems


async def check_field(actor: Actor, hooks: HookView, project_id: int, key: str, value: Any,
                      today: dt.date | None = None) -> list[Problem]:
    """Validate one field as the user leaves it (htmx on blur); nothing is saved."""
    row = await _editable(actor, project_id)
    inst, spec = await _spec_for(hooks, row, today)
    field = spec.field(key)
    if field is None:
        return []
    grades = tuple(v for v, _ in grades_for(hooks, project_info(row, today)))
    return rules.check_field(field, value, registered_subjects=inst.registered_subjects, grades=grades)


async def submission_problems(actor: Actor, hooks: HookView, row: dict, today: dt.date) -> list[Problem]:
    """Everything that forbids submitting: the form, the national rules (NAT-9, NAT-9b,
    NAT-43), the round (HOSP-4) and every ``validate_project`` hook (HOSP-5, HOSP-6 …)."""
    inst = await institution_info(row["institution"])
    files = await storage.list_for("project", [row["id"]])
    technology = await links.cited(row["technology_ref"])
    info = project_info(row, today, technology, has_evidence_files=any(f.kind == "evidence" for f in files))
    spec = form_for(hooks, info, inst)
    grades = tuple(v for v, _ in grades_for(hooks, info))
    problems = rules.check_not_prohibited(row["tech_class"])
    problems += rules.check_form(spec, row["form"] or {}, registered_subjects=inst.registered_subjects,
                                 grades=grades)
    subject_field = next((f.key for f in spec.fields() if f.kind == "subject"), "subject")
    if not any(p.rule == "NAT-43" for p in problems):
        problems += rules.check_registered_subject(info, inst.registered_subjects, subject_field)
    if spec.field("products") is not None:
        problems += rules.check_products(row["form"].get("products") or [])
    person = await person_info(row["lead"], today)
    problems += _problems(hooks.call("validate_project", project=info, person=person))
    if (row["path"] == "round" and row["status"] == ProjectStatus.draft
            and await current_round(row["institution"], today) is None):
        problems.append(Problem("年度准入申报未开放（每年上半年由医务处组织）；确需尽快开展的，请选择临时准入程序",
                                None, "HOSP-4"))
    seen, unique = set(), []
    for p in problems:
        if (p.field, p.message) not in seen:
            seen.add((p.field, p.message))
            unique.append(p)
    return unique


async def submit(actor: Actor, hooks: HookView, project_id: int, raw: dict[str, Any] | None = None,
                 title: str | None = None, today: dt.date | None = None) -> None:
    """Save the form, then submit it: first submission starts the plugin's workflow
    (frozen on the project); a resubmission after a return goes back to the step
    that returned it, as a new revision (the earlier one is kept)."""
    day = _today(today)
    if raw is not None:
        await save_draft(actor, hooks, project_id, raw, title, day)
    row = await _editable(actor, project_id)
    _require(await submission_problems(actor, hooks, row, day))
    inst = await institution_info(row["institution"])
    # Taken only while still a draft or returned: a concurrent submit or withdraw wins.
    async with PROJECT.change(actor, row, None, None,
                              where=Project.status.is_in(list(EDITABLE_STATUSES))) as change:
        fresh = await _fresh(project_id)
        values = change.values
        values[Project.status] = ProjectStatus.in_review
        if fresh["status"] == ProjectStatus.draft:
            steps = steps_for(hooks, project_info(fresh, day), inst)
            # NAT-21: no path to admission (the first use in this institution) without its argumentation.
            lifecycle_policy = policy(hooks).lifecycle
            _require(rules.check_first_use_argued(steps, lifecycle_policy.first_use.rule,
                                                  lifecycle_policy.first_use_ethics))
            values[Project.steps] = [msgspec.to_builtins(s) for s in steps]
            revision, index, decision = 1, 0, "submit"
            if fresh["path"] == "round":
                rnd = await current_round(fresh["institution"], day)
                values[Project.round] = rnd["id"] if rnd else None
        else:
            steps = _frozen_steps(fresh)
            revision = fresh["revision"] + 1
            index, _ = _step(steps, fresh["current_step"])
            index, decision = max(index, 0), "resubmit"
            values[Project.revision] = revision
        fresh["revision"] = revision
        await ProjectVersion.insert(ProjectVersion(
            project=project_id, revision=revision, submitted_by=actor.id,
            snapshot={"title": fresh["title"], "grade": fresh["grade"], "form": fresh["form"],
                      "technology": {"code": fresh["technology_code"], "name": fresh["technology_name"],
                                     "class": fresh["tech_class"], "ref": fresh["technology_ref"]}}))
        await record_entry(fresh, actor, None, decision, role="clinician", details={"revision": revision})
        await _enter(actor, hooks, fresh, steps, index, day, values)
        change.action = decision


async def withdraw(actor: Actor, project_id: int, version: int, reason: str = "") -> None:
    """The lead withdraws the application (before admission)."""
    row = await _load(actor, project_id)
    if actor.id != row["lead"]:
        raise NotFound("未找到该项目")
    if row["status"] not in OPEN_STATUSES:
        raise DomainError("该项目当前不能撤回")
    async with PROJECT.change(actor, row, version, "withdraw") as change:
        await record_entry(row, actor, None, "withdraw", reason=reason.strip(), role="clinician")
        change.values.update({Project.status: ProjectStatus.withdrawn, Project.current_step: None,
                                 Project.current_role: None, Project.outcome_reason: reason.strip()})


async def attach(actor: Actor, project_id: int, filename: str, data: bytes, kind: str = "evidence") -> int:
    """The lead attaches a file (evidence HOSP-6, ethics approval, other) while editing."""
    row = await _load(actor, project_id)
    if actor.id != row["lead"] and not actor.has("medical_affairs"):
        raise NotFound("未找到该项目")
    if row["status"] not in EDITABLE_STATUSES:
        # The evidence freezes with the submitted version: what the reviewers approved is
        # what stays on file. A change goes through a return for revision (a new revision).
        raise Conflict(Problem(t("admission.attachments_frozen"), "file"))
    if kind not in ("evidence", "ethics_approval", "other"):
        kind = "other"
    return await storage.store(actor, institution_id=row["institution"], owner_type="project",
                               owner_id=project_id, filename=filename, data=data, kind=kind)


# ---------------------------------------------------------------- reviewing


def _current(row: dict) -> tuple[list[Step], Step | None]:
    steps = _frozen_steps(row)
    return steps, _step(steps, row["current_step"])[1]


def _can_act(actor: Actor, row: dict, step: Step | None, role: str | None = None) -> None:
    if row["status"] not in (ProjectStatus.in_review, ProjectStatus.admitted) or step is None:
        raise Conflict(Problem(MOVED_ON))
    effective = step if role is None else msgspec.structs.replace(step, role=role)
    problems = rules.check_can_act(effective, actor.roles, actor_id=actor.id, lead_id=row["lead"],
                                   actor_department=actor.department_id, project_department=row["department"])
    if problems:
        raise Forbidden(problems)


class Decision(msgspec.Struct):
    version: int
    decision: str
    reason: str = ""
    considerations: dict[str, str] = {}


async def decide(actor: Actor, hooks: HookView, project_id: int, data: Decision, today: dt.date | None = None,
                 files: list[tuple[str, bytes]] | None = None) -> None:
    """Approve, return for revision, or reject at the current step (argumentation HOSP-4,
    formal review HOSP-8 with a written reply either way, the panel's conclusion
    HOSP-9, approvals HOSP-10/HOSP-12)."""
    day = _today(today)
    row = await _load(actor, project_id)
    steps, step = _current(row)
    if not kinds.offers(step, "decide"):
        raise Conflict(Problem(MOVED_ON))
    role = kinds.of(step).acting_role(step)
    _can_act(actor, row, step, role)
    if row["version"] != data.version:
        raise Conflict(Problem(MOVED_ON))
    _require(await kinds.of(step).decision_problems(row, step, data))
    async with PROJECT.change(actor, row, data.version, f"step.{data.decision}") as change:
        attachment_ids = [await storage.store(actor, institution_id=row["institution"], owner_type="project",
                                              owner_id=project_id, filename=name, data=content, kind="step")
                          for name, content in files or [] if content]
        details = {"considerations": data.considerations} if data.considerations else {}
        await record_entry(row, actor, step, data.decision, reason=data.reason.strip(), details=details,
                           attachments=attachment_ids, role=role)
        values = change.values
        lead = [row["lead"]]
        if data.decision == "approve":
            nxt = await advance(actor, hooks, row, steps, step, day, values)
            change.notify(lead, f"「{step.title}」已通过" + (f"，进入「{nxt.title}」" if nxt else ""))
        elif data.decision == "return":
            values.update({Project.status: ProjectStatus.returned, Project.current_role: "clinician",
                           Project.outcome_reason: f"「{step.title}」退回修改：{data.reason.strip()}"})
            change.notify(lead, f"「{step.title}」退回修改：{data.reason.strip()}")
        else:
            values.update({Project.status: ProjectStatus.rejected, Project.current_step: None,
                           Project.current_role: None,
                           Project.outcome_reason: data.reason.strip()})
            change.notify(lead, f"「{step.title}」未通过：{data.reason.strip()}")


class Ballot(msgspec.Struct):
    vote: str
    score: str = ""
    scores: dict[str, str] = {}
    comment: str = ""


async def vote(actor: Actor, hooks: HookView, project_id: int, ballot: Ballot, today: dt.date | None = None) -> str | None:
    """An ethics member (HOSP-7, HOSP-21) or a panel expert (HOSP-9) votes.

    Ethics: once two thirds of the committee's members (a recused member still counts)
    agree, the step is decided — approval moves on, refusal rejects the project; when all
    have voted or recused short of that, 未通过 returns it to the lead (HOSP-21).
    Returns the ethics outcome when this vote decided it."""
    day = _today(today)
    row = await _load(actor, project_id)
    steps, step = _current(row)
    if not kinds.offers(step, "vote") or row["status"] != ProjectStatus.in_review:
        raise Conflict(Problem(MOVED_ON))
    _can_act(actor, row, step)
    kind = kinds.of(step)
    problems = []
    if ballot.vote not in ("approve", "reject", "recuse"):
        problems.append(Problem("请选择表决意见", "vote"))
    problems += await kind.ballot_problems(actor, row, step, ballot)
    if ballot.vote in ("reject", "recuse") and not ballot.comment.strip():
        problems.append(Problem("不同意或回避时请写明理由", "comment"))
    _require(problems)
    async with PROJECT.change(actor, row, None, "step.vote", where=Project.current_step == step.key) as change:
        if await Vote.exists().where((Vote.project == project_id) & (Vote.step == step.key)
                                     & (Vote.revision == row["revision"]) & (Vote.voter == actor.id)):
            raise DomainError("您已对本轮评审表决，不能重复投票")
        score = kind.score(ballot)
        await Vote.insert(Vote(project=project_id, step=step.key, revision=row["revision"], voter=actor.id,
                               vote=ballot.vote, score=score, comment=ballot.comment.strip(),
                               scores={k: int(v) for k, v in ballot.scores.items() if str(v).strip().isdigit()}))
        await record_entry(row, actor, step, "recuse" if ballot.vote == "recuse" else "vote", reason=ballot.comment.strip(),
                           details={"vote": ballot.vote, "score": score, "scores": ballot.scores}, role=step.role)
        votes = await Vote.select(Vote.vote, Vote.voter).where(
            (Vote.project == project_id) & (Vote.step == step.key) & (Vote.revision == row["revision"]))
        outcome = await kind.after_vote(actor, hooks, row, steps, step, votes, change, day)
    return outcome


async def proceed_without_ethics(actor: Actor, hooks: HookView, project_id: int, version: int, reason: str,
                                 today: dt.date | None = None) -> None:
    """HOSP-7: ethics approval is not ready in time; medical affairs lets the application
    go ahead. On admission it then owes the approval within 3 months, or is cancelled.
    Never once a member has voted at this revision (HOSP-21: the committee decides)."""
    day = _today(today)
    row = await _load(actor, project_id)
    steps, step = _current(row)
    if not kinds.offers(step, "proceed") or row["status"] != ProjectStatus.in_review:
        raise Conflict(Problem(MOVED_ON))
    _can_act(actor, row, step, "medical_affairs")
    if row["version"] != version:
        raise Conflict(Problem(MOVED_ON))
    votes_cast = await Vote.count().where((Vote.project == project_id) & (Vote.step == step.key)
                                          & (Vote.revision == row["revision"]))
    _require(rules.check_proceed_without_ethics(votes_cast)
             + ([Problem("请写明先行申报的理由", "reason", "HOSP-7")] if not reason.strip() else []))
    async with PROJECT.change(actor, row, version, "ethics_deferred") as change:
        await record_entry(row, actor, step, "proceed_without_ethics", reason=reason.strip(), role="medical_affairs",
                           details={"rule": "HOSP-7", "due": "准入之日起3个月内提交伦理审查证明"})
        values = change.values
        values |= {Project.ethics_status: EthicsStatus.deferred}
        row["ethics_status"] = EthicsStatus.deferred
        await advance(actor, hooks, row, steps, step, day, values)
        change.notify([row["lead"]], "医务处准予先行申报；请于准入之日起3个月内提交伦理审查证明（HOSP-7）")


async def experts(actor: Actor) -> list[dict]:
    """The institution's experts medical affairs can put on a panel."""
    rows = await User.select(User.id, User.display_name, User.title, User.roles).where(
        (User.institution == (actor.institution_id or -1)) & (User.active == True)  # noqa: E712
    ).output(load_json=True)
    return [r for r in rows if "expert" in (r["roles"] or [])]


async def assemble_panel(actor: Actor, hooks: HookView, project_id: int, version: int, expert_ids: list[int]) -> None:
    """HOSP-9 / HOSP-12: medical affairs puts experts on the project's review panel
    (for the temporary path, chosen by the project's grade and class)."""
    row = await _load(actor, project_id)
    steps, step = _current(row)
    if not kinds.offers(step, "panel"):
        raise Conflict(Problem(MOVED_ON))
    _can_act(actor, row, step, "medical_affairs")
    allowed = {e["id"] for e in await experts(actor)} - {row["lead"]}
    chosen = sorted({int(i) for i in expert_ids})
    problems = []
    minimum = step.min_experts
    if len(chosen) < minimum:
        problems.append(Problem(f"请至少选择 {minimum} 名专家", "experts", step.rule or "HOSP-9"))
    if any(i not in allowed for i in chosen):
        problems.append(Problem("只能选择本机构的专家组成员（申请人本人除外）", "experts", step.rule or "HOSP-9"))
    _require(problems)
    if row["version"] != version:
        raise Conflict(Problem(MOVED_ON))
    async with PROJECT.change(actor, row, version, "panel") as change:
        if await Vote.exists().where((Vote.project == project_id) & (Vote.step == step.key)
                                     & (Vote.revision == row["revision"])):
            raise DomainError("专家已开始评审，不能再调整专家组")
        await PanelMember.delete().where((PanelMember.project == project_id) & (PanelMember.step == step.key)
                                         & (PanelMember.revision == row["revision"]))
        await PanelMember.insert(*[PanelMember(project=project_id, step=step.key, revision=row["revision"],
                                               expert=i) for i in chosen])
        names = [e["display_name"] for e in await experts(actor) if e["id"] in chosen]
        await record_entry(row, actor, step, "panel", role="medical_affairs",
                           details={"experts": names, "grade": row["grade"], "class": row["tech_class"]})
        change.notify(chosen, f"您已被邀请参加「{step.title}」，请评分并表决")


# ---------------------------------------------------------------- publicity (HOSP-10)


async def lodge_objection(actor: Actor, project_id: int, text: str) -> int:
    """Anyone in the hospital may object to a project in publicity."""
    row = await _load(actor, project_id)
    _, step = _current(row)
    if not kinds.offers(step, "object") or row["status"] != ProjectStatus.in_review:
        raise DomainError("该项目不在公示期内")
    _require([Problem("请填写异议内容", "text", "HOSP-10")] if not text.strip() else [])
    async with PROJECT.change(actor, row, None, "objection", where=Project.current_step == step.key) as change:
        rows = await Objection.insert(Objection(project=project_id, author=actor.id, text=text.strip())).returning(
            Objection.id)
        await record_entry(row, actor, step, "objection", reason=text.strip())
        change.notify(await users_with(row["institution"], "medical_affairs"), "公示期收到异议，请答复")
    return rows[0]["id"]


async def answer_objection(actor: Actor, objection_id: int, answer: str, project_id: int | None = None) -> None:
    """Medical affairs answers an objection; approval waits until every one is answered."""
    if project_id is not None:
        await _load(actor, project_id)
    obj = await Objection.select().where(Objection.id == objection_id).first()
    if obj is None or (project_id is not None and obj["project"] != project_id):
        raise NotFound("未找到该异议")
    row = await _load(actor, obj["project"])
    if not actor.has("medical_affairs"):
        raise NotFound("未找到该异议")
    _, step = _current(row)
    problems = [Problem("请填写答复内容", "answer", "HOSP-10")] if not answer.strip() else []
    if obj["answered_at"] is not None:
        problems.append(Problem("该异议已答复", "answer"))
    _require(problems)
    async with PROJECT.change(actor, row, None, "objection_answer") as change:
        await Objection.update({Objection.answer: answer.strip(), Objection.answered_by: actor.id,
                                Objection.answered_at: _now()}).where(Objection.id == objection_id)
        await record_entry(row, actor, step, "answer", reason=answer.strip(), role="medical_affairs",
                           details={"objection": obj["text"]})
        change.notify([obj["author"]], "您提出的公示异议已答复")


async def publicity_problems(hooks: HookView, row: dict, step: Step, today: dt.date) -> list[Problem]:
    """HOSP-10: publicity lasts its full week and every objection is answered."""
    problems = []
    cal = await work_calendar(hooks)
    ends = _publicity_ends(cal, row["step_started_on"], step)
    if today <= ends:
        problems.append(Problem(f"公示期至 {ends.isoformat()} 结束，期满后方可报院审批", None, "HOSP-10"))
    if await Objection.exists().where((Objection.project == row["id"]) & (Objection.answered_at.is_null())):
        problems.append(Problem("公示期内的异议尚未全部答复", None, "HOSP-10"))
    return problems


async def close_publicity(actor: Actor, hooks: HookView, project_id: int, version: int | None,
                          today: dt.date | None = None) -> None:
    """End the publicity once its week is over and every objection is answered (HOSP-10);
    medical affairs, or the daily job as the system."""
    day = _today(today)
    row = await _load(actor, project_id)
    steps, step = _current(row)
    if not kinds.offers(step, "close") or row["status"] != ProjectStatus.in_review:
        raise Conflict(Problem(MOVED_ON))
    if actor is not SYSTEM:
        _can_act(actor, row, step, "medical_affairs")
    _require(await publicity_problems(hooks, row, step, day))
    taken_at = version if version is not None else row["version"]
    async with PROJECT.change(actor, row, taken_at, "publicity_closed") as change:
        await record_entry(row, actor, step, "publicity_closed", role="medical_affairs",
                           details={"from": row["step_started_on"]})
        await links.fulfil(actor, hooks, project_id, "publicity", day)
        values = change.values
        await advance(actor, hooks, row, steps, step, day, values)


# ---------------------------------------------------------------- after admission


async def issue_document(actor: Actor, hooks: HookView, project_id: int, version: int, document_no: str,
                         today: dt.date | None = None) -> None:
    """HOSP-10: the approval is issued as an official document (正式成文下发)."""
    day = _today(today)
    row = await _load(actor, project_id)
    steps, step = _current(row)
    if not kinds.offers(step, "document"):
        raise Conflict(Problem(MOVED_ON))
    _can_act(actor, row, step)
    _require([Problem("请填写文号", "document_no", "HOSP-10")] if not document_no.strip() else [])
    if row["version"] != version:
        raise Conflict(Problem(MOVED_ON))
    async with PROJECT.change(actor, row, version, "document") as change:
        values = change.values
        values |= {Project.document_no: document_no.strip()[:60], Project.document_on: day}
        await record_entry(row, actor, step, "document", details={"document_no": document_no.strip()},
                           role=step.role)
        await advance(actor, hooks, row, steps, step, day, values)
        change.notify([row["lead"]], f"准入文件已印发（{document_no.strip()}）")


async def file_with_university(actor: Actor, hooks: HookView, project_id: int, version: int,
                               today: dt.date | None = None,
                               documents: dict[str, tuple[str, bytes]] | None = None) -> None:
    """HOSP-11: every admitted project is filed with the university through the
    hospital's reporting channel (queued in this transaction, delivered by the worker).
    ``documents`` are the printed application form and approval document (material key →
    file name, PDF bytes); they are kept as attachments and sent with any ethics approval."""
    day = _today(today)
    row = await _load(actor, project_id)
    steps, step = _current(row)
    if not kinds.offers(step, "filing") or row["status"] != ProjectStatus.admitted:
        raise Conflict(Problem(MOVED_ON))
    _can_act(actor, row, step)
    if row["version"] != version:
        raise Conflict(Problem(MOVED_ON))
    async with PROJECT.change(actor, row, version, "filing") as change:
        payload = {"project_id": row["id"], "title": row["title"], "institution": row["institution.name"],
                   "department": row["department.name"], "lead": row["lead.display_name"],
                   "technology": {"code": row["technology_code"], "name": row["technology_name"],
                                  "class": row["tech_class"], "outside_lists": row["outside_lists"]},
                   "grade": row["grade"], "path": row["path"], "admitted_on": row["admitted_on"],
                   "document_no": row["document_no"], "monitoring_until": row["monitoring_until"]}
        titles = {"application": "临床新技术立项准入申请表", "approval": "医院批准文件", "ethics": "伦理审查批件"}
        materials = []
        for key, (name, content) in (documents or {}).items():
            attachment_id = await storage.store(actor, institution_id=row["institution"], owner_type="project",
                                                owner_id=project_id, filename=name, data=content, kind="filing")
            materials.append((key, await storage.get(actor, attachment_id)))
        ethics = [f for f in await storage.list_for("project", [project_id]) if f.kind == "ethics_approval"]
        if ethics:
            materials.append(("ethics", ethics[-1]))
        attachments = [{"key": key, "filename": f.filename, "path": f"{f.sha256[:2]}/{f.sha256}",
                        "title": titles.get(key, key), "content_type": f.content_type} for key, f in materials]
        status = await links.file_with_university(actor, hooks, row, msgspec.to_builtins(payload), attachments)
        await record_entry(row, actor, step, "filing", role=step.role, details={"channel": "university", "status": status})
        values = change.values
        values |= {Project.university_filed_on: day}
        await advance(actor, hooks, row, steps, step, day, values)
        change.notify([row["lead"]], "已报大学教务处备案")


async def submit_ethics_proof(actor: Actor, hooks: HookView, project_id: int, filename: str, data: bytes,
                              today: dt.date | None = None) -> None:
    """HOSP-7: the ethics approval that was deferred arrives; the obligation is fulfilled."""
    day = _today(today)
    row = await _load(actor, project_id)
    if actor.id != row["lead"] and not actor.has("medical_affairs"):
        raise NotFound("未找到该项目")
    if row["status"] != ProjectStatus.admitted or row["ethics_status"] != EthicsStatus.deferred:
        raise DomainError("该项目无需补交伦理审查证明")
    async with PROJECT.change(actor, row, None, "ethics_proof") as change:
        attachment = await storage.store(actor, institution_id=row["institution"], owner_type="project",
                                         owner_id=project_id, filename=filename, data=data, kind="ethics_approval")
        await record_entry(row, actor, None, "ethics_proof", attachments=[attachment], details={"rule": "HOSP-7"})
        change.values.update({Project.ethics_status: EthicsStatus.approved})
        await links.fulfil(actor, hooks, project_id, "ethics_proof", day)


async def cancel_lapsed(hooks: HookView, today: dt.date | None = None) -> list[int]:
    """HOSP-7: an admission whose ethics approval is still missing after its 3-month
    due date is cancelled, audited, and everyone involved is told. Safe to run in
    several workers: each project is taken by a conditional update."""
    day = _today(today)
    due = await Project.select(Project.id).where(
        (Project.status == ProjectStatus.admitted) & (Project.ethics_status == EthicsStatus.deferred)
        & (Project.ethics_due < day))
    cancelled = []
    for item in due:
        async with write_transaction():
            taken = await Project.update({
                Project.status: ProjectStatus.cancelled, Project.current_step: None, Project.current_role: None,
                Project.awaiting_first_case: False, Project.version: Project.version + 1,
                Project.outcome_reason: "准入之日起3个月内未提交伦理审查证明，准入资格取消（HOSP-7）",
            }).where((Project.id == item["id"]) & (Project.status == ProjectStatus.admitted)
                     & (Project.ethics_status == EthicsStatus.deferred)).returning(Project.id)
            if not taken:
                continue
            row = await _fresh(item["id"])
            await record_entry(row, SYSTEM, None, "cancel", reason=row["outcome_reason"],
                               details={"rule": "HOSP-7", "ethics_due": row["ethics_due"], "today": day})
            await audit.record(SYSTEM, "admission.cancel", "admission_project", row["id"],
                               before={"status": "admitted"}, after={"status": "cancelled", "rule": "HOSP-7"},
                               institution_id=row["institution"])
            await PROJECT.notify(row, await involved(row), "准入资格已取消：3个月内未提交伦理审查证明（HOSP-7）")
            await links.waive_open(hooks, row["id"], "准入资格已取消：3个月内未提交伦理审查证明（HOSP-7）")
            cancelled.append(row["id"])
    return cancelled


async def involved(row: dict) -> list[int]:
    """Everyone who took part: the lead, whoever decided or voted, medical affairs, the head."""
    actors = {r["actor"] for r in await StepDecision.select(StepDecision.actor).where(
        StepDecision.project == row["id"]) if r["actor"]}
    actors |= set(await users_with(row["institution"], "medical_affairs"))
    actors |= set(await users_with(row["institution"], "hospital_head"))
    return sorted(actors | {row["lead"]})


async def close_due_publicity(hooks: HookView, today: dt.date | None = None) -> list[int]:
    """Daily: end every publicity whose week is over and whose objections are all answered."""
    day = _today(today)
    closed = []
    for row in await Project.select(Project.id, Project.institution).where(Project.status == ProjectStatus.in_review):
        full = await _fresh(row["id"])
        _, step = _current(full)
        if not kinds.offers(step, "close") or await publicity_problems(hooks, full, step, day):
            continue
        try:
            await close_publicity(SYSTEM, hooks, row["id"], full["version"], day)
        except (Conflict, DomainError):
            continue
        closed.append(row["id"])
    return closed


# ---------------------------------------------------------------- inbox


INBOX_ROLES = ("clinician", "dept_head", "ethics", "medical_affairs", "expert", "hospital_head")


async def inbox(actor: Actor) -> list[WorkItem]:
    """What waits for the actor, by role: each item names the project, the step and the action."""
    if actor.institution_id is None or not actor.has(*INBOX_ROLES):
        return []
    rows = await Project.select(
        Project.id, Project.title, Project.status, Project.current_step, Project.steps, Project.lead,
        Project.department, Project.revision, Project.ethics_status, Project.ethics_due,
        Project.lead.display_name,
    ).where((Project.institution == actor.institution_id)
            & Project.status.is_in([ProjectStatus.in_review, ProjectStatus.returned, ProjectStatus.admitted])
            ).output(load_json=True)
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    all_votes = await Vote.select(Vote.project, Vote.step, Vote.revision, Vote.voter).where(Vote.project.is_in(ids))
    panels = await PanelMember.select(PanelMember.project, PanelMember.step, PanelMember.revision,
                                      PanelMember.expert).where(PanelMember.project.is_in(ids))
    return [item for item, _ in work_items(actor, rows, all_votes, panels)]


def work_items(actor: Actor, rows: list[dict], votes: list[dict], panels: list[dict]) -> list[tuple[WorkItem, Step | None]]:
    """What waits for the actor among ``rows`` (open projects of its institution, with
    ``lead.display_name``), given their votes and panel members: each item with the current
    step (its kind decides whose turn it is). ``inbox`` and the dashboard's to-do share it."""
    items = []
    for row in rows:
        step = _current_step(row["steps"], row["current_step"])
        action = None
        if row["lead"] == actor.id:
            if row["status"] == ProjectStatus.returned:
                action = "退回修改，请修改后重新提交"
            elif row["status"] == ProjectStatus.admitted and row["ethics_status"] == EthicsStatus.deferred:
                action = f"请于 {row['ethics_due']} 前提交伦理审查证明（HOSP-7）"
        elif step is not None:
            mine = [p for p in panels if p["project"] == row["id"]]
            theirs = [v for v in votes if v["project"] == row["id"]]
            action = kinds.of(step).work(_context(actor, row, step, theirs, mine))
        if action:
            items.append((WorkItem(project_id=row["id"], title=row["title"], lead=row["lead.display_name"],
                                   step=step.title if step else "", action=action, link=_link(row["id"])), step))
    return items


def publicity_ends(cal, start: dt.date, step: Step) -> dt.date | None:
    """When a publicity step that started on ``start`` ends; ``None`` for any other step."""
    return _publicity_ends(cal, start, step) if step is not None and step.kind == "publicity" and start else None


async def inbox_count(actor: Actor) -> int:
    return len(await inbox(actor))


DECISIONS = DECISION_LABELS
