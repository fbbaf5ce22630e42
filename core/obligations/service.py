"""The obligation engine (待办/时限): the API the admission, filing, case and training
workflows call, and what dashboards, the iCalendar feed and reminders read.

A workflow reports what happened as a ``DomainEvent`` and calls ``on_event``; every
deadline rule of the deployment that matches creates one obligation, with a due date
from the deployment's working-day calendar. When the work is done, the workflow calls
``fulfil``. Obligations store only open / done / waived; "due soon" and "overdue"
are derived from today when read (``rules.status_of``).

Example, from a filing workflow::

    await obligations.on_event(actor, hooks, DomainEvent(
        kind="first_case", occurred_on=first_case_day, institution_id=inst_id,
        subject_type="filing", subject_id=filing_id, technology_class="restricted",
        technology_code="G03", subject_label="经导管主动脉瓣置换术"))
    …
    await obligations.fulfil(actor, hooks, subject_type="filing", subject_id=filing_id,
                             kind="filing", done_on=submitted_day)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import msgspec

from core import clock
from core.accounts.schemas import SYSTEM, Actor
from core.accounts.tables import User
from core.audit import service as audit
from core.calendar import DueDate, WorkCalendar
from core.db import Prepared, is_sqlite, write_transaction
from core.errors import DomainError, Forbidden, NotFound, Problem
from core.holidays.service import work_calendar
from core.messages import MESSAGES, t
from core.obligations import rules
from core.obligations.rules import DeadlineRule
from core.obligations.tables import Obligation, ObligationReminder
from core.plugins import HookView
from core.settings import get_settings
from core.tenancy.service import require_institution, visible_institution_ids
from core.tenancy.tables import Institution

# Roles that see and manage every obligation of their institution.
INSTITUTION_WIDE = ("medical_affairs", "hospital_head")
# Roles that may waive an obligation (豁免) in their scope; regulators only their own kind.
WAIVERS = ("medical_affairs", "hospital_head", "admin")
# Obligation kinds no workflow of the portal closes (a province's transitional
# self-assessment, physicians' applications): marked done on their page, with a note.
MANUAL_KINDS = ("self_assessment", "physician_application", "evaluation_compliance")


class DomainEvent(msgspec.Struct, frozen=True):
    """Something that happened and may start a deadline.

    kind            event kind named by deadline rules (see ``core/hookspecs.py``),
                    e.g. "first_case", "discharge", "admission"
    occurred_on     the event's date (for planned events — enrolment notice, training
                    start — the planned date; "before" rules count back from it)
    institution_id  the institution the obligation belongs to (tenancy)
    subject_type    the record the obligation is about, e.g. "filing", "case", "project"
    subject_id      its id; (rule, subject, event) identifies one obligation
    subject_label   a readable name for screens (e.g. the technology's name)
    technology_class prohibited / restricted / routine; matched against rule scopes
    technology_code  e.g. "G03"; matched against rule scopes
    assignee_id     the user who must act (e.g. the project lead), if one person must
    role            overrides the rule's role when the workflow knows better
    extra           further facts rules may test with ``when`` (e.g. ethics_pending)
    occurrence      tells apart reports of the same kind for the same subject that are
                    different events (which rules took effect, which edition listed
                    the technology); part of the obligation's identity
    """

    kind: str
    occurred_on: dt.date
    institution_id: int
    subject_type: str
    subject_id: int
    subject_label: str = ""
    technology_class: str = ""
    technology_code: str = ""
    assignee_id: int | None = None
    role: str | None = None
    extra: dict[str, Any] = {}
    occurrence: str = ""


# ---------------------------------------------------------------- settings


def due_soon_days() -> int:
    """Working days before the due date from which an open obligation is "due soon"
    (``CLINTECH_DUE_SOON_DAYS``, default 5)."""
    return get_settings().due_soon_days


def reminder_leads() -> tuple[int, ...]:
    """Working days before the due date at which reminders go out
    (``CLINTECH_REMINDER_LEADS``, default "5,1"); an overdue reminder always follows."""
    return get_settings().reminder_leads


# ---------------------------------------------------------------- rules


def _answers(hooks: HookView, hook: str) -> list[tuple[str, Any]]:
    """(plugin name, answer) of every enabled plugin answering a synchronous hook."""
    return [(a.plugin, a.value) for a in hooks.answers(hook)]


def rules_of(hooks: HookView) -> list[DeadlineRule]:
    """The deployment's deadline rules from the enabled plugins, validated.

    Raises ``rules.DeadlineRuleError`` naming the plugin and rule when any rule is bad.
    Memoised on the hook view (one request or job run): a batch of cases asks for them
    in its use check, its obligations and their exemptions.
    """
    found = hooks.memo.get("deadline_rules")
    if found is None:
        found = hooks.memo["deadline_rules"] = rules.check_rules(_answers(hooks, "deadline_rules"))
    return found


def exemptions_of(hooks: HookView, deployment_rules: list[DeadlineRule] | None = None) -> list[rules.Exemption]:
    """The enabled plugins' exemptions (grandfathering), checked against the rules;
    ``rules.DeadlineRuleError`` naming the plugin when one is bad."""
    if deployment_rules is not None:
        return rules.check_exemptions(_answers(hooks, "deadline_exemptions"), deployment_rules)
    found = hooks.memo.get("deadline_exemptions")
    if found is None:
        found = hooks.memo["deadline_exemptions"] = rules.check_exemptions(
            _answers(hooks, "deadline_exemptions"), rules_of(hooks))
    return found


def in_force_of(hooks: HookView) -> list[rules.RulesInForce]:
    """When the enabled plugins' rules take effect (``rules_in_force``), checked."""
    return rules.check_in_force(_answers(hooks, "rules_in_force"))


async def _licences(institution_ids) -> dict[int, str]:
    ids = sorted(set(institution_ids))
    if not ids:
        return {}
    rows = await Institution.select(Institution.id, Institution.licence_no).where(Institution.id.is_in(ids))
    return {r["id"]: r["licence_no"] for r in rows}


async def deadline_rules(hooks: HookView) -> list[DeadlineRule]:
    """``rules_of`` for async callers."""
    return rules_of(hooks)


# Every batch of cases asks it (core.lifecycle's NAT-25 check): built once per shape.
_BARS = Prepared(lambda until, institutions, codes, rule_ids: Obligation.select(
    Obligation.institution, Obligation.technology_code, Obligation.rule_id, Obligation.kind, Obligation.title,
    Obligation.due_on).where(
    (Obligation.status == "open") & (Obligation.due_on < until) & Obligation.institution.is_in(institutions)
    & Obligation.technology_code.is_in(codes) & Obligation.rule_id.is_in(rule_ids)).order_by(Obligation.due_on),
    4, lists=(1, 2, 3))


async def overdue_bars(hooks: HookView | None, institution_ids: Iterable[int], codes: Iterable[str],
                       until: dt.date) -> list[dict]:
    """Open obligations of the given institutions and technology codes, due before ``until``,
    whose rule declares the consequence "no_use" (``DeadlineRule.consequence``): while one is
    overdue the institution may not use the technology (core.lifecycle asks this). One
    query; ``[]`` without hooks or without such rules. Each row: institution,
    technology_code, rule_id, title, due_on."""
    if hooks is None:
        return []
    barring = {r.key for r in rules_of(hooks) if r.consequence == "no_use"}
    institutions, wanted = sorted(set(institution_ids)), sorted({c for c in codes if c})
    if not barring or not institutions or not wanted:
        return []
    rows = await _BARS.run(until, institutions, wanted, sorted({k[0] for k in barring}))
    return [r for r in rows if (r["rule_id"], r["kind"]) in barring]


def consequences(hooks: HookView) -> dict[tuple[str, str], str]:
    """(rule id, obligation kind) -> the consequence its rule declares for being overdue
    (``DeadlineRule.consequence``, e.g. "no_use"), for the rules that declare one."""
    return {r.key: r.consequence for r in rules_of(hooks) if r.consequence}


def with_consequence(row: dict, declared: dict[tuple[str, str], str], today: dt.date) -> dict:
    """Add what the obligation's rule says happens when it is overdue: ``consequence``
    (the key), ``consequence_text`` (Chinese, shown beside the rule) and
    ``consequence_applies`` (the obligation is open past its due date, so core enforces it
    now — for "no_use", core.lifecycle refuses the technology's use)."""
    consequence = declared.get((row["rule_id"], row["kind"]), "")
    row["consequence"] = consequence
    row["consequence_text"] = t(f"obligation.consequence.{consequence}") if consequence else ""
    row["consequence_applies"] = bool(consequence) and row["status"] == "open" and row["due_on"] < today
    return row


def kind_label(kind: str) -> str:
    """The obligation kind in Chinese (a kind no message names shows itself)."""
    return t(f"obligation.kind.{kind}") if f"obligation.kind.{kind}" in MESSAGES else kind


def event_label(kind: str) -> str:
    """The event that starts a deadline, in Chinese ("起算事件" for one no message names)."""
    key = f"obligation.event.{kind}"
    return t(key) if key in MESSAGES else t("obligation.event")


def provisional_note(years) -> str:
    """CAL-4: "暂按周末推算：2027年节假日安排尚未录入"."""
    years = tuple(sorted(set(years)))
    return DueDate(dt.date.min, bool(years), years).provisional_note()


# ---------------------------------------------------------------- writing


def dedupe_key(rule: DeadlineRule, event: DomainEvent, occurrence: str) -> str:
    kind = f"{event.kind}@{event.occurrence}" if event.occurrence else event.kind
    return "|".join((rule.id, rule.obligation, event.subject_type, str(event.subject_id), kind, occurrence))


def _snapshot(row: dict) -> dict:
    keys = ("rule_id", "kind", "subject_type", "subject_id", "event_kind", "event_on", "occurrence", "due_on",
            "provisional", "status", "done_on", "done_late", "waived_reason", "waived_by", "exempt_evidence",
            "exempt_article", "exempt_plugin", "exempt_before")
    return {k: row.get(k) for k in keys}


async def on_event(actor: Actor, hooks: HookView, event: DomainEvent) -> list[int]:
    """Create the obligations every matching deadline rule asks for; return their ids.

    Idempotent: reporting the same event for the same subject again returns the
    existing obligations and creates nothing. Each creation is audited in the same
    transaction. The institution must lie in the actor's scope (``NotFound``).
    """
    return [row["id"] for row in (await on_events(actor, hooks, [event]))[0]]


def _planned(cal: WorkCalendar, deployment_rules: list[DeadlineRule], event: DomainEvent) -> list[tuple]:
    """(rule, occurrence, due date) of every obligation ``event`` starts."""
    planned = []
    for rule in deployment_rules:
        if rule.applies_to(event.kind, event.technology_class, event.technology_code, event.extra):
            for occurrence, due in rules.occurrences(cal, rule, event.occurred_on, event.technology_class):
                planned.append((rule, occurrence, due))
    return planned


def _obligation_values(rule: DeadlineRule, event: DomainEvent, occurrence: str, due, key: str,
                       exemption: rules.Exemption | None) -> dict:
    title = f"{occurrence}年 {rule.title}" if occurrence else rule.title
    values = dict(
        dedupe_key=key, rule_id=rule.id, rule_plugin=rule.plugin, kind=rule.obligation, title=title,
        article=rule.article, setting_note=rule.note, role=event.role or rule.role,
        institution=event.institution_id, assignee=event.assignee_id, subject_type=event.subject_type,
        subject_id=event.subject_id, subject_label=event.subject_label, event_kind=event.kind,
        event_on=event.occurred_on, occurrence=occurrence, technology_code=event.technology_code,
        technology_class=event.technology_class, due_on=due.date, provisional=due.provisional,
        unknown_years=",".join(str(y) for y in due.unknown_years),
    )
    if exemption is not None:
        # A plugin's exemption (grandfathering): recorded, shown with its evidence, never due.
        values.update(status="exempt", closed_at=dt.datetime.now(dt.UTC), **rules.exemption_columns(exemption))
    return values


_EXISTING_COLUMNS = (Obligation.id, Obligation.dedupe_key, Obligation.kind, Obligation.rule_id, Obligation.due_on)
# Every batch of cases asks it (one read of the obligations that already exist): built once per shape.
_EXISTING = Prepared(lambda keys: Obligation.select(*_EXISTING_COLUMNS).where(Obligation.dedupe_key.is_in(keys)),
                     1, lists=(0,))


async def on_events(actor: Actor, hooks: HookView, events: list[DomainEvent]) -> list[list[dict]]:
    """``on_event`` for a batch of events (a batch of cases): the context read once, one
    read of the obligations that already exist, one insert, one audit write. Returns,
    per event, its obligations (``id``, ``kind``, ``rule_id``, ``due_on``), created or found."""
    for event in events:
        if not event.kind.strip() or not event.subject_type.strip():
            raise DomainError(Problem("事件类型与事件对象不能为空", "kind"))
    for institution_id in sorted({e.institution_id for e in events}):
        await require_institution(actor, institution_id)
    cal = await work_calendar(hooks)
    deployment_rules = await deadline_rules(hooks)
    planned = [_planned(cal, deployment_rules, event) for event in events]
    if not any(planned):
        return [[] for _ in events]
    exemptions = exemptions_of(hooks)
    licences = await _licences([e.institution_id for e in events]) if any(e.institutions for e in exemptions) else {}
    keys = [[dedupe_key(rule, event, occ) for rule, occ, _ in plan]
            for event, plan in zip(events, planned, strict=True)]
    async with write_transaction():
        found = {r["dedupe_key"]: r for r in await _EXISTING.run(sorted({k for ks in keys for k in ks}))}
        new: dict[str, dict] = {}
        for event, plan, event_keys in zip(events, planned, keys, strict=True):
            for (rule, occurrence, due), key in zip(plan, event_keys, strict=True):
                if key not in found and key not in new:
                    exemption = rules.exemption_for(exemptions, rule, event.technology_code,
                                                    licences.get(event.institution_id, ""), event.occurred_on)
                    new[key] = _obligation_values(rule, event, occurrence, due, key, exemption)
        if new:
            from core.db import insert_many

            for row in await insert_many(Obligation, list(new.values()),
                                         returning=tuple(c._meta.db_column_name for c in _EXISTING_COLUMNS)):
                found[row["dedupe_key"]] = row
            await audit.record_many(actor, [
                audit.Entry("obligation.create", "obligation", found[key]["id"], after=_snapshot(values),
                            institution_id=values["institution"]) for key, values in new.items()])
    return [[found[k] for k in event_keys] for event_keys in keys]


async def fulfil(actor: Actor, hooks: HookView, *, subject_type: str, subject_id: int, kind: str,
                 done_on: dt.date, occurrence: str | None = None) -> list[int]:
    """Close the open obligation(s) of ``kind`` for a subject as done on ``done_on``:
    "done on time" when ``done_on`` is on or before the due date, else "done late".

    For a yearly obligation (HOSP-17) pass ``occurrence`` (the year); without it the
    earliest-due open one is closed. Returns the ids closed (empty when none was open).
    """
    query = Obligation.select().where(
        (Obligation.subject_type == subject_type) & (Obligation.subject_id == subject_id)
        & (Obligation.kind == kind) & (Obligation.status == "open")
    ).order_by(Obligation.due_on)
    if occurrence is not None:
        query = query.where(Obligation.occurrence == occurrence)
    rows = await query
    if not rows:
        return []
    for row in rows:
        await require_institution(actor, row["institution"])
    if occurrence is None:
        rows = [r for r in rows if r["due_on"] == rows[0]["due_on"]]
    async with write_transaction():
        for row in rows:
            late = done_on > row["due_on"]
            await Obligation.update({
                Obligation.status: "done", Obligation.done_on: done_on, Obligation.done_late: late,
                Obligation.closed_at: dt.datetime.now(dt.UTC),
            }).where((Obligation.id == row["id"]) & (Obligation.status == "open"))
            await audit.record(actor, "obligation.fulfil", "obligation", row["id"], before=_snapshot(row),
                               after={"status": "done", "done_on": done_on, "done_late": late},
                               institution_id=row["institution"])
    return [r["id"] for r in rows]


async def waive(actor: Actor, obligation_id: int, reason: str) -> None:
    """Waive (豁免) an open obligation, with a written reason; audited.

    Medical affairs and the hospital head waive their institution's obligations, the
    admin any; a regulator only those that are the regulator's own to act on. An
    obligation outside the actor's view answers ``NotFound``.
    """
    row = await _visible_row(actor, obligation_id)
    may = actor.has(*WAIVERS) or (actor.has("regulator") and row["role"] == "regulator")
    if not may:
        raise Forbidden(Problem("您无权豁免该时限事项", "reason"))
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError(Problem("请填写豁免理由（至少2个字）", "reason"))
    if len(reason) > 1000:
        raise DomainError(Problem("豁免理由不能超过1000字", "reason"))
    if row["status"] != "open":
        raise DomainError(Problem("该事项已办结或已豁免，不能再豁免", "reason"))
    async with write_transaction():
        await Obligation.update({
            Obligation.status: "waived", Obligation.waived_reason: reason, Obligation.waived_by: actor.username,
            Obligation.closed_at: dt.datetime.now(dt.UTC),
        }).where((Obligation.id == obligation_id) & (Obligation.status == "open"))
        await audit.record(actor, "obligation.waive", "obligation", obligation_id, before=_snapshot(row),
                           after={"status": "waived", "waived_reason": reason, "waived_by": actor.username},
                           institution_id=row["institution"])


# The waiver note of annual QC reports closed by a stop or a cancelled filing (below): a
# resumption reopens exactly these.
ANNUAL_CLOSED = "技术已停止临床应用或备案已注销"


def _annual_period(row: dict) -> dt.date | None:
    """The first day of the year an annual QC report covers: the report filed in January
    of its occurrence year reports the year before (HOSP-17)."""
    occurrence = row["occurrence"] or ""
    return dt.date(int(occurrence) - 1, 1, 1) if occurrence.isdigit() else None


async def close_annual_reports(actor: Actor, project_id: int, since: dt.date, *, rule: str, reason: str) -> list[int]:
    """HOSP-17: a project's technology stopped, or its filing withdrawn or cancelled (注销),
    from ``since`` reports no year that began on or after that date — it was not applied
    in it (NAT-25); the year in which it was still used keeps its report. Its open annual
    QC report obligations for those later years are waived with the reason and the rule
    that stopped it; audited. In the caller's transaction. Returns the ids closed."""
    rows = await Obligation.select().where(
        (Obligation.subject_type == "project") & (Obligation.subject_id == project_id)
        & (Obligation.kind == "qc_annual_report") & (Obligation.status == "open"))
    closed = [r for r in rows if (start := _annual_period(r)) is not None and since <= start]
    note = f"{ANNUAL_CLOSED}（自{since.isoformat()}起，{rule}）：{reason}"[:1000]
    async with write_transaction():
        for row in closed:
            await Obligation.update({
                Obligation.status: "waived", Obligation.waived_reason: note, Obligation.waived_by: "system",
                Obligation.closed_at: dt.datetime.now(dt.UTC),
            }).where((Obligation.id == row["id"]) & (Obligation.status == "open"))
            await audit.record(actor, "obligation.waive", "obligation", row["id"], before=_snapshot(row),
                               after={"status": "waived", "waived_reason": note, "waived_by": "system",
                                      "rule": "HOSP-17", "because": rule}, institution_id=row["institution"])
    return [r["id"] for r in closed]


async def reopen_annual_reports(actor: Actor, project_id: int, on: dt.date, *, reason: str) -> list[int]:
    """HOSP-17: a technology resumed on ``on`` reports again every year it is used from
    then on: the annual QC reports its stop or cancellation closed (``close_annual_reports``)
    for a year ending on or after ``on`` open again. In the caller's transaction; audited."""
    rows = await Obligation.select().where(
        (Obligation.subject_type == "project") & (Obligation.subject_id == project_id)
        & (Obligation.kind == "qc_annual_report") & (Obligation.status == "waived")
        & Obligation.waived_reason.like(f"{ANNUAL_CLOSED}%"))
    again = [r for r in rows if (start := _annual_period(r)) is not None and on <= dt.date(start.year, 12, 31)]
    async with write_transaction():
        for row in again:
            await Obligation.update({
                Obligation.status: "open", Obligation.waived_reason: "", Obligation.waived_by: "",
                Obligation.closed_at: None,
            }).where((Obligation.id == row["id"]) & (Obligation.status == "waived"))
            await audit.record(actor, "obligation.reopen", "obligation", row["id"], before=_snapshot(row),
                               after={"status": "open", "rule": "HOSP-17", "reason": reason[:1000]},
                               institution_id=row["institution"])
    return [r["id"] for r in again]


def may_complete(actor: Actor, row: dict) -> bool:
    """Whether ``actor`` may mark an open obligation of a kind no workflow closes as done:
    the person assigned, or medical affairs / the hospital head of its institution."""
    return (row["status"] == "open" and row["kind"] in MANUAL_KINDS
            and (row.get("assignee") == actor.id
                 or (actor.has(*INSTITUTION_WIDE) and actor.institution_id == row["institution"])))


async def complete(actor: Actor, obligation_id: int, note: str, done_on: dt.date | None = None) -> None:
    """Mark done, with a note of what was done, an open obligation of a kind no workflow
    closes (``MANUAL_KINDS``: a transitional self-assessment, physicians' applications); "done late"
    after the due date. Audited. Outside the actor's view ``NotFound``."""
    row = await _visible_row(actor, obligation_id)
    if row["kind"] not in MANUAL_KINDS:
        raise DomainError(Problem("该事项由相应业务流程办结（如提交备案、报送病例），不能在此直接办结"))
    if row["status"] != "open":
        raise DomainError(Problem("该事项已办结或已豁免"))
    if not may_complete(actor, row):
        raise Forbidden(Problem("您无权办结该时限事项", "note"))
    note = (note or "").strip()
    if len(note) < 2:
        raise DomainError(Problem("请填写办理情况（至少2个字）", "note"))
    if len(note) > 1000:
        raise DomainError(Problem("办理情况不能超过1000字", "note"))
    done_on = done_on or clock.today()
    late = done_on > row["due_on"]
    async with write_transaction():
        await Obligation.update({
            Obligation.status: "done", Obligation.done_on: done_on, Obligation.done_late: late,
            Obligation.waived_reason: note, Obligation.waived_by: actor.username,
            Obligation.closed_at: dt.datetime.now(dt.UTC),
        }).where((Obligation.id == obligation_id) & (Obligation.status == "open"))
        await audit.record(actor, "obligation.fulfil", "obligation", obligation_id, before=_snapshot(row),
                           after={"status": "done", "done_on": done_on, "done_late": late, "note": note},
                           institution_id=row["institution"])


def _recomputed(rule: DeadlineRule, row: dict, cal: WorkCalendar):
    if rule.offset is not None:
        return rules.due_date(cal, rule.offset, row["event_on"])
    for occurrence, due in rules.occurrences(cal, rule, row["event_on"], row["technology_class"]):
        if occurrence == row["occurrence"]:
            return due
    return None


async def recompute_open(hooks: HookView) -> int:
    """Recompute the due dates of every open obligation after a calendar or rule
    change (a holiday notice entered, a plugin's rules changed) — CAL-4: provisional
    dates become exact once the year is known. Returns how many changed; each change
    is audited (actor "system"). Obligations whose rule is gone keep their date.
    Applies the plugins' exemptions first (``deadline_exemptions``): an open obligation
    they now cover becomes exempt, an exempt one they no longer cover reopens."""
    cal = await work_calendar(hooks)
    deployment_rules = await deadline_rules(hooks)
    changed = await _apply_exemptions(deployment_rules, exemptions_of(hooks, deployment_rules))
    by_key = {r.key: r for r in deployment_rules}
    rows = await Obligation.select().where(Obligation.status == "open")
    changes = []
    for row in rows:
        rule = by_key.get((row["rule_id"], row["kind"]))
        if rule is None:
            continue
        due = _recomputed(rule, row, cal)
        if due is None:
            continue
        unknown = ",".join(str(y) for y in due.unknown_years)
        if (due.date, due.provisional, unknown) != (row["due_on"], row["provisional"], row["unknown_years"]):
            changes.append((row, due, unknown))
    if not changes:
        return changed
    async with write_transaction():
        for row, due, unknown in changes:
            await Obligation.update({Obligation.due_on: due.date, Obligation.provisional: due.provisional,
                                     Obligation.unknown_years: unknown}).where(Obligation.id == row["id"])
            await audit.record(SYSTEM, "obligation.recompute", "obligation", row["id"],
                               before={"due_on": row["due_on"], "provisional": row["provisional"]},
                               after={"due_on": due.date, "provisional": due.provisional},
                               institution_id=row["institution"])
    return changed + len(changes)


async def _apply_exemptions(deployment_rules: list[DeadlineRule], exemptions: list[rules.Exemption]) -> int:
    """Mark open obligations a plugin's exemption now covers as exempt (with its
    evidence), and reopen exempt ones whose exemption is gone (its rule still in force).
    Each change is audited (actor "system"). Returns how many changed."""
    by_key = {r.key: r for r in deployment_rules}
    if not exemptions and not await Obligation.exists().where(Obligation.status == "exempt"):
        return 0
    rows = await Obligation.select().where(Obligation.status.is_in(["open", "exempt"]))
    licences = await _licences(r["institution"] for r in rows) if any(e.institutions for e in exemptions) else {}
    changes = []
    for row in rows:
        rule = by_key.get((row["rule_id"], row["kind"]))
        if rule is None:
            continue
        cover = rules.exemption_for(exemptions, rule, row["technology_code"], licences.get(row["institution"], ""),
                                    row["event_on"])
        # The waiver's columns are a person's; an exemption's evidence has columns of its own.
        evidence = rules.exemption_columns(cover) | {"waived_reason": "", "waived_by": ""}
        if row["status"] == "open" and cover is not None:
            changes.append((row, {"status": "exempt", "closed_at": dt.datetime.now(dt.UTC), **evidence}, "exempt"))
        elif row["status"] == "exempt" and cover is None:
            changes.append((row, {"status": "open", "closed_at": None, **evidence}, "reopen"))
        elif row["status"] == "exempt" and any(row.get(k) != v for k, v in evidence.items()):
            # Still exempt, but the plugin's evidence changed (or is still in the waiver's
            # columns, where it was kept before migration 2026-12-04T21:28:20).
            changes.append((row, evidence, "exempt_evidence"))
    if not changes:
        return 0
    async with write_transaction():
        for row, values, action in changes:
            await Obligation.update({getattr(Obligation, k): v for k, v in values.items()}).where(
                (Obligation.id == row["id"]) & (Obligation.status == row["status"]))
            await audit.record(SYSTEM, f"obligation.{action}", "obligation", row["id"], before=_snapshot(row),
                               after={k: v for k, v in values.items() if k != "closed_at"},
                               institution_id=row["institution"])
    return len(changes)


# ---------------------------------------------------------------- reading


def visibility(actor: Actor) -> Any | None:
    """Where-clause on ``Obligation`` for what ``actor`` sees; ``None`` for everything.

    Medical affairs and the hospital head: their institution's. Other hospital roles:
    those assigned to them, plus unassigned ones for their role (clinicians only their
    own). Regulators and the QC centre: their region's institutions. Admin: all.
    """
    if actor.is_admin:
        return None
    if actor.institution_id is not None:
        base = Obligation.institution == actor.institution_id
        if actor.has(*INSTITUTION_WIDE):
            return base
        mine = Obligation.assignee == actor.id
        roles = [r for r in actor.roles if r != "clinician"]
        if roles:
            mine = mine | (Obligation.role.is_in(roles) & Obligation.assignee.is_null())
        return base & mine
    if actor.region_path:
        return Obligation.institution.region.path.like(f"{actor.region_path}%")
    return Obligation.id == -1


_LIST_COLUMNS = (Obligation.institution.name, Obligation.assignee.display_name)


def decorate(row: dict, cal: WorkCalendar, today: dt.date, soon_until: dt.date) -> dict:
    """Add what screens show: derived status and its label, working days left,
    the kind's label, the CAL-4 provisional note and a plugin exemption's evidence."""
    state = rules.status_of(row["status"], row["due_on"], row["done_late"], today, soon_until)
    row["state"] = state
    row["state_label"] = t(f"obligation.status.{state}")
    row["days_left"] = rules.days_left(cal, today, row["due_on"]) if row["status"] == "open" else None
    row["kind_label"] = kind_label(row["kind"])
    row["event_label"] = event_label(row["event_kind"])
    years = [int(y) for y in (row.get("unknown_years") or "").split(",") if y]
    row["provisional_note"] = provisional_note(years) if row["provisional"] else ""
    row["institution_name"] = row.get("institution.name", "")
    row["assignee_name"] = row.get("assignee.display_name") or ""
    row["exemption"] = rules.ExemptionEvidence.of(row)
    return row


def decorate_brief(row: dict, cal: WorkCalendar, today: dt.date, soon_until: dt.date) -> dict:
    """``decorate``'s state, days left, kind label and institution name alone (a row of
    ``_BRIEF_COLUMNS``)."""
    row["state"] = rules.status_of(row["status"], row["due_on"], row["done_late"], today, soon_until)
    row["days_left"] = rules.days_left(cal, today, row["due_on"]) if row["status"] == "open" else None
    row["kind_label"] = kind_label(row["kind"])
    row["institution_name"] = row.get("institution.name", "")
    return row


async def read_context(hooks: HookView, today: dt.date | None = None) -> tuple[WorkCalendar, dt.date, dt.date]:
    """(calendar, today, last day still "due soon") for decorating rows."""
    cal = await work_calendar(hooks)
    today = today or clock.today()
    return cal, today, cal.add_working_days(today, due_soon_days()).date


# Obligations an institution owes the authorities, which a regulator supervises (NAT-41 (4)–(6):
# not filing, not reporting; training bases): overdue ones are listed on the regulator's desk.
# The rest (ethics proof, publicity, the annual QC report, follow-up) are the hospital's own.
SUPERVISED_KINDS = ("filing", "case_report", "training_base_filing", "training_plan", "exam_results",
                    "self_assessment", "physician_application")


def _own_work(actor: Actor) -> Any | None:
    """For a region's people (regulators, the QC centre), their own obligations only: those
    whose role they hold — for a regulator, of institutions whose licence its region issued."""
    if actor.is_admin or actor.institution_id is not None or not actor.region_path:
        return None
    clause = Obligation.role.is_in([r for r in actor.roles if r in ("regulator", "qc_center")] or ["-"])
    if actor.has("regulator") and not actor.has("qc_center") and actor.region_id is not None:
        clause = clause & (Obligation.institution.licence_region == actor.region_id)
    return clause


# The open-obligations query of each actor (its tenancy clauses are the actor's), built and
# compiled once: the dashboard runs it at every request (``core.db.Prepared``).
_OPEN_QUERIES: dict[tuple[Actor, int, bool], Prepared] = {}

# What the to-do list shows of an obligation (``open_for(brief=True)``): reading every
# column of every row cost the dashboard more than the rest of its query.
_BRIEF_COLUMNS = (Obligation.id, Obligation.title, Obligation.subject_label, Obligation.kind, Obligation.rule_id,
                  Obligation.article, Obligation.due_on, Obligation.status, Obligation.done_late,
                  Obligation.institution.name)


def _open_query(actor: Actor, limit: int, brief: bool) -> Prepared:
    key = (actor, limit, brief)
    found = _OPEN_QUERIES.get(key)
    if found is None:
        def build():
            columns = _BRIEF_COLUMNS if brief else (*Obligation.all_columns(), *_LIST_COLUMNS)
            query = Obligation.select(*columns).where(
                Obligation.status == "open").order_by(Obligation.due_on).order_by(Obligation.id).limit(limit)
            for clause in (visibility(actor), _own_work(actor)):
                if clause is not None:
                    query = query.where(clause)
            return query

        if len(_OPEN_QUERIES) >= 1000:
            _OPEN_QUERIES.clear()
        found = _OPEN_QUERIES[key] = Prepared(build, 0)
    return found


async def open_for(actor: Actor, hooks: HookView, today: dt.date | None = None, limit: int = 50,
                   brief: bool = False) -> list[dict]:
    """The open obligations ``actor`` has to act on, soonest due first, decorated. For a
    regulator or the QC centre: its own (the institutions' are ``institutions_overdue``).
    ``brief``: only what the to-do list shows — id, title, subject_label, kind_label,
    rule_id, article, due_on, state, days_left, institution_name (no consequence or
    exemption: those need every column and every plugin's deadline rules)."""
    cal, today, soon = await read_context(hooks, today)
    rows = await _open_query(actor, limit, brief).run()
    if brief:
        return [decorate_brief(r, cal, today, soon) for r in rows]
    declared = consequences(hooks)
    return [with_consequence(decorate(r, cal, today, soon), declared, today) for r in rows]


async def institutions_overdue(actor: Actor, hooks: HookView, today: dt.date | None = None,
                               limit: int = 50) -> list[dict]:
    """For a regulator or the QC centre: its institutions' overdue obligations owed to the
    authorities (``SUPERVISED_KINDS``), most overdue first; empty for anyone else."""
    if actor.is_admin or actor.institution_id is not None or not actor.region_path:
        return []
    cal, today, soon = await read_context(hooks, today)
    query = Obligation.select(*Obligation.all_columns(), *_LIST_COLUMNS).where(
        (Obligation.status == "open") & (Obligation.due_on < today)
        & Obligation.role.not_in(["regulator", "qc_center"]) & Obligation.kind.is_in(list(SUPERVISED_KINDS))
    ).order_by(Obligation.due_on).order_by(Obligation.id).limit(limit)
    clause = visibility(actor)
    if clause is not None:
        query = query.where(clause)
    declared = consequences(hooks)
    return [with_consequence(decorate(r, cal, today, soon), declared, today) for r in await query]


async def exempt_for(actor: Actor, hooks: HookView, today: dt.date | None = None, limit: int = 50) -> list[dict]:
    """The obligations a plugin's exemption covers that ``actor`` sees, latest event
    first, decorated; ``exemption`` is the evidence shown."""
    cal, today, soon = await read_context(hooks, today)
    query = Obligation.select(*Obligation.all_columns(), *_LIST_COLUMNS).where(
        Obligation.status == "exempt").order_by(Obligation.event_on, ascending=False).order_by(
        Obligation.id, ascending=False).limit(limit)
    clause = visibility(actor)
    if clause is not None:
        query = query.where(clause)
    return [decorate(r, cal, today, soon) for r in await query]


async def _visible_row(actor: Actor, obligation_id: int) -> dict:
    query = Obligation.select(*Obligation.all_columns(), *_LIST_COLUMNS).where(Obligation.id == obligation_id)
    clause = visibility(actor)
    if clause is not None:
        query = query.where(clause)
    row = await query.first()
    if row is None:
        raise NotFound("未找到该时限事项")
    return row


async def get(actor: Actor, hooks: HookView, obligation_id: int, today: dt.date | None = None) -> dict:
    """One obligation the actor sees, decorated, with the reminders sent for it;
    ``NotFound`` for a foreign or missing id."""
    row = await _visible_row(actor, obligation_id)
    cal, today, soon = await read_context(hooks, today)
    row = decorate(row, cal, today, soon)
    row["reminders"] = await ObligationReminder.select().where(
        ObligationReminder.obligation == obligation_id).order_by(ObligationReminder.sent_at)
    row["may_waive"] = row["status"] == "open" and (
        actor.has(*WAIVERS) or (actor.has("regulator") and row["role"] == "regulator"))
    row["may_complete"] = may_complete(actor, row)
    from core.audit.service import with_names

    # Who waived or completed it, by name (the login name is what is stored).
    row["waived_by_name"] = (await with_names([{"actor_name": row.get("waived_by") or "", "action": "",
                                                "record_type": ""}]))[0]["who"] if row.get("waived_by") else ""
    row["subject_href"] = await subject_href(row)
    return with_consequence(row, consequences(hooks), today)


# Where the work of an obligation is done, by its subject (issue 11 point 10: the to-do
# leads to the obligation, the obligation to the page where it is fulfilled).
_SUBJECT_PAGES = {"case": "/cases/{}", "filing": "/filings/{}", "project": "/admission/projects/{}",
                  "evaluation": "/evaluations/{}", "evaluation_request": "/evaluations/requests/{}",
                  "training_course": "/training/{}"}


async def subject_href(row: dict) -> str:
    """The page where ``row``'s obligation is fulfilled, or "" when it has none of its own."""
    if row.get("kind") == "qc_annual_report":
        return "/qc/reports"  # the year's report is opened and filled there
    subject, subject_id = row.get("subject_type") or "", row.get("subject_id")
    if subject == "filing_submission" and subject_id is not None:
        from core.filing.tables import FilingSubmission

        found = await FilingSubmission.select(FilingSubmission.filing).where(
            FilingSubmission.id == subject_id).first()
        return f"/filings/{found['filing']}" if found else ""
    page = _SUBJECT_PAGES.get(subject)
    return page.format(subject_id) if page and subject_id is not None else ""


async def status_counts(actor: Actor, hooks: HookView, today: dt.date | None = None, *,
                        from_rows: bool = False) -> list[dict]:
    """Per institution in the actor's view, how many obligations are in each status —
    in ONE grouped query, whatever the number of institutions, on the summary table
    ``obligation_summary`` (kept by triggers in every write's transaction; with
    ``from_rows``, on the obligations themselves).

    Returns ``[{"institution": id, "name": str, "counts": {status: n}, "total": n}]``
    ordered by name.
    """
    cal, today, soon = await read_context(hooks, today)
    if is_sqlite() or not from_rows:
        today_p, soon_p = today.isoformat(), soon.isoformat()
    else:
        today_p, soon_p = today, soon
    where, args = "", [today_p, soon_p]
    if not actor.is_admin:
        if actor.institution_id is not None:
            where, args = "WHERE o.institution = {}", [*args, actor.institution_id]
        elif actor.region_path:
            # The region's institutions as ids, not ``r.path LIKE`` (which PostgreSQL
            # estimates at one row, as in core/qc and core/cases): with the ids it reads the
            # covering index (institution, status, due_on, done_late) only.
            ids = await visible_institution_ids(actor)
            if not ids:
                return []
            where = f"WHERE o.institution IN ({', '.join(str(int(i)) for i in ids)})"
        else:
            return []
    # Group on the raw columns of the covering index (institution, status, due_on,
    # done_late) first, name the institutions afterwards, and derive the state here: the
    # per-row CASE and the join per obligation cost more than the index scan itself.
    # The summary's ``due`` is the ISO due date of an open obligation, "" otherwise.
    inner = f"""SELECT o.institution AS institution, o.status AS status, o.done_late AS done_late,
                     (o.due <> '' AND o.due < {{}}) AS overdue, (o.due <> '' AND o.due <= {{}}) AS soon,
                     SUM(o.n) AS n
              FROM obligation_summary o
              {where}
              GROUP BY 1, 2, 3, 4, 5""" if not from_rows else f"""
              SELECT o.institution AS institution, o.status AS status, o.done_late AS done_late,
                     o.due_on < {{}} AS overdue, o.due_on <= {{}} AS soon, COUNT(*) AS n
              FROM obligation o
              {where}
              GROUP BY 1, 2, 3, 4, 5"""
    sql = f"""
        SELECT g.institution AS institution, i.name AS name, g.status AS status, g.done_late AS done_late,
               g.overdue AS overdue, g.soon AS soon, g.n AS n
        FROM ({inner}) g
        JOIN institution i ON i.id = g.institution WHERE g.n <> 0
    """
    return counts_of(await Obligation.raw(sql, *args))


def counts_of(groups: list[dict]) -> list[dict]:
    """``status_counts``' answer from its groups (institution, name, status, done_late,
    overdue, soon, n)."""
    out: dict[int, dict] = {}
    for row in groups:
        entry = out.setdefault(row["institution"], {"institution": row["institution"], "name": row["name"],
                                                    "counts": {s: 0 for s in rules.STATUSES}, "total": 0})
        entry["counts"][_count_state(row)] += row["n"]
        entry["total"] += row["n"]
    return sorted(out.values(), key=lambda e: e["name"])


def _count_state(row: dict) -> str:
    """The state a ``status_counts`` group counts towards (as ``rules.status_of``)."""
    if row["status"] == "open":
        return "overdue" if row["overdue"] else "due_soon" if row["soon"] else "open"
    if row["status"] == "done":
        return "done_late" if row["done_late"] else "done_on_time"
    if row["status"] == "exempt":
        return "exempt"
    return "waived"


async def provisional_obligations(actor: Actor | None = None) -> list[dict]:
    """Open obligations whose due date is provisional because it crosses a year whose
    holidays are not yet entered (CAL-4), soonest first; within ``actor``'s view when
    given. Each carries ``provisional_note`` ("暂按周末推算：2027年节假日安排尚未录入")."""
    query = Obligation.select(*Obligation.all_columns(), Obligation.institution.name).where(
        (Obligation.status == "open") & (Obligation.provisional == True)  # noqa: E712
    ).order_by(Obligation.due_on)
    if actor is not None and (clause := visibility(actor)) is not None:
        query = query.where(clause)
    rows = await query
    for row in rows:
        row["provisional_note"] = provisional_note(int(y) for y in row["unknown_years"].split(",") if y)
        row["institution_name"] = row["institution.name"]
    return rows


async def recipients_many(rows: list[dict]) -> dict[int, list[int]]:
    """Who is reminded of each obligation (by id): its assignee; else the active users of the
    institution holding its role; for the regulator's own obligations, the regulators of the
    department that issued the institution's licence. A chunk of reminders in at most four
    queries: the licence regions, then the active users of those regions (and, for a licence
    without a region, of none) and of the other obligations' institutions."""
    unassigned = [r for r in rows if not r.get("assignee")]
    regulated = sorted({r["institution"] for r in unassigned if r["role"] == "regulator"})
    licence = {i["id"]: i["licence_region"] for i in await Institution.select(
        Institution.id, Institution.licence_region).where(Institution.id.is_in(regulated))} if regulated else {}
    regions = sorted({v for v in licence.values() if v is not None})
    institutions = sorted({r["institution"] for r in unassigned if r["role"] != "regulator"})
    by_region: dict[int, list[dict]] = {}
    by_institution: dict[int, list[dict]] = {}
    columns = (User.id, User.roles, User.region, User.institution)
    if regions:
        for u in await User.select(*columns).where(User.region.is_in(regions) & (User.active == True)).order_by(  # noqa: E712
                User.id).output(load_json=True):
            by_region.setdefault(u["region"], []).append(u)
    if None in licence.values():
        by_region[None] = await User.select(*columns).where(User.region.is_null() & (User.active == True)).order_by(  # noqa: E712
            User.id).output(load_json=True)
    if institutions:
        for u in await User.select(*columns).where(User.institution.is_in(institutions) & (User.active == True)  # noqa: E712
                                                   ).order_by(User.id).output(load_json=True):
            by_institution.setdefault(u["institution"], []).append(u)
    out: dict[int, list[int]] = {}
    for r in rows:
        if r.get("assignee"):
            out[r["id"]] = [r["assignee"]]
            continue
        users = (by_region.get(licence.get(r["institution"]), []) if r["role"] == "regulator"
                 else by_institution.get(r["institution"], []))
        out[r["id"]] = [u["id"] for u in users if r["role"] in (u["roles"] or [])]
    return out
