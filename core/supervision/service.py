"""Risk warnings (风险预警): evaluated from the plugins' ``warning_rules`` on live data, and
their life — raised, seen, explained or corrected with attachments, closed or escalated
(NAT-41: the violations the portal can detect; each plugin's rules cite its own ids).

The only writer of ``risk_warning`` and ``risk_warning_entry``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from piccolo.query import OrderByRaw

from core import clock
from core import listing as listing_
from core.accounts.roles import HOSPITAL_ROLES
from core.accounts.schemas import SYSTEM, Actor
from core.accounts.tables import User
from core.audit import service as audit
from core.changes import Versioned
from core.contract import ContractError, WarningRule
from core.db import ids_clause, write_transaction
from core.errors import DomainError, NotFound, Problem
from core.plugins import HookView
from core.supervision import rules
from core.supervision.detectors import Finding, Scope, registered
from core.supervision.rules import WarningStatus
from core.supervision.tables import RiskWarning, WarningEntry
from core.tenancy.service import visible_institution_ids
from core.tenancy.tables import Region

RECORDS_KEPT = 20  # records behind one warning, linked from it (the latest first)
ANSWERERS = ("medical_affairs", "hospital_head")


# ---------------------------------------------------------------- the rules in force


class RuleInForce(WarningRule, frozen=True):
    """A warning rule with the plugin that supplied it."""

    plugin: str = ""


def rules_in_force(hooks: HookView) -> list[RuleInForce]:
    """Every enabled plugin's ``warning_rules``, the first answer for a key winning (the
    national plugin answers last). An unknown detector is a ``ContractError`` naming the
    plugin and the rule's key."""
    if "warning_rules" in hooks.memo:
        return hooks.memo["warning_rules"]
    detectors = registered()
    found: dict[str, RuleInForce] = {}
    for answer in hooks.answers("warning_rules"):
        for rule in answer.value:
            if rule.detector not in detectors:
                raise ContractError(answer.plugin, "warning_rules", f"{rule.key}.detector",
                                    f"未知的检测项 {rule.detector!r}（可用：{'、'.join(sorted(detectors))}）")
            if rule.key not in found:
                found[rule.key] = RuleInForce(**{f: getattr(rule, f) for f in rule.__struct_fields__},
                                              plugin=answer.plugin)
    hooks.memo["warning_rules"] = list(found.values())
    return hooks.memo["warning_rules"]


# ---------------------------------------------------------------- evaluation


async def _recipients(institution_id: int, roles: tuple[str, ...]) -> list[int]:
    """Active users of the institution holding one of ``roles``."""
    rows = await User.select(User.id, User.roles).where(
        (User.institution == institution_id) & (User.active == True)).output(load_json=True)  # noqa: E712
    return [r["id"] for r in rows if set(r["roles"] or ()) & set(roles)]


async def _regulators(region_ids: list[int]) -> list[int]:
    """Active regulators of those regions."""
    rows = await User.select(User.id, User.roles).where(
        User.region.is_in([r for r in region_ids if r] or [-1]) & (User.active == True)).output(  # noqa: E712
        load_json=True)
    return [r["id"] for r in rows if "regulator" in (r["roles"] or ())]


async def _entry(warning_id: int, action: str, actor: Actor, note: str = "", attachments: list[int] | None = None):
    await WarningEntry.insert(WarningEntry(warning=warning_id, action=action, actor_name=actor.display_name[:100],
                                           note=note, attachments=attachments or []))


async def _raise(rule: RuleInForce, finding: Finding, today: dt.date) -> int:
    from core.inbox import service as inbox
    from core.supervision.detectors import DETECTORS

    records = await DETECTORS[rule.detector].records(finding, RECORDS_KEPT)
    rows = await RiskWarning.insert(RiskWarning(
        institution=finding.institution_id, rule_key=rule.key, detector=rule.detector, rule_id=rule.rule,
        title=rule.title, description=rule.description, severity=rule.severity, audience=list(rule.audience),
        audience_key=audience_key(rule.audience),
        fingerprint=finding.fingerprint[:120], technology_code=finding.technology_code,
        technology_name=finding.technology_name, detail=finding.detail, count=finding.count,
        records=[{"type": r.type, "id": r.id, "label": r.label, "href": r.href} for r in records],
        fact_on=finding.fact_on, raised_on=today, last_checked_on=today,
    )).returning(RiskWarning.id)
    warning_id = rows[0]["id"]
    await _entry(warning_id, "raised", SYSTEM, finding.detail)
    await audit.record(SYSTEM, "warning.raise", "risk_warning", warning_id,
                       after={"rule": rule.rule, "key": rule.key, "fingerprint": finding.fingerprint,
                              "count": finding.count}, institution_id=finding.institution_id)
    users = await _recipients(finding.institution_id, tuple(a for a in rule.audience if a in HOSPITAL_ROLES))
    if users:
        await inbox.deliver(users, f"风险预警：{rule.title}（{rule.rule}）", finding.detail,
                            link=f"/warnings/{warning_id}", source=f"warning:{warning_id}")
    return warning_id


async def evaluate(hooks: HookView, today: dt.date | None = None, *,
                   institution_ids: list[int] | None = None) -> dict[str, int]:
    """Run every rule in force over ``institution_ids`` (``None``: all) and bring the
    warnings up to date: a new finding raises a warning (its institution's audience is
    notified); an open warning found again takes the new count; one no longer found is
    marked 已不再检出 (it stays open until the regulator closes it); a closed warning
    found again with more records than when it was closed is raised anew."""
    today = today or clock.today()
    scope_ids = tuple(institution_ids) if institution_ids is not None else None
    counts = {"raised": 0, "updated": 0, "cleared": 0}
    from core.supervision.detectors import DETECTORS

    for rule in rules_in_force(hooks):
        findings = await DETECTORS[rule.detector].find(Scope(scope_ids, today, hooks))
        query = RiskWarning.select(RiskWarning.id, RiskWarning.institution, RiskWarning.fingerprint,
                                   RiskWarning.status, RiskWarning.count, RiskWarning.still_detected).where(
            RiskWarning.rule_key == rule.key).order_by(RiskWarning.id)
        if scope_ids is not None:
            query = query.where(RiskWarning.institution.is_in(list(scope_ids) or [-1]))
        latest = {(w["institution"], w["fingerprint"]): w for w in await query}
        found_keys = set()
        async with write_transaction():
            for f in findings:
                key = (f.institution_id, f.fingerprint[:120])
                found_keys.add(key)
                w = latest.get(key)
                if w is None or (w["status"] == WarningStatus.closed and f.count > w["count"]):
                    await _raise(rule, f, today)
                    counts["raised"] += 1
                elif w["status"] != WarningStatus.closed and (w["count"] != f.count or not w["still_detected"]):
                    values: dict[Any, Any] = {RiskWarning.count: f.count, RiskWarning.detail: f.detail,
                                              RiskWarning.fact_on: f.fact_on, RiskWarning.still_detected: True,
                                              RiskWarning.last_checked_on: today}
                    if w["count"] != f.count:
                        records = await DETECTORS[rule.detector].records(f, RECORDS_KEPT)
                        values[RiskWarning.records] = [{"type": r.type, "id": r.id, "label": r.label,
                                                        "href": r.href} for r in records]
                    await RiskWarning.update(values).where(RiskWarning.id == w["id"])
                    await _entry(w["id"], "recurred" if not w["still_detected"] else "updated", SYSTEM, f.detail)
                    counts["updated"] += 1
            for key, w in latest.items():
                if key not in found_keys and w["status"] != WarningStatus.closed and w["still_detected"]:
                    await RiskWarning.update({RiskWarning.still_detected: False, RiskWarning.last_checked_on: today}
                                             ).where(RiskWarning.id == w["id"])
                    await _entry(w["id"], "cleared", SYSTEM, "本次检测未再发现该问题")
                    counts["cleared"] += 1
    return counts


async def evaluate_for(actor: Actor, hooks: HookView, today: dt.date | None = None) -> dict[str, int]:
    """A regulator's 重新检测: the rules over the institutions of the actor's region. Audited."""
    if not (actor.is_admin or actor.has("regulator")):
        raise NotFound("未找到")
    ids = await visible_institution_ids(actor)
    counts = await evaluate(hooks, today, institution_ids=ids)
    async with write_transaction():
        await audit.record(actor, "warning.evaluate", "risk_warning", None, after=counts)
    return counts


# ---------------------------------------------------------------- reading


def audience_key(roles) -> str:
    """``",regulator,medical_affairs,"``: what ``listing`` matches a reader's roles against."""
    return "," + ",".join(roles) + "," if roles else ""


def _sees(actor: Actor, row: dict) -> bool:
    """Whether the actor is in the warning's audience (its tenancy is checked apart)."""
    if actor.is_admin:
        return True
    audience = set(row["audience"] or ())
    return bool(audience & set(actor.roles))


def _decorate(row: dict, actor: Actor) -> dict:
    row["status_label"] = rules.STATUS_LABELS.get(row["status"], row["status"])
    row["severity_label"] = rules.SEVERITY_LABELS.get(row["severity"], row["severity"])
    row["open"] = row["status"] in rules.OPEN
    own = actor.institution_id is not None and actor.institution_id == row["institution"]
    row["may_answer"] = own and actor.has(*ANSWERERS) and row["status"] in rules.TRANSITIONS["answer"]
    row["may_decide"] = actor.has("regulator") and row["open"] and (
        row["status"] != WarningStatus.escalated or row.get("_above", False))
    row["may_escalate"] = actor.has("regulator") and row["status"] in rules.TRANSITIONS["escalate"]
    return row


decorate = _decorate  # for the to-do list, which reads an institution's warnings with its other work


_LIST_COLUMNS = (RiskWarning.id, RiskWarning.institution, RiskWarning.institution.name, RiskWarning.rule_key,
                 RiskWarning.rule_id, RiskWarning.title, RiskWarning.severity, RiskWarning.audience,
                 RiskWarning.technology_code, RiskWarning.technology_name, RiskWarning.detail, RiskWarning.count,
                 RiskWarning.raised_on, RiskWarning.status, RiskWarning.still_detected, RiskWarning.fact_on,
                 RiskWarning.escalated_to, RiskWarning.closed_at, RiskWarning.answered_at)


async def _visibility(actor: Actor) -> list[Any]:
    """Where-clauses for the warnings ``actor`` sees: its region's or institution's, and
    only where one of its roles is in the rule's audience."""
    conditions = []
    ids = await visible_institution_ids(actor)
    if ids is not None:
        # The region's institutions written into the statement (``ids_clause``): the province's
        # thousand bound one by one cost its dashboard more than the query did.
        conditions.append(ids_clause('"risk_warning"."institution"', ids))
    if not actor.is_admin:
        roles = [r for r in actor.roles if r.isidentifier()] or ["-"]
        seen_by = RiskWarning.audience_key.like(f"%,{roles[0]},%")
        for role in roles[1:]:
            seen_by = seen_by | RiskWarning.audience_key.like(f"%,{role},%")
        conditions.append(seen_by)
    return conditions


# Open warnings first (then newest first): what still waits for someone.
_OPEN_FIRST = OrderByRaw("CASE WHEN status IN ({}) THEN 1 ELSE 0 END".format(
    ", ".join(f"'{s}'" for s in sorted(rules.OPEN))))


async def warning_list(actor: Actor, hooks: HookView) -> tuple[listing_.ListSpec, Any]:
    """The warnings page as a list (issue 11 point 11): search, filter by state, rule and
    date, sort, pages, XLSX export — within what ``actor`` sees. (spec, scope)"""
    conditions = await _visibility(actor)
    scope = None
    for condition in conditions:
        scope = condition if scope is None else scope & condition
    states = (("open", "全部待处理"), ("all", "全部"), *rules.STATUS_LABELS.items())

    def by_state(value: str) -> Any:
        if value == "open":
            return RiskWarning.status.is_in(sorted(rules.OPEN))
        return RiskWarning.id.is_not_null() if value == "all" else RiskWarning.status == value

    async def decorate(rows: list[dict]) -> list[dict]:
        return [_decorate(r, actor) for r in rows]

    spec = listing_.ListSpec(
        table=RiskWarning, columns=(*_LIST_COLUMNS, RiskWarning.answer, RiskWarning.close_note), title="风险预警",
        search=(RiskWarning.institution.name, RiskWarning.title, RiskWarning.technology_code,
                RiskWarning.technology_name, RiskWarning.detail), search_hint="医疗机构、预警、技术或情况",
        filters=(listing_.Filter(key="status", label="状态", choices=states, clause=by_state),
                 listing_.Filter(key="rule", label="预警", column=RiskWarning.rule_key,
                                 choices=tuple((r.key, f"{r.title}（{r.rule}）") for r in rules_in_force(hooks))),
                 listing_.Filter(key="since", label="预警日期起", column=RiskWarning.raised_on, kind="since"),
                 listing_.Filter(key="until", label="预警日期止", column=RiskWarning.raised_on, kind="until")),
        sorts=(listing_.Sort("open", "待处理优先", _OPEN_FIRST), listing_.Sort("raised_on", "预警日期", RiskWarning.raised_on),
               listing_.Sort("count", "涉及数量", RiskWarning.count), listing_.Sort("id", "编号", RiskWarning.id)),
        default_sort="-open",
        export=(listing_.field("编号", "id"), listing_.field("医疗机构", "institution.name"),
                listing_.field("预警", "title"), listing_.field("依据", "rule_id"),
                listing_.field("严重程度", "severity_label"),
                listing_.ExportColumn("技术", lambda r: f"{r['technology_code']} {r['technology_name']}".strip()),
                listing_.field("情况", "detail"), listing_.field("涉及数量", "count"), listing_.field("预警日期", "raised_on"),
                listing_.field("状态", "status_label"), listing_.field("仍检出", "still_detected"),
                listing_.field("机构答复", "answer"), listing_.field("处理意见", "close_note")),
        decorate=decorate)
    return spec, scope


async def listing(actor: Actor, *, status: str = "", rule_key: str = "", institution_id: int | None = None,
                  year: int | None = None, limit: int = 500) -> list[dict]:
    """The warnings the actor sees: a regulator or the QC centre its region's, an
    institution's users their own, each only where its role is in the rule's audience;
    open ones first, newest first, at most ``limit``. ``status``: a status, or ``open``
    for every open one. Filtered and limited in SQL (the region may hold thousands)."""
    conditions = await _visibility(actor)
    if rule_key:
        conditions.append(RiskWarning.rule_key == rule_key)
    if institution_id is not None:
        conditions.append(RiskWarning.institution == institution_id)
    if year is not None:
        conditions.append((RiskWarning.raised_on >= dt.date(year, 1, 1))
                          & (RiskWarning.raised_on <= dt.date(year, 12, 31)))

    async def fetch(state, n: int) -> list[dict]:
        query = RiskWarning.select(*_LIST_COLUMNS).where(state).order_by(RiskWarning.id, ascending=False)
        for condition in conditions:  # piccolo's where() changes the query: one query per call
            query = query.where(condition)
        return await query.limit(n).output(load_json=True)

    if status and status != "open":
        rows = await fetch(RiskWarning.status == status, limit)
    else:
        rows = await fetch(RiskWarning.status.is_in(list(rules.OPEN)), limit)
        if status != "open" and len(rows) < limit:
            rows += await fetch(RiskWarning.status == WarningStatus.closed, limit - len(rows))
    return [_decorate(r, actor) for r in rows]


async def open_count(actor: Actor) -> int:
    return len(await listing(actor, status="open"))


async def _above(actor: Actor, region_id: int | None) -> bool:
    """Whether the actor's region is ``region_id`` or above it (decides an escalated warning)."""
    if region_id is None or not actor.region_path:
        return False
    row = await Region.select(Region.path).where(Region.id == region_id).first()
    return bool(row) and row["path"].startswith(actor.region_path)


async def _read(warning_id: int) -> dict:
    row = await RiskWarning.select(*RiskWarning.all_columns(), RiskWarning.institution.name,
                                   RiskWarning.institution.region, RiskWarning.institution.licence_region).where(
        RiskWarning.id == warning_id).first().output(load_json=True)
    if row is None:
        raise NotFound("未找到该预警")
    return row


async def _visible(actor: Actor, warning_id: int) -> dict:
    """The warning if it is in the actor's tenant and audience; else ``NotFound``."""
    from core.tenancy.service import require_institution

    row = await _read(warning_id)
    try:
        await require_institution(actor, row["institution"])
    except NotFound:
        raise NotFound("未找到该预警") from None
    if not _sees(actor, row):
        raise NotFound("未找到该预警")
    row["_above"] = actor.is_admin or await _above(actor, row["escalated_to"])
    return row


async def get(actor: Actor, warning_id: int, *, mark_seen: bool = False) -> dict:
    """One warning with its history and attachments. An institution user of its audience
    opening a raised warning marks it seen (机构已查看), once, audited."""
    from core.storage import service as storage

    row = await _visible(actor, warning_id)
    if mark_seen and row["status"] == WarningStatus.raised and actor.institution_id == row["institution"]:
        async with WARNING.change(actor, row, None, "seen",
                                  where=RiskWarning.status == WarningStatus.raised) as change:
            change.values[RiskWarning.status] = WarningStatus.seen
            change.values[RiskWarning.seen_at] = dt.datetime.now(dt.UTC)
            await _entry(warning_id, "seen", actor)
        row = await _visible(actor, warning_id)
    row["history"] = await WarningEntry.select().where(WarningEntry.warning == warning_id).order_by(
        WarningEntry.id).output(load_json=True)
    files = {f.id: f for f in await storage.list_for("risk_warning", [warning_id])}
    for entry in row["history"]:
        entry["label"] = ACTION_LABELS.get(entry["action"], entry["action"])
        entry["files"] = [files[i] for i in entry["attachments"] or [] if i in files]
    return _decorate(row, actor)


ACTION_LABELS = {"raised": "预警生成", "seen": "机构已查看", "explained": "机构提交情况说明",
                 "corrected": "机构提交整改情况", "escalated": "上报上级卫生健康行政部门", "closed": "关闭预警",
                 "cleared": "检测未再发现", "recurred": "再次检出", "updated": "检出数量变化"}


async def attachment(actor: Actor, warning_id: int, attachment_id: int):
    """An attachment of the warning, for its readers; another's answers ``NotFound``."""
    from core.storage import service as storage

    await _visible(actor, warning_id)
    info, path = await storage.read(actor, attachment_id)
    if info.owner_type != "risk_warning" or info.owner_id != warning_id:
        raise NotFound("未找到该附件")
    return info, path


# ---------------------------------------------------------------- the life of a warning


async def _snapshot(warning_id: int) -> dict:
    return await _read(warning_id)


WARNING = Versioned(
    table=RiskWarning, record_type="risk_warning", action_prefix="warning",
    snapshot=("status", "answer", "close_note", "escalated_to", "count"), read=_snapshot,
    moved_on="该预警已被他人处理，请刷新后重试", link=lambda i: f"/warnings/{i}", source=lambda i: f"warning:{i}",
    title=lambda row, text: f"风险预警：{row['title']}（{row['rule_id']}）{text}", conflict_field="status",
)


def _check(problems: list[Problem]) -> None:
    if problems:
        raise DomainError(problems)


async def answer(actor: Actor, warning_id: int, kind: str, text: str, files: list[tuple[str, bytes]] = (),
                 version: int | None = None) -> None:
    """The institution explains (情况说明) or reports its correction (已整改), with any
    number of attachments (PDF/JPG/PNG by content, size-limited, stored by hash); the
    regulators of its region and of its licence-issuing department are notified."""
    from core.storage import service as storage

    row = await _visible(actor, warning_id)
    if not (actor.institution_id == row["institution"] and actor.has(*ANSWERERS)):
        raise NotFound("未找到该预警")
    problems = rules.check_transition(row["status"], "answer") + rules.check_answer(kind, text)
    for name, data in files:
        if data:
            problems += storage.check_upload(name, data, "files")
    _check(problems)
    status = WarningStatus.explained if kind == "explained" else WarningStatus.corrected
    regulators = await _regulators([row["institution.region"], row["institution.licence_region"]])
    async with WARNING.change(actor, row, version, kind) as change:
        ids = [await storage.store(actor, institution_id=row["institution"], owner_type="risk_warning",
                                   owner_id=warning_id, filename=name, data=data, kind="warning_answer",
                                   field="files") for name, data in files if data]
        change.values.update({RiskWarning.status: status, RiskWarning.answer: text.strip(),
                              RiskWarning.answered_at: dt.datetime.now(dt.UTC),
                              RiskWarning.answered_by: actor.display_name[:100]})
        change.notify(regulators, f"：{row['institution.name']}已{rules.ANSWERS[kind]}")
        await _entry(warning_id, kind, actor, text.strip(), ids)


async def close(actor: Actor, warning_id: int, note: str, version: int | None = None) -> None:
    """The regulator closes the warning with its conclusion (an escalated one: the
    regulator it was escalated to, or above); the institution's audience is notified."""
    row = await _visible(actor, warning_id)
    if not actor.has("regulator"):
        raise NotFound("未找到该预警")
    problems = rules.check_transition(row["status"], "close") + rules.check_text(note, "note", "处理意见")
    if row["status"] == WarningStatus.escalated and not row["_above"]:
        problems.append(Problem("该预警已上报上级卫生健康行政部门，由上级关闭", "status", "NAT-41"))
    _check(problems)
    users = await _recipients(row["institution"], tuple(a for a in row["audience"] or () if a in HOSPITAL_ROLES))
    async with WARNING.change(actor, row, version, "close") as change:
        change.values.update({RiskWarning.status: WarningStatus.closed, RiskWarning.close_note: note.strip(),
                              RiskWarning.closed_at: dt.datetime.now(dt.UTC),
                              RiskWarning.closed_by: actor.display_name[:100]})
        change.notify(users, "：卫生健康行政部门已关闭")
        await _entry(warning_id, "closed", actor, note.strip())


async def escalate(actor: Actor, warning_id: int, note: str, version: int | None = None) -> None:
    """The regulator reports the warning up to the department above its own region, whose
    regulators are notified and decide it (NAT-41's sanctions above correction)."""
    row = await _visible(actor, warning_id)
    if not actor.has("regulator"):
        raise NotFound("未找到该预警")
    problems = rules.check_transition(row["status"], "escalate") + rules.check_text(note, "note", "上报理由")
    region = await Region.select(Region.parent).where(Region.id == actor.region_id).first() if actor.region_id else None
    parent = region["parent"] if region else None
    if parent is None:
        problems.append(Problem("本级已是最高一级卫生健康行政部门，无上级可上报；请直接处理并关闭", "status", "NAT-41"))
    _check(problems)
    users = await _recipients(row["institution"], tuple(a for a in row["audience"] or () if a in HOSPITAL_ROLES))
    async with WARNING.change(actor, row, version, "escalate") as change:
        change.values.update({RiskWarning.status: WarningStatus.escalated, RiskWarning.escalated_to: parent,
                              RiskWarning.escalated_at: dt.datetime.now(dt.UTC)})
        change.notify(await _regulators([parent]), "：下级部门已上报")
        change.notify(users, "：已上报上级卫生健康行政部门")
        await _entry(warning_id, "escalated", actor, note.strip())


# ---------------------------------------------------------------- export


EXPORT_COLUMNS = ("编号", "医疗机构", "预警", "依据", "严重程度", "技术", "情况", "涉及数量", "预警日期",
                  "状态", "仍检出", "机构答复", "处理意见")


async def export_rows(actor: Actor, **filters: Any) -> list[list]:
    rows = await listing(actor, limit=100_000, **filters)
    full = {r["id"]: r for r in await RiskWarning.select(
        RiskWarning.id, RiskWarning.answer, RiskWarning.close_note).where(
        RiskWarning.id.is_in([r["id"] for r in rows] or [-1]))}
    return [[r["id"], r["institution.name"], r["title"], r["rule_id"], r["severity_label"],
             f"{r['technology_code']} {r['technology_name']}".strip(), r["detail"], r["count"],
             r["raised_on"].isoformat(), r["status_label"], "是" if r["still_detected"] else "否",
             full[r["id"]]["answer"], full[r["id"]]["close_note"]] for r in rows]
