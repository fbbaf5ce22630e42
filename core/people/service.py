"""Physicians: certificates, authorisations (医师授权) and the technology archive — the use
cases, the only writer of ``physician_certificate``, ``physician_authorisation`` (and its
events) and ``case_operator_finding``.

* NAT-19: every physician has a technology archive — authorisations and their
  history, technologies performed (cases), errors and incidents (complications, adverse
  events, operator findings), training and examinations — the basis of authorisation changes.
* NAT-20: authorisations per restricted technology and per surgery level, granted,
  renewed, suspended, reinstated and revoked by the institution's management body from the
  physician's ability, training (and exams), with validity dates. Medical affairs (the body's
  day-to-day office) records each decision here; the admin may too.
* A stopped or suspended technology (core.lifecycle) suspends its authorisations for as
  long as it is not in use: read, never written, so lifting it restores them.
* Every case's operators are checked against their authorisations on the operation date
  (``check_operators``, called by core.cases): for a technology the institution authorises
  here, an operator without a valid authorisation refuses the case at entry unless the
  recorder declares it really performed so; a case performed is then still recorded and
  reported (NAT-37: every case reported), and each operator without a valid authorisation
  is a finding on the case, in the archive and for the regulator's risk warnings. A later
  suspension or revocation effective before recorded cases adds their findings
  (``recheck_cases``): those cases came in anyway.
* Certificates (资格证、执业证、职称证, training certificates) are kept by medical affairs
  with their expiry; the qualification names the filing and admission rules read follow
  the certificates in force (``sync_qualifications``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from core import changes, clock
from core.accounts.schemas import Actor
from core.accounts.tables import User
from core.audit import service as audit
from core.db import Prepared, is_sqlite, write_transaction
from core.errors import DomainError, NotFound, Problem
from core.people import rules
from core.people.schemas import AuthorisationStatus, PhysicianArchive
from core.people.tables import Authorisation, AuthorisationEvent, Certificate, OperatorFinding

PHYSICIAN_ROLES = ("clinician", "dept_head")
MANAGERS = ("medical_affairs",)
READERS = ("medical_affairs", "hospital_head")


class CertificateInput(msgspec.Struct, kw_only=True):
    kind: str
    name: str
    number: str = ""
    issuer: str = ""
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None
    note: str = ""


class GrantInput(msgspec.Struct, kw_only=True):
    """A grant (NAT-20): what it covers, validity, basis and the body's decision."""

    scope: str
    technology_key: str = ""
    level: int | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    ability: str = ""
    training: str = ""
    exam: str = ""
    decision: str = ""


class ActInput(msgspec.Struct, kw_only=True):
    """A later decision on an authorisation: renew (new ``valid_until``), suspend,
    reinstate or revoke, on a date, with the reason and the body's decision."""

    action: str
    version: int
    on: dt.date | None = None
    valid_until: dt.date | None = None
    reason: str = ""
    decision: str = ""
    exam: str = ""


def _today(today: dt.date | None = None) -> dt.date:
    return today or clock.today()


# ---------------------------------------------------------------- who sees whom


def may_manage(actor: Actor, institution_id: int | None) -> bool:
    """Medical affairs of the physician's institution, or the admin."""
    return actor.is_admin or (actor.has(*MANAGERS) and institution_id is not None
                              and actor.institution_id == institution_id)


async def physician(actor: Actor, user_id: int) -> dict:
    """A physician in the actor's view (NotFound otherwise): the institution's medical
    affairs and head, their department head, the physician themself, the regulators of its
    region and the admin."""
    from core.tenancy.tables import Institution

    row = await User.select(User.id, User.username, User.display_name, User.roles, User.institution,
                            User.department, User.department.name, User.title, User.active, User.resident_since,
                            User.visiting, User.qualifications, User.institution.name).where(
        User.id == user_id).first().output(load_json=True)
    if row is None or row["institution"] is None or not any(r in PHYSICIAN_ROLES for r in row["roles"] or []):
        raise NotFound("未找到该医师")
    inst = row["institution"]
    allowed = actor.is_admin or actor.id == user_id
    if actor.institution_id == inst:
        allowed = allowed or actor.has(*READERS) or (actor.has("dept_head") and actor.department_id
                                                     and actor.department_id == row["department"])
    elif actor.region_path and actor.has("regulator", "qc_center"):
        allowed = bool(await Institution.exists().where(
            (Institution.id == inst) & Institution.region.path.like(f"{actor.region_path}%")))
    if not allowed:
        raise NotFound("未找到该医师")
    return row


async def physicians(actor: Actor, institution_id: int) -> list[dict]:
    """The institution's physicians with their authorisations in force today and the
    certificates expired or expiring within 90 days (the directory page)."""
    from core.tenancy.service import require_institution

    await require_institution(actor, institution_id)
    if not (actor.is_admin or actor.region_path or actor.has(*READERS)):
        raise NotFound("未找到")
    users = [u for u in await User.select(User.id, User.username, User.display_name, User.roles, User.title,
                                          User.department.name, User.active).where(
        User.institution == institution_id).order_by(User.display_name).output(load_json=True)
        if any(r in PHYSICIAN_ROLES for r in u["roles"] or [])]
    held = await _authorisations(institution_id, [u["id"] for u in users])
    certs = await Certificate.select().where((Certificate.institution == institution_id) & (Certificate.removed == 0))
    today = clock.today()
    soon = today + dt.timedelta(days=90)
    for u in users:
        mine = [a for a in held if a["user"] == u["id"]]
        u["active"] = [a for a in mine if rules.status_on(a["events"], today)[0] == AuthorisationStatus.active]
        u["expiring"] = [c for c in certs if c["user"] == u["id"] and c["expires_on"] and c["expires_on"] <= soon]
    return users


# ---------------------------------------------------------------- certificates (NAT-19, the filing's certificates)


async def sync_qualifications(user_id: int, day: dt.date | None = None) -> list[str]:
    """Inside the caller's transaction: the user's qualification names follow the
    certificates in force on ``day`` (names entered without a certificate record stay)."""
    user = await User.select(User.qualifications).where(User.id == user_id).first().output(load_json=True)
    certs = await Certificate.select(Certificate.name, Certificate.issued_on, Certificate.expires_on,
                                     Certificate.removed).where(Certificate.user == user_id)
    names = rules.qualifications(user["qualifications"] or [], certs, _today(day))
    if names != list(user["qualifications"] or []):
        await User.update({User.qualifications: names}).where(User.id == user_id)
    return names


async def practice_since(user_id: int) -> dt.date | None:
    """The issue date of the physician's earliest practice certificate (医师执业证书) on
    record, not removed: what HOSP-5 counts the years of clinical practice from."""
    rows = await Certificate.select(Certificate.issued_on).where(
        (Certificate.user == user_id) & (Certificate.kind == "practice") & (Certificate.removed == 0)
        & Certificate.issued_on.is_not_null())
    return min((r["issued_on"] for r in rows), default=None)


async def certificates(user_id: int) -> list[dict]:
    rows = await Certificate.select().where(Certificate.user == user_id).order_by(Certificate.kind).order_by(
        Certificate.id)
    today = clock.today()
    for r in rows:
        r["kind_label"] = rules.CERTIFICATE_KINDS.get(r["kind"], r["kind"])
        r["state"] = ("removed" if r["removed"] else "expired" if r["expires_on"] and r["expires_on"] < today
                      else "not_yet" if r["issued_on"] and r["issued_on"] > today else "valid")
    return rows


async def add_certificate(actor: Actor, user_id: int, data: CertificateInput) -> int:
    """Medical affairs records a certificate (NAT-19): audited; the qualifications follow."""
    person = await physician(actor, user_id)
    if not may_manage(actor, person["institution"]):
        raise NotFound("未找到该医师")
    name = data.name.strip() or rules.DEFAULT_NAMES.get(data.kind, "")
    problems = rules.certificate_problems(kind=data.kind, name=name, issued_on=data.issued_on,
                                          expires_on=data.expires_on)
    if problems:
        raise DomainError(problems)
    async with write_transaction():
        rows = await Certificate.insert(Certificate(
            institution=person["institution"], user=user_id, kind=data.kind, name=name[:60],
            number=data.number.strip()[:80], issuer=data.issuer.strip()[:120], issued_on=data.issued_on,
            expires_on=data.expires_on, note=data.note.strip()[:2000], created_by=actor.display_name[:100],
        )).returning(Certificate.id)
        names = await sync_qualifications(user_id)
        await audit.record(actor, "people.certificate_add", "physician", user_id, after={
            "certificate": rows[0]["id"], "kind": data.kind, "name": name, "expires_on": data.expires_on,
            "qualifications": names}, institution_id=person["institution"])
    return rows[0]["id"]


async def remove_certificate(actor: Actor, user_id: int, certificate_id: int, reason: str) -> None:
    """A certificate withdrawn or entered by mistake: kept for the archive, no longer counted."""
    person = await physician(actor, user_id)
    if not may_manage(actor, person["institution"]):
        raise NotFound("未找到该医师")
    if len(reason.strip()) < 2:
        raise DomainError(Problem("请填写移除理由（至少2个字）", "reason", "NAT-19"))
    async with write_transaction():
        done = await Certificate.update({Certificate.removed: 1, Certificate.note: reason.strip()[:2000]}).where(
            (Certificate.id == certificate_id) & (Certificate.user == user_id) & (Certificate.removed == 0)
        ).returning(Certificate.id)
        if not done:
            raise NotFound("未找到该证书")
        names = await sync_qualifications(user_id)
        await audit.record(actor, "people.certificate_remove", "physician", user_id, after={
            "certificate": certificate_id, "reason": reason.strip(), "qualifications": names},
            institution_id=person["institution"])


async def expire_certificates(today: dt.date | None = None) -> int:
    """The daily job: physicians whose certificate expired lose the qualification it gave."""
    day = _today(today)
    rows = await Certificate.select(Certificate.user).where(
        (Certificate.removed == 0) & (Certificate.expires_on < day)).distinct()
    changed = 0
    for r in rows:
        async with write_transaction():
            before = await User.select(User.qualifications).where(User.id == r["user"]).first().output(
                load_json=True)
            after = await sync_qualifications(r["user"], day)
            changed += int(list(before["qualifications"] or []) != after)
    return changed


# ---------------------------------------------------------------- authorisations (NAT-20)


async def _authorisations(institution_id: int, user_ids: list[int]) -> list[dict]:
    if not user_ids:
        return []
    rows = await Authorisation.select().where(
        (Authorisation.institution == institution_id) & Authorisation.user.is_in(user_ids)).order_by(Authorisation.id)
    events = await AuthorisationEvent.select().where(
        AuthorisationEvent.authorisation.is_in([r["id"] for r in rows] or [-1])).order_by(
        AuthorisationEvent.id).output(load_json=True)
    for r in rows:
        r["events"] = [e for e in events if e["authorisation"] == r["id"]]
    return rows


async def authorisations(user_id: int, institution_id: int, today: dt.date | None = None) -> list[dict]:
    """A physician's authorisations with their history and status today; a technology not in
    use today (stopped, suspended: core.lifecycle) suspends its authorisations."""
    from core.lifecycle import service as lifecycle

    day = _today(today)
    rows = await _authorisations(institution_id, [user_id])
    keys = [r["technology_key"] for r in rows if r["scope"] == "technology"]
    uses = await lifecycle.states(institution_id, keys) if keys else {}
    for r in rows:
        status, until = rules.status_on(r["events"], day)
        use = uses.get(r["technology_key"]) if r["scope"] == "technology" else None
        r["state"] = "technology" if status == AuthorisationStatus.active and use is not None and not use.in_use else status
        r["state_label"] = rules.STATUS_LABELS[r["state"]]
        if r["state"] == "technology":
            r["state_label"] = f"技术{use.label}（{use.rule}），授权随之暂停"
        r["label"] = (f"{r['technology_key']} {r['technology_name']}" if r["scope"] == "technology"
                      else f"{rules.LEVEL_LABELS.get(r['level'], '')}及以下手术")
        r["allowed"] = sorted(rules.ALLOWED.get(r["status"], set()))
        for e in r["events"]:
            e["action_label"] = rules.ACTIONS.get(e["action"], e["action"])
    return rows


async def technologies(institution_id: int) -> list[dict]:
    """What a technology authorisation may name: the institution's admitted restricted projects."""
    from core.admission.tables import Project
    from core.lifecycle.rules import technology_key

    rows = await Project.select(Project.id, Project.technology_code, Project.technology_name, Project.title).where(
        (Project.institution == institution_id) & (Project.status == "admitted")
        & (Project.tech_class == "restricted")).order_by(Project.id)
    seen: dict[str, dict] = {}
    for r in rows:
        key = technology_key(r["technology_code"], r["id"])
        seen[key] = {"key": key, "name": r["technology_name"] or r["title"]}
    return list(seen.values())


async def grant(actor: Actor, user_id: int, data: GrantInput, today: dt.date | None = None,
                hooks: Any = None) -> int:
    """The management body grants an authorisation (NAT-20); medical affairs records it. A
    province may make the examination results part of the basis (``authorisation.exam_rule``)."""
    person = await physician(actor, user_id)
    institution_id = person["institution"]
    if not may_manage(actor, institution_id):
        raise NotFound("未找到该医师")
    key = data.technology_key.strip().upper() if data.scope == "technology" else ""
    problems = rules.grant_problems(scope=data.scope, technology_key=key, level=data.level,
                                    valid_from=data.valid_from, valid_until=data.valid_until, ability=data.ability,
                                    training=data.training, decision=data.decision)
    names = {t["key"]: t["name"] for t in await technologies(institution_id)}
    if data.scope == "technology" and key and key not in names:
        problems.append(Problem("只能就本机构已准入的限制类技术授权", "technology_key", "NAT-20"))
    if not person["active"]:
        problems.append(Problem("该医师账号已停用", "user", "NAT-20"))
    # The province's database of trained physicians and their exams (NAT-26, NAT-33), read at
    # the grant: shown in its basis; where the province requires it, no record, no grant.
    from core.training.service import records_of

    evidence = await records_of(user_id, institution_id, key) if data.scope == "technology" and key else []
    if hooks is not None:
        from core.policy import policy

        rules_of = policy(hooks).authorisation
        if rules_of.exam_rule and len(data.exam.strip()) < 2:
            problems.append(Problem("请填写考核结果（授权须依据专业能力、培训情况和考核结果）", "exam",
                                    rules_of.exam_rule))
        if rules_of.training_rule and data.scope == "technology" and key in names and not evidence:
            problems.append(Problem(
                f"省质控中心培训数据库中没有该医师「{names[key]}」规范化培训合格的记录（结业考核合格并已报送、"
                f"外省调入评议合格，或过渡期名单已报省质控中心），不能授予该限制类技术权限：{rules_of.training_text}", "training",
                rules_of.training_rule))
    if problems:
        raise DomainError(problems)
    assert data.valid_from is not None and data.valid_until is not None
    async with write_transaction():
        existing = await Authorisation.select(Authorisation.id).where(
            (Authorisation.user == user_id) & (Authorisation.scope == "technology")
            & (Authorisation.technology_key == key) & (Authorisation.status != AuthorisationStatus.revoked)
        ).first() if data.scope == "technology" else None
        if existing is not None:
            raise DomainError(Problem("该医师已有该技术的授权，请在原授权上延续、暂停或恢复", "technology_key", "NAT-20"))
        rows = await Authorisation.insert(Authorisation(
            institution=institution_id, user=user_id, scope=data.scope, technology_key=key,
            technology_name=names.get(key, "")[:200], level=data.level if data.scope == "level" else None,
            status=AuthorisationStatus.active, valid_from=data.valid_from, valid_until=data.valid_until)).returning(Authorisation.id)
        auth_id = rows[0]["id"]
        await AuthorisationEvent.insert(AuthorisationEvent(
            authorisation=auth_id, action="grant", on=data.valid_from, valid_until=data.valid_until,
            ability=data.ability.strip(), training=data.training.strip(), exam=data.exam.strip(),
            decision=data.decision.strip(), evidence=[{"kind": e["kind"], "on": e["on"].isoformat() if e["on"] else "",
                                                        "text": e["text"]} for e in evidence],
            actor=actor.display_name[:100]))
        await audit.record(actor, "people.grant", "physician", user_id, after={
            "authorisation": auth_id, "scope": data.scope, "technology_key": key, "level": data.level,
            "valid_from": data.valid_from, "valid_until": data.valid_until, "decision": data.decision.strip(),
            "evidence": [e["text"] for e in evidence]},
            institution_id=institution_id)
    return auth_id


async def _authorisation(authorisation_id: int) -> dict:
    return await Authorisation.select().where(Authorisation.id == authorisation_id).first()


# An authorisation changes at the version its page read (core.changes' optimistic lock).
AUTHORISATION = changes.Versioned(
    table=Authorisation, record_type="physician_authorisation", action_prefix="people",
    snapshot=("status", "valid_until"), read=_authorisation, moved_on="该授权已被他人修改，请刷新后重试",
    conflict_field="version", link=lambda authorisation_id: "/people/",
    source=lambda authorisation_id: f"physician_authorisation:{authorisation_id}",
)


async def act(actor: Actor, user_id: int, authorisation_id: int, data: ActInput) -> None:
    """Renew, suspend, reinstate or revoke (NAT-20: dynamic management), at the version read."""
    person = await physician(actor, user_id)
    if not may_manage(actor, person["institution"]):
        raise NotFound("未找到该医师")
    row = await Authorisation.select().where(
        (Authorisation.id == authorisation_id) & (Authorisation.user == user_id)).first()
    if row is None:
        raise NotFound("未找到该授权")
    problems = []
    if data.action not in rules.ALLOWED.get(row["status"], set()):
        problems.append(Problem(f"当前状态（{rules.STATUS_LABELS.get(row['status'], row['status'])}）不能"
                                f"{rules.ACTIONS.get(data.action, data.action)}", "action", "NAT-20"))
    on = data.on or clock.today()
    last = await AuthorisationEvent.select(AuthorisationEvent.on).where(
        AuthorisationEvent.authorisation == authorisation_id).order_by(AuthorisationEvent.on, ascending=False).first()
    if last and on < last["on"]:
        problems.append(Problem(f"日期不能早于上一次决定（{last['on']}）", "on", "NAT-20"))
    if data.action == "renew":
        problems += rules.validity_problems(on, data.valid_until)
        if data.valid_until and data.valid_until <= row["valid_until"]:
            problems.append(Problem(f"延续后的有效期须晚于原有效期（{row['valid_until']}）", "valid_until", "NAT-20"))
    else:
        problems += rules.reason_problems(data.reason)
    problems += rules.decision_problems(data.decision)
    if problems:
        raise DomainError(problems)
    status = {"suspend": AuthorisationStatus.suspended, "reinstate": AuthorisationStatus.active,
              "revoke": AuthorisationStatus.revoked}.get(data.action, row["status"])
    async with write_transaction():
        values: dict[Any, Any] = {Authorisation.status: status}
        if data.action == "renew":
            values[Authorisation.valid_until] = data.valid_until
        # The audit event is the physician's (their page's history), written below.
        await AUTHORISATION.take(authorisation_id, data.version, values)
        await AuthorisationEvent.insert(AuthorisationEvent(
            authorisation=authorisation_id, action=data.action, on=on,
            valid_until=data.valid_until if data.action == "renew" else None, exam=data.exam.strip(),
            decision=data.decision.strip(), reason=data.reason.strip(), actor=actor.display_name[:100]))
        await audit.record(actor, f"people.{data.action}", "physician", user_id, before={
            "authorisation": authorisation_id, "status": row["status"], "valid_until": row["valid_until"]}, after={
            "authorisation": authorisation_id, "status": status, "on": on, "valid_until": data.valid_until,
            "reason": data.reason.strip(), "decision": data.decision.strip()}, institution_id=person["institution"])
        if data.action in ("suspend", "revoke"):
            await recheck_cases(person["institution"], user_id, person["display_name"], on)


# ---------------------------------------------------------------- cases' operators (core.cases calls these)


async def recheck_cases(institution_id: int, user_id: int, name: str, since: dt.date) -> int:
    """Inside the caller's transaction: after a suspension or revocation effective ``since``
    (NAT-20), the physician's cases already recorded with an operation date from then on are
    checked again; each operator problem they did not have becomes a finding (the case came in
    anyway: the regulator is warned). Returns the findings added."""
    from core.cases.tables import CaseRecord
    from core.lifecycle.rules import technology_key

    cases = [c for c in await performed(user_id, institution_id, limit=5000) if c["operated_on"] >= since]
    if not cases:
        return 0
    projects = {r["id"]: r["project"] for r in await CaseRecord.select(CaseRecord.id, CaseRecord.project).where(
        CaseRecord.id.is_in([c["id"] for c in cases]))}
    held = await _authorisations(institution_id, [user_id])
    known = {(f["record"], f["message"]) for f in await OperatorFinding.select(
        OperatorFinding.record, OperatorFinding.message).where(
        (OperatorFinding.user == user_id) & OperatorFinding.record.is_in([c["id"] for c in cases]))}
    rows = []
    for c in cases:
        label = f"{c['technology_code'] or ''} {c['technology_name'] or ''}".strip()
        for p in rules.operator_problems(name, held, day=c["operated_on"],
                                         technology_key=technology_key(c["technology_code"], projects[c["id"]]),
                                         technology_label=label, restricted=c["tech_class"] == "restricted",
                                         level=c["surgery_level"]):
            if (c["id"], p.message) not in known:
                rows.append(OperatorFinding(record=c["id"], institution=institution_id, user=user_id,
                                            operated_on=c["operated_on"],
                                            technology_code=c["technology_code"] or f"P{projects[c['id']]}",
                                            rule=p.rule or "NAT-20", message=p.message))
    if rows:
        await OperatorFinding.insert(*rows)
    return len(rows)


# Every batch of cases asks it: built once (``core.db.Prepared``).
_ANY_KEPT = Prepared(lambda institution_id: Authorisation.select(Authorisation.id).where(
    Authorisation.institution == institution_id).first(), 1)


async def check_operators(institution_id: int, items: list[tuple[Any, dict | None, Any, dict]]
                          ) -> list[list[tuple[int, Problem]]]:
    """For each (case, project, grade, staff by login name) of a batch: the operators
    without a valid authorisation on the operation date (NAT-20) — for the restricted
    technology when the case counts as restricted, and for the operation's level. Only
    for an institution that keeps its authorisations here (any recorded); otherwise none."""
    from core.lifecycle import service as lifecycle
    from core.lifecycle.rules import technology_key

    if await _ANY_KEPT.run(institution_id) is None:
        return [[] for _ in items]
    ids = sorted({staff[o]["id"] for case, _, _, staff in items for o in case.operators if o in staff})
    held = await _authorisations(institution_id, ids)
    # The technology's state of use on every operation date of the batch, read at once.
    uses = await lifecycle.states_on(
        (institution_id, technology_key(project["technology_code"], project["id"]), case.operated_on)
        for case, project, grade, _ in items if project is not None and grade.restricted)
    out = []
    for case, project, grade, staff in items:
        found: list[tuple[int, Problem]] = []
        if project is not None:
            key = technology_key(project["technology_code"], project["id"])
            label = f"{project['technology_code'] or ''} {project['technology_name'] or project['title']}".strip()
            in_use = True
            if grade.restricted:
                in_use = uses[(institution_id, key.strip().upper(), case.operated_on)].in_use
            for login in case.operators:
                user = staff.get(login)
                if user is None:
                    continue
                found += [(user["id"], p) for p in rules.operator_problems(
                    user["display_name"], [a for a in held if a["user"] == user["id"]], day=case.operated_on,
                    technology_key=key, technology_label=label, restricted=grade.restricted,
                    level=grade.surgery_level, technology_in_use=in_use)]
        out.append(found)
    return out


async def authorised_technologies(institution_id: int) -> set[str]:
    """The technologies whose physicians the institution authorises here (at least one
    technology authorisation recorded, whatever its state): for these an operator without a
    valid authorisation is refused at entry (NAT-20); for the others the portal cannot tell
    whether the register is kept elsewhere, and the operator is a finding (warning) only."""
    rows = await Authorisation.select(Authorisation.technology_key).where(
        (Authorisation.institution == institution_id) & (Authorisation.scope == "technology")).distinct()
    return {r["technology_key"] for r in rows}


async def record_findings(case_id: int, institution_id: int, case: Any, project: dict,
                          findings: list[tuple[int, Problem]]) -> None:
    """Inside the case's write: each finding stored with the case (shown on it, in the
    operator's archive and to the regulator)."""
    await record_findings_many([(case_id, institution_id, case, project, findings)])


async def record_findings_many(cases: list[tuple[int, int, Any, dict, list[tuple[int, Problem]]]]) -> None:
    """``record_findings`` for a batch of cases (case id, institution, case, project,
    findings): one insert."""
    from core.db import insert_many

    await insert_many(OperatorFinding, [
        dict(record=case_id, institution=institution_id, user=user_id, operated_on=case.operated_on,
             technology_code=project["technology_code"] or f"P{project['id']}", rule=p.rule or "NAT-20",
             message=p.message)
        for case_id, institution_id, case, project, findings in cases for user_id, p in findings])


async def case_findings(case_id: int) -> list[dict]:
    return await OperatorFinding.select(OperatorFinding.user.display_name, OperatorFinding.rule,
                                        OperatorFinding.message).where(OperatorFinding.record == case_id)


# ---------------------------------------------------------------- the archive (NAT-19)


async def performed(user_id: int, institution_id: int, limit: int = 200) -> list[dict]:
    """The cases the physician operated (newest first), voided ones left out."""
    from core.cases.tables import CaseRecord

    contains = ("EXISTS (SELECT 1 FROM json_each(case_record.operators) j WHERE j.value = {})" if is_sqlite()
                else "case_record.operators::jsonb @> to_jsonb(ARRAY[{}]::int[])")
    query = CaseRecord.select(
        CaseRecord.id, CaseRecord.external_id, CaseRecord.technology_code, CaseRecord.technology_name,
        CaseRecord.operated_on, CaseRecord.operation_code, CaseRecord.operation_name, CaseRecord.surgery_level,
        CaseRecord.complication, CaseRecord.complications, CaseRecord.adverse_event, CaseRecord.adverse_events,
        CaseRecord.outcome, CaseRecord.tech_class,
    ).where((CaseRecord.institution == institution_id) & (CaseRecord.voided == False)).order_by(  # noqa: E712
        CaseRecord.operated_on, ascending=False).limit(limit)
    from piccolo.querystring import QueryString

    query = query.where(QueryString(contains, int(user_id)))
    return await query


async def archive(actor: Actor, user_id: int) -> PhysicianArchive:
    """One physician's technology archive (NAT-19): person, certificates,
    authorisations with history, cases performed, complications and adverse events,
    operator findings, training and examinations."""
    from core.training import service as training

    person = await physician(actor, user_id)
    inst = person["institution"]
    cases = await performed(user_id, inst)
    auths = await authorisations(user_id, inst)
    certs = await certificates(user_id)
    findings = await OperatorFinding.select(
        OperatorFinding.record, OperatorFinding.operated_on, OperatorFinding.technology_code, OperatorFinding.rule,
        OperatorFinding.message).where(OperatorFinding.user == user_id).order_by(
        OperatorFinding.operated_on, ascending=False)
    by_technology: dict[str, int] = {}
    for c in cases:
        by_technology[f"{c['technology_code']} {c['technology_name']}".strip()] = by_technology.get(
            f"{c['technology_code']} {c['technology_name']}".strip(), 0) + 1
    exams = [{"on": e["on"], "what": a["label"], "text": e["exam"]} for a in auths for e in a["events"] if e["exam"]]
    reviews = await training.reviews(actor, user_id=user_id)
    return PhysicianArchive(
        person=person, certificates=certs, authorisations=auths, cases=cases,
        by_technology=sorted(by_technology.items()),
        incidents=[c for c in cases if c["complication"] or c["adverse_event"]], findings=findings,
        training=[c for c in certs if c["kind"] == "training"]
        + [{"on": e["on"], "what": a["label"], "text": e["training"]} for a in auths for e in a["events"]
           if e["training"]],
        exams=exams, may_manage=may_manage(actor, inst),
        trained_records=await training.records_of(user_id, inst),
        reviews=[r for r in reviews if r["kind"] == "transfer"],
        applications=[r for r in reviews if r["kind"] == "transitional"],
        is_self=actor.id == user_id,
        technologies=await technologies(inst) if may_manage(actor, inst) else [],
        technologies_self=await technologies(inst) if actor.id == user_id else [],
    )
