"""The only writer of audit events; called by services inside their transaction."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from core.accounts.schemas import Actor
from core.audit.tables import AuditEvent
from core.db import engine
from core.timefmt import SHANGHAI


def _json_text(value: Any) -> str | None:
    """The JSON text stored for a snapshot (msgspec: dates and datetimes as ISO 8601, structs
    and enums as their values); ``None`` stays SQL NULL. Given as text, ``insert_many``
    stores it as it is — no decode and second encode per snapshot (a batch of 100 cases
    writes 300 events)."""
    return msgspec.json.encode(value).decode() if value is not None else None


async def record(
    actor: Actor,
    action: str,
    record_type: str,
    record_id: int | None,
    *,
    before: Any = None,
    after: Any = None,
    institution_id: int | None = None,
) -> None:
    """Append one audit event. Must run inside the change's write transaction, so the
    event and the change commit or roll back together."""
    await record_many(actor, [Entry(action, record_type, record_id, before=before, after=after,
                                    institution_id=institution_id)])


class Entry(msgspec.Struct):
    """One audit event of a batch (``record_many``)."""

    action: str
    record_type: str
    record_id: int | None
    before: Any = None
    after: Any = None
    institution_id: int | None = None


# The events of a ``collected`` block, written at its end (None: written at once).
_COLLECTED: contextvars.ContextVar[list[dict] | None] = contextvars.ContextVar("clintech_audit", default=None)


@contextlib.asynccontextmanager
async def collected() -> AsyncIterator[None]:
    """Inside a write transaction: the audit events recorded in the block — by any service
    it calls — are written in one insert at its end, in the order recorded (a batch of
    cases: its obligations', deliveries', cases' and filing's events). A block that raises
    writes none (the transaction rolls back anyway). Nested blocks join the outer one."""
    if _COLLECTED.get() is not None:
        yield
        return
    rows: list[dict] = []
    token = _COLLECTED.set(rows)
    try:
        yield
    finally:
        _COLLECTED.reset(token)
    if rows:
        from core.db import insert_many

        await insert_many(AuditEvent, rows)


async def record_many(actor: Actor, entries: list[Entry]) -> None:
    """Append the audit events of a batch of changes by ``actor`` in one write, inside
    the changes' write transaction (as ``record``); inside ``collected``, at its end."""
    if engine().current_transaction.get() is None:
        raise RuntimeError("audit.record must be called inside the change's transaction")
    if not entries:
        return
    rows = [
        dict(
            actor_id=actor.id or None,
            actor_name=actor.username,
            action=e.action,
            record_type=e.record_type,
            record_id=e.record_id,
            institution_id=e.institution_id,
            before=_json_text(e.before),
            after=_json_text(e.after),
        ) for e in entries]
    pending = _COLLECTED.get()
    if pending is not None:
        pending.extend(rows)
        return
    from core.db import insert_many

    await insert_many(AuditEvent, rows)


class AuditFilter(msgspec.Struct):
    actor: str = ""
    action: str = ""
    record_type: str = ""
    record_id: int | None = None
    since: dt.date | None = None  # Beijing days, as people type them
    until: dt.date | None = None
    page: int = 1
    institution_id: int | None = None  # an institution's own activity (its 操作记录 page)


PAGE_SIZE = 50


async def browse(filters: AuditFilter) -> tuple[list[dict], int]:
    """Audit events matching ``filters``, newest first, one page; plus the total count."""
    where = []
    if filters.actor:
        where.append(AuditEvent.actor_name == filters.actor)
    if filters.action:
        where.append(AuditEvent.action == filters.action)
    if filters.record_type:
        where.append(AuditEvent.record_type == filters.record_type)
    if filters.record_id is not None:
        where.append(AuditEvent.record_id == filters.record_id)
    if filters.institution_id is not None:
        where.append(AuditEvent.institution_id == filters.institution_id)
    if filters.since:
        where.append(AuditEvent.at >= dt.datetime.combine(filters.since, dt.time(), SHANGHAI))
    if filters.until:
        where.append(
            AuditEvent.at < dt.datetime.combine(filters.until + dt.timedelta(days=1), dt.time(), SHANGHAI)
        )
    query = AuditEvent.select().order_by(AuditEvent.id, ascending=False)
    count = AuditEvent.count()
    for clause in where:
        query = query.where(clause)
        count = count.where(clause)
    page = max(filters.page, 1)
    rows = await query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE).output(load_json=True)
    return rows, await count


async def actions() -> list[str]:
    rows = await AuditEvent.select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    return [r["action"] for r in rows]


async def with_names(events: list[dict]) -> list[dict]:
    """Events as people read them: ``who`` is the person's name (not the login name;
    "系统" for the system), ``sentence`` what they did in Chinese."""
    from core.accounts.tables import User
    from core.messages import audit_sentence

    logins = sorted({e["actor_name"] for e in events if e.get("actor_name")})
    names = {u["username"]: u["display_name"] for u in await User.select(User.username, User.display_name).where(
        User.username.is_in(logins or ["-"]))}
    for e in events:
        e["who"] = names.get(e.get("actor_name") or "", "系统" if e.get("actor_name") in ("system", "", None)
                             else e["actor_name"])
        e["sentence"] = audit_sentence(e["action"], e.get("record_type") or "")
    return events
