"""The deployment's working-day calendar: official data + plugin and admin overrides.

The only writer of ``HolidayOverride``. The admin enters a year's State Council
holiday notice (CAL-1: the notice is the source); entering it makes the year exact
(CAL-4), and open obligations are recomputed once the change has committed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import msgspec

from core.accounts.schemas import Actor
from core.audit import service as audit
from core.calendar import Override, WorkCalendar
from core.db import write_transaction
from core.errors import DomainError, NotFound, Problem
from core.holidays import rules
from core.holidays.tables import HolidayOverride
from core.plugins import HookView, PluginHost

log = logging.getLogger("clintech.calendar")



# ---------------------------------------------------------------- reading the calendar


def _plugin_day(item: Any) -> Override:
    day, working, note = item
    if isinstance(day, dt.datetime):
        day = day.date()
    if not isinstance(day, dt.date):
        day = dt.date.fromisoformat(str(day))
    if not isinstance(working, bool):
        raise ValueError(f"is_working_day 应为 True/False，收到 {working!r}")
    return Override(day=day, working=working, note=str(note or ""), source="local")


async def plugin_overrides_checked(hooks: HookView) -> tuple[list[Override], list[str]]:
    """The ``calendar_overrides`` answers of the enabled plugins, and the items that
    could not be read (skipped, so one bad plugin never stops deadlines)."""
    out: list[Override] = []
    problems: list[str] = []
    for plugin, answer in await hooks.collect_answers("calendar_overrides"):
        for item in answer or []:
            try:
                out.append(_plugin_day(item))
            except (TypeError, ValueError) as exc:
                problems.append(f"插件 {plugin} 提供的日历调整无法识别：{item!r}（{exc}）")
    for problem in problems:
        log.warning(problem)
    return out, problems


async def plugin_overrides(hooks: HookView) -> list[Override]:
    """Plugin adjustments (``source="local"``); they never make a year known."""
    return (await plugin_overrides_checked(hooks))[0]


async def admin_overrides() -> list[Override]:
    """The days of the notices the admin entered (``source="notice"``)."""
    rows = await HolidayOverride.select(HolidayOverride.day, HolidayOverride.working,
                                        HolidayOverride.note).order_by(HolidayOverride.day)
    return [Override(day=r["day"], working=r["working"], note=r["note"], source="notice") for r in rows]


# Work calendars kept in the process, by (switched-off plugins, notices' signature): a
# request that read the signature with its session (``core.system.service.state_columns``)
# builds no calendar and reads no notice until a notice or a plugin switch changes it.
_CALENDARS: dict[tuple[int, frozenset[str], str], WorkCalendar] = {}


async def work_calendar(hooks: HookView) -> WorkCalendar:
    """The calendar every deadline of this deployment is computed with: official
    data, then plugin adjustments, then the admin's notices (which win).

    Built once per ``HookView`` (one request or job run), or once per process while the
    notices' signature the view carries (``memo["calendar_key"]``) stays the same."""
    cal = hooks.memo.get("work_calendar")
    if cal is not None:
        return cal
    key = hooks.memo.get("calendar_key")
    cal = _CALENDARS.get((id(hooks.host), hooks.disabled, key)) if key else None
    if cal is None:
        cal = WorkCalendar([*await plugin_overrides(hooks), *await admin_overrides()])
        if key:
            if len(_CALENDARS) > 32:
                _CALENDARS.clear()
            _CALENDARS[(id(hooks.host), hooks.disabled, key)] = cal
    hooks.memo["work_calendar"] = cal
    return cal


async def deployment_calendar(host: PluginHost, view: HookView | None = None, *,
                              offline: bool = False) -> tuple[WorkCalendar, str]:
    """The deployment calendar for the CLI and ``/healthz``, which also run while the
    database is down: then only the official data and the plugins' adjustments count,
    and the second value says so (else it is ""). ``view``: the plugin view when the
    caller already read it from the database; ``offline``: the database is known down."""
    from core.system import service as system

    try:
        if offline:
            raise ConnectionError("database unavailable")
        view = view or host.view(await system.disabled_plugins())
        return await work_calendar(view), ""
    except Exception as exc:  # any driver/schema error: fall back, never crash
        log.info("calendar: database unavailable, using official data only: %s", exc)
        return WorkCalendar(await plugin_overrides(view or host.view())), "数据库不可用或尚未迁移：仅按内置日历和插件数据计算，未包含管理员录入的放假安排"


# ---------------------------------------------------------------- the admin's notices


class EnteredYear(msgspec.Struct):
    """One year's notice as entered: its days, who entered it and when."""

    year: int
    days: list[dict]
    holidays: int
    workdays: int
    entered_by: str
    entered_at: dt.datetime | None
    text: str


class NoticeResult(msgspec.Struct):
    """What entering, replacing or deleting a notice did."""

    year: int
    holidays: int = 0
    workdays: int = 0
    replaced: bool = False
    recomputed: int | None = None  # how many open obligations changed; None until recomputed
    recompute_error: str = ""


async def entered_years() -> list[EnteredYear]:
    """Every year the admin entered, with its days, newest year first."""
    rows = await HolidayOverride.select().order_by(HolidayOverride.day)
    by_year: dict[int, list[dict]] = {}
    for r in rows:
        by_year.setdefault(r["day"].year, []).append(r)
    out = []
    for year in sorted(by_year, reverse=True):
        days = by_year[year]
        out.append(EnteredYear(
            year=year, days=days,
            holidays=sum(not d["working"] for d in days), workdays=sum(d["working"] for d in days),
            entered_by=days[-1]["entered_by"], entered_at=max(d["entered_at"] for d in days),
            text=rules.notice_text([(d["day"], d["working"], d["note"]) for d in days]),
        ))
    return out


def _snapshot(rows: list[dict]) -> list[dict]:
    return [{"day": r["day"].isoformat(), "working": r["working"], "note": r["note"]} for r in rows]


async def _year_rows(year: int) -> list[dict]:
    return await HolidayOverride.select().where(
        (HolidayOverride.day >= dt.date(year, 1, 1)) & (HolidayOverride.day <= dt.date(year, 12, 31))
    ).order_by(HolidayOverride.day)


async def enter_notice(actor: Actor, hooks: HookView, year: object, text: str, *, replace: bool = False) -> NoticeResult:
    """Enter a year's State Council holiday notice (CAL-1, CAL-4), in the line format
    of ``core.holidays.rules``. Any problem refuses the whole notice; a year already
    entered is replaced as a whole only when ``replace`` is set. Audited. Open
    obligations are recomputed after the commit."""
    number, problems = rules.parse_year(year)
    days: list[rules.NoticeDay] = []
    if number is not None:
        days, text_problems = rules.parse_notice(number, text)
        problems += text_problems
    if problems:
        raise DomainError(problems)
    assert number is not None
    async with write_transaction():
        existing = await _year_rows(number)
        if existing and not replace:
            raise DomainError(Problem(
                f"{number}年的放假安排已录入（{len(existing)}天）；如需整体替换，请勾选「整体替换该年已录入的安排」",
                "replace", "CAL-4"))
        if existing:
            await HolidayOverride.delete().where(HolidayOverride.id.is_in([r["id"] for r in existing]))
        await HolidayOverride.insert(*(
            HolidayOverride(day=d.day, working=d.working, note=d.note, entered_by=actor.username) for d in days
        ))
        after = [{"day": d.day.isoformat(), "working": d.working, "note": d.note} for d in days]
        await audit.record(actor, "calendar.notice.replace" if existing else "calendar.notice.enter",
                           "holiday_notice", number, before=_snapshot(existing) or None, after=after)
    result = NoticeResult(year=number, holidays=sum(not d.working for d in days),
                          workdays=sum(d.working for d in days), replaced=bool(existing))
    await _after_change(hooks, result)
    return result


async def delete_notice(actor: Actor, hooks: HookView, year: int) -> NoticeResult:
    """Delete every entered day of ``year``: the year goes back to the official data,
    or to provisional (weekends only) when the official data do not know it. Audited."""
    async with write_transaction():
        existing = await _year_rows(year)
        if not existing:
            raise NotFound(f"{year}年没有录入的放假安排")
        await HolidayOverride.delete().where(HolidayOverride.id.is_in([r["id"] for r in existing]))
        await audit.record(actor, "calendar.notice.delete", "holiday_notice", year, before=_snapshot(existing))
    result = NoticeResult(year=year)
    await _after_change(hooks, result)
    return result


async def delete_day(actor: Actor, hooks: HookView, day: dt.date) -> NoticeResult:
    """Delete one entered day (a holiday or make-up day entered by mistake). Audited."""
    async with write_transaction():
        row = await HolidayOverride.select().where(HolidayOverride.day == day).first()
        if row is None:
            raise NotFound(f"{day.isoformat()} 没有录入的放假安排")
        await HolidayOverride.delete().where(HolidayOverride.id == row["id"])
        await audit.record(actor, "calendar.day.delete", "holiday_notice", day.year, before=_snapshot([row]))
    result = NoticeResult(year=day.year)
    await _after_change(hooks, result)
    return result


# ---------------------------------------------------------------- obligations (optional)


async def recompute_open(hooks: HookView) -> int:
    """Recompute open obligations with the current calendar (CAL-4). Runs after the
    calendar change committed. (Imported here: the obligation engine itself builds
    its due dates with ``work_calendar`` from this module.)"""
    from core.obligations import service as obligations

    return await obligations.recompute_open(hooks)


async def _after_change(hooks: HookView, result: NoticeResult) -> None:
    hooks.memo.pop("work_calendar", None)
    try:
        result.recomputed = await recompute_open(hooks)
    except Exception as exc:  # the notice is saved; say so and let the admin retry
        log.exception("calendar: recomputing open obligations failed")
        result.recompute_error = f"{type(exc).__name__}: {exc}"[:200]


async def recompute(hooks: HookView) -> NoticeResult:
    """Recompute open obligations on the admin's request (after a failed attempt)."""
    result = NoticeResult(year=0)
    await _after_change(hooks, result)
    return result


async def provisional_obligations() -> list[Any]:
    """Open obligations whose due date is provisional (CAL-4)."""
    from core.obligations import service as obligations

    return list(await obligations.provisional_obligations() or [])


# ---------------------------------------------------------------- the admin's overview


class CalendarOverview(msgspec.Struct):
    """What the admin calendar page shows."""

    health: dict
    entered: list[EnteredYear]
    local_overrides: list[Override]
    plugin_problems: list[str]
    provisional: list[Any] | None
    years_to_check: list[int]
    calendar: Any = None  # the WorkCalendar the figures were taken from


async def overview(hooks: HookView, today: dt.date) -> CalendarOverview:
    """Known years (official and entered), missing years (this year and next),
    the entered notices, the plugins' adjustments and the provisional obligations."""
    from core.calendar import health

    local, problems = await plugin_overrides_checked(hooks)
    entered = await entered_years()
    notice_days = [Override(day=d["day"], working=d["working"], note=d["note"], source="notice")
                   for y in entered for d in y.days]
    cal = WorkCalendar([*local, *notice_days])
    return CalendarOverview(
        health=health(cal, today),
        entered=entered,
        local_overrides=sorted(local, key=lambda o: o.day),
        plugin_problems=problems,
        provisional=await provisional_obligations(),
        years_to_check=[today.year, today.year + 1],
        calendar=cal,
    )
