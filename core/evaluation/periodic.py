"""The institution's own evaluation of the technologies it uses (院内医疗技术临床应用评估,
NAT-22 and the province's restatement of it, ``policy.lifecycle.evaluation``): the only writer of ``PeriodicReview``.

Medical affairs records its management committee's evaluation of a technology in use —
when, who, what was found — and the result: continue; adjust the management
requirements (catalogue, requirements, physicians' privileges, written down and told to
the people concerned); or stop, which stops it at once through ``core.lifecycle`` (trigger
"evaluation"), so every way a case comes in refuses it from then on. The page also shows,
for each technology, the institution's own argumentation before its first use (NAT-21).

Tenancy: medical affairs and the hospital head of the institution read; medical affairs
writes; anyone else gets ``NotFound``.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from core import clock
from core.accounts.schemas import Actor
from core.admission import service as admission
from core.admission.rules import ARGUING_KINDS
from core.admission.tables import Project, StepDecision
from core.audit import service as audit
from core.db import write_transaction
from core.errors import DomainError, NotFound, Problem
from core.evaluation import rules
from core.evaluation.tables import PeriodicReview
from core.inbox import service as inbox
from core.lifecycle import service as lifecycle
from core.plugins import HookView
from core.policy import policy

READERS = ("medical_affairs", "hospital_head")


def _institution(actor: Actor) -> int:
    if actor.institution_id is None or not actor.has(*READERS):
        raise NotFound("未找到")
    return actor.institution_id


async def technologies(actor: Actor) -> list[dict]:
    """The institution's admitted technologies with their state of use, their last
    evaluation and the argumentation that preceded their first use (NAT-21)."""
    institution_id = _institution(actor)
    projects = await Project.select(Project.id, Project.title, Project.technology_code, Project.technology_name,
                                    Project.tech_class, Project.admitted_on, Project.steps, Project.lead).where(
        (Project.institution == institution_id) & (Project.status == "admitted")).order_by(
        Project.id).output(load_json=True)
    keys = {p["id"]: lifecycle.technology_key(p["technology_code"], p["id"]) for p in projects}
    states = await lifecycle.states(institution_id, list(set(keys.values())))
    arguing = {(p["id"], s["key"]) for p in projects for s in p["steps"] or [] if s.get("kind") in ARGUING_KINDS}
    argued: dict[int, dict] = {}
    for row in await StepDecision.select(StepDecision.project, StepDecision.step, StepDecision.step_title,
                                         StepDecision.at).where(
            StepDecision.project.is_in([p["id"] for p in projects] or [-1]) & (StepDecision.decision == "approve")
    ).order_by(StepDecision.id):
        if (row["project"], row["step"]) in arguing:
            argued[row["project"]] = row
    last = {}
    for review in await PeriodicReview.select().where(PeriodicReview.institution == institution_id).order_by(
            PeriodicReview.id):
        last[review["technology_key"]] = review
    out = []
    for p in projects:
        key = keys[p["id"]]
        out.append(p | {"key": key, "name": p["technology_name"] or p["title"], "state": states.get(key),
                        "argued": argued.get(p["id"]), "last_review": last.get(key)})
    return out


async def _authorisations(institution_id: int, key: str) -> list[dict]:
    """The physicians' active authorisations for the technology in the institution (read
    from ``core.people``): an adjustment of privileges flags each for review."""
    from core.people.schemas import AuthorisationStatus
    from core.people.tables import Authorisation

    rows = await Authorisation.select(Authorisation.id, Authorisation.user, Authorisation.user.display_name).where(
        (Authorisation.institution == institution_id) & (Authorisation.scope == "technology")
        & (Authorisation.technology_key == key) & (Authorisation.status == AuthorisationStatus.active)).order_by(Authorisation.id)
    return [{"id": r["id"], "user_id": r["user"], "name": r["user.display_name"]} for r in rows]


async def adjustments(institution_id: int, key: str) -> list[dict]:
    """The "adjust" results of the institution's evaluations of a technology, newest first,
    each with the authorisations it flagged and whether each was acted on since (a grant,
    renewal, suspension or revocation recorded on or after the evaluation) — for the
    technology's page."""
    from core.people.tables import AuthorisationEvent

    rows = await PeriodicReview.select().where((PeriodicReview.institution == institution_id) & (
        PeriodicReview.technology_key == key) & (PeriodicReview.result == "adjust")).order_by(
        PeriodicReview.id, ascending=False).output(load_json=True)
    ids = sorted({a["id"] for r in rows for a in r["flagged_authorisations"] or []})
    acted = await AuthorisationEvent.select(AuthorisationEvent.authorisation, AuthorisationEvent.on).where(
        AuthorisationEvent.authorisation.is_in(ids or [-1]))
    for r in rows:
        r["kind_labels"] = [rules.ADJUSTMENT_KINDS[k] for k in r["adjustment_kinds"] or [] if k in rules.ADJUSTMENT_KINDS]
        for a in r["flagged_authorisations"] or []:
            a["reviewed_on"] = max((e["on"] for e in acted if e["authorisation"] == a["id"]
                                    and e["on"] >= r["reviewed_on"]), default=None)
            if a["reviewed_on"] is None and a.get("kept_on"):
                a["reviewed_on"] = dt.date.fromisoformat(a["kept_on"])
    return rows


async def keep_authorisation(actor: Actor, review_id: int, authorisation_id: int, note: str) -> None:
    """Medical affairs reviewed a flagged authorisation and keeps it as it is (NAT-22: the
    privileges were reviewed; a change is made on the physician's page instead) — the
    review is recorded with who, when and why; audited."""
    institution_id = _institution(actor)
    if not actor.has("medical_affairs"):
        raise NotFound("未找到")
    row = await PeriodicReview.select().where((PeriodicReview.id == review_id) & (
        PeriodicReview.institution == institution_id)).first().output(load_json=True)
    flagged = (row or {}).get("flagged_authorisations") or []
    item = next((a for a in flagged if a["id"] == authorisation_id), None)
    if item is None:
        raise NotFound("未找到该授权")
    problems = []
    if item.get("kept_on"):
        problems.append(Problem("该授权已复核", None, "NAT-22"))
    if len((note or "").strip()) < 2:
        problems.append(Problem("请写明复核意见（如：资质符合调整后的要求，维持授权）", "note", "NAT-22"))
    if problems:
        raise DomainError(problems)
    item |= {"kept_on": clock.today().isoformat(), "kept_by": actor.display_name, "note": note.strip()[:500]}
    async with write_transaction():
        await PeriodicReview.update({PeriodicReview.flagged_authorisations: flagged}).where(
            PeriodicReview.id == review_id)
        await audit.record(actor, "evaluation.periodic_authorisation_kept", "periodic_review", review_id,
                           after={"authorisation": authorisation_id, "note": note.strip(), "rule": "NAT-22"},
                           institution_id=institution_id)


async def reviews(actor: Actor) -> list[dict]:
    """The institution's evaluations, newest first."""
    institution_id = _institution(actor)
    return await PeriodicReview.select(*PeriodicReview.all_columns(), PeriodicReview.recorded_by.display_name).where(
        PeriodicReview.institution == institution_id).order_by(PeriodicReview.id, ascending=False)


class ReviewInput(msgspec.Struct):
    technology_key: str
    reviewed_on: dt.date | None
    committee: str
    findings: str
    result: str
    adjustments: str = ""
    adjustment_kinds: list[str] = []


async def record(actor: Actor, hooks: HookView, data: ReviewInput, today: dt.date | None = None) -> int:
    """Record the management committee's evaluation of a technology in use (NAT-22) and act
    on its result: continue, adjust (recorded, the lead and medical affairs told), or stop
    at once through ``core.lifecycle``. Returns the review's id."""
    institution_id = _institution(actor)
    if not actor.has("medical_affairs"):
        raise NotFound("未找到")
    day = today or clock.today()
    key = data.technology_key.strip().upper()
    tech = next((t for t in await technologies(actor) if t["key"] == key), None)
    if tech is None:
        raise NotFound("本机构未开展该技术")
    province = policy(hooks).lifecycle.evaluation.rule
    named = "、".join(r for r in ("NAT-22", province) if r)
    problems = rules.check_review(reviewed_on=data.reviewed_on, today=day, committee=data.committee,
                                  findings=data.findings, result=data.result, adjustments=data.adjustments,
                                  kinds=data.adjustment_kinds)
    state = tech["state"]
    if state is not None and not state.in_use:
        problems.append(Problem(f"该技术当前为「{state.label}」，不在使用中：已停止的技术经重新评估恢复，请在技术使用状态页办理（{named}）",
                                "technology_key", "NAT-22"))
    if problems:
        raise DomainError(problems)
    async with write_transaction():
        rows = await PeriodicReview.insert(PeriodicReview(
            institution=institution_id, technology_key=key, technology_name=tech["name"][:200], project=tech["id"],
            reviewed_on=data.reviewed_on, committee=data.committee.strip()[:300], findings=data.findings.strip(),
            result=data.result, adjustments=data.adjustments.strip(), recorded_by=actor.id)).returning(PeriodicReview.id)
        review_id = rows[0]["id"]
        event_id = None
        if data.result == "stop":
            event_id = await lifecycle.stop(actor, hooks, technology_key=key, trigger="evaluation",
                                            reason=f"院内医疗技术临床应用评估（{named}）：{data.findings.strip()}",
                                            committee=data.committee, meeting_on=data.reviewed_on, today=day)
            await PeriodicReview.update({PeriodicReview.use_event: event_id}).where(PeriodicReview.id == review_id)
        elif data.result == "adjust":
            kinds = [k for k in rules.ADJUSTMENT_KINDS if k in data.adjustment_kinds]
            flagged = await _authorisations(institution_id, key) if "privileges" in kinds else []
            what = "；".join(rules.ADJUSTMENT_KINDS[k] for k in kinds)
            event_id = await lifecycle.record_adjustment(
                actor, technology_key=key, rule=named, on=data.reviewed_on,
                reason=f"院内评估调整（{what}）：{data.adjustments.strip()}", committee=data.committee,
                document=f"院内医疗技术临床应用评估记录{review_id}号")
            await PeriodicReview.update({PeriodicReview.use_event: event_id, PeriodicReview.adjustment_kinds: kinds,
                                         PeriodicReview.flagged_authorisations: flagged}).where(
                PeriodicReview.id == review_id)
            link = f"/lifecycle/institutions/{institution_id}/{key}"
            people = sorted(set(await admission.users_with(institution_id, "medical_affairs")) | {tech["lead"]})
            await inbox.deliver(people, f"【院内技术评估】{tech['name']}：调整{what}（{named}）",
                                data.adjustments.strip(), link=link, source=f"periodic_review:{review_id}")
            if flagged:
                # NAT-22 (and the province's lifecycle.evaluation rule): 及时调整本机构医师相关技术临床应用权限 — each authorised physician told.
                await inbox.deliver(sorted({a["user_id"] for a in flagged}),
                                    f"【院内技术评估】{tech['name']}：您的技术临床应用权限须依据评估结果复核（{named}）",
                                    data.adjustments.strip(), link=link, source=f"periodic_review:{review_id}")
        await audit.record(actor, "evaluation.periodic", "periodic_review", review_id,
                           after={"technology_key": key, "result": data.result, "reviewed_on": data.reviewed_on,
                                  "committee": data.committee.strip(), "adjustments": data.adjustments.strip(),
                                  "adjustment_kinds": data.adjustment_kinds if data.result == "adjust" else [],
                                  "use_event": event_id, "rule": named}, institution_id=institution_id)
    return review_id
