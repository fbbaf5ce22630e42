"""Daily work of the people area: certificates that expired stop counting (NAT-19)."""

from __future__ import annotations

from core.jobs import job
from core.people import service
from core.plugins import HookView


@job
async def expire_certificates(hooks: HookView) -> int:
    """Physicians whose certificate expired lose the qualification it gave (the filing
    and admission rules read qualifications)."""
    return await service.expire_certificates()
