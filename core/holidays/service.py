"""The deployment's working-day calendar: official data + plugin and admin overrides."""

from __future__ import annotations

import datetime as dt

from core.calendar import Override, WorkCalendar
from core.holidays.tables import HolidayOverride
from core.plugins import HookView


def plugin_overrides(hooks: HookView) -> list[Override]:
    out = []
    for answer in hooks.call("calendar_overrides"):
        for day, working, note in answer or []:
            out.append(Override(day=day if isinstance(day, dt.date) else dt.date.fromisoformat(day),
                                working=bool(working), note=note))
    return out


async def admin_overrides() -> list[Override]:
    rows = await HolidayOverride.select().order_by(HolidayOverride.day)
    return [Override(day=r["day"], working=r["working"], note=r["note"]) for r in rows]


async def work_calendar(hooks: HookView) -> WorkCalendar:
    """The calendar every deadline of this deployment is computed with."""
    return WorkCalendar([*plugin_overrides(hooks), *await admin_overrides()])
