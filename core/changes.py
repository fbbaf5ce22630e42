"""One helper for a state change of a versioned record: take the record at the version it
was read at (optimistic lock — two reviewers cannot both win), write, audit, notify, all
in the caller's one write transaction.

An area describes its records once (``Versioned``) and each use case is::

    async with PROJECT.change(actor, row, version, "withdraw") as change:
        change.values[Project.status] = ProjectStatus.withdrawn
        change.notify([row["lead"]], "申请已撤回")

On leaving the block the values are written, the notices delivered to the users'
inboxes and one audit event records the record before and after (``snapshot`` keys).
Someone who changed the record in between wins: this caller gets ``Conflict`` with the
area's Chinese message, and nothing changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import msgspec

from core.accounts.schemas import Actor
from core.db import write_transaction
from core.errors import Conflict, Problem


class Change(msgspec.Struct):
    """What one use case changes: column values and the notices to send. ``action`` (the
    audit event's, when the use case decides it inside the block) and ``snapshot`` (the
    keys the event records, when not the area's) may be set by the caller; ``row`` is the
    record as it was read for the change (for ``create``: as inserted)."""

    values: dict[Any, Any] = {}
    notices: list[tuple[list[int], str]] = []
    action: str | None = None
    snapshot: tuple[str, ...] | None = None
    row: dict[str, Any] = {}

    def notify(self, user_ids: list[int], text: str) -> None:
        self.notices.append((list(user_ids), text))


class Versioned(msgspec.Struct, frozen=True):
    """How one area's records change: its table (with ``version`` and, if it has one,
    ``updated_at``), the audit record type and action prefix, the keys an audit event
    snapshots, how the record is read back, the conflict message, and how a notice
    about a record is titled, linked and sourced."""

    table: Any
    record_type: str
    action_prefix: str
    snapshot: tuple[str, ...]
    read: Callable[[int], Awaitable[dict]]
    moved_on: str
    link: Callable[[int], str]
    source: Callable[[int], str]
    title: Callable[[dict, str], str] = staticmethod(lambda row, text: text)  # type: ignore[assignment]
    conflict_field: str | None = None

    async def take(self, record_id: int, version: int | None, values: dict | None = None, *,
                   where: Any = None) -> None:
        """Bump the record's version (and write ``values``) if it still is at ``version``
        (``None``: any) and matches ``where``; else ``Conflict``."""
        table = self.table
        values = dict(values or {})
        values[table.version] = table.version + 1
        if hasattr(table, "updated_at"):
            values[table.updated_at] = dt.datetime.now(dt.UTC)
        condition = table.id == record_id
        if version is not None:
            condition = condition & (table.version == int(version))
        if where is not None:
            condition = condition & where
        if not await table.update(values).where(condition).returning(table.id):
            raise Conflict(Problem(self.moved_on, self.conflict_field))

    async def save(self, record_id: int, values: dict) -> None:
        if values:
            await self.table.update(values).where(self.table.id == record_id)

    async def audit(self, actor: Actor, action: str, before: dict | None, record_id: int, *,
                    snapshot: tuple[str, ...] | None = None, **extra: Any) -> dict:
        """One audit event with the record before (``None``: it was just created) and
        after; returns the record after."""
        from core.audit import service as audit

        keys = snapshot or self.snapshot
        after = await self.read(record_id)
        await audit.record(actor, f"{self.action_prefix}.{action}", self.record_type, record_id,
                           before=None if before is None else {k: before.get(k) for k in keys},
                           after={k: after.get(k) for k in keys} | extra,
                           institution_id=(before or after).get("institution"))
        return after

    async def notify(self, row: dict, user_ids: list[int], text: str) -> None:
        """A notice about the record to each user's inbox, in the caller's transaction."""
        from core.inbox import service as inbox

        if user_ids:
            await inbox.deliver(sorted(set(user_ids)), self.title(row, text), "", link=self.link(row["id"]),
                                source=self.source(row["id"]))

    @asynccontextmanager
    async def change(self, actor: Actor, row: dict, version: int | None, action: str | None, *,
                     where: Any = None) -> AsyncIterator[Change]:
        """Take ``row``'s record at ``version``, let the caller fill a ``Change``, then write
        its values, deliver its notices and audit ``action`` (``None``: no audit event)."""
        async with write_transaction():
            await self.take(row["id"], version, where=where)
            change = Change(action=action, row=row)
            yield change
            await self._finish(actor, change, row)

    @asynccontextmanager
    async def create(self, actor: Actor, values: dict[str, Any], action: str) -> AsyncIterator[Change]:
        """Insert a record of ``values`` (column name -> value), let the caller fill a
        ``Change`` (``change.row``: the record as inserted), then write its values, deliver
        its notices and audit ``action`` (no "before": the record is new)."""
        async with write_transaction():
            rows = await self.table.insert(self.table(**values)).returning(self.table.id)
            row = await self.read(rows[0]["id"])
            change = Change(action=action, row=row)
            yield change
            await self._finish(actor, change, None)

    async def _finish(self, actor: Actor, change: Change, before: dict | None) -> None:
        record_id = change.row["id"]
        await self.save(record_id, change.values)
        for users, text in change.notices:
            await self.notify(change.row, users, text)
        if change.action:
            await self.audit(actor, change.action, before, record_id, snapshot=change.snapshot)
