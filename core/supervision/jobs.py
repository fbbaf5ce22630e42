"""The evaluation of the warning rules in the background (``clintech serve`` or
``clintech worker``): at most once every ``EVERY``, by one worker at a time (a lease row)."""

from __future__ import annotations

import datetime as dt

from core.accounts.schemas import SYSTEM
from core.audit import service as audit
from core.db import write_transaction
from core.jobs import job
from core.plugins import HookView
from core.supervision import service
from core.supervision.tables import WarningRun

EVERY = dt.timedelta(minutes=10)
LEASE = dt.timedelta(minutes=30)  # a crashed worker's lease expires


async def _take(now: dt.datetime) -> bool:
    """Take the lease when the last run is older than ``EVERY`` and nobody holds it."""
    async with write_transaction():
        if not await WarningRun.exists().where(WarningRun.name == "warnings"):
            await WarningRun.insert(WarningRun(name="warnings"))
        taken = await WarningRun.update({WarningRun.lease_until: now + LEASE}).where(
            (WarningRun.name == "warnings")
            & (WarningRun.lease_until.is_null() | (WarningRun.lease_until < now))
            & (WarningRun.finished_at.is_null() | (WarningRun.finished_at < now - EVERY))
        ).returning(WarningRun.id)
    return bool(taken)


@job
async def evaluate_warnings(hooks: HookView, today: dt.date | None = None) -> int:
    """Evaluate every warning rule in force (NAT-41); returns the warnings raised."""
    now = dt.datetime.now(dt.UTC)
    if not await _take(now):
        return 0
    results: dict[str, int] = {}
    try:
        results = await service.evaluate(hooks, today)
    finally:
        async with write_transaction():
            await WarningRun.update({WarningRun.lease_until: None, WarningRun.finished_at: dt.datetime.now(dt.UTC),
                                     WarningRun.results: results}).where(WarningRun.name == "warnings")
            # The system's evaluation run, as a regulator's 重新检测 is recorded.
            await audit.record(SYSTEM, "warning.evaluate", "risk_warning", None, after=results)
    return results.get("raised", 0)
