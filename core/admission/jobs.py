"""Daily admission jobs for ``clintech worker``: both take "today" explicitly in tests."""

from __future__ import annotations

import datetime as dt

from core.admission import service
from core.jobs import job
from core.plugins import HookView


@job
async def cancel_lapsed_admissions(hooks: HookView, today: dt.date | None = None) -> int:
    """HOSP-7: cancel admissions whose ethics approval is overdue."""
    return len(await service.cancel_lapsed(hooks, today))


@job
async def close_finished_publicity(hooks: HookView, today: dt.date | None = None) -> int:
    """HOSP-10: end publicity weeks that are over with every objection answered."""
    return len(await service.close_due_publicity(hooks, today))
