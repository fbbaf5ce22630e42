"""Working-day arithmetic on China's official calendar (CAL-1 … CAL-4).

The official data come from the ``chinesecalendar`` package (weekends, statutory
holidays, make-up working days 调休上班). On top of them come, in this order,
plugin adjustments (the ``calendar_overrides`` hook, ``source="local"``) and the
years' holiday notices the admin enters (``source="notice"``); a later override of
the same day wins.

A year is *known* when ``chinesecalendar`` covers it or an admin has entered its
State Council notice. A date computed across a year nobody knows yet is counted
on weekends only and flagged **provisional** (CAL-4) — never an unmarked guess,
never an exception from ``chinesecalendar``.

Everything here is pure: no I/O, no "today" (callers pass dates).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt
import functools
from collections.abc import Iterable

import msgspec
from chinese_calendar import constants as _official

from core import clock

HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

# A sanity bound on one count: legal periods are days or months, never decades; the
# bound also keeps a typo (``add 2025-01-01 1500000``) from spinning a worker.
MAX_COUNT = 5000

SOURCES = ("official", "local", "notice")


def provisional_note(years: Iterable[int]) -> str:
    """CAL-4: the text shown next to every provisional date."""
    listed = "、".join(f"{y}年" for y in sorted(set(years)))
    return f"暂按周末推算：{listed}节假日安排尚未录入" if listed else ""


def weekday_zh(day: dt.date) -> str:
    return WEEKDAYS_ZH[day.weekday()]


class Override(msgspec.Struct, frozen=True):
    """One day that differs from the plain week: a rest day (``working=False``) or a
    make-up working day (``working=True``, 调休上班), with the holiday's name.

    ``source`` is ``"notice"`` for a day of a year's State Council notice (it makes
    its year known) or ``"local"`` for a plugin's adjustment (it does not).
    """

    day: dt.date
    working: bool
    note: str = ""
    source: str = "notice"


class DueDate(msgspec.Struct, frozen=True):
    """A computed date; ``provisional`` when the count crossed a year whose holidays
    are unknown (CAL-4), with those years in ``unknown_years``."""

    date: dt.date
    provisional: bool = False
    unknown_years: tuple[int, ...] = ()

    def provisional_note(self) -> str:
        """"暂按周末推算：2027年节假日安排尚未录入" for a provisional date, else ""."""
        return provisional_note(self.unknown_years) if self.provisional else ""

    def display(self) -> str:
        """The ISO date, followed by the provisional note when there is one."""
        note = self.provisional_note()
        return f"{self.date.isoformat()}（{note}）" if note else self.date.isoformat()


class DayInfo(msgspec.Struct, frozen=True):
    """Whether one day is a working day, and why.

    ``kind``: ``makeup`` (调休上班), ``holiday`` (a rest day of a holiday period),
    ``weekend`` or ``workday``; ``name`` the holiday it belongs to; ``source`` where
    the answer comes from (``official``, ``local``, ``notice`` or "" for the plain week).
    """

    day: dt.date
    working: bool
    kind: str
    name: str = ""
    source: str = ""
    known: bool = True

    @property
    def weekday(self) -> str:
        return weekday_zh(self.day)

    def reason(self) -> str:
        """Why, in Chinese: "调休上班（国庆节）", "法定节假日：春节", "周末休息日", "普通工作日"."""
        if self.kind == "makeup":
            text = f"调休上班（{self.name}）" if self.name else "调休上班"
        elif self.kind == "holiday":
            label = "地方休息日" if self.source == "local" else "法定节假日"
            text = f"{label}：{self.name}" if self.name else label
        elif self.kind == "weekend":
            text = "周末休息日"
        else:
            text = "普通工作日"
        if not self.known:
            text += f"；{provisional_note([self.day.year])}"
        return text

    def sentence(self) -> str:
        """One line: "2025-10-11（星期六）是工作日：调休上班（国庆节）"."""
        verdict = "是工作日" if self.working else "不是工作日"
        return f"{self.day.isoformat()}（{self.weekday}）{verdict}：{self.reason()}"


def _holiday_name(english: str) -> str:
    if english in HOLIDAY_NAMES:
        return HOLIDAY_NAMES[english]
    try:
        return _official.Holiday(english).chinese
    except ValueError:
        return english


@functools.cache
def _official_days() -> tuple[dict[dt.date, str], dict[dt.date, str], frozenset[int]]:
    holidays = {d: _holiday_name(n) for d, n in _official.holidays.items()}
    workdays = {d: _holiday_name(n) for d, n in _official.workdays.items()}
    years = {d.year for d in holidays}
    return holidays, workdays, frozenset(range(min(years), max(years) + 1))


def official_years() -> tuple[int, int]:
    """The first and last year ``chinesecalendar`` knows (2004, 2026 for 1.11)."""
    years = _official_days()[2]
    return min(years), max(years)


class WorkCalendar:
    """The calendar of one deployment: official data plus overrides.

    Build one with ``await core.holidays.service.work_calendar(hooks)``; tests build
    ``WorkCalendar([Override(...), ...])`` directly.
    """

    def __init__(self, overrides: Iterable[Override] = ()):
        holidays, workdays, years = _official_days()
        # day -> (name, source); official first, then overrides in the given order.
        self._rest: dict[dt.date, tuple[str, str]] = {d: (n, "official") for d, n in holidays.items()}
        self._work: dict[dt.date, tuple[str, str]] = {d: (n, "official") for d, n in workdays.items()}
        self.official_years = years
        notice_years: set[int] = set()
        local_days = 0
        for o in overrides:
            if o.source == "notice":
                notice_years.add(o.day.year)
            else:
                local_days += 1
            if o.working:
                self._rest.pop(o.day, None)
                self._work[o.day] = (o.note, o.source)
            else:
                self._work.pop(o.day, None)
                self._rest[o.day] = (o.note, o.source)
        self.notice_years = frozenset(notice_years)
        self.local_days = local_days
        self.known_years = frozenset(years | notice_years)
        # (start, n, direction) -> DueDate: a calendar never changes once built (a new notice
        # builds a new one), and a batch of cases counts the same few spans from the same
        # days again and again (each case's discharge, each deadline rule).
        self._counted: dict[tuple[dt.date, int, int], DueDate] = {}

    # ------------------------------------------------------------ single days

    def is_known(self, day: dt.date) -> bool:
        """CAL-4: whether ``day``'s year has its holiday notice (official or entered)."""
        return day.year in self.known_years

    def is_working_day(self, day: dt.date) -> bool:
        """CAL-1: weekdays that are not holidays, plus make-up working days (调休上班)."""
        if day in self._work:
            return True
        if day in self._rest:
            return False
        return day.weekday() < 5

    def day_info(self, day: dt.date) -> DayInfo:
        """Whether ``day`` is a working day and why (make-up day, holiday name, weekend)."""
        known = self.is_known(day)
        if day in self._work:
            name, source = self._work[day]
            return DayInfo(day, True, "makeup", name, source, known)
        if day in self._rest:
            name, source = self._rest[day]
            return DayInfo(day, False, "holiday", name, source, known)
        if day.weekday() >= 5:
            return DayInfo(day, False, "weekend", known=known)
        return DayInfo(day, True, "workday", known=known)

    def explain(self, day: dt.date) -> tuple[bool, str]:
        """Whether ``day`` is a working day, and why, in Chinese."""
        info = self.day_info(day)
        return info.working, info.reason()

    def special_days(self, year: int) -> list[DayInfo]:
        """The holidays and make-up working days of ``year``, in date order."""
        days = sorted(d for d in (*self._rest, *self._work) if d.year == year)
        return [self.day_info(d) for d in days]

    # ------------------------------------------------------------ counting

    @staticmethod
    def _check_count(n: int) -> None:
        if not 0 <= n <= MAX_COUNT:
            raise ValueError(f"天数应在 0 到 {MAX_COUNT} 之间（收到 {n}）")

    def _step(self, start: dt.date, n: int, direction: int) -> DueDate:
        found = self._counted.get((start, n, direction))
        if found is not None:
            return found
        self._check_count(n)
        if len(self._counted) > 20_000:
            self._counted.clear()
        found = self._counted[(start, n, direction)] = self._count(start, n, direction)
        return found

    def _count(self, start: dt.date, n: int, direction: int) -> DueDate:
        day, left, unknown = start, n, set()
        one = dt.timedelta(days=direction)
        try:
            while left > 0:
                day += one
                if not self.is_known(day):
                    unknown.add(day.year)
                if self.is_working_day(day):
                    left -= 1
        except OverflowError:
            raise ValueError("日期超出可计算的范围") from None
        return DueDate(day, bool(unknown), tuple(sorted(unknown)))

    def add_working_days(self, start: dt.date, n: int) -> DueDate:
        """CAL-1: the Nth working day after ``start``; ``start`` itself is not counted
        (民法典 第二百零一条), rest days are skipped, make-up working days count."""
        return self._step(start, n, +1)

    def working_days_before(self, start: dt.date, n: int) -> DueDate:
        """CAL-3: the Nth working day before ``start``, counting backwards; ``start``
        itself is not counted. E.g. a province where a training base files 3 working days before its
        first enrolment notice → ``working_days_before(notice_day, 3)``."""
        return self._step(start, n, -1)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (CAL-1 counting:
        ``start`` is not counted); 0 when ``end <= start``.

        ``working_days_between(d, add_working_days(d, n).date) == n``.
        """
        if (end - start).days > MAX_COUNT * 2:
            raise ValueError("日期区间过长")
        # Remembered per calendar: a calendar is kept in the process while its notices stay
        # the same, and every page counts the days left of the same obligations again.
        memo = self.__dict__.setdefault("_between", {})
        found = memo.get((start, end))
        if found is None:
            found, day = 0, start
            while day < end:
                day += dt.timedelta(days=1)
                found += self.is_working_day(day)
            if len(memo) > 20_000:
                memo.clear()
            memo[(start, end)] = found
        return found

    def unknown_years_between(self, start: dt.date, end: dt.date) -> tuple[int, ...]:
        """The years between the two dates (inclusive) whose holidays are unknown."""
        low, high = sorted((start, end))
        return tuple(y for y in range(low.year, high.year + 1) if y not in self.known_years)

    # ------------------------------------------------------------ periods (CAL-2)

    def _roll(self, day: dt.date, direction: int) -> DueDate:
        """``day`` if it is a working day, else the next (``+1``) or previous (``-1``) one."""
        unknown = set()
        try:
            while True:
                if not self.is_known(day):
                    unknown.add(day.year)
                if self.is_working_day(day):
                    return DueDate(day, bool(unknown), tuple(sorted(unknown)))
                day += dt.timedelta(days=direction)
        except OverflowError:
            raise ValueError("日期超出可计算的范围") from None

    def next_working_day(self, day: dt.date) -> DueDate:
        """``day`` itself when it is a working day, else the next working day (CAL-2)."""
        return self._roll(day, +1)

    def previous_working_day(self, day: dt.date) -> DueDate:
        """``day`` itself when it is a working day, else the previous working day."""
        return self._roll(day, -1)

    def add_months(self, start: dt.date, months: int) -> DueDate:
        """CAL-2: the same-numbered day ``months`` later (the month's last day when it
        has none); a rest day moves to the next working day (民法典 第二百零三条).

        Negative ``months`` count back ("1 month before training"); a rest day
        then moves to the *previous* working day, so the date is never less than the
        full period before the event."""
        self._check_count(abs(months))
        index = start.year * 12 + start.month - 1 + months
        year, month = divmod(index, 12)
        if not dt.MINYEAR <= year <= dt.MAXYEAR:
            raise ValueError("日期超出可计算的范围")
        last = _stdlib_calendar.monthrange(year, month + 1)[1]
        return self._roll(dt.date(year, month + 1, min(start.day, last)), -1 if months < 0 else +1)

    def add_weeks(self, start: dt.date, weeks: int) -> DueDate:
        """CAL-2: the same weekday ``weeks`` later (HOSP-10: one week of publicity);
        a rest day moves to the next working day (to the previous one when counting back)."""
        return self.add_calendar_days(start, 7 * weeks)

    def add_calendar_days(self, start: dt.date, days: int) -> DueDate:
        """Calendar days; a period ending on a rest day moves to the next working day
        (CAL-2), a period counted back to the previous one."""
        if abs(days) > MAX_COUNT * 7:
            raise ValueError(f"天数应在 0 到 {MAX_COUNT * 7} 之间（收到 {days}）")
        try:
            end = start + dt.timedelta(days=days)
        except OverflowError:
            raise ValueError("日期超出可计算的范围") from None
        return self._roll(end, -1 if days < 0 else +1)

    def apply_offset(self, start: dt.date, amount: int, unit: str, *, before: bool = False) -> DueDate:
        """One entry point for deadline rules: ``amount`` of ``unit`` (``working_days``,
        ``calendar_days``, ``weeks``, ``months``) after ``start``, or before it."""
        if amount < 0:
            raise ValueError("时限数值不能为负数")
        if unit == "working_days":
            return self.working_days_before(start, amount) if before else self.add_working_days(start, amount)
        sign = -1 if before else 1
        if unit == "calendar_days":
            return self.add_calendar_days(start, sign * amount)
        if unit == "weeks":
            return self.add_weeks(start, sign * amount)
        if unit == "months":
            return self.add_months(start, sign * amount)
        raise ValueError(f"未知的时限单位：{unit}（可用：working_days、calendar_days、weeks、months）")

    # ------------------------------------------------------------ status

    def missing_years(self, years: Iterable[int]) -> list[int]:
        """Those of ``years`` whose holidays nobody has entered yet (CAL-4)."""
        return [y for y in sorted(set(years)) if y not in self.known_years]


def official() -> WorkCalendar:
    """The calendar without overrides (what ``chinesecalendar`` knows)."""
    return WorkCalendar()


def health(cal: WorkCalendar | None = None, today: dt.date | None = None) -> dict:
    """The calendar's state for ``/healthz`` and the admin: years known (official
    range and years entered by the admin), and which of this year and next are missing."""
    cal = cal or official()
    today = today or clock.today()
    first, last = min(cal.official_years), max(cal.official_years)
    missing = cal.missing_years((today.year, today.year + 1))
    return {
        "ok": not missing,
        "official_years": [first, last],
        "entered_years": sorted(cal.notice_years),
        "known_years": sorted(cal.known_years),
        "missing_years": missing,
        "local_override_days": cal.local_days,
        "note": provisional_note(missing),
    }
