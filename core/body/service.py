"""The institution's technology-management body (医疗技术临床应用管理专门组织) and its
systems: the use cases, the only writer of ``management_body`` and its members, meetings
and decisions.

NAT-15: hospitals of grade 2 and above set up, under the quality committee, a body that
makes the institution's rules, approves its technology and surgery-grading catalogues,
argues first-time technologies, evaluates technologies in use and checks the rules are
followed; the province names its members' posts and lets other institutions set up a
working group or designate staff (``province_policy``: ``body``). Medical affairs runs it
day to day and records it here: the body, its members and posts, its meetings with
attendance and decisions. NAT-16: the institution's systems — catalogue, grading,
authorisation, QC, archives, evaluation — each shown with its state on one page.
NAT-41 (1): an institution without a body is flagged on the regulator's desk (the
supervision detector ``no_management_body``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from core import changes, clock
from core.accounts.schemas import Actor
from core.audit import service as audit
from core.body import rules
from core.body.tables import Body, BodyDecision, BodyMeeting, BodyMember
from core.db import write_transaction
from core.errors import DomainError, NotFound, Problem
from core.tenancy.service import require_institution


class BodyInput(msgspec.Struct, kw_only=True):
    version: int = 0
    kind: str
    name: str
    established_on: dt.date | None = None
    document: str = ""


class MemberInput(msgspec.Struct, kw_only=True):
    name: str
    post: str
    title: str = ""
    user_id: int | None = None
    joined_on: dt.date | None = None


class MeetingInput(msgspec.Struct, kw_only=True):
    held_on: dt.date | None
    topic: str
    attendees: list[int]
    minutes: str = ""
    decisions: list[tuple[str, str]] = []


def may_manage(actor: Actor, institution_id: int) -> bool:
    """Medical affairs runs the body day to day (the national measure, NAT-15); the admin too."""
    return actor.is_admin or (actor.has("medical_affairs") and actor.institution_id == institution_id)


async def _body(institution_id: int) -> dict | None:
    return await Body.select().where(Body.institution == institution_id).first()


async def overview(actor: Actor, hooks: Any, institution_id: int) -> dict:
    """The body page: the institution, its body, members (current and former), meetings with
    attendance and decisions, the posts the province requires and which are missing."""
    from core.policy import policy

    institution = await require_institution(actor, institution_id)
    body = await _body(institution_id)
    members = await BodyMember.select().where(BodyMember.body == body["id"]).order_by(BodyMember.id) if body else []
    meetings = await BodyMeeting.select().where(BodyMeeting.body == body["id"]).order_by(
        BodyMeeting.held_on, ascending=False).output(load_json=True) if body else []
    decisions = await BodyDecision.select().where(
        BodyDecision.meeting.is_in([m["id"] for m in meetings] or [-1])).order_by(BodyDecision.id)
    names = {m["id"]: m["name"] for m in members}
    for m in meetings:
        m["attendee_names"] = [names.get(i, "") for i in m["attendees"] or []]
        m["decisions"] = [dict(d, label=rules.SYSTEMS.get(d["system"], d["system"])) for d in decisions
                          if d["meeting"] == m["id"]]
    cited = policy(hooks).body
    for m in members:
        m["post_label"] = rules.POSTS.get(m["post"], m["post"])
    gaps = rules.composition_gaps(members, cited.posts) if body else []
    return {"institution": institution, "body": body, "members": members, "meetings": meetings,
            "gaps": [rules.POSTS[p] for p in gaps], "policy": cited, "may_manage": may_manage(actor, institution_id),
            "required": rules.grade_two_or_above(institution["grade"]), "kinds": rules.KINDS, "posts": rules.POSTS,
            "systems": rules.SYSTEMS}


async def _body_row(body_id: int) -> dict:
    return await Body.select().where(Body.id == body_id).first()


# How the body's record changes (core.changes): at the version the page read, audited as
# "body.save" with its form, name, date and document before and after.
BODY = changes.Versioned(
    table=Body, record_type="management_body", action_prefix="body",
    snapshot=("kind", "name", "established_on", "document"), read=_body_row,
    moved_on="该组织信息已被他人修改，请刷新后重试", conflict_field="version",
    link=lambda body_id: "/body/", source=lambda body_id: f"management_body:{body_id}",
)


async def save_body(actor: Actor, institution_id: int, data: BodyInput) -> int:
    """Set up the body or change its form, name or document (NAT-15), audited."""
    institution = await require_institution(actor, institution_id)
    if not may_manage(actor, institution_id):
        raise NotFound("未找到")
    problems = rules.kind_problems(data.kind, institution["grade"])
    if len(data.name.strip()) < 2:
        problems.append(Problem("请填写组织名称", "name", "NAT-15"))
    if data.established_on is None:
        problems.append(Problem("请填写成立日期", "established_on", "NAT-15"))
    elif data.established_on > clock.today():
        problems.append(Problem("成立日期不能晚于今天", "established_on", "NAT-15"))
    if problems:
        raise DomainError(problems)
    values = {"kind": data.kind, "name": data.name.strip()[:120], "established_on": data.established_on,
              "document": data.document.strip()[:200]}
    async with write_transaction():
        before = await _body(institution_id)
        if before is None:
            async with BODY.create(actor, {"institution": institution_id, **values}, "save") as change:
                pass
            return change.row["id"]
        async with BODY.change(actor, before, data.version, "save") as change:
            change.values.update({getattr(Body, k): v for k, v in values.items()})
    return before["id"]



async def _require_body(actor: Actor, institution_id: int) -> dict:
    await require_institution(actor, institution_id)
    if not may_manage(actor, institution_id):
        raise NotFound("未找到")
    body = await _body(institution_id)
    if body is None:
        raise DomainError(Problem("请先设立管理组织", "kind", "NAT-15"))
    return body


async def add_member(actor: Actor, institution_id: int, data: MemberInput) -> int:
    body = await _require_body(actor, institution_id)
    problems = []
    if len(data.name.strip()) < 2:
        problems.append(Problem("请填写委员姓名", "name", "NAT-15"))
    if data.post not in rules.POSTS:
        problems.append(Problem("请选择职务", "post", "NAT-15"))
    if problems:
        raise DomainError(problems)
    async with write_transaction():
        rows = await BodyMember.insert(BodyMember(
            body=body["id"], user=data.user_id, name=data.name.strip()[:60], post=data.post,
            title=data.title.strip()[:60], joined_on=data.joined_on or clock.today())).returning(BodyMember.id)
        await audit.record(actor, "body.member_add", "management_body", body["id"], after={
            "member": rows[0]["id"], "name": data.name.strip(), "post": data.post}, institution_id=institution_id)
    return rows[0]["id"]


async def member_leaves(actor: Actor, institution_id: int, member_id: int) -> None:
    body = await _require_body(actor, institution_id)
    async with write_transaction():
        done = await BodyMember.update({BodyMember.left_on: clock.today()}).where(
            (BodyMember.id == member_id) & (BodyMember.body == body["id"]) & BodyMember.left_on.is_null()
        ).returning(BodyMember.id)
        if not done:
            raise NotFound("未找到该委员")
        await audit.record(actor, "body.member_leave", "management_body", body["id"], after={"member": member_id},
                           institution_id=institution_id)


async def record_meeting(actor: Actor, institution_id: int, data: MeetingInput) -> int:
    """A meeting held: date, topic, attendance, minutes and its decisions (NAT-15 duties)."""
    body = await _require_body(actor, institution_id)
    current = [m["id"] for m in await BodyMember.select(BodyMember.id).where(
        (BodyMember.body == body["id"]) & BodyMember.left_on.is_null())]
    decisions = [(s, t.strip()) for s, t in data.decisions if s or t.strip()]
    problems = rules.meeting_problems(data.held_on, data.topic, data.attendees, current, decisions, clock.today())
    if problems:
        raise DomainError(problems)
    async with write_transaction():
        rows = await BodyMeeting.insert(BodyMeeting(
            body=body["id"], held_on=data.held_on, topic=data.topic.strip()[:200], attendees=sorted(data.attendees),
            minutes=data.minutes.strip(), created_by=actor.display_name[:100])).returning(BodyMeeting.id)
        meeting_id = rows[0]["id"]
        for system, text in decisions:
            await BodyDecision.insert(BodyDecision(meeting=meeting_id, institution=institution_id, system=system,
                                                   text=text[:4000]))
        await audit.record(actor, "body.meeting", "management_body", body["id"], after={
            "meeting": meeting_id, "held_on": data.held_on, "topic": data.topic.strip(),
            "attendees": len(data.attendees), "decisions": [s for s, _ in decisions]}, institution_id=institution_id)
    return meeting_id


# ---------------------------------------------------------------- the institution's systems (NAT-16)


async def systems(actor: Actor, hooks: Any, institution_id: int) -> dict:
    """NAT-16: each of the institution's systems with its state from the portal's own records
    and the body's latest decision on it."""
    from core.accounts.tables import User
    from core.admission.tables import Project
    from core.grading import service as grading
    from core.people.schemas import AuthorisationStatus
    from core.people.tables import Authorisation, Certificate
    from core.qc.tables import QcAnnualReport

    institution = await require_institution(actor, institution_id)
    body = await _body(institution_id)
    latest: dict[str, dict] = {}
    for d in await BodyDecision.select(BodyDecision.system, BodyDecision.text, BodyDecision.meeting.held_on).where(
            BodyDecision.institution == institution_id).order_by(BodyDecision.id):
        latest[d["system"]] = d
    admitted = await Project.count().where((Project.institution == institution_id) & (Project.status == "admitted"))
    edition = await grading.edition_in_force(institution_id)
    authorised = await Authorisation.select(Authorisation.user).where(
        (Authorisation.institution == institution_id) & (Authorisation.status == AuthorisationStatus.active)).distinct()
    certified = await Certificate.select(Certificate.user).where(
        (Certificate.institution == institution_id) & (Certificate.removed == 0)).distinct()
    physicians = [u for u in await User.select(User.id, User.roles).where(
        (User.institution == institution_id) & (User.active == True)).output(load_json=True)  # noqa: E712
        if any(r in ("clinician", "dept_head") for r in u["roles"] or [])]
    reports = await QcAnnualReport.count().where(QcAnnualReport.institution == institution_id)
    state = {
        "catalogue": (admitted > 0, f"已准入新技术 {admitted} 项" if admitted else "尚无已准入的技术", "/admission"),
        "grading": (edition is not None, f"第 {edition['number']} 版，{edition['operation_count']} 项手术，"
                    f"{edition['effective_on']} 起施行" if edition else "尚无生效的手术分级目录",
                    f"/grading/{institution_id}"),
        "authorisation": (bool(authorised), f"{len(authorised)} 名医师持有有效授权（共 {len(physicians)} 名医师）"
                          if authorised else "尚无医师授权记录", f"/people/institution/{institution_id}"),
        "qc": (reports > 0, f"质控年报 {reports} 份" if reports else "尚无质控年报", "/qc"),
        "archive": (bool(certified), f"{len(certified)} 名医师已建立证书档案（共 {len(physicians)} 名医师）"
                    if certified else "尚无医师档案记录", f"/people/institution/{institution_id}"),
        "evaluation": ("evaluation" in latest, "已有管理组织的评估决定" if "evaluation" in latest
                       else "管理组织尚无评估决定", f"/body/{institution_id}"),
    }
    items = [{"key": k, "label": rules.SYSTEMS[k], "ok": state[k][0], "state": state[k][1], "href": state[k][2],
              "decision": latest.get(k)} for k in rules.NAT16_SYSTEMS]
    return {"institution": institution, "body": body, "items": items, "rules_decision": latest.get("rules"),
            "kinds": rules.KINDS}
