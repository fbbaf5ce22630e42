"""Background jobs of the obligation engine, run by ``clintech worker``."""

from __future__ import annotations

from core.jobs import job
from core.obligations import reminders
from core.plugins import HookView


@job
async def send_obligation_reminders(hooks: HookView) -> int:
    """Send the reminders due today (inbox, and e-mail when SMTP is configured)."""
    return await reminders.send_due(hooks)
