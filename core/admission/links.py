"""Where admission meets areas other engineers own: the catalogue, the obligation
engine, the outbox (reporting channels) and the in-app inbox.

Each link goes through that area's public service functions. While an area is not
there yet, its link degrades in a stated way (see each function) instead of
re-implementing it here; wiring a finished area in is a change to this file only.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from types import ModuleType
from typing import Any

from core.accounts.schemas import Actor
from core.errors import DomainError, Problem
from core.plugins import HookView

log = logging.getLogger("clintech.admission")


def _service(area: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"core.{area}.service")
    except ImportError:
        return None


# ---------------------------------------------------------------- catalogue (core/catalog)


def catalog_ready() -> bool:
    mod = _service("catalog")
    return mod is not None and hasattr(mod, "cite") and hasattr(mod, "choices")


async def technology_choices(hooks: HookView, q: str = "", on: dt.date | None = None) -> list[Any]:
    """Technologies a project may be started from (restricted and routine; prohibited ones
    are never offered, NAT-9). Empty while the catalogue area is missing: then only
    "a technology outside every list" can be applied for."""
    mod = _service("catalog")
    if mod is None or not hasattr(mod, "choices"):
        return []
    return list(await mod.choices(hooks, classes=("restricted", "routine"), q=q, on=on))


async def cite(hooks: HookView, technology_id: int, on: dt.date | None = None) -> tuple[str, Any]:
    """Cite a catalogue technology: ``(citation ref, technology)``; the citation keeps the
    edition. Raises DomainError (e.g. NAT-9 for a prohibited one) as the catalogue does."""
    mod = _service("catalog")
    if mod is None or not hasattr(mod, "cite"):
        raise DomainError(Problem("技术目录尚未启用，请选择“不在任何目录内的技术”", "technology"))
    citation = await mod.cite(hooks, technology_id, on=on)
    ref = getattr(citation, "ref_id", None) or getattr(citation, "id", None) or citation
    technology = getattr(citation, "technology", None) or citation
    return str(ref), technology


async def cited(ref: str | None) -> Any | None:
    """The technology as cited (its edition), for reading an old record."""
    mod = _service("catalog")
    if not ref or mod is None or not hasattr(mod, "get_cited"):
        return None
    try:
        return await mod.get_cited(int(ref) if str(ref).isdigit() else ref)
    except DomainError:
        return None


# ---------------------------------------------------------------- obligations (core/obligations)


async def emit(actor: Actor, hooks: HookView, kind: str, project: dict, on: dt.date, **extra: Any) -> None:
    """Tell the obligation engine that something happened to a project: ``admission``
    (ethics proof due HOSP-7 when ``ethics_pending``, annual QC report HOSP-17) or
    ``publicity_start`` (HOSP-10). Runs inside the caller's transaction. A no-op while
    the engine is missing; admission itself still enforces HOSP-7's cancellation."""
    mod = _service("obligations")
    if mod is None or not hasattr(mod, "on_event") or not hasattr(mod, "DomainEvent"):
        return
    event = mod.DomainEvent(
        kind=kind, occurred_on=on, institution_id=project["institution"], subject_type="project",
        subject_id=project["id"], subject_label=project.get("title") or "",
        technology_class=project.get("tech_class") or "", technology_code=project.get("technology_code") or "",
        assignee_id=project.get("lead"), extra=extra,
    )
    await mod.on_event(actor, hooks, event)


async def fulfil(actor: Actor, hooks: HookView, project_id: int, kind: str, done_on: dt.date) -> None:
    """Mark a project's obligation done (ethics proof submitted). No-op while missing."""
    mod = _service("obligations")
    if mod is None or not hasattr(mod, "fulfil"):
        return
    await mod.fulfil(actor, hooks, subject_type="project", subject_id=project_id, kind=kind, done_on=done_on)


async def waive_open(hooks: HookView, project_id: int, reason: str) -> int:
    """Waive a cancelled project's open obligations (ethics proof, annual QC report),
    as the system, with the reason. No-op while the engine is missing."""
    mod = _service("obligations")
    if mod is None or not hasattr(mod, "waive"):
        return 0
    from core.accounts.schemas import SYSTEM
    from core.obligations.tables import Obligation

    rows = await Obligation.select(Obligation.id).where(
        (Obligation.subject_type == "project") & (Obligation.subject_id == project_id)
        & (Obligation.status == "open"))
    for row in rows:
        await mod.waive(SYSTEM, row["id"], reason)
    return len(rows)


# ---------------------------------------------------------------- outbox (core/outbox)


async def file_with_university(actor: Actor, hooks: HookView, project: dict, payload: dict,
                               attachments: list[dict] | None = None) -> str:
    """HOSP-11: queue the project for the university through the hospital's reporting
    channel (``channels_for(hooks, "admission")``), in the caller's transaction; the
    outbox worker delivers it. Returns a status label for the timeline."""
    mod = _service("outbox")
    if mod is None or not hasattr(mod, "enqueue"):
        log.warning("outbox missing: university filing of project %s recorded, not delivered", project["id"])
        return "已登记（报送通道尚未启用，待通道启用后补报）"
    from core.outbox.channels import channels_for

    found = channels_for(hooks, "admission")
    if not found:
        raise DomainError(Problem("本机构未配置报学校备案的报送渠道（HOSP-11），请联系系统管理员", None, "HOSP-11"))
    delivery = await mod.enqueue(actor, channel=found[0], kind="admission", subject_type="project",
                                 subject_id=project["id"], institution_id=project["institution"], payload=payload,
                                 attachments=attachments or [])
    return f"已提交报送队列（{found[0].name}，报送单 {delivery}）"


# ---------------------------------------------------------------- inbox (core/inbox)


async def notify(user_ids: list[int], title: str, link: str, source: str) -> None:
    """Hand-over notices to users' in-app inboxes, in the caller's transaction.
    While the inbox area is missing the per-role work list still shows the item."""
    mod = _service("inbox")
    if mod is None or not hasattr(mod, "deliver") or not user_ids:
        return
    await mod.deliver(sorted(set(user_ids)), title, "", link=link, source=source)
