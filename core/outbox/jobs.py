"""The outbox worker job, run by ``clintech worker`` through ``core.jobs.run_all``."""

from __future__ import annotations

from core.jobs import job
from core.outbox import service
from core.plugins import HookView


@job
async def deliver_outbox(hooks: HookView) -> int:
    """Send every delivery that is due (DESIGN.md §6): leases rows so several workers
    never send one delivery twice; returns how many deliveries were attempted."""
    return await service.deliver_due(hooks)
