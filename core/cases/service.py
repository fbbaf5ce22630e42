"""Case records (病例逐例报送): the use cases, the only writer of ``case_record`` and
``case_import``.

Three ways in — the page, the JSON API (``POST /api/v1/cases``) and the spreadsheet
upload — all call ``record_cases``: ONE validation, all or nothing.

For each item it checks, in this order:

* the values (``rules.case_problems``: dates in order NAT-37, consent HOSP-18/NAT-45,
  the patient key is a pseudonym NAT-45, operators given);
* the technology: an admitted project of the actor's institution with that code
  (HOSP-3: no new technology before admission; NAT-9 never a prohibited one);
* the operators and assistants: physicians of this institution (NAT-19: the case goes
  into their technology archive);
* the QC values: the project's indicators only, each of its kind (HOSP-14);
* the hospital's own case id: the same id with the same content is the same case
  (idempotent: nothing is written again); with other content it is refused, never
  overwritten (NAT-37);
* the plugins' ``validate_case`` answers (e.g. Henan's completeness).

Any problem refuses the whole batch, naming the item, the field and the rule. Otherwise,
in ONE transaction, each case is stored, audited, its reporting obligation opened by the
province's deadline rule (e.g. 15 working days after discharge, or one case, one
report, the plugin's window), fulfilled by this very report (on time or late), queued
on the province's channel in the outbox (NAT-37), and — for the first case of an
admitted restricted technology — the filing opened (``core.filing.service.on_first_case``,
NAT-11); later cases add to the filing's cumulative count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from core import clock, listing
from core.accounts.schemas import Actor
from core.accounts.tables import User
from core.admission.rules import class_on
from core.admission.tables import Project
from core.audit import service as audit
from core.cases import rules
from core.cases.rules import CaseInput, Indicator
from core.cases.schemas import CasePage, ChannelReport, ImportJob, ImportStatus, ReportState
from core.cases.tables import CaseImport, CaseRecord
from core.db import Prepared, reads_together, write_transaction
from core.errors import DomainError, NotFound, Problem
from core.grading.service import CaseGrade, grade_cases
from core.grading.service import choices as grading_choices
from core.lifecycle import service as lifecycle
from core.obligations import service as obligations
from core.people.service import authorised_technologies, check_operators, record_findings_many
from core.plugins import HookView
from core.qc.indicators import indicators_for
from core.tenancy.service import institution_scope, require_institution
from core.tenancy.tables import Institution

PHYSICIAN_ROLES = ("clinician", "dept_head")
# Who records cases on the page; the API's token actor has the pseudo-role "his".
RECORDERS = ("clinician", "dept_head", "qc_officer", "medical_affairs", "his")
MAX_BATCH = 1000
SOURCES = ("page", "api", "upload")
# NAT-20: what a refused unauthorised operator's case may do next.
UNAUTHORISED_HINT = ("未获授权的医师不得开展该限制类技术；如授权漏登，请医务处在医师档案中补登；如该手术确已实施，"
                     "请勾选“如实报送未获授权术者的病例”后报送，病例将记录在案并向监管部门提示风险")


class CaseResult(msgspec.Struct):
    """What became of one item: ``created`` or ``unchanged`` (the same case again)."""

    case_id: str
    id: int
    status: str
    report_due_on: dt.date | None = None
    report_rule: str = ""
    delivery_id: int | None = None
    # The deliveries this call queued: one per platform that takes cases (NAT-36, NAT-37).
    delivery_ids: list[int] = []


def _today(today: dt.date | None) -> dt.date:
    return today or clock.today()


def pseudonym_secret() -> str:
    """The key of the patient pseudonym's HMAC: ``CLINTECH_PSEUDONYM_KEY``, else the
    deployment's secret. Changing it changes every stored pseudonym; keep it stable."""
    from core.settings import get_settings

    return get_settings().pseudonym_key or get_settings().secret


# ---------------------------------------------------------------- what a case may cite


# The reads every batch of cases makes, built once (per shape of their lists): ``core.db.Prepared``.
_ADMITTED = Prepared(lambda institution_id: Project.select(
    Project.id, Project.institution, Project.department, Project.lead, Project.title, Project.technology_code,
    Project.technology_name, Project.technology_ref, Project.tech_class, Project.admitted_on,
    Project.monitoring_until, Project.awaiting_first_case, Project.restricted_from, Project.form,
    Project.status, Project.department.name,
).where((Project.institution == institution_id) & (Project.status == "admitted")).order_by(
    Project.id).output(load_json=True), 1)
_PHYSICIANS = Prepared(lambda institution_id: User.select(
    User.id, User.username, User.display_name, User.title, User.roles, User.active).where(
    User.institution == institution_id).order_by(User.display_name).output(load_json=True), 1)
_EXISTING = Prepared(lambda institution_id, keys: CaseRecord.select(
    CaseRecord.id, CaseRecord.external_id, CaseRecord.content_hash, CaseRecord.report_due_on,
    CaseRecord.report_rule, CaseRecord.delivery_id).where(
    (CaseRecord.institution == institution_id) & CaseRecord.dedupe_key.is_in(keys)), 2, lists=(1,))


async def admitted_projects(institution_id: int) -> list[dict]:
    """The institution's admitted projects (HOSP-3), cases may be recorded for them."""
    return await _ADMITTED.run(institution_id)


def by_code(projects: list[dict]) -> dict[str, dict]:
    """Projects by the codes a case may cite: the technology's code (the latest admitted
    project of that technology) and, always, "P<project id>"."""
    found: dict[str, dict] = {}
    for p in projects:
        if p["technology_code"]:
            found[p["technology_code"].upper()] = p
        found[f"P{p['id']}"] = p
    return found


def project_code(project: dict) -> str:
    """The code the page cites a project by: "P<project id>" (unambiguous even when an
    institution admitted the same technology twice)."""
    return f"P{project['id']}"


async def physicians(institution_id: int) -> list[dict]:
    """This institution's physicians (operators and assistants), by login name."""
    rows = await _PHYSICIANS.run(institution_id)
    return [r for r in rows if r["active"] and any(role in PHYSICIAN_ROLES for role in r["roles"] or [])]


async def _recorder(actor: Actor) -> int:
    if not actor.has(*RECORDERS) or actor.institution_id is None:
        raise NotFound("未找到")
    return actor.institution_id


def _content(case: CaseInput) -> CaseInput:
    return msgspec.structs.replace(
        case, case_id=case.case_id.strip(), technology_code=case.technology_code.strip().upper(),
        patient_key=case.patient_key.strip(), operators=[o.strip() for o in case.operators if o.strip()],
        assistants=[a.strip() for a in case.assistants if a.strip()])


async def check_cases(actor: Actor, hooks: HookView, items: list[CaseInput], today: dt.date | None = None,
                      *, label: str = "items", declare_unauthorised: bool = False) -> tuple[list[Problem], dict]:
    """Every problem of a batch (each field named ``items[i].field``) and, when there is
    none, what recording needs. Reads only; the page uses it to check as one types.

    NAT-20 (and the provinces' restatements): an operator without a valid authorisation for the restricted
    technology on the operation date — of a technology whose physicians the institution
    authorises here (``authorised_technologies``) — refuses the case at entry, unless the recorder
    declares that it was really performed so (``declare_unauthorised``): a performed case
    is never kept from the report (NAT-37), it is recorded with the finding and warned to
    the regulator. A missing surgery-level authorisation is a finding (warning) only."""
    day = _today(today)
    institution_id = await _recorder(actor)
    problems: list[Problem] = []
    if not items:
        return [Problem("批量报送不能为空", label, "NAT-37")], {}
    if len(items) > MAX_BATCH:
        return [Problem(f"每批最多 {MAX_BATCH} 例", label, "NAT-37")], {}
    projects = by_code(await admitted_projects(institution_id))
    staff = {p["username"]: p for p in await physicians(institution_id)}
    # By the unique "<institution>:<case id>" key (its index), not the institution's every case.
    keys = sorted({f"{institution_id}:{c.case_id.strip()}" for c in items})
    existing = {r["external_id"]: r for r in await _EXISTING.run(institution_id, keys)}
    seen: dict[str, str] = {}
    plan = []
    refusals = await _use_refusals(hooks, institution_id, items, projects)
    contents = [_content(raw) for raw in items]
    # The QC indicators of the projects the batch cites (not of every admitted project).
    indicators: dict[int, list[Indicator]] = {}
    for p in {p["id"]: p for p in (projects.get(c.technology_code) for c in contents) if p}.values():
        indicators[p["id"]] = await indicators_for(hooks, p)
    grades, grade_problems = await grade_cases(hooks, institution_id,
                                               [(c, projects.get(c.technology_code)) for c in contents])
    for index, case in enumerate(contents):
        where = f"{label}[{index}]"
        own = rules.case_problems(case, day) + grade_problems[index]
        project = projects.get(case.technology_code)
        if case.technology_code and project is None:
            own.append(Problem(f"本机构未准入技术「{case.technology_code}」，不能登记其病例（新技术须准入后方可开展）",
                               "technology_code", "HOSP-3"))
        elif project is not None:
            if project["tech_class"] == "prohibited":
                own.append(Problem("禁止类技术不得临床应用", "technology_code", "NAT-9"))
            refusal = refusals.get((institution_id, lifecycle.technology_key(project["technology_code"], project["id"]),
                                    case.operated_on))
            if refusal is not None:  # NAT-13 ethics gate; NAT-25 stop / suspension (core.lifecycle)
                own.append(Problem(refusal.message, "technology_code", refusal.rule))
            if project["admitted_on"] and case.operated_on < project["admitted_on"]:
                own.append(Problem(f"手术日期早于该技术的准入日期（{project['admitted_on']}）", "operated_on", "HOSP-3"))
            own += rules.indicator_problems(case.qc_values, indicators[project["id"]])
        for field in ("operators", "assistants"):
            for name in getattr(case, field):
                if name not in staff:
                    own.append(Problem(f"「{name}」不是本机构的医师，不能作为{'术者' if field == 'operators' else '助手'}",
                                       field, "NAT-19"))
        digest = rules.content_hash(case)
        if case.case_id in seen and seen[case.case_id] != digest:
            own.append(Problem(f"病例号「{case.case_id}」在本批中重复且内容不同", "case_id", "NAT-37"))
        seen[case.case_id] = digest
        before = existing.get(case.case_id)
        if before is not None and before["content_hash"] != digest:
            own.append(Problem(f"病例号「{case.case_id}」已报送且内容不同：已报送的病例不得覆盖，如需更正请联系医务处",
                               "case_id", "NAT-37"))
        if not own and project is not None:
            for answer in await hooks.collect("validate_case", case=case):
                own.extend(answer)  # core.errors.Problem, converted by the hook view
        problems += rules.prefix(own, where)
        plan.append({"case": case, "project": project, "digest": digest, "existing": before,
                     "grade": grades[index]})
    # NAT-20: operators without a valid authorisation on the operation date (core.people).
    for entry, found in zip(plan, await check_operators(
            institution_id, [(e["case"], e["project"], e["grade"], staff) for e in plan]), strict=True):
        entry["unauthorised"] = found
    if not declare_unauthorised and any(entry["unauthorised"] for entry in plan):
        kept = await authorised_technologies(institution_id)
        for index, entry in enumerate(plan):
            project = entry["project"]
            if project is None or lifecycle.technology_key(project["technology_code"], project["id"]) not in kept:
                continue
            refused = [p for _, p in entry["unauthorised"] if p.field == "operators"]
            problems += rules.prefix([Problem(f"{p.message}。{UNAUTHORISED_HINT}", p.field, p.rule) for p in refused],
                                     f"{label}[{index}]")
    return problems, {"institution_id": institution_id, "plan": plan, "staff": staff, "indicators": indicators,
                      "secret": pseudonym_secret()}


async def _use_refusals(hooks: HookView, institution_id: int, items: list[CaseInput],
                        projects: dict[str, dict]) -> dict:
    """The technology's state of use on each case's operation date, for the whole batch in
    one call: the ethics gate (NAT-13) and stop / suspension (NAT-25)."""
    queries = []
    for raw in items:
        project = projects.get(raw.technology_code.strip().upper())
        if project is not None:
            queries.append(lifecycle.UseQuery(institution_id, lifecycle.technology_key(
                project["technology_code"], project["id"]), raw.operated_on, project["id"]))
    return await lifecycle.use_refusals(queries, hooks)


def case_class(project: dict, grade: CaseGrade, on: dt.date | None = None) -> str:
    """The class a case operated on ``on`` counts in: its project's on that date — a
    routine technology concluded restricted by a provincial evaluation counts as restricted
    from the conclusion's date of effect (EVAL-8, ``core.admission.rules.class_on``), so
    its first case on or after it opens the filing (NAT-11) — except a restricted
    technology's case that the province takes out by its operation's level (the plugins'
    ``restricted_scope``)."""
    tech_class = class_on(project, on)
    if tech_class == "restricted" and not grade.restricted:
        return "routine"
    return tech_class


def _delegate(actor: Actor, institution_id: int) -> Actor:
    """The filing opens on medical affairs' behalf when a case reveals the first case
    (NAT-11); the audit trail keeps who recorded the case."""
    return Actor(id=actor.id, username=actor.username, display_name=actor.display_name,
                 roles=("medical_affairs",), institution_id=institution_id)


RACE_RETRIES = 6


def _is_race(exc: Exception) -> bool:
    """A write that lost a race with a concurrent batch (the first case taken, the same
    case id inserted, a serialization failure): worth checking and writing again."""
    import sqlite3

    if isinstance(exc, (DomainError, sqlite3.IntegrityError)):
        return True  # raised in the write phase, after the batch's own check passed
    try:
        import asyncpg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, (asyncpg.exceptions.UniqueViolationError, asyncpg.exceptions.SerializationError,
                            asyncpg.exceptions.DeadlockDetectedError))


async def record_cases(actor: Actor, hooks: HookView, items: list[CaseInput], *, source: str = "api",
                       today: dt.date | None = None, label: str = "items",
                       declare_unauthorised: bool = False) -> list[CaseResult]:
    """Record a batch of cases, all or nothing (see the module docstring). Returns one
    result per item, in order. ``DomainError`` lists every problem of every item.

    Concurrent batches of one technology are all accepted (issue 12.3): the projects'
    rows are locked and re-read inside the write, so exactly one case is the first (NAT-11)
    and the others add to its filing; a write that still lost a race is checked and
    written again here, never reported to the hospital as invalid data."""
    import asyncio
    import random

    day = _today(today)
    for attempt in range(1, RACE_RETRIES + 1):
        async with reads_together():
            problems, ctx = await check_cases(actor, hooks, items, day, label=label,
                                              declare_unauthorised=declare_unauthorised)
        if problems:
            raise DomainError(problems)
        try:
            return await _write_batch(actor, hooks, ctx, source, day)
        except Exception as exc:
            if attempt == RACE_RETRIES or not _is_race(exc):
                raise
            await asyncio.sleep(random.uniform(0, 0.02 * attempt))  # let the winner commit
    raise AssertionError("unreachable")


async def _write_batch(actor: Actor, hooks: HookView, ctx: dict, source: str, day: dt.date) -> list[CaseResult]:
    """The write of a checked batch, each table written once for the whole batch: the
    cases' ids drawn first, so their reporting obligations and deliveries are written
    before the cases and each case row goes in once, complete with its report fields;
    then the operator findings, the audit events and the filings (NAT-11); the audit
    events of all of them in one write at the end."""
    from core.db import allocate_ids

    institution_id = ctx["institution_id"]
    created: dict[int, CaseResult] = {}
    # Every audit event of the batch (obligations, deliveries, cases, filing) in one write.
    async with write_transaction(), audit.collected():
        awaiting = await _lock_projects(ctx["plan"])
        new = [(index, entry) for index, entry in enumerate(ctx["plan"]) if entry["existing"] is None]
        ids = await allocate_ids(CaseRecord, len(new))
        values = [_case_values(actor, ctx, entry, source) | {"id": case_id}
                  for (_, entry), case_id in zip(new, ids, strict=True)]
        reports = await _open_reports(actor, hooks, [entry for _, entry in new], ids)
        deliveries = await _enqueue_cases(actor, hooks, ctx, [entry for _, entry in new], values, ids, reports)
        for row, report, queued in zip(values, reports, deliveries, strict=True):
            # Reported (and on time or late) only when every platform's receipt has come
            # back: ``on_receipt`` below, called by the outbox. ``delivery_id``: the first platform's.
            row.update(report_rule=report["rule"], report_due_on=report["due_on"],
                       delivery_id=queued[0] if queued else None, reported_on=None, report_late=False)
        await _insert_cases(values)
        await record_findings_many([  # NAT-20 findings, stored with their cases
            (case_id, institution_id, entry["case"], entry["project"], entry["unauthorised"])
            for (_, entry), case_id in zip(new, ids, strict=True)])
        await audit.record_many(actor, [
            audit.Entry("case.record", "case", case_id, institution_id=institution_id, after={
                "case_id": entry["case"].case_id, "project": entry["project"]["id"],
                "technology_code": entry["project"]["technology_code"], "operated_on": entry["case"].operated_on,
                "discharged_on": entry["case"].discharged_on, "source": source, "report_rule": report["rule"],
                "report_due_on": report["due_on"]})
            for (_, entry), case_id, report in zip(new, ids, reports, strict=True)])
        for (index, entry), case_id, report, queued in zip(new, ids, reports, deliveries, strict=True):
            created[index] = CaseResult(case_id=entry["case"].case_id, id=case_id, status="created",
                                        report_due_on=report["due_on"], report_rule=report["rule"],
                                        delivery_id=queued[0] if queued else None, delivery_ids=queued)
        first_cases, added = _filing_counts([entry for _, entry in new], awaiting)
        await _filings(actor, hooks, institution_id, first_cases, added, day)
    return [created.get(index) or _unchanged(entry) for index, entry in enumerate(ctx["plan"])]


def _unchanged(entry: dict) -> CaseResult:
    before = entry["existing"]
    return CaseResult(case_id=entry["case"].case_id, id=before["id"], status="unchanged",
                      report_due_on=before["report_due_on"], report_rule=before["report_rule"],
                      delivery_id=before["delivery_id"])


def _case_values(actor: Actor, ctx: dict, entry: dict, source: str) -> dict:
    """The ``case_record`` row of a checked case (its report fields are set after)."""
    institution_id, staff = ctx["institution_id"], ctx["staff"]
    case: CaseInput = entry["case"]
    project, grade = entry["project"], entry["grade"]
    return dict(
        institution=institution_id, project=project["id"], department=project["department"],
        external_id=case.case_id, dedupe_key=f"{institution_id}:{case.case_id}", content_hash=entry["digest"],
        technology_code=project["technology_code"], technology_name=project["technology_name"],
        tech_class=case_class(project, grade, case.operated_on),
        patient_key=rules.pseudonym(ctx["secret"], institution_id, case.patient_key),
        admitted_on=case.admitted_on, operated_on=case.operated_on, discharged_on=case.discharged_on,
        operators=[staff[o]["id"] for o in case.operators], assistants=[staff[a]["id"] for a in case.assistants],
        indication=case.indication.strip(), outcome=case.outcome, complication=case.complication,
        complications=case.complications.strip(), adverse_event=case.adverse_event,
        adverse_events=case.adverse_events.strip(), follow_up=case.follow_up.strip(),
        qc_values=rules.normalise_qc(case.qc_values, ctx["indicators"][project["id"]]),
        consent=case.consent, source=source, recorded_by=actor.username[:100],
        operation_code=grade.operation_code, operation_name=grade.operation_name,
        surgery_level=grade.surgery_level, grading_edition=grade.edition_id, scope_rule=grade.scope_rule,
        scope_reason=grade.scope_reason,
    )


async def _insert_cases(values: list[dict]) -> None:
    """One insert of the batch's cases (each row carrying its id, ``allocate_ids``)."""
    from core.db import insert_many

    await insert_many(CaseRecord, values)


async def _open_reports(actor: Actor, hooks: HookView, entries: list[dict], ids: list[int]) -> list[dict]:
    """Each case's reporting obligation from the province's rule (e.g. event ``discharge``
    or ``case_performed``), for the whole batch at once: the earliest-due ``case_report``."""
    events = []
    for entry, case_id in zip(entries, ids, strict=True):
        project, case = entry["project"], entry["case"]
        event = dict(institution_id=project["institution"], subject_type="case", subject_id=case_id,
                     subject_label=f"{project['technology_name'] or project['title']} 病例 {case.case_id}",
                     technology_class=case_class(project, entry["grade"], case.operated_on), technology_code=project["technology_code"])
        events.append(obligations.DomainEvent(kind="discharge", occurred_on=case.discharged_on, **event))
        events.append(obligations.DomainEvent(kind="case_performed", occurred_on=case.operated_on, **event))
    opened = await obligations.on_events(actor, hooks, events) if events else []
    out = []
    for k in range(len(entries)):
        reports = sorted((r for r in opened[2 * k] + opened[2 * k + 1] if r["kind"] == "case_report"),
                         key=lambda r: r["due_on"])
        out.append({"rule": reports[0]["rule_id"], "due_on": reports[0]["due_on"]} if reports
                   else {"rule": "", "due_on": None})
    return out


async def _enqueue_cases(actor: Actor, hooks: HookView, ctx: dict, entries: list[dict], values: list[dict],
                         ids: list[int], reports: list[dict]) -> list[list[int]]:
    """Queue every case with a reporting rule to every platform that takes cases (NAT-36,
    NAT-37), one write for all of them; the delivery ids per case, in channel order (none
    without a rule or a channel)."""
    from core.outbox import service as outbox
    from core.outbox.channels import channels_for

    due = [k for k, report in enumerate(reports) if report["rule"]]
    out: list[list[int]] = [[] for _ in entries]
    channels = channels_for(hooks, "case") if due else []
    # To every platform that takes cases, national and provincial (NAT-36, NAT-37): one write.
    queued = await outbox.enqueue_channels(actor, channels=list(channels), kind="case", items=[
        outbox.Queued(subject_type="case", subject_id=ids[k], institution_id=ctx["institution_id"],
                      payload=_payload(values[k], entries[k]["project"], ids[k], ctx["staff"], entries[k]["case"]))
        for k in due]) if channels else []
    for per_channel in queued:
        for k, delivery_id in zip(due, per_channel, strict=True):
            out[k].append(delivery_id)
    return out


def _filing_counts(entries: list[dict], awaiting: dict[int, bool]) -> tuple[dict[int, dt.date], dict[int, int]]:
    """Per restricted project: the earliest operation date when it still awaits its first
    case (NAT-11), and how many of the batch's cases it adds."""
    first_cases: dict[int, dt.date] = {}
    added: dict[int, int] = {}
    for entry in entries:
        project, case = entry["project"], entry["case"]
        if case_class(project, entry["grade"], case.operated_on) == "restricted":
            added[project["id"]] = added.get(project["id"], 0) + 1
            if awaiting.get(project["id"]):
                first_cases[project["id"]] = min(first_cases.get(project["id"], case.operated_on), case.operated_on)
    return first_cases, added


def _awaiting(ids: list) -> Any:
    from core.db import is_sqlite

    query = Project.select(Project.id, Project.awaiting_first_case).where(Project.id.is_in(ids)).order_by(Project.id)
    return query if is_sqlite() else query.lock_rows()


_AWAITING = Prepared(_awaiting, 1, lists=(0,))  # compiled per engine: FOR UPDATE on PostgreSQL


async def _lock_projects(plan: list[dict]) -> dict[int, bool]:
    """Inside the write: lock the batch's restricted projects (PostgreSQL ``FOR UPDATE``, in
    id order; SQLite's write transaction already holds the database) and read whether each
    still waits for its first case — as committed now, not as read before the write."""
    ids = sorted({e["project"]["id"] for e in plan if e["existing"] is None
                  and class_on(e["project"], e["case"].operated_on) == "restricted"})
    if not ids:
        return {}
    return {r["id"]: bool(r["awaiting_first_case"]) for r in await _AWAITING.run(ids)}


async def report_deliveries(case_ids: list[int]) -> dict[int, list[dict]]:
    """Each case's report deliveries: per platform (channel), the first delivery of the
    case to it — the report itself; later ones to the same platform are corrections,
    voids and follow-ups. Ordered by delivery id (the order they were queued)."""
    from core.outbox.tables import Delivery

    wanted = sorted(set(case_ids))
    if not wanted:
        return {}
    rows = await Delivery.select(Delivery.id, Delivery.subject_id, Delivery.channel, Delivery.channel_name,
                                 Delivery.status, Delivery.receipt_id, Delivery.accepted_at).where(
        (Delivery.subject_type == "case") & (Delivery.kind == "case") & Delivery.subject_id.is_in(wanted)
    ).order_by(Delivery.id)
    out: dict[int, dict[str, dict]] = {}
    for r in rows:
        out.setdefault(r["subject_id"], {}).setdefault(r["channel"], r)
    return {case_id: list(by_channel.values()) for case_id, by_channel in out.items()}


async def on_receipt(actor: Actor, hooks: HookView | None, delivery: dict, accepted_at: dt.datetime) -> None:
    """A platform's receipt of a case report (the outbox calls this in the transaction
    that records it). The case counts as reported once EVERY platform it went to has
    received it (NAT-36, NAT-37: national and provincial), on the date (Beijing time) of
    the last receipt — late when that is after its due date — and its reporting
    obligation is fulfilled then (NAT-37: timeliness is judged by what the authorities
    received, not by when the hospital typed it)."""
    from core.timefmt import local_date

    row = await CaseRecord.select(CaseRecord.id, CaseRecord.report_due_on, CaseRecord.reported_on).where(
        CaseRecord.id == delivery["subject_id"]).first()
    if row is None or row["reported_on"] is not None:
        return
    reports = (await report_deliveries([row["id"]])).get(row["id"], [])
    if delivery["id"] not in {d["id"] for d in reports}:
        return  # a correction's delivery: the report's timeliness was not about it
    received = [accepted_at if d["id"] == delivery["id"] else d["accepted_at"] for d in reports]
    if any(at is None for at in received):
        return  # another platform has not received it yet
    on = local_date(max(received))
    late = bool(row["report_due_on"] and on > row["report_due_on"])
    await CaseRecord.update({CaseRecord.reported_on: on, CaseRecord.report_late: late}).where(
        CaseRecord.id == row["id"])
    await obligations.fulfil(actor, hooks, subject_type="case", subject_id=row["id"], kind="case_report",
                             done_on=on)


# A case not yet reported everywhere reads as its least advanced platform's delivery.
_BEHIND = ("rejected", "failed", "needs_attention", "package_ready", "queued", "sending", "sent", "accepted")


def report_state(case: dict, deliveries: list[dict], today: dt.date | None = None) -> ReportState:
    """How a case's report stands, honestly, for the case page and list: "已报送" only
    with every platform's receipt; a package for manual upload says so; otherwise the
    least advanced delivery's own state (or how many platforms have received it), and
    whether the due date has passed without every receipt."""
    from core.messages import t

    if not case.get("report_rule"):
        return ReportState("none", t("cases.report.none"))
    if case.get("reported_on"):
        key = "late" if case.get("report_late") else "on_time"
        return ReportState(key, t(f"cases.report.{key}"), key == "late",
                           "、".join(d["receipt_id"] for d in deliveries if d.get("receipt_id")))
    day = today or _local_today()
    overdue = bool(case.get("report_due_on") and day > case["report_due_on"])
    statuses = [d["status"] for d in deliveries]
    accepted = statuses.count("accepted")
    least = min(statuses, key=lambda s: _BEHIND.index(s) if s in _BEHIND else 0) if statuses else ""
    behind = {"package_ready": "package_ready", "sent": "sent", "rejected": "rejected", "failed": "failed",
              "needs_attention": "failed"}.get(least, "pending")
    if not statuses:
        key, label = "no_channel", t("cases.report.no_channel")
    elif accepted:  # some platforms received it, not all (all would have set reported_on)
        key = "partial"
        label = t("cases.report.partial", done=accepted, total=len(statuses))
        if behind != "pending":
            label += "；" + t(f"cases.report.{behind}")
    else:
        key, label = behind, t(f"cases.report.{behind}")
    if overdue:
        label += t("cases.report.overdue_suffix")
    return ReportState(key, label, overdue)


def channel_reports(case: dict, deliveries: list[dict]) -> list[ChannelReport]:
    """The case's report to each platform, with its receipt date and timeliness."""
    from core.messages import t
    from core.timefmt import local_date

    out = []
    for d in deliveries:
        received = local_date(d["accepted_at"]) if d.get("accepted_at") else None
        out.append(ChannelReport(
            delivery_id=d["id"], channel=d["channel"], channel_name=d["channel_name"] or d["channel"],
            status=d["status"], status_label=t(f"outbox.status.{d['status']}"), receipt_id=d.get("receipt_id") or "",
            received_on=received,
            late=bool(received and case.get("report_due_on") and received > case["report_due_on"])))
    return out


def _local_today() -> dt.date:
    return clock.today()


def _payload(values: dict, project: dict, case_id: int, staff: dict, case: CaseInput) -> dict:
    """What the province's platform receives: the pseudonym only, never the hospital's key."""
    names = {s["username"]: s["display_name"] for s in staff.values()}
    return {
        "case": case_id, "hospital_case_id": values["external_id"], "technology_code": values["technology_code"],
        "technology_name": values["technology_name"], "patient": values["patient_key"],
        "admitted_on": values["admitted_on"].isoformat(), "operated_on": values["operated_on"].isoformat(),
        "discharged_on": values["discharged_on"].isoformat(),
        "operators": [names[o] for o in case.operators], "assistants": [names[a] for a in case.assistants],
        "indication": values["indication"], "outcome": values["outcome"], "complication": values["complication"],
        "complications": values["complications"], "adverse_event": values["adverse_event"],
        "adverse_events": values["adverse_events"], "follow_up": values["follow_up"], "qc_values": values["qc_values"],
        "consent": True,
    }


async def _filings(actor: Actor, hooks: HookView, institution_id: int, first_cases: dict[int, dt.date],
                   added: dict[int, int], day: dt.date) -> None:
    """NAT-11: the first case of an admitted restricted technology opens its filing; later
    cases add to its cumulative count (NAT-24, NAT-40)."""
    if not first_cases and not added:
        return
    from core.filing import service as filing

    delegate = _delegate(actor, institution_id)
    for project_id, first_on in first_cases.items():
        filing_id = await filing.on_first_case(delegate, hooks, project_id=project_id, case_date=first_on,
                                               info="由病例登记自动开启", today=day)
        extra = added.pop(project_id, 0) - 1  # the filing opens counting its first case
        if extra > 0:
            await filing.add_cases(delegate, filing_id, extra)
    if added:
        latest = await counting_filings(list(added))
        for project_id, count in added.items():
            if project_id in latest:
                await filing.add_cases(delegate, latest[project_id], count)


def _counting(project_ids: list) -> Any:
    from core.filing.tables import Filing

    return Filing.select(Filing.id, Filing.project).where(
        Filing.project.is_in(project_ids) & Filing.status.not_in(["withdrawn", "cancelled"])).order_by(Filing.id)


_COUNTING = Prepared(_counting, 1, lists=(0,))


async def counting_filings(project_ids: list[int]) -> dict[int, int]:
    """The filing that counts each project's cases (its latest not withdrawn or cancelled)."""
    rows = await _COUNTING.run(sorted(set(project_ids))) if project_ids else []
    return {r["project"]: r["id"] for r in rows}


# ---------------------------------------------------------------- reading


async def case_scope(actor: Actor) -> Any | None:
    """Where-clause on ``CaseRecord`` for the actor's view (the QC levels of HOSP-13):

    * the project QC group — the lead and the QC officer named in the application —
      sees its projects' cases (clinicians and QC officers);
    * the department head their department's;
    * medical affairs, the hospital head and the HIS token the institution's;
    * regulators and the QC centre their region's; the admin everything.
    """
    if actor.is_admin:
        return None
    if actor.institution_id is not None:
        own = CaseRecord.institution == actor.institution_id
        if actor.has("medical_affairs", "hospital_head", "his"):
            return own
        if actor.has("dept_head") and actor.department_id:
            return own & (CaseRecord.department == actor.department_id)
        return own & CaseRecord.project.is_in(await group_projects(actor) or [-1])
    if actor.region_path:
        return CaseRecord.institution.region.path.like(f"{actor.region_path}%")
    return CaseRecord.id == -1


async def group_projects(actor: Actor) -> list[int]:
    """The projects whose QC group the actor belongs to (HOSP-13): as the lead, or as the
    QC officer the application names."""
    rows = await Project.select(Project.id, Project.lead, Project.form).where(
        Project.institution == (actor.institution_id or -1)).output(load_json=True)
    return [r["id"] for r in rows if r["lead"] == actor.id
            or str((r["form"] or {}).get("qc_officer") or "").strip() == actor.display_name]


_LIST_COLUMNS = (
    CaseRecord.id, CaseRecord.external_id, CaseRecord.technology_code, CaseRecord.technology_name,
    CaseRecord.operated_on, CaseRecord.discharged_on, CaseRecord.outcome, CaseRecord.complication,
    CaseRecord.adverse_event, CaseRecord.report_rule, CaseRecord.report_due_on, CaseRecord.report_late,
    CaseRecord.reported_on, CaseRecord.delivery_id, CaseRecord.voided,
    CaseRecord.source, CaseRecord.department.name, CaseRecord.institution.name,
)
SOURCE_LABELS = {"page": "页面", "api": "接口", "upload": "导入", "demo": "演示"}


async def _decorate(rows: list[dict]) -> list[dict]:
    """Outcome label and the honest report state (one query for the page's deliveries, to
    every platform)."""
    deliveries = await report_deliveries([r["id"] for r in rows])
    for r in rows:
        r["outcome_label"] = rules.OUTCOMES.get(r["outcome"], r["outcome"])
        r["report"] = report_state(r, deliveries.get(r["id"], []))
        r["source_label"] = SOURCE_LABELS.get(r["source"], r["source"])
    return rows


async def list_spec(actor: Actor) -> listing.ListSpec:
    """The case list (issue 11 point 11): search by case id or technology, filter, sort, page
    and export; a region's people also filter by institution (one query for their names)."""
    filters = []
    if actor.institution_id is None:
        clause = institution_scope(actor)
        query = Institution.select(Institution.id, Institution.name).order_by(Institution.name)
        names = await (query.where(clause) if clause is not None else query)
        filters.append(listing.Filter(key="institution", label="医疗机构", kind="choice",
                                      choices=tuple((str(r["id"]), r["name"]) for r in names),
                                      clause=lambda v: CaseRecord.institution == int(v)))
    filters += [
        listing.Filter(key="technology", label="技术编码", column=CaseRecord.technology_code, kind="text"),
        listing.Filter(key="outcome", label="转归", column=CaseRecord.outcome, choices=tuple(rules.OUTCOMES.items())),
        listing.Filter(key="complication", label="有并发症", column=CaseRecord.complication, kind="yes_no"),
        listing.Filter(key="late", label="逾期报送", column=CaseRecord.report_late, kind="yes_no"),
        listing.Filter(key="voided", label="已作废", column=CaseRecord.voided, kind="yes_no"),
        listing.Filter(key="since", label="手术日期起", column=CaseRecord.operated_on, kind="since"),
        listing.Filter(key="until", label="手术日期止", column=CaseRecord.operated_on, kind="until"),
    ]
    return listing.ListSpec(
        table=CaseRecord, columns=_LIST_COLUMNS, title="病例",
        search=(CaseRecord.external_id, CaseRecord.technology_name, CaseRecord.technology_code),
        search_hint="病例号、技术名称或编码", filters=tuple(filters),
        sorts=(listing.Sort("operated_on", "手术日期", CaseRecord.operated_on),
               listing.Sort("discharged_on", "出院日期", CaseRecord.discharged_on),
               listing.Sort("report_due_on", "报送时限", CaseRecord.report_due_on),
               listing.Sort("external_id", "病例号", CaseRecord.external_id),
               listing.Sort("id", "登记顺序", CaseRecord.id)),
        export=(listing.field("医疗机构", "institution.name"),
                listing.field("病例号", "external_id"),
                listing.field("技术编码", "technology_code"),
                listing.field("技术名称", "technology_name"),
                listing.field("科室", "department.name"),
                listing.field("手术日期", "operated_on"),
                listing.field("出院日期", "discharged_on"),
                listing.field("转归", "outcome_label"),
                listing.field("并发症", "complication"),
                listing.field("不良事件", "adverse_event"),
                listing.field("报送时限", "report_due_on"),
                listing.field("报送依据", "report_rule"),
                listing.ExportColumn("报送状态", lambda r: r["report"].label),
                listing.field("已作废", "voided"),
                listing.field("来源", "source_label")),
        decorate=_decorate,
    )


async def list_cases(actor: Actor, *, project_id: int | None = None, limit: int = 50) -> list[dict]:
    """The newest cases in the actor's view (a project's, with ``project_id``)."""
    query = CaseRecord.select(*_LIST_COLUMNS).order_by(CaseRecord.id, ascending=False).limit(limit)
    clause = await case_scope(actor)
    if clause is not None:
        query = query.where(clause)
    if project_id is not None:
        query = query.where(CaseRecord.project == project_id)
    return await _decorate(await query)


async def case_by_external_id(actor: Actor, external_id: str) -> int:
    """The id of the actor's institution's case with the hospital's own case id (the API)."""
    row = await CaseRecord.select(CaseRecord.id).where(
        (CaseRecord.institution == (actor.institution_id or -1)) & (CaseRecord.external_id == external_id.strip())
    ).first()
    if row is None:
        raise NotFound("未找到该病例")
    return row["id"]


async def get_case(actor: Actor, case_id: int) -> dict:
    """One case's row in the actor's view (with the operators' names and the outcome's
    label); ``NotFound`` otherwise (a foreign id looks missing). The page reads
    ``case_view``."""
    query = CaseRecord.select(*CaseRecord.all_columns(), CaseRecord.department.name, CaseRecord.institution.name,
                              CaseRecord.project.title).where(CaseRecord.id == case_id)
    clause = await case_scope(actor)
    if clause is not None:
        query = query.where(clause)
    row = await query.first().output(load_json=True)
    if row is None:
        raise NotFound("未找到该病例")
    ids = list(row["operators"] or []) + list(row["assistants"] or [])
    names = {u["id"]: u["display_name"] for u in await User.select(User.id, User.display_name).where(
        User.id.is_in(ids or [-1]))}
    row["operator_names"] = [names.get(i, str(i)) for i in row["operators"] or []]
    row["assistant_names"] = [names.get(i, str(i)) for i in row["assistants"] or []]
    row["outcome_label"] = rules.OUTCOMES.get(row["outcome"], row["outcome"])
    return row


async def case_view(actor: Actor, case_id: int) -> CasePage:
    """Everything the case's page shows: the case, how its report stands overall and to
    each platform (NAT-36, NAT-37), every delivery, the correction history, what the
    actor may do. ``NotFound`` outside the actor's view."""
    from core.cases import corrections
    from core.outbox import service as outbox

    row = await get_case(actor, case_id)
    deliveries = (await report_deliveries([case_id])).get(case_id, [])
    return CasePage(
        case=row, report=report_state(row, deliveries), reports=channel_reports(row, deliveries),
        deliveries=await outbox.delivery_status("case", case_id), history=await corrections.history(case_id),
        may_correct=actor.has(*corrections.CORRECTORS) and not row["voided"],
        may_follow_up=actor.has(*corrections.FOLLOWERS) and not row["voided"])


async def form_context(actor: Actor, hooks: HookView, code: str | None = None) -> dict:
    """What the page's form offers: the admitted projects, the chosen one's indicators,
    the institution's physicians."""
    institution_id = await _recorder(actor)
    projects = await admitted_projects(institution_id)
    chosen = next((p for p in projects if project_code(p) == (code or "")), projects[0] if projects else None)
    return {
        "projects": [{"code": project_code(p), "label": f"{p['technology_code'] or '目录外'} {p['technology_name'] or p['title']}（{p['title']}）",
                      "class": p["tech_class"]} for p in projects],
        "chosen": chosen, "code": project_code(chosen) if chosen else "",
        "indicators": await indicators_for(hooks, chosen) if chosen else [],
        "physicians": await physicians(institution_id),
        "outcomes": list(rules.OUTCOMES.items()),
        "operations": await grading_choices(institution_id),
    }


# ---------------------------------------------------------------- spreadsheet import


async def start_import(actor: Actor, code: str, filename: str, rows: list[dict],
                       declare_unauthorised: bool = False) -> int:
    """Queue an upload's parsed rows (``{"row": n, "values": {...}}``) for ``run_import``;
    ``declare_unauthorised``: the recorder declared unauthorised operators' cases (NAT-20)."""
    institution_id = await _recorder(actor)
    projects = by_code(await admitted_projects(institution_id))
    if code not in projects:
        raise DomainError(Problem("请选择本机构已准入的技术", "technology_code", "HOSP-3"))
    if not rows:
        raise DomainError(Problem("文件中没有病例数据行", "file"))
    async with write_transaction():
        created = await CaseImport.insert(CaseImport(
            institution=institution_id, project=projects[code]["id"], user=actor.id or None,
            filename=filename[:200], total=len(rows), rows=rows,
            declare_unauthorised=declare_unauthorised)).returning(CaseImport.id)
        await audit.record(actor, "case.import_start", "case_import", created[0]["id"],
                           after={"filename": filename, "rows": len(rows),
                                  "declare_unauthorised": declare_unauthorised}, institution_id=institution_id)
    return created[0]["id"]


async def run_import(actor: Actor, hooks: HookView, job_id: int, today: dt.date | None = None,
                     chunk: int = 50) -> dict:
    """Check every row (progress saved every ``chunk`` rows), then record all of them in
    one batch — or none, with row-level Chinese errors, when any row is wrong."""
    from core.cases.spreadsheet import row_to_case

    job = await _import(actor, job_id)
    await CaseImport.update({CaseImport.status: ImportStatus.running}).where(CaseImport.id == job_id)
    code = f"P{job['project']}"
    items, problems = [], []
    for index, entry in enumerate(job["rows"], start=1):
        case, row_problems = row_to_case(entry["values"], code)
        if row_problems:
            problems += [Problem(f"第 {entry['row']} 行：{p.message}", p.field, p.rule) for p in row_problems]
        else:
            items.append((entry["row"], case))
        if index % chunk == 0:
            await CaseImport.update({CaseImport.checked: index}).where(CaseImport.id == job_id)
    if items:
        found, _ = await check_cases(actor, hooks, [c for _, c in items], today,
                                     declare_unauthorised=bool(job.get("declare_unauthorised")))
        rows_of = [r for r, _ in items]
        for p in found:
            index = int(p.field.split("]")[0].split("[")[1]) if p.field and p.field.startswith("items[") else None
            field = p.field.split(".", 1)[1] if p.field and "." in p.field else p.field
            where = f"第 {rows_of[index]} 行：" if index is not None else ""
            problems.append(Problem(f"{where}{p.message}", field, p.rule))
    imported = 0
    if not problems:
        try:
            results = await record_cases(actor, hooks, [c for _, c in items], source="upload", today=today,
                                         declare_unauthorised=bool(job.get("declare_unauthorised")))
            imported = sum(1 for r in results if r.status == "created")
        except DomainError as exc:
            problems = list(exc.problems)
    status = ImportStatus.failed if problems else ImportStatus.done
    await CaseImport.update({
        CaseImport.status: status, CaseImport.checked: job["total"], CaseImport.imported: imported,
        CaseImport.problems: [msgspec.to_builtins(p) for p in problems][:500], CaseImport.rows: [],
    }).where(CaseImport.id == job_id)
    return await _import(actor, job_id)


async def _import(actor: Actor, job_id: int) -> dict:
    query = CaseImport.select().where(CaseImport.id == job_id)
    if not actor.is_admin:
        query = query.where(CaseImport.institution == (actor.institution_id or -1))
    row = await query.first().output(load_json=True)
    if row is None:
        raise NotFound("未找到该导入任务")
    return row


async def get_import(actor: Actor, job_id: int) -> ImportJob:
    """An import job in the actor's institution, with its progress in percent."""
    row = await _import(actor, job_id)
    return ImportJob(id=row["id"], filename=row["filename"], status=ImportStatus(row["status"]), total=row["total"],
                     checked=row["checked"], imported=row["imported"],
                     problems=msgspec.convert(row["problems"] or [], list[Problem]),
                     percent=int(100 * row["checked"] / row["total"]) if row["total"] else 100)


async def institution_ids_in_scope(actor: Actor) -> list[int] | None:
    from core.tenancy.service import visible_institution_ids

    return await visible_institution_ids(actor)


async def require(actor: Actor, institution_id: int) -> None:
    await require_institution(actor, institution_id)
