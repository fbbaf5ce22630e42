"""Restricted-technology filing (限制类技术备案): the use cases, the only writer of the
filing tables.

One workflow for every province; what differs comes from the province plugin:
``filing_materials`` (the province's ordered materials),
``filing_form`` (the filing form, its printable template, certificates, who annotates
the licence), ``reporting_channels`` (where a submission goes) and ``deadline_rules``
(NAT-11 as data — this module never counts days itself).

The life of a filing::

    on_first_case ─▶ open ─submit─▶ submitted ─complete─▶ completed ─cancel─▶ cancelled
                        ▲             │                      │
                        └──returned◀──┘ return               └ request_withdrawal ─▶ withdrawal_requested
                                                                 ─confirm_withdrawal─▶ withdrawn

Hospital side: medical affairs (医务处). Regulator side: the regulators of the region that
issued the institution's practice licence (``Institution.licence_region``); provincial
regulators and the QC centre read every filing of the province. Each transition is one
function: role, state and rules checked, one transaction with the audit event, the
obligation event and — for a submission or a licence-annotation push — the outbox delivery.

Other areas call ``on_first_case`` (the case record, issue 6) and ``add_cases``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from piccolo.query import OrderByRaw

from core import changes, clock, listing
from core.accounts.schemas import SYSTEM, Actor
from core.accounts.tables import User
from core.admission import first_case as admission_first_case
from core.admission import service as admission
from core.admission.tables import Project
from core.audit import service as audit
from core.contract import TechnologyInfo
from core.db import Prepared, ids_clause, write_transaction
from core.errors import DomainError, Forbidden, NotFound, Problem
from core.filing import rules
from core.filing.schemas import (
    BASIS_LABELS,
    CORE_MATERIALS,
    STATUS_LABELS,
    FilingAbilities,
    FilingFormSpec,
    FilingPage,
    FilingStatus,
    Material,
)
from core.filing.tables import Filing, FilingSubmission
from core.lifecycle import service as lifecycle
from core.messages import t
from core.obligations import service as obligations
from core.obligations.rules import ExemptionEvidence, days_left
from core.obligations.tables import Obligation
from core.outbox import service as outbox
from core.outbox.channels import channel as find_channel
from core.outbox.channels import channels_for
from core.plugins import HookView
from core.policy import FilingCheck, FilingPolicy, PersonCheck
from core.policy import policy as province_policy
from core.storage import service as storage
from core.tenancy.service import department_name, institution_scope, require_institution
from core.tenancy.tables import Institution, Region
from core.timefmt import local_date

MOVED_ON = "该备案已由他人处理或已有更新，请刷新页面后查看最新状态"
HOSPITAL_READERS = ("medical_affairs", "hospital_head")
DESK_READERS = ("regulator", "qc_center")
# Filings shown on the public lists (NAT-40) and disclosure pages (NAT-24).
PUBLIC_STATUSES = (FilingStatus.completed,)
DEFAULT_DISCLOSURE = [
    {"key": "institution", "label": "医疗机构", "rule": "NAT-40"},
    {"key": "technology", "label": "限制类技术名称", "rule": "NAT-40"},
    {"key": "filed_on", "label": "完成备案时间", "rule": "NAT-24"},
    {"key": "case_count", "label": "累计开展例数", "rule": "NAT-24"},
]


class FilingDetails(msgspec.Struct):
    """What medical affairs fills in: the self-assessment (NAT-11), the province's form
    answers and the physicians who will perform the technology."""

    version: int
    self_assessment: str = ""
    assessment_basis: str = "specification"
    assessment_reference: str = ""
    form: dict[str, str] = {}
    physicians: list[dict[str, Any]] = []


def _today(today: dt.date | None) -> dt.date:
    return today or clock.today()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------- plugin answers


def _technology(row: dict) -> TechnologyInfo:
    return TechnologyInfo(code=row["technology_code"], name=row["technology_name"], tech_class="restricted",
                          specification=row.get("specification") or "")


def materials_for(hooks: HookView, technology: TechnologyInfo, institution: Any) -> list[Material]:
    """The province's ordered materials (``filing_materials``), then each material core
    itself reads (``core.contract.CORE_MATERIALS``, NAT-13) the province did not list, so
    every material a submission needs has its upload slot; a core material is required
    whatever the province says. None answering is a configuration error, said so on screen."""
    answer = hooks.call("filing_materials", technology=technology, institution=institution)
    if not answer:
        raise DomainError(Problem(t("filing.no_province"), None))
    core = {m.key: m for m in CORE_MATERIALS}
    listed = [msgspec.structs.replace(m, required=True) if m.key in core else m for m in answer]
    return listed + [m for key, m in core.items() if key not in {m.key for m in listed}]


def spec_for(hooks: HookView, technology: TechnologyInfo, institution: Any) -> FilingFormSpec:
    """The province's filing form and filing details (``filing_form``)."""
    answer = hooks.call("filing_form", technology=technology, institution=institution)
    if not answer:
        raise DomainError(Problem(t("filing.no_province"), None))
    return answer


def disclosure_fields(hooks: HookView) -> list[dict]:
    """The columns of the public lists (``disclosure_fields``), in plugin order, one per
    key; the national minimum (NAT-24, NAT-40) when no plugin answers."""
    seen: dict[str, dict] = {}
    for item in hooks.collect_flat("disclosure_fields"):
        if item.key not in seen:
            seen[item.key] = {"key": item.key, "label": item.label or item.key, "rule": item.rule}
    return list(seen.values()) or list(DEFAULT_DISCLOSURE)


# ---------------------------------------------------------------- loading with tenancy

_COLUMNS = (Filing.institution.name, Filing.institution.licence_region, Filing.institution.grade,
            Filing.institution.licence_no, Filing.lead.display_name)


# Every read of one filing (its page, each change and its audit snapshot): built once
# (``core.db.Prepared``).
_ROW_QUERY = Prepared(lambda filing_id: Filing.select(*Filing.all_columns(), *_COLUMNS).where(
    Filing.id == filing_id).first().output(load_json=True), 1)


async def _row(filing_id: int) -> dict | None:
    return await _ROW_QUERY.run(filing_id)


async def _visible(actor: Actor, filing_id: int) -> dict:
    """The filing if the actor may read it: medical affairs and the head of its
    institution, regulators and the QC centre of its region or above, the admin.
    Anyone else — and a missing id — gets the same ``NotFound``."""
    row = await _row(filing_id)
    if row is None:
        raise NotFound("未找到该备案")
    if not actor.is_admin:
        if actor.institution_id is not None:
            if actor.institution_id != row["institution"] or not actor.has(*HOSPITAL_READERS):
                raise NotFound("未找到该备案")
        elif not actor.has(*DESK_READERS):
            raise NotFound("未找到该备案")
        await require_institution(actor, row["institution"])
    return row


async def readable(actor: Actor, filing_id: int) -> dict:
    """The filing if the actor may read it (and so its materials); else ``NotFound``."""
    return await _visible(actor, filing_id)


async def _for_hospital(actor: Actor, filing_id: int) -> dict:
    """The filing for a hospital-side change: medical affairs of its institution only."""
    row = await _visible(actor, filing_id)
    if actor.institution_id != row["institution"] or not actor.has("medical_affairs"):
        raise NotFound("未找到该备案")
    return row


async def _for_desk(actor: Actor, filing_id: int) -> dict:
    """The filing for a regulator's action: only the regulators of the region that issued
    the institution's licence act on it (NAT-11); others of the province read it."""
    row = await _visible(actor, filing_id)
    if not actor.has("regulator") or actor.region_id is None:
        raise NotFound("未找到该备案")
    if row["institution.licence_region"] != actor.region_id:
        raise Forbidden(Problem("仅核发该机构《医疗机构执业许可证》的卫生健康行政部门可以办理此备案", None, "NAT-11"))
    return row


def _check(problems: list[Problem]) -> None:
    if problems:
        raise DomainError(problems)


# How a filing changes (core.changes): the optimistic lock on its version, the audit
# event's snapshot, the conflict message and the notices' link.
FILING = changes.Versioned(
    table=Filing, record_type="filing", action_prefix="filing",
    snapshot=("status", "due_on", "submitted_on", "submitted_late", "materials_complete_on", "completion_due_on",
              "completed_on", "annotation_expected", "annotation_recorded", "closed_on", "close_reason",
              "case_count"),
    read=_row, moved_on=MOVED_ON, link=lambda filing_id: f"/filings/{filing_id}",
    source=lambda filing_id: "filing", conflict_field="version",
)


async def _lock(filing_id: int, version: int | None, values: dict) -> None:
    """Write ``values`` if the filing is still at ``version`` (None: any); else Conflict."""
    await FILING.take(filing_id, version, values)


async def _audit(actor: Actor, action: str, before: dict, filing_id: int, **extra: Any) -> dict:
    return await FILING.audit(actor, action, before, filing_id, **extra)


async def _notify(user_ids: list[int], title: str, filing_id: int) -> None:
    await FILING.notify({"id": filing_id}, user_ids, title)


def _snapshot(row: dict) -> dict:
    return {k: row.get(k) for k in FILING.snapshot}


async def _users(*, institution: int | None = None, region: int | None = None, role: str) -> list[int]:
    query = User.select(User.id, User.roles).where(User.active == True)  # noqa: E712
    query = query.where(User.institution == institution) if institution else query.where(User.region == region)
    return [u["id"] for u in await query.output(load_json=True) if role in (u["roles"] or [])]


# ---------------------------------------------------------------- the first case (NAT-11)


async def awaiting_first_case(actor: Actor) -> list[dict]:
    """Admitted restricted projects of the actor's institution waiting for their first case."""
    return await admission_first_case.awaiting_first_case(actor)


async def _prefill_physicians(project: dict) -> list[dict]:
    """The lead and the application's team members found among the institution's users."""
    users = await User.select(User.id, User.display_name, User.title).where(
        (User.institution == project["institution"]) & (User.active == True))  # noqa: E712
    by_name = {u["display_name"]: u for u in users}
    rows = []
    lead = next((u for u in users if u["id"] == project["lead"]), None)
    if lead:
        rows.append({"user_id": lead["id"], "name": lead["display_name"], "sex": "", "scope": "",
                     "title": lead["title"], "lead": True})
    for member in (project.get("form") or {}).get("team") or []:
        user = by_name.get((member or {}).get("name", ""))
        if user and all(r["user_id"] != user["id"] for r in rows):
            rows.append({"user_id": user["id"], "name": user["display_name"], "sex": "",
                         "scope": member.get("scope", ""), "title": member.get("title") or user["title"],
                         "lead": False})
    return rows


async def on_first_case(actor: Actor, hooks: HookView, *, project_id: int, case_date: dt.date,
                        info: str = "", today: dt.date | None = None) -> int:
    """The first case of an admitted restricted technology was performed on ``case_date``:
    the filing opens, with its obligation — 15 working days from the first case, counted
    by the deployment's deadline rule (NAT-11, or the province's rule replacing it).

    Called by medical affairs' "登记首例" action now, and by the case record (issue 6)
    later. Returns the filing id. ``NotFound`` for a project outside the actor's
    institution; ``DomainError`` for a project not admitted, not restricted, or whose first
    case is already recorded.
    """
    if not actor.has("medical_affairs", "admin"):
        raise NotFound("未找到该项目")
    day = _today(today)
    project = await admission.get_project(actor, project_id)
    # EVAL-8: a routine technology concluded restricted needs filing from the date of effect.
    from core.admission.rules import class_on

    _check(rules.check_first_case(tech_class=class_on(project, case_date), status=project["status"],
                                  awaiting=bool(project["awaiting_first_case"]), case_date=case_date,
                                  admitted_on=project["admitted_on"], today=day,
                                  restricted_from=project.get("restricted_from")))
    # NAT-13 (ethics approval on record) and NAT-25 (not stopped, suspended or cancelled):
    # a first case, and so a new filing, only of a technology in use.
    refusal = await lifecycle.use_refusal(project["institution"], lifecycle.technology_key(
        project["technology_code"], project_id), case_date, project_id=project_id, hooks=hooks)
    if refusal is not None:
        raise DomainError(Problem(refusal.message, "project_id", refusal.rule))
    specification = ""
    if project["technology_ref"]:
        from core.catalog import service as catalog

        try:
            specification = (await catalog.get_cited(int(project["technology_ref"]))).specification
        except (DomainError, ValueError):
            specification = ""
    physicians = await _prefill_physicians(project)
    async with write_transaction():
        await admission_first_case.record_first_case(actor, project_id, case_date)
        rows = await Filing.insert(Filing(
            institution=project["institution"], project=project_id, technology_ref=project["technology_ref"] or "",
            technology_code=project["technology_code"], technology_name=project["technology_name"],
            specification=specification, lead=project["lead"], first_case_on=case_date,
            first_case_info=(info or "").strip()[:2000], physicians=physicians,
            assessment_basis="specification" if specification else "consensus",
            assessment_reference=specification,
        )).returning(Filing.id)
        filing_id = rows[0]["id"]
        ids = await obligations.on_event(actor, hooks, obligations.DomainEvent(
            kind="first_case", occurred_on=case_date, institution_id=project["institution"],
            subject_type="filing", subject_id=filing_id, subject_label=project["technology_name"],
            technology_class="restricted", technology_code=project["technology_code"], role="medical_affairs"))
        values: dict = {}
        if ids:
            ob = await obligations.get(actor, hooks, ids[0], day)
            values = {Filing.obligation_id: ids[0], Filing.due_on: ob["due_on"], Filing.due_rule: ob["rule_id"]}
        row = await _row(filing_id)
        _, _, spec = await _context(hooks, row)
        values[Filing.form] = _filled(spec, {}, await _known(row, actor.display_name))
        await Filing.update(values).where(Filing.id == filing_id)
        row = await _row(filing_id)
        await audit.record(actor, "filing.open", "filing", filing_id, after=_snapshot(row) | {
            "project": project_id, "first_case_on": case_date, "rule": row["due_rule"]},
            institution_id=project["institution"])
    return filing_id


async def completed_filing(project_id: int) -> dict | None:
    """The project's latest completed filing (the one on the licence copy), or ``None``."""
    return await Filing.select().where((Filing.project == project_id) & (Filing.status == FilingStatus.completed)
                                       ).order_by(Filing.id, ascending=False).first().output(load_json=True)


async def open_refiling(actor: Actor, project_id: int, *, rule: str, reason: str) -> int:
    """The institution files its technology again because its key staff, equipment or
    conditions changed (the province's ``lifecycle.conditions_change`` rule, e.g. Henan's
    重新备案): a new filing opens with the completed one's first case, count, people and
    form, for the changed materials to be uploaded and submitted. The completed filing
    stays on the licence copy until the new one is completed (``complete``). In the
    caller's write transaction (``core.lifecycle.service.refile``). Returns its id."""
    old = await completed_filing(project_id)
    if old is None:
        raise DomainError(Problem("该技术尚未完成备案，无需重新备案：请在条件恢复后解除暂停，或停止临床应用", None, rule))
    rows = await Filing.insert(Filing(
        institution=old["institution"], project=project_id, technology_ref=old["technology_ref"],
        technology_code=old["technology_code"], technology_name=old["technology_name"],
        specification=old["specification"], lead=old["lead"], first_case_on=old["first_case_on"],
        first_case_info=f"重新备案（{rule}）：{reason}"[:2000], case_count=old["case_count"],
        physicians=old["physicians"], assessment_basis=old["assessment_basis"],
        assessment_reference=old["assessment_reference"], self_assessment=old["self_assessment"], form=old["form"],
    )).returning(Filing.id)
    filing_id = rows[0]["id"]
    await audit.record(actor, "filing.refile", "filing", filing_id, after=_snapshot(await _row(filing_id)) | {
        "replaces": old["id"], "rule": rule, "reason": reason}, institution_id=old["institution"])
    return filing_id


async def abandon_refiling(actor: Actor, project_id: int, *, on: dt.date, reason: str) -> None:
    """The institution stopped instead of filing again: a re-filing not yet completed is
    closed (withdrawn, saying why; the department's completion clock waived). In the
    caller's write transaction (``core.lifecycle.service.stop``)."""
    rows = await Filing.select().where((Filing.project == project_id) & Filing.status.is_in(
        [FilingStatus.open, FilingStatus.returned, FilingStatus.submitted]) & Filing.first_case_info.like("重新备案%"))
    for row in rows:
        sub = await _open_submission(row["id"])
        await Filing.update({Filing.status: FilingStatus.withdrawn, Filing.closed_on: on,
                             Filing.close_reason: reason[:2000], Filing.version: Filing.version + 1}).where(
            Filing.id == row["id"])
        if sub:
            await FilingSubmission.update({FilingSubmission.outcome: "withdrawn", FilingSubmission.outcome_on: on,
                                           FilingSubmission.outcome_reason: reason}).where(
                FilingSubmission.id == sub["id"])
            if sub["completion_obligation_id"]:
                try:  # the department's clock stops with the re-filing; nothing to do if it already ran out
                    await obligations.waive(SYSTEM, sub["completion_obligation_id"], reason[:1000])
                except DomainError:
                    pass
        await audit.record(actor, "filing.refiling_abandoned", "filing", row["id"], before={"status": row["status"]},
                           after={"status": FilingStatus.withdrawn, "reason": reason}, institution_id=row["institution"])


async def _supersede(actor: Actor, row: dict, on: dt.date) -> None:
    """A re-filing was completed: the filing it replaces leaves the licence copy and the
    public lists (closed as withdrawn, saying why); the use suspended for the re-filing
    resumes (``core.lifecycle.on_refiled``). In the caller's transaction."""
    older = await Filing.select().where((Filing.project == row["project"]) & (Filing.id != row["id"])
                                        & (Filing.status == FilingStatus.completed))
    for old in older:
        await Filing.update({Filing.status: FilingStatus.withdrawn, Filing.closed_on: on,
                             Filing.close_reason: f"已重新备案（备案{row['id']}号于{on}完成）",
                             Filing.version: Filing.version + 1}).where(Filing.id == old["id"])
        await audit.record(actor, "filing.superseded", "filing", old["id"], before={"status": old["status"]},
                           after={"status": FilingStatus.withdrawn, "by": row["id"], "on": on},
                           institution_id=old["institution"])
    if older:
        await lifecycle.on_refiled(actor, row, on=on)


async def add_cases(actor: Actor, filing_id: int, count: int = 1) -> None:
    """Add performed cases to the cumulative count the disclosure shows (NAT-24, NAT-40);
    for the case record (issue 6)."""
    row = await _for_hospital(actor, filing_id)
    if count < 1:
        raise DomainError(Problem("例数须为正整数", "count"))
    async with write_transaction():
        await _lock(filing_id, None, {Filing.case_count: Filing.case_count + count})
        await _audit(actor, "cases", row, filing_id, added=count)


async def void_case(actor: Actor, filing_id: int) -> None:
    """A voided case (NAT-37) counts nowhere: take it off the filing's cumulative count
    (NAT-24, NAT-40). Runs inside the void's transaction."""
    row = await _for_hospital(actor, filing_id)
    if row["case_count"] < 1:
        return
    await _lock(filing_id, None, {Filing.case_count: Filing.case_count - 1})
    await _audit(actor, "cases", row, filing_id, added=-1)


# ---------------------------------------------------------------- reading


async def _labelled(rows: list[dict]) -> list[dict]:
    await _with_cumulative(rows)
    for r in rows:
        r["status_label"] = STATUS_LABELS.get(r["status"], r["status"])
    return rows


async def _with_cumulative(rows: list[dict]) -> None:
    """Each filing row's ``case_count``: the technology's cumulative cases in the
    institution by the one definition (``core.cases.counts``, NAT-24, NAT-40) — voided
    cases excluded, corrections applied — in one query for the whole list."""
    from core.cases import counts

    keys = {r["id"]: (r["institution"], lifecycle.technology_key(r["technology_code"], r["project"])) for r in rows}
    found = await counts.cumulative_cases_many(keys.values())
    for r in rows:
        r["case_count"] = found.get(keys[r["id"]], 0)


def hospital_list(actor: Actor) -> tuple[listing.ListSpec, Any]:
    """The filings of the actor's institution (hospital side) as a list: (spec, tenancy clause)."""
    if not actor.has(*HOSPITAL_READERS, "admin"):
        raise NotFound("未找到")
    scope = None if actor.is_admin else Filing.institution == (actor.institution_id or -1)
    return _filing_spec(title="限制类技术备案", decorate=_labelled, institutions=actor.is_admin), scope


def _files_by_material(files: list, materials: list[Material]) -> dict[str, list]:
    by: dict[str, list] = {m.key: [] for m in materials}
    for f in files:
        by.setdefault(f.kind, []).append(f)
    for key in by:
        by[key].sort(key=lambda f: f.id, reverse=True)  # newest first: the current version leads
    return by


async def _people(ids: list[int]) -> dict[int, dict]:
    ids = sorted({int(i) for i in ids if str(i or "").isdigit()})
    if not ids:
        return {}
    rows = await User.select(User.id, User.display_name, User.institution, User.visiting, User.qualifications,
                             User.active, User.title).where(User.id.is_in(ids)).output(load_json=True)
    return {r["id"]: r for r in rows}


def local_materials(materials: list[Material], specified: str) -> list[Material]:
    """A material the local department specifies (``local``) is required, with what it
    specifies as its note, where the licence-issuing region's setting names materials;
    where it names none the material is not asked for."""
    specified = (specified or "").strip()
    out = []
    for m in materials:
        if not m.local:
            out.append(m)
        elif specified:
            out.append(msgspec.structs.replace(m, required=True, note=specified))
    return out


async def _context(hooks: HookView, row: dict) -> tuple[Any, list[Material], FilingFormSpec]:
    institution = await admission.institution_info(row["institution"])
    tech = _technology(row)
    region = await _licence_region(row["institution.licence_region"]) or {}
    materials = local_materials(materials_for(hooks, tech, institution), region.get("filing_materials", ""))
    return institution, materials, spec_for(hooks, tech, institution)


def _person(user: dict | None, name: str, institution_id: int) -> PersonCheck:
    user = user or {}
    return PersonCheck(name=user.get("display_name") or name, user_id=user.get("id"),
                       of_institution=user.get("institution") == institution_id and bool(user.get("active", True)),
                       visiting=bool(user.get("visiting")), qualifications=tuple(user.get("qualifications") or ()))


def _plugin_problems(hooks: HookView, row: dict, people: dict[int, dict]) -> list[Problem]:
    """The province's own checks (``validate_filing``): e.g. its self-assessment basis, a
    lead whose main practice is this institution, a physician list."""
    lead = people.get(row["lead"])
    check = FilingCheck(
        institution_id=row["institution"], technology_code=row["technology_code"],
        technology_name=row["technology_name"], has_specification=bool(row["specification"]),
        self_assessment=row["self_assessment"] or "", assessment_basis=row["assessment_basis"] or "",
        assessment_reference=row["assessment_reference"] or "",
        lead=_person(lead, "", row["institution"]) if lead else None,
        physicians=tuple(_person(people.get(p.get("user_id") or 0), str(p.get("name") or ""), row["institution"])
                         for p in row["physicians"] or [] if str(p.get("name") or "").strip()),
        form={k: str(v) for k, v in (row["form"] or {}).items()})
    out = []
    for item in hooks.collect_flat("validate_filing", filing=check):
        out.append(item if isinstance(item, Problem) else Problem(
            str(item.get("message", "")), item.get("field"), item.get("rule") or None))
    return out


async def _reading_context(hooks: HookView, row: dict, files: list) -> tuple[Any, list[Material], FilingFormSpec,
                                                                            bool]:
    """``_context`` for reading: with the province's plugin switched off the filing stays
    readable as it stands — its stored materials under core's titles, the form's typed
    values — and the last value says it is read-only."""
    try:
        return (*await _context(hooks, row), False)
    except DomainError:
        institution = await admission.institution_info(row["institution"])
        core = {m.key: m for m in CORE_MATERIALS}
        keys = list(dict.fromkeys([*core, *(f.kind for f in files)]))
        materials = [core.get(k) or Material(key=k, title=t("filing.stored_material"), required=False) for k in keys]
        return institution, materials, FilingFormSpec(title=t("filing.form_title"), template=""), True


async def _problems(hooks: HookView, row: dict, materials: list[Material], spec: FilingFormSpec,
                    by_material: dict[str, list]) -> list[Problem]:
    project = await Project.select(Project.ethics_status).where(Project.id == row["project"]).first()
    people = await _people([row["lead"], *[p.get("user_id") for p in row["physicians"] or []]])
    return rules.completeness(
        materials=materials, present={k: len(v) for k, v in by_material.items()}, spec=spec,
        policy=province_policy(hooks).filing, institution_id=row["institution"], lead=people.get(row["lead"]),
        physicians=list(row["physicians"] or []), physician_users=people,
        ethics_status=project["ethics_status"] if project else "", self_assessment=row["self_assessment"],
        form=row["form"] or {},
    ) + _plugin_problems(hooks, row, people)


async def submission_problems(actor: Actor, hooks: HookView, filing_id: int) -> list[Problem]:
    """What still blocks submission (empty when complete)."""
    row = await _visible(actor, filing_id)
    _, materials, spec = await _context(hooks, row)
    files = await storage.list_for("filing", [filing_id])
    return await _problems(hooks, row, materials, spec, _files_by_material(files, materials))


async def filing_view(actor: Actor, hooks: HookView, filing_id: int, today: dt.date | None = None) -> FilingPage:
    """Everything the filing page shows, for the hospital and for the regulator."""
    day = _today(today)
    row = await _visible(actor, filing_id)
    files = await storage.list_for("filing", [filing_id])
    institution, materials, spec, read_only = await _reading_context(hooks, row, files)
    by_material = _files_by_material(files, materials)
    problems = [] if read_only else await _problems(hooks, row, materials, spec, by_material)
    submissions = await FilingSubmission.select().where(FilingSubmission.filing == filing_id).order_by(
        FilingSubmission.number).output(load_json=True)
    from core.audit.service import with_names

    # Who submitted, by name (the login name is what is stored).
    for s, named in zip(submissions, await with_names([{"actor_name": s["submitted_by"], "action": "",
                                                         "record_type": ""} for s in submissions]), strict=True):
        s["submitted_by"] = named["who"]
    cal = (await obligations.read_context(hooks, day))[0]
    # Read-only while the province's plugin is off: nothing can be done that needs its rules.
    hospital = actor.institution_id == row["institution"] and actor.has("medical_affairs") and not read_only
    desk = actor.has("regulator") and actor.region_id == row["institution.licence_region"] and not read_only
    status = row["status"]
    events, _ = await audit.browse(audit.AuditFilter(record_type="filing", record_id=filing_id))
    events = await audit.with_names(events)
    # A plugin's exemption (grandfathering) of the filing deadline: shown with its evidence, no countdown.
    exemption = None
    if row["obligation_id"]:
        ob = await Obligation.select(*Obligation.all_columns()).where(Obligation.id == row["obligation_id"]).first()
        exemption = ExemptionEvidence.of(ob or {})

    def may(side: bool, action: str) -> bool:
        return side and status in rules.TRANSITIONS[action]

    return FilingPage(
        filing=row, status_label=STATUS_LABELS.get(status, status), institution=institution,
        materials=materials, spec=spec, policy=province_policy(hooks).filing, files=by_material, problems=problems,
        submissions=submissions, deliveries=await outbox.delivery_status("filing", filing_id),
        # The filing department's own push to the licensing office: its desk's, never the hospital's.
        pushes=await outbox.delivery_status(PUSH_SUBJECT, filing_id) if desk or actor.is_admin else [],
        filing_channels=_filing_channels(hooks),
        days_left=days_left(cal, day, row["due_on"])
        if row["due_on"] and status == FilingStatus.open and exemption is None else None,
        exemption=exemption,
        completion_days_left=days_left(cal, day, row["completion_due_on"])
        if row["completion_due_on"] and status == FilingStatus.submitted else None,
        use=await lifecycle.summary(row["institution"], lifecycle.technology_key(
            row["technology_code"], row["project"]), row["project"], hooks),
        events=list(reversed(events)),
        licence_region=await _licence_region(row["institution.licence_region"]),
        staff_users=await _staff_choices(row["institution"]) if hospital else [],
        today=day, read_only=read_only,
        can=FilingAbilities(
            edit=may(hospital, "edit"), submit=may(hospital, "submit"),
            request_withdrawal=may(hospital, "request_withdrawal"), return_=may(desk, "return"),
            complete=may(desk, "complete"), confirm_withdrawal=may(desk, "confirm_withdrawal"),
            cancel=may(desk, "cancel"), record_annotation=may(desk, "record_annotation")),
    )


async def _licence_region(region_id: int) -> dict | None:
    """The licence-issuing region with its department's name (备案部门, 发证机关) and the
    other filing materials its department specifies."""
    row = await Region.select(Region.id, Region.name, Region.department, Region.filing_materials).where(
        Region.id == region_id).first()
    if row:
        row["department_name"] = department_name(row)
    return row


async def _staff_choices(institution_id: int) -> list[dict]:
    rows = await User.select(User.id, User.display_name, User.title, User.roles).where(
        (User.institution == institution_id) & (User.active == True)).output(load_json=True)  # noqa: E712
    return [r for r in rows if {"clinician", "dept_head"} & set(r["roles"] or [])]


async def _known(row: dict, contact: str = "") -> dict:
    """What the portal already knows for the form's ``prefill`` keys."""
    inst = await Institution.select(Institution.name, Institution.grade, Institution.licence_no,
                                    Institution.region.name, Institution.licence_region.name,
                                    Institution.licence_region.department).where(
        Institution.id == row["institution"]).first()
    lead = (await _people([row["lead"]])).get(row["lead"]) or {}
    return {
        "institution_name": inst["name"], "institution_grade": inst["grade"], "licence_no": inst["licence_no"],
        "region_name": inst["region.name"], "licence_region_name": inst["licence_region.name"],
        "licence_department": department_name({"name": inst["licence_region.name"],
                                               "department": inst["licence_region.department"]}),
        "technology_name": row["technology_name"], "technology_code": row["technology_code"],
        "first_case_on": rules.date_zh(row["first_case_on"]), "lead_name": lead.get("display_name", ""),
        "lead_title": lead.get("title", ""), "contact_name": contact,
        "self_assessment": row["self_assessment"],
        "assessment_basis": BASIS_LABELS.get(row["assessment_basis"], "") + (
            f"：{row['assessment_reference']}" if row["assessment_reference"] else ""),
    }


def _filled(spec: FilingFormSpec, answers: dict, known: dict) -> dict:
    """The form's answers, each empty one filled from what the portal knows."""
    return {f.key: str(answers.get(f.key) or "").strip()[:2000] or str(known.get(f.prefill, "") if f.prefill else "")
            for f in spec.fields}


async def form_document(actor: Actor, hooks: HookView, filing_id: int) -> dict:
    """The filing form filled from what the portal knows (institution, technology, lead,
    physicians, dates) and what medical affairs typed: the context of the plugin's
    printable template (``spec.template``)."""
    row = await _visible(actor, filing_id)
    institution, _, spec = await _context(hooks, row)
    known = await _known(row, actor.display_name if actor.institution_id else "")
    values = _filled(spec, row["form"] or {}, known)
    return {"spec": spec, "values": values, "known": known, "staff": row["physicians"] or [], "filing": row,
            "institution": institution}


# ---------------------------------------------------------------- hospital: assembling


def _clean_physicians(rows: list[dict], names: dict[int, dict]) -> list[dict]:
    out = []
    for r in rows:
        uid = r.get("user_id")
        try:
            uid = int(uid) if uid not in (None, "") else None
        except (TypeError, ValueError):
            uid = None
        user = names.get(uid or 0)
        name = (user or {}).get("display_name") or str(r.get("name") or "").strip()
        if not name and not uid:
            continue
        out.append({"user_id": uid, "name": name[:60], "sex": str(r.get("sex") or "").strip()[:4],
                    "scope": str(r.get("scope") or "").strip()[:60],
                    "title": str(r.get("title") or (user or {}).get("title") or "").strip()[:60],
                    "lead": bool(r.get("lead"))})
    return out


async def save_details(actor: Actor, hooks: HookView, filing_id: int, data: FilingDetails) -> list[Problem]:
    """Save the self-assessment, form answers and physicians (while open or returned).
    Returns what still blocks submission, so the page can say it at once."""
    row = await _for_hospital(actor, filing_id)
    _check(rules.check_transition(row["status"], "edit"))
    problems = []
    if data.assessment_basis not in BASIS_LABELS:
        problems.append(Problem("请选择自我评估依据", "assessment_basis",
                                province_policy(hooks).filing.assessment_rule or None))
    if len(data.self_assessment) > 5000:
        problems.append(Problem("自我评估情况不能超过5000字", "self_assessment"))
    _check(problems)
    _, _, spec = await _context(hooks, row)
    form = _filled(spec, data.form, await _known(row | {"self_assessment": data.self_assessment.strip(),
                                                       "assessment_basis": data.assessment_basis,
                                                       "assessment_reference": data.assessment_reference.strip()},
                                               actor.display_name))
    names = await _people([int(str(p.get("user_id"))) for p in data.physicians
                           if str(p.get("user_id") or "").isdigit()])
    physicians = _clean_physicians(data.physicians, names)
    if row["lead"] and not any(p["user_id"] == row["lead"] for p in physicians):
        lead = (await _people([row["lead"]])).get(row["lead"])
        if lead:
            physicians.insert(0, {"user_id": lead["id"], "name": lead["display_name"], "sex": "", "scope": "",
                                  "title": lead["title"], "lead": True})
    for p in physicians:
        p["lead"] = p["user_id"] == row["lead"]
    async with write_transaction():
        await _lock(filing_id, data.version, {
            Filing.self_assessment: data.self_assessment.strip(), Filing.assessment_basis: data.assessment_basis,
            Filing.assessment_reference: data.assessment_reference.strip()[:300], Filing.form: form,
            Filing.physicians: physicians,
        })
        await _audit(actor, "edit", row, filing_id)
    return await submission_problems(actor, hooks, filing_id)


async def upload_material(actor: Actor, hooks: HookView, filing_id: int, material: str, filename: str,
                          data: bytes) -> int:
    """Upload one file of a material (PDF/JPG/PNG by content, size-limited by storage).

    A new upload of a material becomes its current version; earlier ones stay listed.
    Once submitted, materials are locked: nothing is replaced while the regulator reviews
    or after completion — a returned filing takes new versions for resubmission.
    """
    row = await _for_hospital(actor, filing_id)
    if row["status"] not in rules.TRANSITIONS["upload"]:
        raise DomainError(Problem(
            f"备案已{STATUS_LABELS.get(row['status'], row['status'])}，已提交的材料不能替换；如需补正，请待备案部门退回后上传新版本",
            "file"))
    _, materials, _ = await _context(hooks, row)
    chosen = next((m for m in materials if m.key == material), None)
    if chosen is None:
        raise DomainError(Problem("请选择材料类别", "material"))
    async with write_transaction():
        attachment_id = await storage.store(actor, institution_id=row["institution"], owner_type="filing",
                                            owner_id=filing_id, filename=filename, data=data, kind=material)
        await _lock(filing_id, None, {})
        await _audit(actor, "upload", row, filing_id, material=material, attachment=attachment_id)
    return attachment_id


async def attachment(actor: Actor, filing_id: int, attachment_id: int) -> tuple[Any, Any]:
    """A material file of a filing the actor may read (hospital or desk)."""
    await _visible(actor, filing_id)
    files = [f for f in await storage.list_for("filing", [filing_id]) if f.id == attachment_id]
    if not files:
        raise NotFound("未找到该附件")
    from core.settings import get_settings

    path = get_settings().storage_dir / files[0].sha256[:2] / files[0].sha256
    if not path.exists():
        raise NotFound("附件文件已丢失，请联系管理员")
    return files[0], path


# ---------------------------------------------------------------- hospital: submitting


def _filing_channels(hooks: HookView) -> list:
    """The platforms that receive filings: every channel a plugin declares accepting
    ``filing`` (national and provincial alike, NAT-36). None: the filing goes to the
    licence-issuing department in this portal only — its desk here is that department."""
    return channels_for(hooks, "filing")


async def submit(actor: Actor, hooks: HookView, filing_id: int, version: int | None = None,
                 today: dt.date | None = None) -> int:
    """Submit (or resubmit after a return) the complete filing: refused with every missing
    item named (NAT-11, NAT-13); a submission after the due date is
    accepted and marked late (NAT-11). In one transaction: the submission, a delivery
    through every channel that receives filings (outbox, materials in each channel's order), the
    hospital's obligation fulfilled, and the regulator's completion clock started
    (15 working days from complete materials: NAT-11). Returns the
    submission id."""
    day = _today(today)
    row = await _for_hospital(actor, filing_id)
    _check(rules.check_transition(row["status"], "submit"))
    institution, materials, spec = await _context(hooks, row)
    files = await storage.list_for("filing", [filing_id])
    by_material = _files_by_material(files, materials)
    _check(await _problems(hooks, row, materials, spec, by_material))
    current = [fs[0] for key in [m.key for m in materials] for fs in [by_material.get(key) or []] if fs]
    late = rules.is_late(day, row["due_on"])
    number = await FilingSubmission.count().where(FilingSubmission.filing == filing_id) + 1
    titles = {m.key: m.title for m in materials}
    payload = {
        "filing_id": filing_id, "submission": number, "technology": {"code": row["technology_code"],
                                                                     "name": row["technology_name"]},
        "institution": {"name": institution.name, "licence_no": institution.licence_no, "grade": institution.grade},
        "first_case_on": row["first_case_on"].isoformat(), "first_case_info": row["first_case_info"],
        "due_on": row["due_on"].isoformat() if row["due_on"] else None, "late": late,
        "self_assessment": {"basis": row["assessment_basis"], "reference": row["assessment_reference"],
                            "text": row["self_assessment"]},
        "form": row["form"] or {}, "physicians": row["physicians"] or [], "submitted_on": day.isoformat(),
        "rules": [r for r in [m.rule for m in materials if m.rule][:1] + [province_policy(hooks).filing.completion_rule]
                  if r],
    }
    async with write_transaction():
        await _lock(filing_id, version, {
            Filing.status: FilingStatus.submitted, Filing.submitted_on: row["submitted_on"] or day,
            Filing.submitted_late: row["submitted_late"] or late, Filing.materials_complete_on: day,
            Filing.return_reason: "",
        })
        sub = await FilingSubmission.insert(FilingSubmission(
            filing=filing_id, number=number, submitted_on=day, submitted_by=actor.username, late=late,
            attachments=[f.id for f in current])).returning(FilingSubmission.id)
        sub_id = sub[0]["id"]
        # To every platform that receives filings (national and provincial, NAT-36), each
        # its own delivery, receipt and retry; the submission keeps the first one's id.
        deliveries = await outbox.enqueue_everywhere(
            actor, hooks, kind="filing", subject_type="filing", subject_id=filing_id,
            institution_id=row["institution"], payload=payload,
            attachments=[{"key": f.kind, "filename": f.filename, "sha256": f.sha256, "title": titles.get(f.kind, ""),
                          "content_type": f.content_type} for f in current])
        delivery_id = deliveries[0] if deliveries else None
        ids = await obligations.on_event(actor, hooks, obligations.DomainEvent(
            kind="filing_materials_complete", occurred_on=day, institution_id=row["institution"],
            subject_type="filing_submission", subject_id=sub_id, subject_label=row["technology_name"],
            technology_class="restricted", technology_code=row["technology_code"], role="regulator"))
        completion_due = None
        if ids:
            completion_due = (await obligations.get(actor, hooks, ids[0], day))["due_on"]
        await FilingSubmission.update({
            FilingSubmission.delivery_id: delivery_id, FilingSubmission.completion_obligation_id: ids[0] if ids else None,
            FilingSubmission.completion_due_on: completion_due}).where(FilingSubmission.id == sub_id)
        await Filing.update({Filing.completion_due_on: completion_due}).where(Filing.id == filing_id)
        if number == 1:
            await obligations.fulfil(actor, hooks, subject_type="filing", subject_id=filing_id, kind="filing",
                                     done_on=day)
            # A transitional filing obligation (a province's transitional period) is the project's: the first submission meets it too.
            await obligations.fulfil(actor, hooks, subject_type="project", subject_id=row["project"], kind="filing",
                                     done_on=day)
        await _audit(actor, "submit", row, filing_id, submission=number, late=late, delivery=delivery_id,
                     deliveries=deliveries)
        await _notify(await _users(region=row["institution.licence_region"], role="regulator"),
                      f"限制类技术备案待办：{row['institution.name']} {row['technology_name']}"
                      + ("（逾期提交）" if late else ""), filing_id)
    return sub_id


async def request_withdrawal(actor: Actor, hooks: HookView, filing_id: int, reason: str,
                             today: dt.date | None = None) -> None:
    """The institution asks the licence-issuing department to withdraw its filing
    (and change 备注三); the regulator confirms."""
    row = await _for_hospital(actor, filing_id)
    _check(rules.check_transition(row["status"], "request_withdrawal") + rules.check_reason(reason, what="撤销理由"))
    async with write_transaction():
        await _lock(filing_id, None, {Filing.status: FilingStatus.withdrawal_requested,
                                      Filing.close_reason: reason.strip()})
        await _audit(actor, "request_withdrawal", row, filing_id, reason=reason.strip(), from_status=row["status"])
        await _notify(await _users(region=row["institution.licence_region"], role="regulator"),
                      f"申请撤销限制类技术备案：{row['institution.name']} {row['technology_name']}", filing_id)


# ---------------------------------------------------------------- the regulator's desk


async def _open_submission(filing_id: int) -> dict | None:
    return await FilingSubmission.select().where(
        (FilingSubmission.filing == filing_id) & (FilingSubmission.outcome == "pending")).order_by(
        FilingSubmission.number, ascending=False).first()


async def return_filing(actor: Actor, hooks: HookView, filing_id: int, reason: str,
                        today: dt.date | None = None) -> None:
    """Return a filing for missing materials, naming them. The completion clock stops
    (the regulator's obligation is waived with the reason) and restarts when the
    institution resubmits complete materials (NAT-11)."""
    day = _today(today)
    row = await _for_desk(actor, filing_id)
    _check(rules.check_transition(row["status"], "return") + rules.check_reason(reason, what="退回理由（缺少的材料）"))
    sub = await _open_submission(filing_id)
    async with write_transaction():
        await _lock(filing_id, None, {Filing.status: FilingStatus.returned, Filing.return_reason: reason.strip(),
                                      Filing.completion_due_on: None})
        if sub:
            await FilingSubmission.update({FilingSubmission.outcome: "returned", FilingSubmission.outcome_on: day,
                                           FilingSubmission.outcome_reason: reason.strip()}).where(
                FilingSubmission.id == sub["id"])
            if sub["completion_obligation_id"]:
                await obligations.waive(actor, sub["completion_obligation_id"],
                                        f"材料不完整，已退回补正：{reason.strip()}"[:1000])
        await _audit(actor, "return", row, filing_id, reason=reason.strip())
        await _notify(await _users(institution=row["institution"], role="medical_affairs"),
                      f"限制类技术备案被退回补正：{row['technology_name']}", filing_id)


PUSH_SUBJECT = "licence_annotation"  # outbox.DESK_SUBJECTS: the filing department's own delivery


async def _push_annotation(actor: Actor, hooks: HookView, row: dict, policy: FilingPolicy, text: str,
                           on: dt.date, event: str, submission_id: int | None = None) -> int | None:
    """Where the policy says the filing department pushes (``annotation.mode == "push"``):
    queue the push of technology name and filing date to the licensing office as the
    filing department's own delivery (its queue on the desk, not the institution's
    outbox); in the caller's transaction. Its payload is what it says: the institution,
    the technology, the filing date and the annotation text — no filing materials."""
    if policy.annotation.mode != "push":
        return None
    channel = find_channel(hooks, policy.annotation.channel) if policy.annotation.channel else None
    if channel is None:
        raise DomainError(Problem(f"未找到推送副本备注的报送渠道（{policy.annotation.channel}），请联系系统管理员", None,
                                  policy.annotation.rule or None))
    return await outbox.enqueue(actor, channel=channel, kind="report", subject_type=PUSH_SUBJECT, subject_id=row["id"],
                                institution_id=row["institution"], payload={
                                    "purpose": "licence_annotation", "event": event, "to": policy.annotation.recipient,
                                    "from": actor.display_name, "submission_id": submission_id,
                                    "institution": row["institution.name"], "licence_no": row["institution.licence_no"],
                                    "technology": {"code": row["technology_code"], "name": row["technology_name"]},
                                    "filed_on": (row["completed_on"] or on).isoformat(), "on": on.isoformat(),
                                    "annotation": text, "rule": policy.annotation.rule})


async def push_delivered(actor: Actor, delivery: dict, on: dt.date) -> None:
    """The filing department's push was sent or its receipt recorded: its obligation
    (the completion clock of the submission it completed) is done on ``on``. Called by the
    outbox in its own transaction."""
    sub_id = (delivery.get("payload") or {}).get("submission_id")
    if not sub_id or (delivery.get("payload") or {}).get("event") != "complete":
        return
    await obligations.fulfil(SYSTEM if actor.id == 0 else actor, None, subject_type="filing_submission",
                             subject_id=int(sub_id), kind="filing_completion", done_on=on)


async def pushes(actor: Actor) -> list[dict]:
    """The filing department's push queue on its desk: pushes to the licensing office
    about the region's institutions, newest first, with their delivery status."""
    if not actor.has("regulator", "admin"):
        return []
    views, _ = await outbox.list_deliveries(actor, outbox.DeliveryFilter())
    return [v for v in views if v.subject_type == PUSH_SUBJECT]


async def complete(actor: Actor, hooks: HookView, filing_id: int, completed_on: dt.date | None = None,
                   today: dt.date | None = None) -> None:
    """Complete the filing (NAT-11): record the date and the licence annotation 备注三
    (technology name + filing date). Where the filing department annotates itself the
    annotation is recorded at once and its obligation is done on ``completed_on``; where
    the policy has it push to the licensing office, the push is queued on the filing
    department's desk, and its obligation is done when the push is sent or its receipt
    recorded (``push_delivered``); the annotation is recorded once the licensing office
    has made it."""
    day = _today(today)
    completed_on = completed_on or day
    row = await _for_desk(actor, filing_id)
    _check(rules.check_transition(row["status"], "complete")
           + rules.check_completion(completed_on, row["materials_complete_on"]))
    if completed_on > day:
        raise DomainError(Problem("完成备案日期不能晚于今天", "completed_on"))
    policy = province_policy(hooks).filing
    text = rules.annotation_text(row["technology_name"], completed_on)
    sub = await _open_submission(filing_id)
    values = {Filing.status: FilingStatus.completed, Filing.completed_on: completed_on,
              Filing.completed_by: actor.display_name,
              Filing.reported_up_on: completed_on, Filing.annotation_expected: text}
    push_mode = policy.annotation.mode == "push"
    if not push_mode:
        values |= {Filing.annotation_recorded: text, Filing.annotation_recorded_on: completed_on}
    async with write_transaction():
        await _lock(filing_id, None, values)
        if sub:
            await FilingSubmission.update({FilingSubmission.outcome: "completed",
                                           FilingSubmission.outcome_on: completed_on}).where(
                FilingSubmission.id == sub["id"])
            if sub["completion_obligation_id"] and not push_mode:
                await obligations.fulfil(actor, hooks, subject_type="filing_submission", subject_id=sub["id"],
                                         kind="filing_completion", done_on=completed_on)
        fresh = await _row(filing_id)
        await _supersede(actor, fresh, completed_on)
        push = await _push_annotation(actor, hooks, fresh, policy, text, completed_on, "complete",
                                      sub["id"] if sub else None)
        await _audit(actor, "complete", row, filing_id, annotation=text, push=push, reported_up=not push_mode)
        await _notify(await _users(institution=row["institution"], role="medical_affairs"),
                      f"限制类技术已完成备案：{row['technology_name']}", filing_id)


async def record_annotation(actor: Actor, hooks: HookView, filing_id: int, text: str,
                            on: dt.date | None = None, today: dt.date | None = None) -> None:
    """Record what the licence copy's 备注三 says now (after the licensing office annotated
    it, or to correct it after a consistency check)."""
    day = _today(today)
    row = await _for_desk(actor, filing_id)
    text = (text or "").strip()
    problems = rules.check_transition(row["status"], "record_annotation")
    if len(text) > 500:
        problems.append(Problem("备注内容不能超过500字", "annotation"))
    _check(problems)
    async with write_transaction():
        await _lock(filing_id, None, {Filing.annotation_recorded: text, Filing.annotation_recorded_on: on or day})
        await _audit(actor, "annotation", row, filing_id, recorded=text)


async def _close(actor: Actor, hooks: HookView, row: dict, *, status: str, how: str, on: dt.date,
                 reason: str, ground: str = "") -> None:
    policy = province_policy(hooks).filing
    text = rules.annotation_after_close(row["technology_name"], row["completed_on"], on, how) \
        if row["completed_on"] else ""
    values = {Filing.status: status, Filing.closed_on: on, Filing.close_reason: reason, Filing.close_ground: ground,
              Filing.annotation_expected: text}
    if policy.annotation.mode != "push" or not text:
        values |= {Filing.annotation_recorded: text, Filing.annotation_recorded_on: on}
    sub = await _open_submission(row["id"])
    async with write_transaction():
        await _lock(row["id"], None, values)
        if sub:
            await FilingSubmission.update({FilingSubmission.outcome: "withdrawn", FilingSubmission.outcome_on: on,
                                           FilingSubmission.outcome_reason: reason}).where(
                FilingSubmission.id == sub["id"])
            if sub["completion_obligation_id"]:
                await obligations.waive(actor, sub["completion_obligation_id"], f"备案已{how}：{reason}"[:1000])
        push = None
        if text:
            push = await _push_annotation(actor, hooks, await _row(row["id"]), policy, text, on, status)
        await _audit(actor, "withdraw" if status == FilingStatus.withdrawn else "cancel", row, row["id"], reason=reason,
                     ground=ground, annotation=text, push=push,
                     reported_to_province=rules.reported_to_province(ground))
        # NAT-25: no case of the technology until it is filed again (its use: 注销备案).
        await lifecycle.on_filing_closed(actor, row, how=how, reason=reason, on=on, rule=(
            policy.cancellation_rule or "NAT-25" if status == FilingStatus.cancelled else policy.withdrawal_rule or "NAT-11"))
        await _notify(await _users(institution=row["institution"], role="medical_affairs"),
                      f"限制类技术备案已{how}：{row['technology_name']}", row["id"])


async def confirm_withdrawal(actor: Actor, hooks: HookView, filing_id: int, on: dt.date | None = None,
                             today: dt.date | None = None) -> None:
    """The licence-issuing department withdraws the filing at the institution's
    request and changes 备注三; audited."""
    row = await _for_desk(actor, filing_id)
    _check(rules.check_transition(row["status"], "confirm_withdrawal"))
    await _close(actor, hooks, row, status=FilingStatus.withdrawn, how="撤销", on=on or _today(today),
                 reason=row["close_reason"] or "医疗机构申请撤销")


async def cancel(actor: Actor, hooks: HookView, filing_id: int, ground: str, reason: str,
                 on: dt.date | None = None, today: dt.date | None = None) -> None:
    """NAT-25: after the institution's stop report the licence-issuing department
    cancels the filing and updates the licence annotation; ground (4) — uncertain
    efficacy — is also reported to the provincial commission (recorded in the audit)."""
    row = await _for_desk(actor, filing_id)
    _check(rules.check_transition(row["status"], "cancel") + rules.check_ground(ground)
           + rules.check_reason(reason, what="停止报告情况"))
    await _close(actor, hooks, row, status=FilingStatus.cancelled, how="注销", on=on or _today(today),
                 reason=reason.strip(),
                 ground=ground)


async def waiting_on(actor: Actor) -> list[dict]:
    """Filings waiting on ``actor`` that no deadline tracks (the to-do list, issue 11 point
    10; a submitted filing's completion has its own obligation): medical affairs resubmits
    a returned filing, the licence-issuing department decides a withdrawal request (NAT-11).
    Each row: id, technology, institution name, status, since (date), what to do."""
    if actor.has("medical_affairs") and actor.institution_id is not None:
        where = (Filing.institution == actor.institution_id) & (Filing.status == FilingStatus.returned)
    elif actor.has("regulator") and actor.region_id is not None:
        where = ((Filing.institution.licence_region == actor.region_id)
                 & (Filing.status == FilingStatus.withdrawal_requested))
    else:
        return []
    rows = await Filing.select(Filing.id, Filing.technology_code, Filing.technology_name, Filing.status,
                               Filing.return_reason, Filing.close_reason, Filing.updated_at,
                               Filing.institution.name).where(where).order_by(Filing.updated_at)
    for r in rows:
        r["since"] = local_date(r["updated_at"])
        r["action"] = (f"按退回意见补正后重新提交：{r['return_reason']}" if r["status"] == FilingStatus.returned
                       else f"确认撤销备案（医疗机构申请：{r['close_reason'] or '未写明理由'}）")
    return rows


# The desk puts what waits for the regulator first (NAT-11): submitted, then withdrawal requests.
_WAITING_FIRST = OrderByRaw(
    "CASE status WHEN 'submitted' THEN 0 WHEN 'withdrawal_requested' THEN 1 WHEN 'returned' THEN 2"
    " WHEN 'open' THEN 3 ELSE 9 END")


async def _desk_scope(actor: Actor) -> Any:
    if not actor.has(*DESK_READERS, "admin"):
        raise NotFound("未找到")
    clause = institution_scope(actor)
    if clause is None:
        return None
    ids = [r["id"] for r in await Institution.select(Institution.id).where(clause)]
    return Filing.institution.is_in(ids or [-1])


def _desk_decorator(actor: Actor, cal: Any, day: dt.date):
    async def decorate(rows: list[dict]) -> list[dict]:
        await _with_use(rows)  # the technology's state of use in the institution (core.lifecycle)
        await _with_cumulative(rows)
        for r in rows:
            r["status_label"] = STATUS_LABELS.get(r["status"], r["status"])
            r["may_act"] = actor.has("regulator") and r["institution.licence_region"] == actor.region_id
            r["completion_days_left"] = days_left(cal, day, r["completion_due_on"]) \
                if r["status"] == FilingStatus.submitted and r["completion_due_on"] else None
            r["overdue_open"] = r["status"] == FilingStatus.open and r["due_on"] is not None and r["due_on"] < day
        return rows
    return decorate


def _filing_spec(*, title: str, decorate, institutions: bool) -> listing.ListSpec:
    """A filing list (the hospital's, the regulator's desk): search by technology,
    filter by status, sort, page and export."""
    export = (listing.field("技术编码", "technology_code"),
              listing.field("技术名称", "technology_name"),
              listing.field("首例日期", "first_case_on"),
              listing.field("提交日期", "submitted_on"),
              listing.field("完成期限", "completion_due_on"),
              listing.field("累计例数", "case_count"),
              listing.field("状态", "status_label"))
    search = (Filing.technology_code, Filing.technology_name)
    if institutions:
        export = (*export, listing.ExportColumn("临床应用状态", lambda r: r["use"].label))
        export = (listing.field("医疗机构", "institution.name"), *export)
        search = (*search, Filing.institution.name)
    return listing.ListSpec(
        table=Filing, columns=(*Filing.all_columns(exclude=[Filing.form, Filing.physicians]), *_COLUMNS),
        title=title, search=search, search_hint="技术名称或编码" + ("、医疗机构" if institutions else ""),
        filters=(listing.Filter(key="status", label="状态", column=Filing.status,
                                choices=tuple(STATUS_LABELS.items())),
                 listing.Filter(key="since", label="首例日期起", column=Filing.first_case_on, kind="since"),
                 listing.Filter(key="until", label="首例日期止", column=Filing.first_case_on, kind="until")),
        sorts=(listing.Sort("waiting", "待办优先", _WAITING_FIRST),
               listing.Sort("first_case_on", "首例日期", Filing.first_case_on),
               listing.Sort("submitted_on", "提交日期", Filing.submitted_on),
               listing.Sort("completion_due_on", "完成期限", Filing.completion_due_on),
               listing.Sort("id", "开启顺序", Filing.id)),
        default_sort="waiting" if institutions else "-id", export=export, decorate=decorate)


async def desk_list(actor: Actor, hooks: HookView, today: dt.date | None = None) -> tuple[listing.ListSpec, Any]:
    """The regulator's desk as a list (issue 11 point 11): filings of institutions in the
    actor's region and below, waiting ones first, with the completion deadline and working
    days left; ``may_act`` only for the licence-issuing department. (spec, tenancy clause)."""
    scope = await _desk_scope(actor)
    day = _today(today)
    cal = (await obligations.read_context(hooks, day))[0]
    return _filing_spec(title="备案工作台", decorate=_desk_decorator(actor, cal, day), institutions=True), scope


async def desk(actor: Actor, hooks: HookView, today: dt.date | None = None, where: Any = None) -> list[dict]:
    """Every filing on the actor's desk (``desk_list`` pages them), waiting ones first;
    ``where`` narrows them (before the rows are decorated)."""
    scope = await _desk_scope(actor)
    day = _today(today)
    cal = (await obligations.read_context(hooks, day))[0]
    query = Filing.select(*Filing.all_columns(exclude=[Filing.form, Filing.physicians]), *_COLUMNS).order_by(
        _WAITING_FIRST).order_by(Filing.completion_due_on).order_by(Filing.id, ascending=False)
    if scope is not None:
        query = query.where(scope)
    if where is not None:
        query = query.where(where)
    return await _desk_decorator(actor, cal, day)(await query)


_CLOSED = (FilingStatus.completed, FilingStatus.withdrawn, FilingStatus.cancelled)
_UNDER_WAY = (FilingStatus.open, FilingStatus.submitted, FilingStatus.returned)


def _consistency_candidates() -> Any:
    """The filings ``consistency`` can list, as a where-clause: a closed one whose annotation
    differs from the expected one (both columns are NOT NULL), one under way with a first
    case. The page used to decorate every filing of the region (its state of use and
    cumulative cases) and keep these; the rules below still decide."""
    return ((Filing.status.is_in(list(_CLOSED)) & (Filing.annotation_expected != Filing.annotation_recorded))
            | (Filing.status.is_in(list(_UNDER_WAY)) & Filing.first_case_on.is_not_null()))


async def consistency(actor: Actor, hooks: HookView, today: dt.date | None = None) -> dict:
    """In the actor's region, filings whose licence annotation (备注三) is missing
    or disagrees with the filing, and technologies with cases but no completed filing."""
    rows = await desk(actor, hooks, today, where=_consistency_candidates())
    mismatched, unfiled = [], []
    for r in rows:
        if r["status"] in _CLOSED and r["annotation_expected"] != r["annotation_recorded"]:
            r["problem"] = "副本未备注" if not r["annotation_recorded"] else "副本备注与备案不一致"
            mismatched.append(r)
        elif r["status"] in _UNDER_WAY and (
                r["first_case_on"] is not None):  # a filing opens on its first case (NAT-11)
            r["problem"] = "已开展病例但未完成备案" + ("（已逾期未提交）" if r["overdue_open"] else "")
            unfiled.append(r)
    return {"mismatched": mismatched, "unfiled": unfiled}


# ---------------------------------------------------------------- public pages (NAT-24, NAT-40)


async def _public_rows(where: Any | None) -> list[dict]:
    query = Filing.select(
        Filing.id, Filing.technology_code, Filing.technology_name, Filing.completed_on, Filing.case_count,
        Filing.project, Filing.institution, Filing.institution.name, Filing.institution.region.name,
        Filing.institution.licence_region.name, Filing.institution.licence_region.department,
    ).where(Filing.status.is_in(list(PUBLIC_STATUSES))).order_by(Filing.technology_code).order_by(
        Filing.completed_on)
    if where is not None:
        query = query.where(where)
    rows = await query
    await _with_use(rows)
    await _with_cumulative(rows)
    for r in rows:
        r["filed_on"] = r["completed_on"]
        r["filing_department"] = department_name({"name": r["institution.licence_region.name"],
                                                  "department": r["institution.licence_region.department"]})
    return rows


async def _with_use(rows: list[dict]) -> None:
    """Each public row's state of use (NAT-24, NAT-40: a suspended or stopped technology's
    public lists say so), as ``use``."""
    keys = {r["id"]: (r["institution"], lifecycle.technology_key(r["technology_code"], r["project"])) for r in rows}
    found = await lifecycle.states_many(keys.values())
    for r in rows:
        r["use"] = found[keys[r["id"]]]


async def public_all() -> list[dict]:
    """Every completed filing as the public lists show it (the open data, NAT-40)."""
    return await _public_rows(None)


async def public_regions() -> list[dict]:
    """Regions (with depth) and technologies that have completed filings, for the index."""
    from core.tenancy.service import region_tree

    techs = await Filing.select(Filing.technology_code, Filing.technology_name).where(
        Filing.status.is_in(list(PUBLIC_STATUSES))).distinct().order_by(Filing.technology_code)
    return [await region_tree(), techs]


async def public_by_region(region_id: int) -> tuple[dict, list[dict]]:
    """Completed filings of institutions in a region and below (NAT-40)."""
    region = await Region.select().where(Region.id == region_id).first()
    if region is None:
        raise NotFound("未找到该行政区划")
    return region, await _public_rows(Filing.institution.region.path.like(f"{region['path']}%"))


async def public_by_technology(code: str) -> tuple[str, list[dict]]:
    """Institutions filed for one restricted technology (NAT-40)."""
    rows = await _public_rows(Filing.technology_code == code)
    if not rows:
        raise NotFound("未找到该技术的备案机构")
    return rows[0]["technology_name"], rows


_DISCLOSED = (FilingStatus.open, FilingStatus.submitted, FilingStatus.returned, FilingStatus.completed,
              FilingStatus.withdrawal_requested)


async def _disclosure_rows(institution_ids: list[int] | None) -> list[dict]:
    """The restricted-technology lists of the institutions (``None``: every active one), in
    five queries whatever their number: completed filings, filings under way, and admitted
    restricted technologies not yet performed — each with its filing date, its cumulative
    case count by the one definition (``core.cases.counts``) and its state of use."""
    active = Institution.select(Institution.id).where(Institution.active == True)  # noqa: E712
    if institution_ids is not None:
        active = active.where(Institution.id.is_in(list(institution_ids) or [-1]))
    # A sub-select, not a thousand ids bound one by one (core.db.ids_clause says why).
    rows = await Filing.select(Filing.id, Filing.institution, Filing.project, Filing.technology_code,
                               Filing.technology_name, Filing.completed_on, Filing.status).where(
        Filing.institution.is_in(active) & Filing.status.is_in(list(_DISCLOSED))).order_by(Filing.id)
    keys = {(r["institution"], lifecycle.technology_key(r["technology_code"], r["project"])) for r in rows}
    admitted = await Project.select(Project.id, Project.institution, Project.technology_code,
                                    Project.technology_name).where(
        Project.institution.is_in(active) & (Project.tech_class == "restricted")
        & (Project.status == "admitted")).order_by(Project.id)
    for p in admitted:
        key = (p["institution"], lifecycle.technology_key(p["technology_code"], p["id"]))
        if key not in keys:  # admitted, no case yet (the first case opens the filing, NAT-11)
            keys.add(key)
            rows.append({"id": -p["id"], "institution": p["institution"], "project": p["id"],
                         "technology_code": p["technology_code"], "technology_name": p["technology_name"],
                         "completed_on": None, "status": "admitted"})
    await _with_use(rows)
    await _with_cumulative(rows)
    for r in rows:
        r["filed_on"] = r["completed_on"]
        r["status_label"] = ("已备案" if r["status"] == FilingStatus.completed else
                             "已准入，尚未开展" if r["status"] == "admitted" else "备案办理中")
    rows.sort(key=lambda r: (r["institution"], r["status"] != FilingStatus.completed, r["technology_code"],
                             r["technology_name"]))
    return rows


async def institution_disclosure(institution_id: int) -> tuple[dict, list[dict]]:
    """NAT-24 (院务公开; a province's own id comes with its ``disclosure_fields``): the
    institution's restricted-technology list with filing dates and cumulative case counts
    (``_disclosure_rows``). Anonymous; an unknown or inactive institution is ``NotFound``."""
    inst = await Institution.select(Institution.id, Institution.name, Institution.grade,
                                    Institution.region.name).where(
        (Institution.id == institution_id) & (Institution.active == True)).first()  # noqa: E712
    if inst is None:
        raise NotFound("未找到该医疗机构")
    return inst, await _disclosure_rows([institution_id])


async def disclosing_institutions() -> list[dict]:
    """Active institutions with a restricted-technology list to disclose (NAT-24): a filing
    completed or under way, or an admitted restricted technology — the index of their
    院务公开 pages, by name."""
    filed = Filing.select(Filing.institution).where(Filing.status.is_in(list(_DISCLOSED)))
    admitted = Project.select(Project.institution).where((Project.tech_class == "restricted")
                                                         & (Project.status == "admitted"))
    ids = {r["institution"] for r in await filed.distinct()} | {r["institution"] for r in await admitted.distinct()}
    return await Institution.select(Institution.id, Institution.name, Institution.region.name).where(
        Institution.id.is_in(sorted(ids) or [-1]) & (Institution.active == True)  # noqa: E712
    ).order_by(Institution.name)


async def disclosures_all(institution_ids: list[int] | None = None) -> list[dict]:
    """Every active institution's restricted-technology list (the open data of NAT-24), with
    the institution's name and region."""
    rows = await _disclosure_rows(institution_ids)
    names = {r["id"]: r for r in await Institution.select(Institution.id, Institution.name, Institution.region.name)
             .where(ids_clause('"institution"."id"', {r["institution"] for r in rows}))}
    for r in rows:
        r["institution.name"] = names[r["institution"]]["name"]
        r["institution.region.name"] = names[r["institution"]]["region.name"]
    return rows


async def grading_disclosure(institution_id: int) -> dict | None:
    """The surgery-grading catalogue in force (NAT-24), as the institution's public page
    summarises it: edition, effective date, operations per level; the catalogue itself is
    ``core.grading``'s public page."""
    from core.grading import service as grading
    from core.grading.tables import GradingOperation

    edition = await grading.edition_in_force(institution_id)
    if edition is None:
        return None
    levels = {r["level"]: int(r["n"]) for r in await GradingOperation.raw(
        "SELECT level, COUNT(*) AS n FROM grading_operation WHERE edition = {} GROUP BY level", edition["id"])}
    return {"number": edition["number"], "effective_on": edition["effective_on"],
            "operation_count": sum(levels.values()), "levels": [(lvl, levels.get(lvl, 0)) for lvl in (1, 2, 3, 4)],
            "href": f"/public/grading/{institution_id}"}
