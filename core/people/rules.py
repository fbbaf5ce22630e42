"""Pure rules of physicians' authorisations and certificates (NAT-19, NAT-20): plain values
in, ``Problem``s or states out. No I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from core.errors import Problem
from core.people.schemas import STATUS_LABELS, AuthorisationStatus

CERTIFICATE_KINDS = {"qualification": "医师资格证书", "practice": "医师执业证书", "title": "专业技术职称证书",
                     "training": "培训合格证书", "other": "其他证书"}
# The names the filing and admission rules read (plugins name them, e.g. 医师资格证).
DEFAULT_NAMES = {"qualification": "医师资格证", "practice": "医师执业证", "title": "", "training": "", "other": ""}
ACTIONS = {"grant": "授予", "renew": "延续", "suspend": "暂停", "reinstate": "恢复", "revoke": "取消"}
LEVEL_LABELS = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
# Which transitions each status allows (NAT-20: granted and revoked dynamically).
ALLOWED = {AuthorisationStatus.active: {"renew", "suspend", "revoke"},
           AuthorisationStatus.suspended: {"reinstate", "revoke", "renew"}, AuthorisationStatus.revoked: set()}
MAX_YEARS = 10


def status_on(events: Iterable[Mapping], day: dt.date) -> tuple[str, dt.date | None]:
    """An authorisation's status on ``day`` from its events (grant, renew, suspend,
    reinstate, revoke, each with ``on`` and for grant/renew ``valid_until``): what a case
    operated that day is checked against, whatever happened later."""
    status, until = "none", None
    for e in sorted(events, key=lambda e: (e["on"], e.get("id") or 0)):
        if e["on"] > day:
            break
        action = e["action"]
        if action in ("grant", "renew"):
            until = e.get("valid_until") or until
            if status == "none":
                status = AuthorisationStatus.active  # a renewal keeps a suspension; nothing revives a revocation
        elif action == "suspend" and status == AuthorisationStatus.active:
            status = AuthorisationStatus.suspended
        elif action == "reinstate" and status == AuthorisationStatus.suspended:
            status = AuthorisationStatus.active
        elif action == "revoke":
            status = AuthorisationStatus.revoked
    if status == "none":
        return "not_yet", None
    if status == AuthorisationStatus.active and until is not None and day > until:
        return "expired", until
    return status, until


def grant_problems(*, scope: str, technology_key: str, level: int | None, valid_from: dt.date | None,
                   valid_until: dt.date | None, ability: str, training: str, decision: str) -> list[Problem]:
    """NAT-20: an authorisation names what it covers, its validity, the physician's ability
    and training it rests on, and the management body's decision (NAT-15)."""
    problems = []
    if scope == "technology" and not technology_key.strip():
        problems.append(Problem("请选择授权的限制类技术", "technology_key", "NAT-20"))
    if scope == "level" and level not in LEVEL_LABELS:
        problems.append(Problem("请选择授权的手术级别（一至四级）", "level", "NAT-20"))
    if scope not in ("technology", "level"):
        problems.append(Problem("请选择授权类型（技术或手术级别）", "scope", "NAT-20"))
    problems += validity_problems(valid_from, valid_until)
    if len(ability.strip()) < 2:
        problems.append(Problem("请填写专业能力评估情况（NAT-20：根据专业能力授权）", "ability", "NAT-20"))
    if len(training.strip()) < 2:
        problems.append(Problem("请填写培训情况（NAT-20：根据培训情况授权）", "training", "NAT-20"))
    problems += decision_problems(decision)
    return problems


def validity_problems(valid_from: dt.date | None, valid_until: dt.date | None) -> list[Problem]:
    problems = []
    if valid_from is None:
        problems.append(Problem("请填写生效日期", "valid_from", "NAT-20"))
    if valid_until is None:
        problems.append(Problem("请填写有效期至", "valid_until", "NAT-20"))
    if valid_from and valid_until:
        if valid_until < valid_from:
            problems.append(Problem("有效期至不能早于生效日期", "valid_until", "NAT-20"))
        elif valid_until > valid_from.replace(year=valid_from.year + MAX_YEARS, day=min(valid_from.day, 28)):
            problems.append(Problem(f"授权有效期不能超过 {MAX_YEARS} 年，到期须重新评估延续", "valid_until", "NAT-20"))
    return problems


def decision_problems(decision: str) -> list[Problem]:
    if len(decision.strip()) < 2:
        return [Problem("请填写医疗技术临床应用管理专门组织的决定（会议或文件）", "decision", "NAT-15")]
    return []


def reason_problems(reason: str) -> list[Problem]:
    if len(reason.strip()) < 2:
        return [Problem("请填写理由（至少2个字）", "reason", "NAT-20")]
    return []


def certificate_problems(*, kind: str, name: str, issued_on: dt.date | None, expires_on: dt.date | None
                         ) -> list[Problem]:
    problems = []
    if kind not in CERTIFICATE_KINDS:
        problems.append(Problem("请选择证书类别", "kind", "NAT-19"))
    if not name.strip():
        problems.append(Problem("请填写证书名称（如 医师资格证、医师执业证、主任医师）", "name", "NAT-19"))
    elif len(name) > 60:
        problems.append(Problem("证书名称不能超过60字", "name", "NAT-19"))
    if issued_on and expires_on and expires_on < issued_on:
        problems.append(Problem("有效期至不能早于发证日期", "expires_on", "NAT-19"))
    return problems


def valid_names(certificates: Iterable[Mapping], day: dt.date) -> set[str]:
    """Names of the certificates in force on ``day`` (not removed, not expired)."""
    return {c["name"] for c in certificates if not c.get("removed")
            and (c.get("expires_on") is None or c["expires_on"] >= day)
            and (c.get("issued_on") is None or c["issued_on"] <= day)}


def qualifications(current: Iterable[str], certificates: Iterable[Mapping], day: dt.date) -> list[str]:
    """The qualification names the rules read (HOSP-5, the filing's certificates): those
    entered without a certificate record stay; those with a record follow its validity."""
    managed = {c["name"] for c in certificates}
    kept = [q for q in current if q not in managed]
    return kept + sorted(valid_names(certificates, day) - set(kept))


def operator_problems(name: str, authorisations: Iterable[Mapping], *, day: dt.date, technology_key: str,
                      technology_label: str, restricted: bool, level: int | None,
                      technology_in_use: bool = True) -> list[Problem]:
    """NAT-20: the operator of a case holds, on the operation date, a valid authorisation
    for the restricted technology and one for the operation's level (level n covers 1…n).
    ``authorisations``: rows with ``scope``, ``technology_key``, ``level``, ``events``.
    A missing technology authorisation is on field ``operators`` (refused at entry unless
    declared, core.cases); a missing level one on ``operation_code`` (a warning only)."""
    problems = []
    if restricted:
        held = [a for a in authorisations if a["scope"] == "technology" and a["technology_key"] == technology_key]
        states = [status_on(a["events"], day)[0] for a in held]
        if AuthorisationStatus.active not in states:
            why = "无该技术授权" if not held else f"该技术授权{STATUS_LABELS.get(states[-1], states[-1])}"
            problems.append(Problem(f"术者{name}在手术日期（{day}）{why}：{technology_label}", "operators", "NAT-20"))
        elif not technology_in_use:
            problems.append(Problem(f"术者{name}的{technology_label}授权因该技术在手术日期暂停或停止而暂停",
                                    "operators", "NAT-20"))
    if level:
        held = [a for a in authorisations if a["scope"] == "level" and (a["level"] or 0) >= level]
        if not any(status_on(a["events"], day)[0] == AuthorisationStatus.active for a in held):
            problems.append(Problem(f"术者{name}在手术日期（{day}）无{LEVEL_LABELS[level]}手术授权",
                                    "operation_code", "NAT-20"))
    return problems
