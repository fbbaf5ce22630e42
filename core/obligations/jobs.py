"""Background jobs of the obligation engine, run by ``clintech worker``."""

from __future__ import annotations

from core.jobs import job
from core.obligations import reminders, service, transitions
from core.plugins import HookView


@job
async def send_obligation_reminders(hooks: HookView) -> int:
    """Send the reminders due today (inbox, and e-mail when SMTP is configured)."""
    return await reminders.send_due(hooks)


@job
async def recompute_deadlines(hooks: HookView) -> int:
    """Keep open obligations in step with the deadline rules and the calendar of the
    enabled plugins: a plugin upgraded with changed rules, or calendar overrides it
    ships, take effect within one worker interval (CAL-4 provisional dates included)."""
    return await service.recompute_open(hooks)


@job
async def fire_transition_events(hooks: HookView) -> int:
    """Report ``rules_effective`` and ``technology_listed`` for the institutions already
    using a technology once their day has come (a province's transitional period, or
    its grace period after listing), so the transitional deadline rules create their
    obligations."""
    return await transitions.fire(hooks)
