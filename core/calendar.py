"""Working-day arithmetic on China's official calendar (CAL-1 … CAL-4).

The official data come from the ``chinesecalendar`` package (weekends, statutory
holidays, make-up working days 调休上班). Plugins (``calendar_overrides``) and the
admin (a year's holiday notice) add overrides. A date in a year that nobody has
entered yet is counted on weekends only and flagged **provisional** (CAL-4).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt
import functools
from collections.abc import Iterable

import msgspec
from chinese_calendar import constants as _official

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


class Override(msgspec.Struct, frozen=True):
    """One day of a holiday notice: a holiday (``working=False``) or a make-up working day."""

    day: dt.date
    working: bool
    note: str = ""


class DueDate(msgspec.Struct, frozen=True):
    """A computed date; ``provisional`` when it crosses a year whose holidays are unknown."""

    date: dt.date
    provisional: bool = False
    unknown_years: tuple[int, ...] = ()

    def provisional_note(self) -> str:
        if not self.provisional:
            return ""
        years = "、".join(f"{y}年" for y in self.unknown_years)
        return f"暂按周末推算：{years}节假日安排尚未录入"


@functools.cache
def _official_days() -> tuple[dict[dt.date, str], dict[dt.date, str], frozenset[int]]:
    holidays = {d: HOLIDAY_NAMES.get(n, n) for d, n in _official.holidays.items()}
    workdays = {d: HOLIDAY_NAMES.get(n, n) for d, n in _official.workdays.items()}
    years = frozenset(d.year for d in holidays)
    return holidays, workdays, frozenset(range(min(years), max(years) + 1))


class WorkCalendar:
    """The calendar of one deployment: official data plus overrides.

    A year becomes *known* when the official data or any override covers it: an
    admin entering the 2027 notice makes 2027 dates exact from then on.
    """

    def __init__(self, overrides: Iterable[Override] = ()):
        holidays, workdays, years = _official_days()
        self.holidays = dict(holidays)
        self.workdays = dict(workdays)
        extra_years = set()
        for o in overrides:
            extra_years.add(o.day.year)
            if o.working:
                self.holidays.pop(o.day, None)
                self.workdays[o.day] = o.note or "调休上班"
            else:
                self.workdays.pop(o.day, None)
                self.holidays[o.day] = o.note or "节假日"
        self.known_years = frozenset(years | extra_years)

    # ------------------------------------------------------------ single days

    def is_known(self, day: dt.date) -> bool:
        return day.year in self.known_years

    def is_working_day(self, day: dt.date) -> bool:
        """CAL-1: weekdays that are not holidays, plus make-up working days."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def explain(self, day: dt.date) -> tuple[bool, str]:
        """Whether ``day`` is a working day, and why, in Chinese."""
        known = "" if self.is_known(day) else f"（{day.year}年节假日安排尚未录入，暂按周末推算）"
        if day in self.workdays:
            return True, f"调休上班（{self.workdays[day]}）{known}"
        if day in self.holidays:
            return False, f"法定节假日：{self.holidays[day]}{known}"
        if day.weekday() >= 5:
            return False, f"周末休息日{known}"
        return True, f"工作日{known}"

    # ------------------------------------------------------------ periods

    def _step(self, start: dt.date, n: int, direction: int) -> DueDate:
        if n < 0:
            raise ValueError("工作日数不能为负数")
        day, left, unknown = start, n, set()
        while left > 0:
            day += dt.timedelta(days=direction)
            if not self.is_known(day):
                unknown.add(day.year)
            if self.is_working_day(day):
                left -= 1
        return DueDate(day, bool(unknown), tuple(sorted(unknown)))

    def add_working_days(self, start: dt.date, n: int) -> DueDate:
        """CAL-1: the Nth working day after ``start``; ``start`` itself is not counted."""
        return self._step(start, n, +1)

    def working_days_before(self, start: dt.date, n: int) -> DueDate:
        """CAL-3: the Nth working day before ``start``, counting backwards (JL-30)."""
        return self._step(start, n, -1)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end <= start``)."""
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def _roll_forward(self, day: dt.date) -> DueDate:
        unknown = set()
        while True:
            if not self.is_known(day):
                unknown.add(day.year)
            if self.is_working_day(day):
                return DueDate(day, bool(unknown), tuple(sorted(unknown)))
            day += dt.timedelta(days=1)

    def add_months(self, start: dt.date, months: int) -> DueDate:
        """CAL-2: the same-numbered day ``months`` later (the month's last day when it has
        none); a rest day moves to the next working day. Negative ``months`` go back."""
        index = start.year * 12 + start.month - 1 + months
        year, month = divmod(index, 12)
        last = _stdlib_calendar.monthrange(year, month + 1)[1]
        return self._roll_forward(dt.date(year, month + 1, min(start.day, last)))

    def add_weeks(self, start: dt.date, weeks: int) -> DueDate:
        """CAL-2: the same weekday ``weeks`` later; a rest day moves to the next working day."""
        return self._roll_forward(start + dt.timedelta(weeks=weeks))

    def add_calendar_days(self, start: dt.date, days: int) -> DueDate:
        """Calendar days; a period ending on a rest day moves to the next working day (CAL-2)."""
        return self._roll_forward(start + dt.timedelta(days=days))


def official() -> WorkCalendar:
    """The calendar without overrides (what ``chinesecalendar`` knows)."""
    return WorkCalendar()


def health(cal: WorkCalendar | None = None) -> dict:
    cal = cal or official()
    years = sorted(cal.known_years)
    today = dt.date.today()
    return {
        "known_years": [years[0], years[-1]] if years else [],
        "missing_years": [y for y in (today.year, today.year + 1) if y not in cal.known_years],
    }
