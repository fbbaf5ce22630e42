"""A reported case is corrected or voided by medical affairs, and follow-up known only
after discharge (转归 and death within 30 days) is added later — each with a reason or
date, a kept earlier version (``CaseVersion``), an audit event, and a message through the
same channel as the case report (the outbox), all in one transaction.

NAT-37 (reported accurately) and HOSP-15 (recorded truthfully): a report is never
overwritten silently; every change is a new version that says who, when and why.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from core import clock
from core.accounts.schemas import Actor
from core.accounts.tables import User
from core.audit import service as audit
from core.cases import rules
from core.cases.rules import OUTCOMES, CaseInput, to_bool
from core.cases.tables import CaseRecord, CaseVersion
from core.db import write_transaction
from core.errors import DomainError, Forbidden, NotFound, Problem
from core.messages import t
from core.plugins import HookView

CORRECTORS = ("medical_affairs",)
# Who adds follow-up: those who record cases, and medical affairs.
FOLLOWERS = ("clinician", "dept_head", "qc_officer", "medical_affairs", "his")
FOLLOW_UP_DAYS = 30
# The fields a correction may change (the identity — case id, patient, technology — not).
CORRECTABLE = ("admitted_on", "operated_on", "discharged_on", "indication", "outcome", "complication",
               "complications", "adverse_event", "adverse_events", "follow_up")
SNAPSHOT = (*CORRECTABLE, "qc_values", "voided", "void_reason", "followup_outcome", "followup_died",
            "followup_on", "followup_by")


class Correction(msgspec.Struct, kw_only=True):
    admitted_on: dt.date
    operated_on: dt.date
    discharged_on: dt.date
    indication: str = ""
    outcome: str = ""
    complication: bool = False
    complications: str = ""
    adverse_event: bool = False
    adverse_events: str = ""
    follow_up: str = ""


class FollowUp(msgspec.Struct, kw_only=True):
    """转归 30 days after discharge and whether the patient died within them."""

    outcome: str
    died: bool
    followed_on: dt.date
    note: str = ""


def _today(today: dt.date | None) -> dt.date:

    return today or clock.today()


async def _case(actor: Actor, case_id: int) -> dict:
    from core.cases.service import case_scope

    query = CaseRecord.select().where(CaseRecord.id == case_id)
    clause = await case_scope(actor)
    if clause is not None:
        query = query.where(clause)
    row = await query.first().output(load_json=True)
    if row is None:
        raise NotFound("未找到该病例")
    return row


def _snapshot(row: dict) -> dict:
    return msgspec.to_builtins({k: row.get(k) for k in SNAPSHOT})


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError(Problem(f"请填写{what}理由（至少2个字）", "reason", "NAT-37"))
    if len(reason) > 1000:
        raise DomainError(Problem(f"{what}理由不能超过1000字", "reason", "NAT-37"))
    return reason


async def _message(actor: Actor, hooks: HookView, row: dict, kind: str, version: int, reason: str,
                   changes: dict) -> int | None:
    """The correction, void or follow-up, to every platform the case is reported to
    (national and provincial, NAT-36, NAT-37), each its own delivery; returns the first's id."""
    from core.outbox import service as outbox

    if not row["report_rule"]:
        return None
    payload = {"message": kind, "case": row["id"], "hospital_case_id": row["external_id"],
               "technology_code": row["technology_code"], "patient": row["patient_key"], "version": version,
               "reason": reason, "changes": msgspec.to_builtins(changes),
               "replaces_delivery": row["delivery_id"]}
    ids = await outbox.enqueue_everywhere(actor, hooks, kind="case", subject_type="case", subject_id=row["id"],
                                          institution_id=row["institution"], payload=payload)
    return ids[0] if ids else None


async def _keep(actor: Actor, row: dict, action: str, reason: str, delivery_id: int | None) -> None:
    await CaseVersion.insert(CaseVersion(
        record=row["id"], version=row["version"], action=action, reason=reason, content=_snapshot(row),
        changed_by=actor.username[:100], delivery_id=delivery_id))


async def correct(actor: Actor, hooks: HookView, case_id: int, change: Correction, reason: str,
                  today: dt.date | None = None) -> int:
    """Medical affairs corrects a recorded case (NAT-37): the values are checked as on
    recording, the earlier version kept, the change audited and sent to the platform.
    Returns the new version number."""
    row = await _case(actor, case_id)
    if not actor.has(*CORRECTORS):
        raise Forbidden(Problem("只有医务处可以更正已报送的病例", "reason", "NAT-37"))
    if row["voided"]:
        raise DomainError(Problem("该病例已作废，不能更正", "reason", "NAT-37"))
    reason = _reason(reason, "更正")
    check = CaseInput(case_id=row["external_id"], technology_code=row["technology_code"] or "P",
                      patient_key="PK-CORRECTION", operators=["-"], consent=True,
                      **msgspec.structs.asdict(change))
    problems = [p for p in rules.case_problems(check, _today(today)) if p.field in CORRECTABLE]
    if problems:
        raise DomainError(problems)
    new = {k: (v.strip() if isinstance(v, str) else v) for k, v in msgspec.structs.asdict(change).items()}
    changes = {k: {"before": row[k], "after": v} for k, v in new.items() if row[k] != v}
    if not changes:
        raise DomainError(Problem("没有需要更正的内容", "reason"))
    version = row["version"] + 1
    async with write_transaction():
        delivery_id = await _message(actor, hooks, row, "correction", version, reason,
                                     {k: c["after"] for k, c in changes.items()})
        await _keep(actor, row, "correct", reason, delivery_id)
        await CaseRecord.update({**{getattr(CaseRecord, k): v for k, v in new.items()},
                                 CaseRecord.version: version}).where(CaseRecord.id == case_id)
        await audit.record(actor, "case.correct", "case", case_id,
                           before={k: c["before"] for k, c in changes.items()},
                           after={**{k: c["after"] for k, c in changes.items()}, "reason": reason, "version": version},
                           institution_id=row["institution"])
    return version


async def void(actor: Actor, hooks: HookView, case_id: int, reason: str) -> int:
    """Medical affairs voids a case recorded in error (NAT-37): it stays readable with its
    reason, drops out of the QC figures, its open reporting obligation is waived, and the
    platform is told."""
    from core.obligations import service as obligations
    from core.obligations.tables import Obligation

    row = await _case(actor, case_id)
    if not actor.has(*CORRECTORS):
        raise Forbidden(Problem("只有医务处可以作废已报送的病例", "reason", "NAT-37"))
    if row["voided"]:
        raise DomainError(Problem("该病例已作废", "reason", "NAT-37"))
    reason = _reason(reason, "作废")
    version = row["version"] + 1
    async with write_transaction():
        delivery_id = await _message(actor, hooks, row, "void", version, reason, {"voided": True})
        await _keep(actor, row, "void", reason, delivery_id)
        await CaseRecord.update({CaseRecord.voided: True, CaseRecord.void_reason: reason,
                                 CaseRecord.version: version}).where(CaseRecord.id == case_id)
        open_ones = await Obligation.select(Obligation.id).where(
            (Obligation.subject_type == "case") & (Obligation.subject_id == case_id) & (Obligation.status == "open"))
        for ob in open_ones:
            await obligations.waive(actor, ob["id"], f"病例已作废：{reason}")
        await _uncount(actor, row)
        await audit.record(actor, "case.void", "case", case_id, before={"voided": False},
                           after={"voided": True, "reason": reason, "version": version},
                           institution_id=row["institution"])
    return version


async def _uncount(actor: Actor, row: dict) -> None:
    """A voided case counts nowhere (NAT-37): off its filing's cumulative count (NAT-24),
    as the case warnings and QC figures already skip it."""
    from core.cases.service import _delegate, counting_filings
    from core.filing import service as filing

    if row["tech_class"] != "restricted" or row["project"] is None:
        return
    filing_id = (await counting_filings([row["project"]])).get(row["project"])
    if filing_id is not None:
        await filing.void_case(_delegate(actor, row["institution"]), filing_id)


def follow_up_problems(row: dict, data: FollowUp, today: dt.date) -> list[Problem]:
    problems = []
    if data.outcome not in OUTCOMES:
        problems.append(Problem(f"30天转归应为：{'、'.join(OUTCOMES.values())}", "outcome", "HOSP-15"))
    if data.outcome == "death" and not data.died:
        problems.append(Problem("30天转归为死亡时，请勾选“30天内死亡”", "died", "HOSP-15"))
    if data.died and data.outcome not in ("death", ""):
        problems.append(Problem("30天内死亡的病例，30天转归应为“死亡”", "outcome", "HOSP-15"))
    if data.followed_on < row["discharged_on"]:
        problems.append(Problem(f"随访日期不能早于出院日期（{row['discharged_on']}）", "followed_on", "HOSP-15"))
    elif not data.died and data.followed_on < row["discharged_on"] + dt.timedelta(days=FOLLOW_UP_DAYS):
        problems.append(Problem(f"存活病例的30天转归须在出院{FOLLOW_UP_DAYS}天后（"
                                f"{row['discharged_on'] + dt.timedelta(days=FOLLOW_UP_DAYS)} 起）随访", "followed_on",
                                "HOSP-15"))
    if data.followed_on > today:
        problems.append(Problem("随访日期不能晚于今天", "followed_on", "HOSP-15"))
    if len(data.note) > 2000:
        problems.append(Problem("随访情况不超过2000字", "note", "HOSP-15"))
    return problems


async def add_follow_up(actor: Actor, hooks: HookView, case_id: int, data: FollowUp,
                        today: dt.date | None = None) -> int:
    """Follow-up after discharge (HOSP-15): 30-day 转归 and mortality, by those who record
    cases or medical affairs; a later follow-up replaces an earlier one as a new version.
    Fulfils the case's follow-up obligation where the province's rules define one, and
    goes to the platform as a follow-up message."""
    from core.obligations import service as obligations

    row = await _case(actor, case_id)
    if not actor.has(*FOLLOWERS):
        raise Forbidden(Problem("您无权登记该病例的随访", "outcome"))
    if row["voided"]:
        raise DomainError(Problem("该病例已作废，不能登记随访", "outcome"))
    day = _today(today)
    data = msgspec.structs.replace(data, outcome=data.outcome.strip(), note=data.note.strip())
    problems = follow_up_problems(row, data, day)
    if problems:
        raise DomainError(problems)
    version = row["version"] + 1
    values = {"followup_outcome": data.outcome, "followup_died": data.died, "followup_on": data.followed_on,
              "followup_by": actor.username[:100]}
    note = data.note or row["follow_up"]
    async with write_transaction():
        delivery_id = await _message(actor, hooks, row, "follow_up", version, "",
                                     {**values, "follow_up": note})
        await _keep(actor, row, "follow_up", "", delivery_id)
        await CaseRecord.update({**{getattr(CaseRecord, k): v for k, v in values.items()},
                                 CaseRecord.follow_up: note, CaseRecord.version: version}).where(
            CaseRecord.id == case_id)
        await obligations.fulfil(actor, hooks, subject_type="case", subject_id=case_id, kind="case_follow_up",
                                 done_on=day)
        await audit.record(actor, "case.follow_up", "case", case_id,
                           before={k: row[k] for k in values}, after={**values, "version": version},
                           institution_id=row["institution"])
    return version


async def history(case_id: int) -> list[dict]:
    """The case's earlier versions, newest first, as sentences: who (by name), when
    (Beijing time), what, why."""
    from core.timefmt import local_time

    rows = await CaseVersion.select().where(CaseVersion.record == case_id).order_by(
        CaseVersion.id, ascending=False).output(load_json=True)
    names = {u["username"]: u["display_name"] for u in await User.select(User.username, User.display_name).where(
        User.username.is_in(sorted({r["changed_by"] for r in rows}) or ["-"]))}
    for r in rows:
        r["who"] = names.get(r["changed_by"], t("cases.history.system"))
        r["when"] = local_time(r["changed_at"])
        r["action_label"] = t(f"cases.history.{r['action']}")
    return rows


def correction_from_form(form, row: dict) -> tuple[Correction | None, list[Problem], dict]:
    """The page's correction form → a correction; what was typed comes back on an error."""
    typed = {k: str(form.get(k, "")).strip() for k in CORRECTABLE if k not in ("complication", "adverse_event")}
    typed["complication"] = to_bool(form.get("complication", ""))
    typed["adverse_event"] = to_bool(form.get("adverse_event", ""))
    problems, data = [], dict(typed)
    for field in ("admitted_on", "operated_on", "discharged_on"):
        try:
            data[field] = dt.date.fromisoformat(typed[field])
        except ValueError:
            problems.append(Problem("请填写日期，如 2026-03-01", field, "NAT-37"))
    if problems:
        return None, problems, typed
    return msgspec.convert(data, Correction), [], typed
