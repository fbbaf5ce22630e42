"""A technology's life after admission: the use cases, the only writer of
``technology_use``, ``technology_use_event`` and ``region_suspension``.

Asked by every way in — ``use_refusal`` / ``use_refusals`` answer whether a case, a first
case or a filing of a technology may be recorded in an institution on a date:

* the ethics gate (NAT-13; the province's own restatement from its plugin): a restricted
  technology whose ethics approval is not on record — HOSP-7's deferred path included —
  is refused;
* the state of use: 停止 / 注销备案 (NAT-25) and 暂停 — by the institution, by the
  department that issued its licence (NAT-41), or by the regulator of a region for all
  its institutions (NAT-25 (4), the province's rule from its plugin) — refuse anything
  performed from the day the restriction began.

Changes: ``stop`` (NAT-25 (1)–(4), HOSP-20, HOSP-19, NAT-22: the management committee's
decision recorded; restricted technologies' stop reports go through the province's
channel to the licence-issuing department and, for (4), to the province),
``suspend``/``lift`` (institution or its licence department), ``suspend_region`` /
``lift_region`` (a region's regulator), ``resume`` (a re-evaluation or a new filing,
never silently), ``on_filing_closed`` (the department cancelled or withdrew the filing).
Each change: one write transaction with its history row, its audit event and the
notices to everyone concerned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import msgspec

from core import changes, clock
from core.accounts.roles import HOSPITAL_ROLES
from core.accounts.schemas import Actor
from core.accounts.tables import User
from core.admission.tables import Project
from core.audit import service as audit
from core.contract import LifecyclePolicy
from core.db import Prepared, ids_clause, write_transaction
from core.errors import Conflict, DomainError, Forbidden, NotFound, Problem
from core.lifecycle import rules
from core.lifecycle.schemas import (
    LEVEL_LABELS,
    RESUMPTION,
    STATUS_LABELS,
    TRIGGER_BY_KEY,
    Level,
    Refusal,
    SuspensionStatus,
    TechnologyPage,
    UseAbilities,
    UseState,
    UseStatus,
)
from core.lifecycle.tables import RegionSuspension, TechnologyUse, UseEvent
from core.plugins import HookView
from core.tenancy.service import department_name
from core.tenancy.tables import Institution, Region

__all__ = ["Refusal", "UseQuery", "UseState", "history", "lift", "lift_region", "on_filing_closed", "region_suspensions",
           "resume", "state", "states", "stop", "suspend", "suspend_region", "technology_key", "use_refusal",
           "use_refusals"]

technology_key = rules.technology_key
MOVED_ON = "该技术的使用状态已由他人更新，请刷新页面后查看最新状态"
HOSPITAL_ACTORS = ("medical_affairs",)


class UseQuery(msgspec.Struct, frozen=True):
    """One question to ``use_refusals``: may ``institution_id`` record something of
    ``technology_key`` performed on ``on_date`` (``None``: today)? ``project_id`` names the
    admitted project cited (its ethics approval decides NAT-13); without it, the latest
    admitted project of that technology in the institution."""

    institution_id: int
    technology_key: str
    on_date: dt.date | None = None
    project_id: int | None = None


def _policy(hooks: HookView | None) -> LifecyclePolicy:
    if hooks is None:
        return LifecyclePolicy()
    from core.policy import policy

    return policy(hooks).lifecycle


# ---------------------------------------------------------------- reading the state


# The reads of ``use_refusals`` (a batch of cases asks them all): built once per shape
# (``core.db.Prepared``). A list page's many institutions (``states_many`` of a region's
# filings) are written into the statement instead (``ids_clause``): one shape per list length
# of up to a thousand ids would be built as slowly as piccolo's ``is_in`` the clause replaced.
FEW_IDS = 64


def _paths_query(where: Any) -> Any:
    return Institution.select(Institution.id, Institution.region.path).where(where)


def _own_query(where: Any) -> Any:
    return TechnologyUse.select().where(where)


_REGION_PATHS = Prepared(lambda ids: _paths_query(Institution.id.is_in(ids)), 1, lists=(0,))
_SUSPENSIONS = Prepared(lambda keys: RegionSuspension.select(
    *RegionSuspension.all_columns(), RegionSuspension.region.path, RegionSuspension.region.name,
    RegionSuspension.region.department).where(RegionSuspension.technology_key.is_in(keys)), 1, lists=(0,))
_OWN_ROWS = Prepared(lambda ids: _own_query(TechnologyUse.institution.is_in(ids)), 1, lists=(0,))
_PAST_EVENTS = Prepared(lambda ids, keys: UseEvent.select(
    UseEvent.institution, UseEvent.technology_key, UseEvent.action, UseEvent.status_after, UseEvent.by,
    UseEvent.event_on, UseEvent.rule, UseEvent.trigger, UseEvent.reason, UseEvent.document).where(
    UseEvent.institution.is_in(ids) & UseEvent.technology_key.is_in(keys)
    & UseEvent.action.is_in(list(rules.OWN_ACTIONS))).order_by(UseEvent.id), 2, lists=(0, 1))


async def _region_paths(institution_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(institution_ids))
    if len(ids) > FEW_IDS:
        rows = await _paths_query(ids_clause('"institution"."id"', ids))
    else:
        rows = await _REGION_PATHS.run(ids) if ids else []
    return {r["id"]: r["region.path"] or "/" for r in rows}


async def _suspensions(keys: Iterable[str]) -> list[dict]:
    keys = sorted(set(keys))
    return await _SUSPENSIONS.run(keys) if keys else []


def _in_force(own: dict | None, today: dt.date) -> dict | None:
    """The use row as it stands today: a restriction recorded to start later (a measure's
    date of effect) does not show yet."""
    if own is not None and own["status"] != UseStatus.in_use and own["since"] is not None and own["since"] > today:
        return None
    return own


def _covering(suspensions: list[dict], key: str, path: str) -> list[dict]:
    return [s for s in suspensions if s["technology_key"] == key and path.startswith(s["region.path"] or "/")]


async def _own_rows(pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], dict]:
    pairs = set(pairs)
    uids = {f"{i}:{k}" for i, k in pairs}
    # By institution (the uid is "<institution>:<technology_key>"), the uids checked here.
    ids = sorted({i for i, _ in pairs})
    if len(ids) > FEW_IDS:
        rows = await _own_query(ids_clause('"technology_use"."institution"', ids))
    else:
        rows = await _OWN_ROWS.run(ids) if ids else []
    return {(r["institution"], r["technology_key"]): r for r in rows if r["uid"] in uids}


async def _past_periods(pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], list[dict]]:
    """The institution's own restrictions that have ended (``rules.own_periods``), by
    (institution, technology) — one query."""
    pairs = set(pairs)
    rows = await _PAST_EVENTS.run(sorted({i for i, _ in pairs}), sorted({k for _, k in pairs})) if pairs else []
    grouped: dict[tuple[int, str], list[dict]] = {}
    for r in rows:
        if (r["institution"], r["technology_key"]) in pairs:
            grouped.setdefault((r["institution"], r["technology_key"]), []).append(r)
    return {pair: rules.own_periods(events) for pair, events in grouped.items()}


async def use_refusals(queries: Iterable[UseQuery | tuple], hooks: HookView | None = None) -> dict[tuple, Refusal]:
    """For many (institution, technology, date[, project]) at once — a few queries in all —
    the refusals, keyed by ``(institution_id, technology_key, on_date)`` as given; an
    allowed item is absent. Tuples are read as ``UseQuery`` fields in order."""
    items = [q if isinstance(q, UseQuery) else UseQuery(*q) for q in queries]
    if not items:
        return {}
    items = [msgspec.structs.replace(q, technology_key=q.technology_key.strip().upper()) for q in items]
    policy = _policy(hooks)
    paths = await _region_paths(q.institution_id for q in items)
    own = await _own_rows((q.institution_id, q.technology_key) for q in items)
    suspensions = await _suspensions(q.technology_key for q in items)
    past = await _past_periods((q.institution_id, q.technology_key) for q in items)
    projects = await _projects(items)
    today = clock.today()
    bars = await _overdue_bars(items, hooks, today)
    found: dict[tuple, Refusal] = {}
    for q in items:
        project = projects.get(("id", q.project_id)) if q.project_id else None
        project = project or projects.get((q.institution_id, q.technology_key))
        name = (project or {}).get("technology_name") or (own.get((q.institution_id, q.technology_key)) or {}).get(
            "technology_name") or q.technology_key
        refusal = None
        if project is not None:
            refusal = rules.ethics_refusal(project["tech_class"], project["ethics_status"], name, policy)
        if refusal is None:
            current = rules.effective_state(
                q.institution_id, q.technology_key, own.get((q.institution_id, q.technology_key)),
                _covering(suspensions, q.technology_key, paths.get(q.institution_id, "/")), q.on_date or today,
                past.get((q.institution_id, q.technology_key), []))
            refusal = rules.refusal(current, name, policy)
        if refusal is None:
            refusal = _overdue_refusal(bars, q, name, today)
        if refusal is not None:
            found[(q.institution_id, q.technology_key, q.on_date)] = refusal
    return found


async def _overdue_bars(items: list[UseQuery], hooks: HookView | None, today: dt.date) -> list[dict]:
    """Overdue obligations whose rule bars the technology's use (``consequence = "no_use"``,
    e.g. a province's transitional filing: 逾期不备案的不得再开展), for the queries' institutions."""
    from core.obligations import service as obligations

    until = max(q.on_date or today for q in items)
    return await obligations.overdue_bars(hooks, (q.institution_id for q in items),
                                          (q.technology_key for q in items), until)


def _overdue_refusal(bars: list[dict], q: UseQuery, name: str, today: dt.date) -> Refusal | None:
    """The first obligation overdue on the query's date that bars the technology's use."""
    from core.messages import t

    day = q.on_date or today
    bar = next((b for b in bars if b["institution"] == q.institution_id
                and b["technology_code"].upper() == q.technology_key and b["due_on"] < day), None)
    if bar is None:
        return None
    return Refusal(rule=bar["rule_id"], status="overdue", message=t(
        "lifecycle.refusal.overdue", name=name, title=bar["title"], due=bar["due_on"].isoformat(),
        rule=bar["rule_id"]))


_PROJECTS = Prepared(lambda institutions, codes, ids: Project.select(
    Project.id, Project.institution, Project.technology_code, Project.technology_name, Project.tech_class,
    Project.ethics_status, Project.title).where(
    Project.institution.is_in(institutions) & (Project.status == "admitted")
    & (Project.technology_code.is_in(codes) | Project.id.is_in(ids))).order_by(Project.id), 3, lists=(0, 1, 2))


async def _projects(items: list[UseQuery]) -> dict[Any, dict]:
    """Admitted projects the queries cite: by id, and the latest by (institution, key)."""
    institutions = sorted({q.institution_id for q in items})
    ids = sorted({q.project_id for q in items if q.project_id} | {
        int(q.technology_key[1:]) for q in items if q.technology_key[:1] == "P" and q.technology_key[1:].isdigit()})
    rows = await _PROJECTS.run(institutions, sorted({q.technology_key for q in items}), ids or [-1])
    found: dict[Any, dict] = {}
    for r in rows:
        r["technology_name"] = r["technology_name"] or r["title"]
        found[("id", r["id"])] = r
        found[(r["institution"], rules.technology_key(r["technology_code"], r["id"]))] = r
        found[(r["institution"], f"P{r['id']}")] = r
    return found


async def use_refusal(institution_id: int, technology_key: str, on_date: dt.date | None = None, *,
                      project_id: int | None = None, hooks: HookView | None = None) -> Refusal | None:
    """Why ``institution_id`` may not record a case, first case or filing of
    ``technology_key`` performed on ``on_date`` (``None``: today), or ``None``. Pass
    ``hooks`` so the province's own rule ids are named beside the national ones."""
    found = await use_refusals([UseQuery(institution_id, technology_key, on_date, project_id)], hooks)
    return next(iter(found.values()), None)


async def state(institution_id: int, technology_key: str, on_date: dt.date | None = None) -> UseState:
    """The technology's state of use in the institution (on ``on_date``; ``None``: now) —
    e.g. for physicians' authorisations, which a stop or suspension suspends."""
    key = technology_key.strip().upper()
    paths = await _region_paths([institution_id])
    own = _in_force((await _own_rows([(institution_id, key)])).get((institution_id, key)), on_date or clock.today())
    past = (await _past_periods([(institution_id, key)])).get((institution_id, key), []) if on_date else []
    return rules.effective_state(institution_id, key, own, _covering(await _suspensions([key]), key,
                                                                       paths.get(institution_id, "/")), on_date, past)


async def states_on(queries: Iterable[tuple[int, str, dt.date]]) -> dict[tuple[int, str, dt.date], UseState]:
    """``state`` for many (institution, technology, date) at once — a batch of cases on
    their operation dates (NAT-20: physicians' authorisations) — in four queries, not four
    per date. Keyed by (institution, technology key stripped and upper-cased, date)."""
    items = sorted({(i, k.strip().upper(), d) for i, k, d in queries})
    if not items:
        return {}
    pairs = sorted({(i, k) for i, k, _ in items})
    paths = await _region_paths(i for i, _ in pairs)
    own = await _own_rows(pairs)
    past = await _past_periods(pairs)
    suspensions = await _suspensions(k for _, k in pairs)
    return {(i, k, d): rules.effective_state(i, k, _in_force(own.get((i, k)), d),
                                             _covering(suspensions, k, paths.get(i, "/")), d, past.get((i, k), []))
            for i, k, d in items}


async def states(institution_id: int, keys: Iterable[str] | None = None) -> dict[str, UseState]:
    """The current states of the institution's technologies: of ``keys``, or of every
    technology it ever admitted or restricted."""
    if keys is None:
        rows = await Project.select(Project.id, Project.technology_code).where(
            (Project.institution == institution_id) & Project.status.is_in(["admitted", "cancelled"]))
        keys = {rules.technology_key(r["technology_code"], r["id"]) for r in rows}
        keys |= {r["technology_key"] for r in await TechnologyUse.select(TechnologyUse.technology_key).where(
            TechnologyUse.institution == institution_id)}
    keys = sorted({k.strip().upper() for k in keys})
    paths = await _region_paths([institution_id])
    own = await _own_rows((institution_id, k) for k in keys)
    suspensions = await _suspensions(keys)
    path = paths.get(institution_id, "/")
    today = clock.today()
    return {k: rules.effective_state(institution_id, k, _in_force(own.get((institution_id, k)), today),
                                     _covering(suspensions, k, path))
            for k in keys}


async def states_many(pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], UseState]:
    """Current states of many (institution, technology) pairs — for lists (public pages,
    desks, catalogue) — in three queries."""
    pairs = sorted({(i, k.strip().upper()) for i, k in pairs})
    if not pairs:
        return {}
    paths = await _region_paths(i for i, _ in pairs)
    own = await _own_rows(pairs)
    suspensions = await _suspensions(k for _, k in pairs)
    today = clock.today()
    return {(i, k): rules.effective_state(i, k, _in_force(own.get((i, k)), today),
                                          _covering(suspensions, k, paths.get(i, "/")))
            for i, k in pairs}


async def history(institution_id: int, technology_key: str) -> list[dict]:
    """Every change of the technology's use in the institution, newest first: who, when,
    why, which rule, which document, the committee's decision, the stop report."""
    rows = await UseEvent.select().where(
        (UseEvent.institution == institution_id) & (UseEvent.technology_key == technology_key.strip().upper())
    ).order_by(UseEvent.id, ascending=False)
    for r in rows:
        r["status_label"] = STATUS_LABELS.get(r["status_after"], r["status_after"])
        r["by_label"] = LEVEL_LABELS.get(r["by"], r["by"])
        r["trigger_text"] = TRIGGER_BY_KEY[r["trigger"]].text if r["trigger"] in TRIGGER_BY_KEY else ""
        r["action_label"] = ACTION_LABELS.get(r["action"], r["action"])
    return rows


ACTION_LABELS = {"stop": "停止临床应用", "suspend": "暂停", "refile": "暂停并重新备案", "adjust": "评估调整", "lift": "解除暂停", "region_suspend": "辖区暂停",
                 "region_lift": "辖区解除暂停", "cancel": "注销备案", "withdraw": "撤销备案", "resume": "恢复临床应用"}


async def region_suspensions(actor: Actor, *, active_only: bool = False) -> list[dict]:
    """Suspensions of the regions the actor sees: a regulator's own region, the regions
    above it (which cover it) and below it; a hospital user's region and above."""
    query = RegionSuspension.select(*RegionSuspension.all_columns(), RegionSuspension.region.name,
                                    RegionSuspension.region.path, RegionSuspension.region.department).order_by(
        RegionSuspension.id, ascending=False)
    if active_only:
        query = query.where(RegionSuspension.status == SuspensionStatus.active)
    rows = await query
    path = await _actor_path(actor)
    if path is not None:
        rows = [r for r in rows if path.startswith(r["region.path"]) or r["region.path"].startswith(path)]
    for r in rows:
        r["department"] = department_name({"name": r["region.name"], "department": r["region.department"]})
        r["may_lift"] = r["status"] == SuspensionStatus.active and actor.has("regulator") and actor.region_id == r["region"]
    return rows


async def _actor_path(actor: Actor) -> str | None:
    if actor.is_admin:
        return None
    if actor.region_path:
        return actor.region_path
    if actor.institution_id is not None:
        return (await _region_paths([actor.institution_id])).get(actor.institution_id, "/")
    return "/-/"


# ---------------------------------------------------------------- writing


async def _technology(institution_id: int, key: str) -> dict:
    """What the institution knows of the technology: its latest admitted (or cancelled)
    project — name, class, project id — or the use row; else ``NotFound``."""
    key = key.strip().upper()
    query = Project.select(Project.id, Project.technology_code, Project.technology_name, Project.title,
                           Project.tech_class, Project.restricted_from, Project.lead, Project.department).where(
        (Project.institution == institution_id) & Project.status.is_in(["admitted", "cancelled"]))
    if key[:1] == "P" and key[1:].isdigit():
        query = query.where(Project.id == int(key[1:]))
    else:
        query = query.where(Project.technology_code == key)
    project = await query.order_by(Project.id, ascending=False).first()
    if project is not None:
        from core.admission.rules import class_on

        # EVAL-8: a technology concluded restricted is managed as restricted from its date of effect.
        return {"key": key, "name": project["technology_name"] or project["title"],
                "tech_class": class_on(project, clock.today()), "restricted_from": project["restricted_from"],
                "project": project["id"], "lead": project["lead"], "department": project["department"]}
    row = await TechnologyUse.select().where(TechnologyUse.uid == f"{institution_id}:{key}").first()
    if row is None:
        raise NotFound("本机构未开展该技术")
    return {"key": key, "name": row["technology_name"], "tech_class": row["tech_class"], "project": row["project"],
            "lead": None, "department": None}


async def _institution(institution_id: int) -> dict:
    row = await Institution.select(Institution.id, Institution.name, Institution.licence_no, Institution.region,
                                   Institution.region.path, Institution.licence_region,
                                   Institution.licence_region.name, Institution.licence_region.department,
                                   Institution.licence_region.path).where(Institution.id == institution_id).first()
    if row is None:
        raise NotFound("未找到该医疗机构")
    row["licence_department"] = department_name({"name": row["licence_region.name"],
                                                 "department": row["licence_region.department"]})
    return row


async def _users(*, institution: int | None = None, regions: Iterable[int] = (), role: str) -> list[int]:
    query = User.select(User.id, User.roles).where(User.active == True)  # noqa: E712
    if institution is not None:
        query = query.where(User.institution == institution)
    else:
        query = query.where(User.region.is_in(sorted(set(regions)) or [-1]))
    return [u["id"] for u in await query.output(load_json=True) if role in (u["roles"] or [])]


async def _province(path: str) -> dict | None:
    """The top region (province) of a region path "/1/4/"."""
    top = next((p for p in path.split("/") if p), None)
    return await Region.select().where(Region.id == int(top)).first() if top else None


def _snapshot(row: dict | None) -> dict:
    keys = ("status", "by", "since", "rule", "trigger", "reason", "document")
    return {k: (row or {}).get(k) for k in keys}


async def _write(actor: Actor, tech: dict, institution_id: int, values: dict, event: dict, seen: dict | None,
                 version: int | None = None) -> dict:
    """Write the use row — only if it is still as the caller ``seen`` it when checking the
    rules (no row, or the same version; and at ``version`` when the page sent one), else
    ``Conflict``: two people stopping at once cannot both win — then append its history
    row and the audit event, inside the caller's write transaction. Returns the event."""
    uid = f"{institution_id}:{tech['key']}"
    before = seen
    values = values | {"technology_name": tech["name"], "tech_class": tech["tech_class"], "project": tech["project"]}
    if before is None:
        # ON CONFLICT DO NOTHING: a concurrent first change of the same use wins, this one
        # gets Conflict (nothing written) instead of a unique-key error.
        inserted = await TechnologyUse.insert(TechnologyUse(
            uid=uid, institution=institution_id, technology_key=tech["key"], **values)).on_conflict(
            action="DO NOTHING").returning(TechnologyUse.id)
        if not inserted or (version is not None and int(version) != 1):
            raise Conflict(Problem(MOVED_ON, "version"))
    else:
        condition = (TechnologyUse.id == before["id"]) & (TechnologyUse.version == before["version"])
        if version is not None and int(version) != before["version"]:
            raise Conflict(Problem(MOVED_ON, "version"))
        update = {getattr(TechnologyUse, k): v for k, v in values.items()}
        update |= {TechnologyUse.version: TechnologyUse.version + 1, TechnologyUse.updated_at: dt.datetime.now(dt.UTC)}
        if not await TechnologyUse.update(update).where(condition).returning(TechnologyUse.id):
            raise Conflict(Problem(MOVED_ON, "version"))
    after = await TechnologyUse.select().where(TechnologyUse.uid == uid).first()
    event = {"status_before": (before or {}).get("status", UseStatus.in_use), "status_after": after["status"],
             "actor_id": actor.id or None, "actor_name": actor.display_name} | event
    rows = await UseEvent.insert(UseEvent(institution=institution_id, technology_key=tech["key"],
                                          technology_name=tech["name"], **event)).returning(UseEvent.id)
    await audit.record(actor, f"technology_use.{event['action']}", "technology_use", after["id"],
                       before=_snapshot(before), after=_snapshot(after) | {
                           "technology": tech["key"], "event": rows[0]["id"]} | {
                           k: event[k] for k in ("committee", "meeting_on", "suspension", "delivery_id", "reported_to")
                           if event.get(k)}, institution_id=institution_id)
    await _annual_reports(actor, tech, before, after)
    return event | {"id": rows[0]["id"], "use_id": after["id"]}


async def _annual_reports(actor: Actor, tech: dict, before: dict | None, after: dict) -> None:
    """HOSP-17's annual QC reports follow the use: a stop or a withdrawn / cancelled filing
    (注销) closes the reports of the years after it (the year it was used still reports);
    a resumption reopens those of the years it is used again (``core.obligations``)."""
    from core.obligations import service as obligations

    if not tech.get("project"):
        return
    if after["status"] in (UseStatus.stopped, UseStatus.cancelled) and after["since"] is not None:
        await obligations.close_annual_reports(actor, tech["project"], after["since"], rule=after["rule"] or "NAT-25",
                                               reason=after["reason"] or "")
    elif (after["status"] == UseStatus.in_use and before is not None
          and before["status"] in (UseStatus.stopped, UseStatus.cancelled)):
        await obligations.reopen_annual_reports(actor, tech["project"], after["since"] or clock.today(),
                                                reason=after["reason"] or "恢复临床应用")


async def _notify(user_ids: list[int], title: str, link: str) -> None:
    from core.inbox import service as inbox

    if user_ids:
        await inbox.deliver(sorted(set(user_ids)), title, "", link=link, source="lifecycle")


def _link(institution_id: int, key: str) -> str:
    """The technology's page in the institution: its people and its regulators read it."""
    return f"/lifecycle/institutions/{institution_id}/{key}"


async def _tell(inst: dict, tech: dict, title: str) -> None:
    """The institution's people concerned and the department that issued its licence."""
    link = _link(inst["id"], tech["key"])
    await _notify(await _hospital_people(inst["id"], tech), title, link)
    await _notify(await _users(regions=[inst["licence_region"]], role="regulator"), title, link)


def _hospital(actor: Actor) -> int:
    if not actor.has(*HOSPITAL_ACTORS) or actor.institution_id is None:
        raise NotFound("未找到")
    return actor.institution_id


def _check(problems: list[Problem]) -> None:
    if problems:
        raise DomainError(problems)


async def _current(institution_id: int, key: str) -> dict | None:
    return await TechnologyUse.select().where(TechnologyUse.uid == f"{institution_id}:{key}").first()


async def stop(actor: Actor, hooks: HookView, *, technology_key: str, trigger: str, reason: str, committee: str,
               meeting_on: dt.date | None, document: str = "", on: dt.date | None = None,
               version: int | None = None, today: dt.date | None = None) -> int:
    """The institution stops a technology at once (NAT-25 (1)–(4), HOSP-20; HOSP-19's and
    an evaluation's "stop" decision take this path too with ``trigger`` "summary" /
    "evaluation"): its management committee's decision — who (``committee``), the
    meeting's date, the reason — is recorded with the trigger and its article.

    For a restricted technology the stop report goes through the province's channel
    (outbox) to the department that issued the licence — NAT-25 (2)(3): it cancels the
    filing; (4): to that department and the province, which may suspend the technology
    in its region. A routine technology's stop is reported to the department in the
    portal (HOSP-20). Everyone concerned is told. Returns the history row's id.
    Actor: medical affairs of the institution."""
    institution_id = _hospital(actor)
    day = today or clock.today()
    on = on or day
    key = technology_key.strip().upper()
    tech = await _technology(institution_id, key)
    current = await _current(institution_id, key)
    # A prohibition decided for a later date (EVAL-8) does not keep the institution from
    # stopping now; the use stays marked prohibited, so it never resumes (NAT-9).
    prohibited_later = current is not None and current["trigger"] == "prohibited" and current["since"] is not None \
        and current["since"] > day
    _check(rules.check_stop(status=UseStatus.in_use if prohibited_later else (current or {}).get(
                                "status", UseStatus.in_use), trigger=trigger, reason=reason,
                            committee=committee, meeting_on=meeting_on, today=day)
           + ([Problem("停止日期不能晚于今天", "on")] if on > day else []))
    found = TRIGGER_BY_KEY[trigger]
    policy = _policy(hooks)
    inst = await _institution(institution_id)
    to_department, to_province = rules.stop_reports(tech["tech_class"], found.ground)
    province = await _province(inst["region.path"] or "/")
    recipients = [inst["licence_department"]] if to_department else []
    if to_province and province:
        recipients.append(department_name(province))
    rule = found.rule if found.rule != "NAT-25" or not policy.stop.rule else policy.stop.rule
    async with write_transaction():
        event = await _write(actor, tech, institution_id, {
            "status": UseStatus.stopped, "by": Level.institution, "since": on, "rule": rule,
            "trigger": "prohibited" if prohibited_later else trigger,
            "reason": reason.strip(), "document": document.strip()[:200]},
            {"action": "stop", "by": Level.institution, "event_on": on, "rule": rule, "trigger": trigger,
             "reason": reason.strip(), "document": document.strip()[:200], "committee": committee.strip()[:300],
             "meeting_on": meeting_on, "reported_to": "、".join(recipients)[:300]}, current, version)
        if current is not None and current["trigger"] == rules.REFILE and tech["project"]:
            from core.filing import service as filing

            await filing.abandon_refiling(actor, tech["project"], on=on,
                                          reason=f"已停止临床应用，不再重新备案（{current['rule']}）")
        delivery = None
        if recipients and tech["tech_class"] == "restricted":
            delivery = await _stop_report(actor, hooks, inst, tech, found, event, recipients)
            if delivery:
                await UseEvent.update({UseEvent.delivery_id: delivery}).where(UseEvent.id == event["id"])
        title = f"{inst['name']}停止{tech['name']}临床应用：{found.text}（{rule}）"
        if to_department:
            await _notify(await _users(regions=[inst["licence_region"]], role="regulator"), title,
                          _link(institution_id, key))
        if to_province and province:
            await _notify(await _users(regions=[province["id"]], role="regulator"), title,
                          _link(institution_id, key))
        await _notify(await _hospital_people(institution_id, tech), f"{tech['name']}已停止临床应用（{rule}）",
                      _link(institution_id, key))
    return event["id"]


async def stop_prohibited(actor: Actor, hooks: HookView, uses: list[tuple[int, str]], *, on: dt.date, rule: str,
                          reason: str, document: str, link: str = "") -> list[int]:
    """A measure listed the technology as prohibited (EVAL-8 (一)): each institution of
    ``uses`` (institution id, technology key) stops it from ``on`` — NAT-25 (1), recorded
    by the regulator with the measure as its document, so every way in refuses cases
    performed from then on and it never resumes (NAT-9). Each institution's people and its
    licence department are told. A use already stopped as prohibited is left alone. Runs in
    the caller's write transaction (the evaluation's conclusion); returns the history ids."""
    _regulator(actor)
    ids = []
    for institution_id, key in uses:
        key = key.strip().upper()
        tech = await _technology(institution_id, key)
        current = await _current(institution_id, key)
        if current is not None and current["status"] == UseStatus.stopped and current["trigger"] == "prohibited":
            continue
        inst = await _institution(institution_id)
        event = await _write(actor, tech, institution_id, {
            "status": UseStatus.stopped, "by": Level.region, "since": on, "rule": rule, "trigger": "prohibited",
            "reason": reason[:2000], "document": document[:200]},
            {"action": "stop", "by": Level.region, "event_on": on, "rule": rule, "trigger": "prohibited",
             "reason": reason[:2000], "document": document[:200]}, current)
        ids.append(event["id"])
        await _tell(inst, tech, f"{tech['name']}被列为禁止类技术，{inst['name']}自{on}起停止临床应用（{rule}）")
    return ids


async def _hospital_people(institution_id: int, tech: dict) -> list[int]:
    """Medical affairs, the project's lead and its department's head."""
    ids = await _users(institution=institution_id, role="medical_affairs")
    if tech.get("lead"):
        ids.append(tech["lead"])
    if tech.get("department"):
        heads = await User.select(User.id, User.roles).where(
            (User.department == tech["department"]) & (User.active == True)).output(load_json=True)  # noqa: E712
        ids += [u["id"] for u in heads if "dept_head" in (u["roles"] or [])]
    return ids


async def _stop_report(actor: Actor, hooks: HookView, inst: dict, tech: dict, trigger: Any, event: dict,
                       recipients: list[str]) -> int | None:
    """NAT-25: the stop report to every channel that takes reports (each its own delivery,
    receipt and retry: NAT-36), in the caller's transaction; returns the first delivery's
    id, ``None`` when the deployment has none (the department then reads it on its desk
    in the portal)."""
    from core.outbox import service as outbox

    ids = await outbox.enqueue_everywhere(actor, hooks, kind="report", subject_type="technology_stop",
                                subject_id=event["id"], institution_id=inst["id"], payload={
                                    "purpose": "stop_report", "to": recipients, "institution": inst["name"],
                                    "licence_no": inst["licence_no"],
                                    "technology": {"code": tech["key"], "name": tech["name"],
                                                   "class": tech["tech_class"]},
                                    "trigger": trigger.text, "ground": trigger.ground, "rule": event["rule"],
                                    "stopped_on": event["event_on"].isoformat(), "reason": event["reason"],
                                    "committee": event["committee"],
                                    "meeting_on": event["meeting_on"].isoformat() if event["meeting_on"] else None,
                                    "document": event["document"]})
    return ids[0] if ids else None


async def _target(actor: Actor, institution_id: int | None) -> tuple[int, str]:
    """Who suspends: medical affairs for its own institution, or a regulator of the
    region that issued the institution's licence (NAT-41) — anyone else gets NotFound."""
    if actor.has(*HOSPITAL_ACTORS) and actor.institution_id is not None and institution_id in (None,
                                                                                                actor.institution_id):
        return actor.institution_id, Level.institution
    if actor.has("regulator") and actor.region_id is not None and institution_id is not None:
        inst = await Institution.select(Institution.licence_region, Institution.region.path).where(
            Institution.id == institution_id).first()
        if inst is None or not (inst["region.path"] or "").startswith(actor.region_path or "/-/"):
            raise NotFound("未找到该医疗机构")
        if inst["licence_region"] != actor.region_id:
            raise Forbidden(Problem("仅核发该机构《医疗机构执业许可证》的卫生健康行政部门可以暂停或解除暂停", None, "NAT-41"))
        return institution_id, Level.department
    raise NotFound("未找到")


async def suspend(actor: Actor, hooks: HookView, *, technology_key: str, reason: str, institution_id: int | None = None,
                  document: str = "", on: dt.date | None = None, version: int | None = None,
                  today: dt.date | None = None) -> int:
    """Suspend one institution's use of a technology: by the institution itself (e.g.
    key staff or equipment changed and it re-files — the province's ``conditions_change``
    rule, else NAT-22) or by the department that issued its licence (NAT-41: 暂停相关医疗
    技术临床应用). Until lifted, nothing new of it is recorded. Returns the history id."""
    institution_id, level = await _target(actor, institution_id)
    day = today or clock.today()
    on = on or day
    key = technology_key.strip().upper()
    tech = await _technology(institution_id, key)
    current = await _current(institution_id, key)
    _check(rules.check_suspend(status=(current or {}).get("status", UseStatus.in_use), reason=reason)
           + ([Problem("暂停日期不能晚于今天", "on")] if on > day else []))
    rule = "NAT-41" if level == Level.department else (_policy(hooks).conditions_change.rule or "NAT-22")
    inst = await _institution(institution_id)
    async with write_transaction():
        event = await _write(actor, tech, institution_id, {
            "status": UseStatus.suspended, "by": level, "since": on, "rule": rule, "trigger": "",
            "reason": reason.strip(), "document": document.strip()[:200]},
            {"action": "suspend", "by": level, "event_on": on, "rule": rule, "reason": reason.strip(),
             "document": document.strip()[:200]}, current or None, version)
        title = f"{inst['name']} {tech['name']}暂停临床应用（{rule}）"
        await _tell(inst, tech, title)
    return event["id"]


async def refile(actor: Actor, hooks: HookView, *, technology_key: str, reason: str, on: dt.date | None = None,
                 version: int | None = None, today: dt.date | None = None) -> tuple[int, int]:
    """The institution's key staff, equipment or conditions changed and it files again —
    the province's ``lifecycle.conditions_change`` rule (e.g. 重新备案或停止临床应用;
    a province without such a rule stops under NAT-25 (2)). The use is suspended from
    ``on`` while the new filing (``core.filing.service.open_refiling``) is prepared,
    submitted and completed by the licence department, whose completion resumes it
    (``on_refiled``); the alternative is ``stop``. Everyone concerned is told. Returns
    (history id, new filing id). Actor: medical affairs of the institution."""
    from core.filing import service as filing

    institution_id = _hospital(actor)
    rule = _policy(hooks).conditions_change.rule
    if not rule:
        raise DomainError(Problem("本省未规定人员、设备或条件变化后的重新备案程序：不能满足技术管理规范要求的，应停止临床应用",
                                  None, "NAT-25"))
    day = today or clock.today()
    on = on or day
    key = technology_key.strip().upper()
    tech = await _technology(institution_id, key)
    current = await _current(institution_id, key)
    status = (current or {}).get("status", UseStatus.in_use)
    problems = rules._text(reason, "reason", "人员、设备或条件的变化情况")
    if status != UseStatus.in_use and not (status == UseStatus.suspended and current["by"] == Level.institution
                                           and current["trigger"] != rules.REFILE):
        problems.append(Problem(f"该技术当前为「{STATUS_LABELS[UseStatus(status)]}」，不能办理重新备案", None, rule))
    if tech["tech_class"] != "restricted" or not tech["project"]:
        problems.append(Problem("只有已备案的限制类技术需要重新备案", None, rule))
    if on > day:
        problems.append(Problem("日期不能晚于今天", "on"))
    _check(problems)
    inst = await _institution(institution_id)
    text = f"主要专业技术人员或关键设备、设施及其他辅助条件发生变化，重新备案：{reason.strip()}"
    async with write_transaction():
        filing_id = await filing.open_refiling(actor, tech["project"], rule=rule, reason=reason.strip())
        event = await _write(actor, tech, institution_id, {
            "status": UseStatus.suspended, "by": Level.institution, "since": on, "rule": rule,
            "trigger": rules.REFILE, "reason": text[:2000], "document": f"重新备案（备案{filing_id}号）"},
            {"action": "refile", "by": Level.institution, "event_on": on, "rule": rule, "trigger": rules.REFILE,
             "reason": text[:2000], "document": f"重新备案（备案{filing_id}号）"}, current, version)
        await _tell(inst, tech, f"{inst['name']} {tech['name']}人员、设备或条件变化，暂停临床应用并重新备案（{rule}）")
    return event["id"], filing_id


async def record_adjustment(actor: Actor, *, technology_key: str, rule: str, on: dt.date, reason: str, committee: str,
                            document: str) -> int:
    """The institution's evaluation adjusted how a technology is used (NAT-22: catalogue,
    requirements, physicians' privileges) — its use stays as it is; the adjustment joins
    the technology's history with its committee and document. In the caller's write
    transaction (``core.evaluation.periodic``); returns the history id."""
    institution_id = _hospital(actor)
    key = technology_key.strip().upper()
    tech = await _technology(institution_id, key)
    current = await _current(institution_id, key)
    status = (current or {}).get("status", UseStatus.in_use)
    rows = await UseEvent.insert(UseEvent(
        institution=institution_id, technology_key=key, technology_name=tech["name"], action="adjust",
        status_before=status, status_after=status, by=Level.institution, actor_id=actor.id or None,
        actor_name=actor.display_name, event_on=on, rule=rule[:20], reason=reason[:2000], document=document[:200],
        committee=committee.strip()[:300], meeting_on=on)).returning(UseEvent.id)
    await audit.record(actor, "technology_use.adjust", "technology_use_event", rows[0]["id"], after={
        "technology": key, "rule": rule, "reason": reason, "document": document}, institution_id=institution_id)
    return rows[0]["id"]


async def on_refiled(actor: Actor, filing: dict, *, on: dt.date) -> None:
    """The licence department completed the institution's re-filing: the use suspended for
    it resumes from ``on`` (history row, audit event, everyone told). In the filing's
    write transaction (``core.filing.service.complete``)."""
    key = rules.technology_key(filing["technology_code"], filing["project"])
    current = await _current(filing["institution"], key)
    if current is None or current["status"] != UseStatus.suspended or current["trigger"] != rules.REFILE:
        return
    tech = await _technology(filing["institution"], key)
    reason = f"重新备案已完成（备案{filing['id']}号，{on}），恢复临床应用"
    await _write(actor, tech, filing["institution"], {
        "status": UseStatus.in_use, "by": "", "since": on, "rule": current["rule"], "trigger": "", "reason": reason,
        "document": f"备案{filing['id']}号"},
        {"action": "lift", "by": Level.department, "event_on": on, "rule": current["rule"], "reason": reason,
         "document": f"备案{filing['id']}号"}, current)
    await _tell(await _institution(filing["institution"]), tech, f"{tech['name']}重新备案已完成，恢复临床应用（{current['rule']}）")


async def lift(actor: Actor, hooks: HookView, *, technology_key: str, reason: str, institution_id: int | None = None,
               document: str = "", on: dt.date | None = None, version: int | None = None,
               today: dt.date | None = None) -> int:
    """Lift a suspension — only by whoever made it (the institution its own, the licence
    department its own); a region's suspension is lifted with ``lift_region``."""
    institution_id, level = await _target(actor, institution_id)
    day = today or clock.today()
    key = technology_key.strip().upper()
    tech = await _technology(institution_id, key)
    current = await _current(institution_id, key) or {}
    _check(rules.check_lift(status=current.get("status", UseStatus.in_use), by=current.get("by", ""), level=level,
                            reason=reason, trigger=current.get("trigger", ""), rule=current.get("rule", "")))
    inst = await _institution(institution_id)
    async with write_transaction():
        event = await _write(actor, tech, institution_id, {
            "status": UseStatus.in_use, "by": "", "since": on or day, "rule": current["rule"], "trigger": "",
            "reason": reason.strip(), "document": document.strip()[:200]},
            {"action": "lift", "by": level, "event_on": on or day, "rule": current["rule"], "reason": reason.strip(),
             "document": document.strip()[:200]}, current or None, version)
        title = f"{inst['name']} {tech['name']}已解除暂停"
        await _tell(inst, tech, title)
    return event["id"]


async def resume(actor: Actor, hooks: HookView, *, technology_key: str, basis: str, reason: str, committee: str,
                 meeting_on: dt.date | None, document: str = "", on: dt.date | None = None,
                 version: int | None = None, today: dt.date | None = None) -> int:
    """Resume a stopped technology — never silently: on a re-evaluation that finds the
    requirements met again (NAT-22, the management committee's decision recorded), or, once
    the filing was cancelled, by filing again (NAT-11): the project waits for its next first
    case, which opens a new filing. A technology stopped as prohibited never resumes (NAT-9)."""
    institution_id = _hospital(actor)
    day = today or clock.today()
    key = technology_key.strip().upper()
    tech = await _technology(institution_id, key)
    current = await _current(institution_id, key) or {}
    _check(rules.check_resume(status=current.get("status", UseStatus.in_use), trigger=current.get("trigger", ""),
                              basis=basis, reason=reason, committee=committee, meeting_on=meeting_on, today=day))
    rule = "NAT-11" if basis == "re_filing" else "NAT-22"
    inst = await _institution(institution_id)
    async with write_transaction():
        if basis == "re_filing" and tech["tech_class"] == "restricted" and tech["project"]:
            from core.admission import first_case

            await first_case.await_first_case_again(actor, tech["project"], reason=RESUMPTION[basis])
        event = await _write(actor, tech, institution_id, {
            "status": UseStatus.in_use, "by": "", "since": on or day, "rule": rule, "trigger": "",
            "reason": reason.strip(), "document": document.strip()[:200]},
            {"action": "resume", "by": Level.institution, "event_on": on or day, "rule": rule, "trigger": basis,
             "reason": f"{RESUMPTION[basis]}：{reason.strip()}", "document": document.strip()[:200],
             "committee": committee.strip()[:300], "meeting_on": meeting_on}, current or None, version)
        title = f"{inst['name']} {tech['name']}恢复临床应用（{RESUMPTION[basis]}）"
        await _tell(inst, tech, title)
    return event["id"]


async def on_filing_closed(actor: Actor, filing: dict, *, how: str, rule: str, reason: str, on: dt.date) -> None:
    """The licence-issuing department cancelled (NAT-25) or withdrew the institution's
    filing: the technology's use becomes 注销备案 — no case until it is filed again.
    Runs inside the filing's write transaction (``core.filing.service``)."""
    key = rules.technology_key(filing["technology_code"], filing["project"])
    try:
        tech = await _technology(filing["institution"], key)
    except NotFound:  # the project is gone from admission: the filing still names the technology
        tech = {"key": key, "name": filing["technology_name"], "tech_class": "restricted",
                "project": filing["project"], "lead": None, "department": None}
    await _write(actor, tech, filing["institution"], {
        "status": UseStatus.cancelled, "by": Level.department, "since": on, "rule": rule, "trigger": "",
        "reason": f"备案已{how}：{reason}"[:2000], "document": ""},
        {"action": "cancel" if how == "注销" else "withdraw", "by": Level.department, "event_on": on, "rule": rule,
         "reason": f"备案已{how}：{reason}"[:2000]}, await _current(filing["institution"], key))


# ---------------------------------------------------------------- a region's suspension


async def _users_of_institutions(ids: list[int]) -> dict[int, list[int]]:
    rows = await User.select(User.id, User.roles, User.institution).where(
        User.institution.is_in(ids or [-1]) & (User.active == True)).output(load_json=True)  # noqa: E712
    found: dict[int, list[int]] = {}
    for u in rows:
        if "medical_affairs" in (u["roles"] or []):
            found.setdefault(u["institution"], []).append(u["id"])
    return found


async def _users_in_region(path: str, key: str) -> list[dict]:
    """Institutions of the region (and below) that use the technology: an admitted
    project of it, or a use row."""
    insts = await Institution.select(Institution.id, Institution.name).where(
        Institution.region.path.like(f"{path}%"))
    ids = [i["id"] for i in insts]
    using = {r["institution"] for r in await Project.select(Project.institution).where(
        Project.institution.is_in(ids or [-1]) & (Project.status == "admitted") & (Project.technology_code == key))}
    using |= {r["institution"] for r in await TechnologyUse.select(TechnologyUse.institution).where(
        TechnologyUse.institution.is_in(ids or [-1]) & (TechnologyUse.technology_key == key))}
    return [i for i in insts if i["id"] in using]


async def _catalog_name(key: str) -> str:
    from core.catalog.tables import CatalogTechnology

    row = await CatalogTechnology.select(CatalogTechnology.name).where(CatalogTechnology.code == key).order_by(
        CatalogTechnology.id, ascending=False).first()
    return row["name"] if row else ""


def _regulator(actor: Actor) -> None:
    if not actor.has("regulator") or actor.region_id is None:
        raise NotFound("未找到")


async def suspend_region(actor: Actor, hooks: HookView, *, technology_key: str, reason: str, document: str = "",
                         on: dt.date | None = None, today: dt.date | None = None) -> int:
    """A region's regulator suspends a technology for every institution of its region
    (NAT-25 (4) after verification; the province's own rule from its plugin's
    ``lifecycle.region_suspension``): each institution using it is suspended at once and
    told, and refused new cases under that rule until ``lift_region``. Returns its id."""
    _regulator(actor)
    day = today or clock.today()
    on = on or day
    key = (technology_key or "").strip().upper()
    problems = rules._text(reason, "reason", "暂停理由")
    name = await _catalog_name(key) if key else ""
    if not key:
        problems.append(Problem("请填写技术编码", "technology_key"))
    elif not name:
        problems.append(Problem(f"技术目录中没有编码为「{key}」的技术", "technology_key"))
    if on > day:
        problems.append(Problem("暂停日期不能晚于今天", "on"))
    region = await Region.select().where(Region.id == actor.region_id).first()
    active = [s for s in await _suspensions([key]) if s["status"] == SuspensionStatus.active
              and (region["path"].startswith(s["region.path"]) or s["region.path"].startswith(region["path"]))]
    if active:
        problems.append(Problem(f"该技术在本辖区已处于暂停状态（{active[0]['region.name']}）", "technology_key"))
    _check(problems)
    policy = _policy(hooks)
    rule = policy.region_suspension.rule or "NAT-25"
    affected = await _users_in_region(region["path"], key)
    async with write_transaction():
        rows = await RegionSuspension.insert(RegionSuspension(
            region=region["id"], technology_key=key, technology_name=name, status=SuspensionStatus.active, rule=rule,
            reason=reason.strip(), document=document.strip()[:200], started_on=on, started_by=actor.display_name,
        )).returning(RegionSuspension.id)
        suspension_id = rows[0]["id"]
        await audit.record(actor, "region_suspension.start", "region_suspension", suspension_id, after={
            "region": region["id"], "technology": key, "rule": rule, "reason": reason.strip(),
            "document": document.strip(), "started_on": on, "institutions": [i["id"] for i in affected]})
        await _region_events(actor, affected, key, name, "region_suspend", on, rule, reason.strip(), document,
                             suspension_id, f"{department_name(region)}暂停{name}（{key}）在本辖区的临床应用（{rule}）")
        await _report_up(actor, hooks, region, suspension_id, "suspend", {
            "technology": {"code": key, "name": name}, "rule": rule, "reason": reason.strip(),
            "document": document.strip(), "on": on.isoformat(), "institutions_concerned": len(affected)})
    return suspension_id


async def _report_up(actor: Actor, hooks: HookView, region: dict, suspension_id: int, event: str,
                     payload: dict) -> int | None:
    """A province's suspension (and its lifting) is reported to the national commission
    (NAT-25 (4), as seed 001 states it: 并向国家卫生健康委报告) through the deployment's
    national channel, in the caller's transaction; ``None`` below the province or without
    such a channel (the desk then shows no delivery)."""
    from core.outbox import service as outbox
    from core.outbox.channels import channels_for

    channel = next(iter(channels_for(hooks, "evaluation")), None)
    if region["level"] != "province" or channel is None:
        return None
    return await outbox.enqueue(actor, channel=channel, kind="evaluation", subject_type="region_suspension",
                                subject_id=suspension_id, institution_id=0, payload={
                                    "purpose": "region_suspension", "event": event, "region": region["name"],
                                    "department": department_name(region)} | payload)


async def _region_events(actor: Actor, affected: list[dict], key: str, name: str, action: str, on: dt.date,
                         rule: str, reason: str, document: str, suspension_id: int, title: str) -> None:
    """Each institution concerned: a history row, an audit event and its people told."""
    people = await _users_of_institutions([i["id"] for i in affected])
    status = UseStatus.suspended if action == "region_suspend" else UseStatus.in_use
    for inst in affected:
        before = await _current(inst["id"], key)
        if before is not None and before["status"] in (UseStatus.stopped, UseStatus.cancelled):
            status_after = before["status"]
        else:
            status_after = status if before is None or before["status"] == UseStatus.in_use else before["status"]
        events = await UseEvent.insert(UseEvent(
            institution=inst["id"], technology_key=key, technology_name=name, action=action,
            status_before=(before or {}).get("status", UseStatus.in_use) if action == "region_suspend"
            else UseStatus.suspended, status_after=status_after, by=Level.region, actor_id=actor.id or None,
            actor_name=actor.display_name, event_on=on, rule=rule, reason=reason, document=document.strip()[:200],
            suspension=suspension_id)).returning(UseEvent.id)
        await audit.record(actor, f"technology_use.{action}", "region_suspension", suspension_id,
                           after={"technology": key, "event": events[0]["id"], "rule": rule},
                           institution_id=inst["id"])
        await _notify(people.get(inst["id"], []), title, _link(inst["id"], key))


async def _suspension_row(suspension_id: int) -> dict:
    return await RegionSuspension.select().where(RegionSuspension.id == suspension_id).first()


# A region's suspension changes at the version its page read (core.changes' optimistic lock).
REGION_SUSPENSION = changes.Versioned(
    table=RegionSuspension, record_type="region_suspension", action_prefix="region_suspension",
    snapshot=("status",), read=_suspension_row, moved_on=MOVED_ON, conflict_field="version",
    link=lambda suspension_id: "/lifecycle/", source=lambda suspension_id: f"region_suspension:{suspension_id}",
)


async def lift_region(actor: Actor, hooks: HookView, suspension_id: int, *, reason: str, document: str = "",
                      on: dt.date | None = None, version: int | None = None, today: dt.date | None = None) -> None:
    """The regulator that suspended a technology in its region lifts the suspension (after
    its verification): every institution concerned is told; cases are accepted again from
    ``on``. Only the same region's regulators lift it."""
    _regulator(actor)
    day = today or clock.today()
    on = on or day
    row = await RegionSuspension.select(*RegionSuspension.all_columns(), RegionSuspension.region.path,
                                        RegionSuspension.region.name, RegionSuspension.region.department).where(
        RegionSuspension.id == suspension_id).first()
    if row is None or not (actor.region_path or "/-/").startswith(row["region.path"]) and not (
            row["region.path"].startswith(actor.region_path or "/-/")):
        raise NotFound("未找到该暂停决定")
    if row["region"] != actor.region_id:
        raise Forbidden(Problem(f"该暂停由{department_name({'name': row['region.name'], 'department': row['region.department']})}"
                                "作出，只能由其解除", None, row["rule"]))
    problems = rules._text(reason, "reason", "解除暂停的理由")
    if row["status"] != SuspensionStatus.active:
        problems.append(Problem("该暂停已解除", None))
    if on > day or on < row["started_on"]:
        problems.append(Problem("解除日期应在暂停日期与今天之间", "on"))
    _check(problems)
    affected = await _users_in_region(row["region.path"], row["technology_key"])
    async with write_transaction():
        # Only an active suspension, at the version the page read (core.changes' lock); the
        # audit event and the institutions' events follow.
        await REGION_SUSPENSION.take(suspension_id, version, {
            RegionSuspension.status: SuspensionStatus.lifted, RegionSuspension.lifted_on: on,
            RegionSuspension.lifted_by: actor.display_name, RegionSuspension.lift_reason: reason.strip(),
            RegionSuspension.lift_document: document.strip()[:200]},
            where=RegionSuspension.status == SuspensionStatus.active)
        await audit.record(actor, "region_suspension.lift", "region_suspension", suspension_id,
                           before={"status": SuspensionStatus.active}, after={"status": SuspensionStatus.lifted, "lifted_on": on,
                                                               "reason": reason.strip(), "document": document.strip()})
        dept = department_name({"name": row["region.name"], "department": row["region.department"]})
        await _region_events(actor, affected, row["technology_key"], row["technology_name"], "region_lift", on,
                             row["rule"], reason.strip(), document, suspension_id,
                             f"{dept}已解除{row['technology_name']}（{row['technology_key']}）的暂停，可恢复临床应用")
        region = await Region.select().where(Region.id == row["region"]).first()
        await _report_up(actor, hooks, region, suspension_id, "lift", {
            "technology": {"code": row["technology_key"], "name": row["technology_name"]}, "rule": row["rule"],
            "reason": reason.strip(), "document": document.strip(), "on": on.isoformat(),
            "institutions_concerned": len(affected)})


# ---------------------------------------------------------------- what the pages show

HOSPITAL_READERS = tuple(sorted(HOSPITAL_ROLES))
DESK_READERS = ("regulator", "qc_center")


async def overview(actor: Actor) -> list[dict]:
    """The actor's institution's admitted technologies with their state of use (a list
    page for the hospital), restricted ones first."""
    if actor.institution_id is None or not actor.has(*HOSPITAL_READERS):
        raise NotFound("未找到")
    rows = await Project.select(Project.id, Project.title, Project.technology_code, Project.technology_name,
                                Project.tech_class, Project.admitted_on, Project.ethics_status,
                                Project.department.name).where(
        (Project.institution == actor.institution_id) & (Project.status == "admitted")).order_by(Project.id)
    found: dict[str, dict] = {}
    for r in rows:
        key = rules.technology_key(r["technology_code"], r["id"])
        found[key] = r | {"key": key, "name": r["technology_name"] or r["title"]}
    current = await states(actor.institution_id, found.keys())
    refusals = await use_refusals([UseQuery(actor.institution_id, k, None, r["id"]) for k, r in found.items()])
    out = []
    for key, row in found.items():
        row["state"] = current[key]
        row["ethics_refusal"] = next((r for (_, k, _), r in refusals.items() if k == key and r.status == "ethics"),
                                     None)
        out.append(row)
    return sorted(out, key=lambda r: (r["tech_class"] != "restricted", r["key"]))


async def technology_view(actor: Actor, hooks: HookView, institution_id: int,
                          technology_key: str) -> TechnologyPage:
    """One technology's use in one institution: state, history with its stop reports, the
    filing, and what the actor may do. Hospital users of the institution and the
    regulators above it read it; anyone else — and an unknown technology — NotFound."""
    from core.filing.schemas import FilingStatus
    from core.filing.tables import Filing
    from core.outbox import service as outbox
    from core.tenancy.service import require_institution

    if actor.institution_id is not None:
        if actor.institution_id != institution_id or not actor.has(*HOSPITAL_READERS):
            raise NotFound("未找到")
    elif not actor.has(*DESK_READERS, "admin"):
        raise NotFound("未找到")
    inst = await require_institution(actor, institution_id)
    key = technology_key.strip().upper()
    tech = await _technology(institution_id, key)
    current = await state(institution_id, key)
    own = await _current(institution_id, key) or {}
    events = await history(institution_id, key)
    for e in events:
        e["deliveries"] = await outbox.delivery_status("technology_stop", e["id"]) if e["delivery_id"] else []
    filing = await Filing.select(Filing.id, Filing.status, Filing.completed_on).where(
        (Filing.institution == institution_id) & (Filing.project == tech["project"])).order_by(
        Filing.id, ascending=False).first() if tech["project"] else None
    own_status = own.get("status", UseStatus.in_use)
    # A prohibition decided for a later date: the institution may still stop it now.
    stop_status = UseStatus.in_use if own.get("trigger") == "prohibited" and own.get("since") and \
        own["since"] > clock.today() else own_status
    hospital = actor.has("medical_affairs") and actor.institution_id == institution_id
    department = actor.has("regulator") and actor.region_id == inst["licence_region"]
    level = Level.institution if hospital else Level.department if department else ""
    refusal = (await use_refusals([UseQuery(institution_id, key, None, tech["project"])], hooks)).values()
    from core.evaluation import periodic

    pending = own if own and own.get("status") != UseStatus.in_use and own.get("since") and \
        own["since"] > clock.today() else None
    return TechnologyPage(
        institution=inst, technology=tech, state=current, own=own, pending=pending, events=events, filing=filing,
        refusal=next(iter(refusal), None), adjustments=await periodic.adjustments(institution_id, key),
        version=own.get("version"),
        may=UseAbilities(
            stop=hospital and stop_status in (UseStatus.in_use, UseStatus.suspended),
            suspend=bool(level) and own_status == UseStatus.in_use,
            lift=bool(level) and own_status == UseStatus.suspended and own.get("by") == level
            and own.get("trigger") != rules.REFILE,
            refile=hospital and bool(_policy(hooks).conditions_change.rule) and tech["tech_class"] == "restricted"
            and bool(filing) and filing["status"] == FilingStatus.completed and (
                own_status == UseStatus.in_use or own_status == UseStatus.suspended
                and own.get("by") == Level.institution and own.get("trigger") != rules.REFILE),
            resume=hospital and own_status in (UseStatus.stopped, UseStatus.cancelled)
            and own.get("trigger") != "prohibited",
        ),
        resume_basis="re_filing" if own_status == UseStatus.cancelled else "re_evaluation",
        policy=_policy(hooks),
    )


async def desk(actor: Actor, hooks: HookView) -> dict:
    """The regulator's desk: the suspensions of its region (and those above it), every
    institution × technology of its region that is not in use, and the stop reports that
    wait for the licence department to cancel the filing (NAT-25 (2)(3))."""
    from core.filing.tables import Filing
    from core.tenancy.service import institution_scope

    if not actor.has(*DESK_READERS, "admin"):
        raise NotFound("未找到")
    clause = institution_scope(actor)
    query = Institution.select(Institution.id, Institution.name, Institution.licence_region)
    insts = {r["id"]: r for r in await (query.where(clause) if clause is not None else query)}
    uses = await TechnologyUse.select().where(TechnologyUse.institution.is_in(list(insts) or [-1])).order_by(
        TechnologyUse.updated_at, ascending=False)
    current = await states_many((u["institution"], u["technology_key"]) for u in uses)
    stops = {(e["institution"], e["technology_key"]): e for e in await UseEvent.select().where(
        UseEvent.institution.is_in(list(insts) or [-1]) & (UseEvent.action == "stop")).order_by(UseEvent.id)}
    filings = {(f["institution"], f["project"]): f for f in await Filing.select(
        Filing.id, Filing.institution, Filing.project, Filing.status).where(
        Filing.institution.is_in(list(insts) or [-1])).order_by(Filing.id)}
    rows = []
    for u in uses:
        pair = (u["institution"], u["technology_key"])
        st = current[pair]
        stop_event = stops.get(pair) if u["status"] == UseStatus.stopped else None
        filing = filings.get((u["institution"], u["project"]))
        trigger = TRIGGER_BY_KEY.get(u["trigger"])
        to_cancel = bool(stop_event and u["tech_class"] == "restricted" and trigger
                         and trigger.ground in ("conditions", "safety", "efficacy")
                         and filing and filing["status"] == "completed")
        rows.append(u | {"institution_name": insts[u["institution"]]["name"], "state": st, "stop": stop_event,
                         "trigger_text": trigger.text if trigger else "", "filing": filing,
                         "to_cancel": to_cancel and insts[u["institution"]]["licence_region"] == actor.region_id})
    rows = [r for r in rows if not r["state"].in_use]
    suspensions = await region_suspensions(actor)
    from core.outbox import service as outbox

    for s in suspensions:
        s["institutions"] = [i for i in await _users_in_region(s["region.path"], s["technology_key"])
                             if i["id"] in insts] if s["status"] == SuspensionStatus.active else []
        s["deliveries"] = await outbox.delivery_status("region_suspension", s["id"])
    from core.catalog import service as catalog

    choices = {t.code: t.name for t in await catalog.choices(hooks, classes=("restricted", "routine"))} \
        if actor.has("regulator") else {}
    return {"suspensions": suspensions, "uses": rows, "choices": choices,
            "may_suspend": actor.has("regulator") and actor.region_id is not None,
            "policy": _policy(hooks)}


async def summary(institution_id: int, technology_key: str, project_id: int | None = None,
                  hooks: HookView | None = None) -> dict:
    """What a project's, a filing's or an institution's page shows of one technology's
    use: its state now and, if any, why nothing new may be recorded (the ethics gate
    included) — for ``lifecycle/_use_line.html``."""
    key = technology_key.strip().upper()
    refusal = await use_refusals([UseQuery(institution_id, key, None, project_id)], hooks)
    current = await state(institution_id, key)
    stop_report = None
    if current.status == UseStatus.stopped:
        # The institution's stop report, for the licence department's cancellation (NAT-25).
        event = await UseEvent.select().where((UseEvent.institution == institution_id) & (
            UseEvent.technology_key == key) & (UseEvent.action == "stop")).order_by(UseEvent.id, ascending=False).first()
        if event is not None:
            trigger = TRIGGER_BY_KEY.get(event["trigger"])
            stop_report = {"ground": trigger.ground if trigger else "", "on": event["event_on"],
                           "text": f"{event['event_on']} 医疗机构停止报告：{trigger.text if trigger else ''}；"
                                   f"{event['reason']}（{event['committee']}，{event['meeting_on']} 会议决定）"}
    return {"institution_id": institution_id, "key": key, "state": current,
            "refusal": next(iter(refusal.values()), None), "stop_report": stop_report}


async def institution_uses(actor: Actor, institution_id: int) -> list[dict]:
    """The institution page's table: its admitted technologies with their state (the
    caller has checked the actor may read the institution)."""
    if actor.institution_id is not None and actor.institution_id != institution_id:
        raise NotFound("未找到该医疗机构")
    return await overview(Actor(id=actor.id, username=actor.username, display_name=actor.display_name,
                                roles=("medical_affairs",), institution_id=institution_id))


async def awaiting_cancellation(actor: Actor) -> list[dict]:
    """For the licence-issuing department's to-do list: restricted technologies its
    institutions stopped under NAT-25 (2)(3)(4) whose filing it has not cancelled yet —
    two queries. Anyone but a regulator: nothing."""
    from core.filing.tables import Filing

    if not actor.has("regulator") or actor.region_id is None:
        return []
    triggers = [t.key for t in TRIGGER_BY_KEY.values() if t.ground in ("conditions", "safety", "efficacy")]
    uses = await TechnologyUse.select(*TechnologyUse.all_columns(), TechnologyUse.institution.name).where(
        (TechnologyUse.status == UseStatus.stopped) & (TechnologyUse.tech_class == "restricted")
        & TechnologyUse.trigger.is_in(triggers) & (TechnologyUse.institution.licence_region == actor.region_id))
    filings = {(f["institution"], f["project"]): f for f in await Filing.select(
        Filing.id, Filing.institution, Filing.project).where(
        Filing.institution.is_in([u["institution"] for u in uses] or [-1]) & (Filing.status == "completed"))}
    return [u | {"filing_id": filings[(u["institution"], u["project"])]["id"],
                 "trigger_text": TRIGGER_BY_KEY[u["trigger"]].text}
            for u in uses if (u["institution"], u["project"]) in filings]
