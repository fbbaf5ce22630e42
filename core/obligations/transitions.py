"""Transitional events: obligations for institutions *already using* a technology when
rules take effect (a province's transitional articles) or a technology is newly listed
(a province giving existing users 3 months after listing).

Core knows which institutions use a technology: their admitted projects (准入项目,
status "admitted") for its code. The worker's ``fire_transition_events`` job reports

- ``rules_effective`` once per such project admitted on or before the day a plugin's
  rules take effect (``rules_in_force``), with the facts ``filed`` and ``rules``;
- ``technology_listed`` once per such project admitted on or before the
  ``effective_on`` of a catalogue edition that newly lists the project's technology
  (a code absent from the edition it supersedes; every code of a first edition), with
  the class the edition gives it and the facts ``filed`` and ``edition``.

Nothing fires before its day. The engine's deduplication makes every run idempotent;
projects that already have an obligation from the event are skipped without a call.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from core import clock
from core.accounts.schemas import SYSTEM
from core.admission.tables import Project
from core.catalog.tables import CatalogEdition, CatalogEditionSource, CatalogTechnology
from core.filing.tables import Filing
from core.obligations import rules
from core.obligations.service import DomainEvent, deadline_rules, dedupe_key, in_force_of, on_event
from core.obligations.tables import Obligation
from core.plugins import HookView
from core.settings import get_settings

log = logging.getLogger("clintech")
_warned: set = set()  # a missing or unreadable day is logged once per process, not every job round

# Events reported per job round at most; the rest follow in the next rounds (the first
# round after rules take effect may concern every admitted project of a large region).
BATCH = 500
# A filing counts as filed once submitted, unless it was withdrawn or cancelled.
_NOT_FILED = ("open", "withdrawn", "cancelled")


def effective_on(item: rules.RulesInForce) -> dt.date | None:
    """The day ``item``'s rules take effect: its own date, else the deployment's
    setting (an ISO date in the environment variable it names); None while unset or
    unreadable (logged, nothing fires)."""
    if item.effective_on is not None:
        return item.effective_on
    raw = get_settings().setting(item.setting).strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        if (item.key, raw) not in _warned:
            _warned.add((item.key, raw))
            log.error("插件 %s：%s 的施行日期 %s=%r 不是日期（应为 2021-07-01 这样的格式）",
                      item.plugin, item.key, item.setting, raw)
        return None


def in_force_status(hooks: HookView) -> list[dict]:
    """For the admin's plugin page: each declared ``rules_in_force`` with the day in use,
    or the setting still to be set."""
    return [{"plugin": item.plugin, "key": item.key, "title": item.title, "day": effective_on(item),
             "setting": item.setting, "value": get_settings().setting(item.setting) if item.setting else "",
             "article": item.article} for item in in_force_of(hooks)]


async def _using(before: dt.date, codes: set[str] | None = None) -> list[dict]:
    """Admitted projects admitted on or before ``before`` (for ``codes`` when given)."""
    query = Project.select(Project.id, Project.institution, Project.lead, Project.technology_code,
                           Project.technology_name, Project.title, Project.tech_class).where(
        (Project.status == "admitted") & (Project.admitted_on <= before) & (Project.technology_code != ""))
    if codes is not None:
        if not codes:
            return []
        query = query.where(Project.technology_code.is_in(sorted(codes)))
    return await query


async def _filed(projects: list[dict]) -> set[tuple[int, str]]:
    """(institution, code) pairs with a submitted filing."""
    if not projects:
        return set()
    rows = await Filing.select(Filing.institution, Filing.technology_code).where(
        Filing.institution.is_in(sorted({p["institution"] for p in projects}))
        & Filing.status.not_in(list(_NOT_FILED)))
    return {(r["institution"], r["technology_code"]) for r in rows}


async def _already(kind: str) -> set[str]:
    """The identities (dedupe keys) of the obligations this event kind already created."""
    rows = await Obligation.select(Obligation.dedupe_key).where(
        (Obligation.event_kind == kind) & (Obligation.subject_type == "project"))
    return {r["dedupe_key"] for r in rows}


async def _fire(hooks: HookView, kind: str, key: str, on: dt.date, projects: list[dict],
                technology_class: dict[str, str] | None, extra: dict[str, Any],
                matching: list[rules.DeadlineRule], budget: list[int]) -> int:
    filed = await _filed(projects)
    done = await _already(kind)
    created = 0
    for p in projects:
        if budget[0] <= 0:
            break
        cls = (technology_class or {}).get(p["technology_code"], p["tech_class"])
        event = DomainEvent(
            kind=kind, occurred_on=on, institution_id=p["institution"], subject_type="project", subject_id=p["id"],
            subject_label=p["technology_name"] or p["title"], technology_class=cls,
            technology_code=p["technology_code"], assignee_id=p["lead"], occurrence=key,
            extra={**extra, "filed": (p["institution"], p["technology_code"]) in filed})
        wanted = [r for r in matching if r.applies_to(kind, cls, p["technology_code"], event.extra)]
        new = [r for r in wanted if dedupe_key(r, event, "") not in done]
        if not new:
            continue
        await on_event(SYSTEM, hooks, event)
        budget[0] -= 1
        created += len(new)
    return created


async def _new_listings(hooks: HookView, today: dt.date) -> list[tuple[dict, dict[str, str]]]:
    """Editions an enabled plugin supplies, in effect by ``today``, each with the codes
    it newly lists and their class."""
    editions = await CatalogEdition.select().where(
        (CatalogEdition.effective_on.is_not_null()) & (CatalogEdition.effective_on <= today))
    sources = await CatalogEditionSource.select(CatalogEditionSource.edition, CatalogEditionSource.plugin).where(
        CatalogEditionSource.active == True)  # noqa: E712
    available = {s["edition"] for s in sources if hooks.is_enabled(s["plugin"])}
    by_key = {(e["scope"], e["key"]): e for e in await CatalogEdition.select(
        CatalogEdition.id, CatalogEdition.scope, CatalogEdition.key)}
    out = []
    for e in editions:
        if e["id"] not in available:
            continue
        codes = {t["code"]: t["tech_class"] for t in await CatalogTechnology.select(
            CatalogTechnology.code, CatalogTechnology.tech_class).where(CatalogTechnology.edition == e["id"])}
        previous = by_key.get((e["scope"], e["supersedes"])) if e["supersedes"] else None
        if previous is not None:
            before = {t["code"] for t in await CatalogTechnology.select(CatalogTechnology.code).where(
                CatalogTechnology.edition == previous["id"])}
            codes = {c: cls for c, cls in codes.items() if c not in before}
        if codes:
            out.append((e, codes))
    return out


async def fire(hooks: HookView, today: dt.date | None = None, batch: int = BATCH) -> int:
    """Report the transitional events due by ``today`` — at most ``batch`` per call, the
    rest in the next calls; returns obligations created."""
    today = today or clock.today()
    budget = [batch]
    deployment_rules = await deadline_rules(hooks)
    created = 0
    effective = [r for r in deployment_rules if r.event == "rules_effective"]
    if effective:
        for item in in_force_of(hooks):
            on = effective_on(item)
            if on is None:
                if item.key not in _warned:
                    _warned.add(item.key)
                    log.warning("插件 %s：%s 的施行日期未设置（%s），过渡期事项暂不生成", item.plugin, item.key,
                                item.setting)
                continue
            if on > today:
                continue
            created += await _fire(hooks, "rules_effective", item.key, on, await _using(on), None,
                                   {"rules": item.key}, effective, budget)
    listed = [r for r in deployment_rules if r.event == "technology_listed"]
    if listed:
        for edition, codes in await _new_listings(hooks, today):
            created += await _fire(hooks, "technology_listed", edition["key"], edition["effective_on"],
                                   await _using(edition["effective_on"], set(codes)), codes,
                                   {"edition": edition["key"]}, listed, budget)
    return created
