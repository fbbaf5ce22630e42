"""Every limit of core/calendar.py, at, before and past it (CAL-1 … CAL-4).

Pure: no database. Exercised by ``make mutation`` (scripts/mutation.py). Known days
from chinesecalendar 1.11: 2025 National Day 10-01…10-08 with make-up days Sunday
09-28 and Saturday 10-11; Saturday 09-27 an ordinary weekend day.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.calendar import (
    MAX_COUNT,
    DayInfo,
    DueDate,
    Override,
    WorkCalendar,
    _holiday_name,
    health,
    official,
    official_years,
)

D = dt.date.fromisoformat
CAL = official()
FRI, SAT, MAKEUP_SUN, MON = D("2025-09-26"), D("2025-09-27"), D("2025-09-28"), D("2025-09-29")


# ---------------------------------------------------------------- single days (CAL-1)


@pytest.mark.rule("CAL-1")
def test_cal1_an_ordinary_saturday_is_a_weekend_day_not_a_working_day():
    assert CAL.day_info(SAT) == DayInfo(SAT, False, "weekend", known=True)
    assert CAL.explain(SAT) == (False, "周末休息日")
    assert CAL.day_info(SAT).sentence() == "2025-09-27（星期六）不是工作日：周末休息日"
    sunday = D("2025-10-12")
    assert CAL.day_info(sunday) == DayInfo(sunday, False, "weekend", known=True)
    assert CAL.day_info(FRI) == DayInfo(FRI, True, "workday", known=True)
    assert CAL.explain(FRI) == (True, "普通工作日")


@pytest.mark.rule("CAL-1")
def test_cal1_official_days_say_where_they_come_from():
    fresh = WorkCalendar()  # built here, not at import: what its construction does is under test
    assert fresh.day_info(MAKEUP_SUN) == DayInfo(MAKEUP_SUN, True, "makeup", "国庆节", "official", True)
    assert fresh.day_info(D("2025-10-01")).source == "official"
    assert CAL.day_info(MAKEUP_SUN) == DayInfo(MAKEUP_SUN, True, "makeup", "国庆节", "official", True)
    holiday = D("2025-10-01")
    assert CAL.day_info(holiday) == DayInfo(holiday, False, "holiday", "国庆节", "official", True)
    assert CAL.explain(holiday) == (False, "法定节假日：国庆节")


@pytest.mark.rule("CAL-4")
def test_cal4_days_of_an_unknown_year_say_so():
    saturday, monday = D("2027-03-06"), D("2027-03-08")
    assert CAL.day_info(saturday) == DayInfo(saturday, False, "weekend", known=False)
    assert CAL.day_info(monday) == DayInfo(monday, True, "workday", known=False)
    assert CAL.day_info(monday).reason() == "普通工作日；暂按周末推算：2027年节假日安排尚未录入"
    local = WorkCalendar([Override(saturday, True, "", "local"), Override(monday, False, "", "local")])
    assert local.day_info(saturday) == DayInfo(saturday, True, "makeup", "", "local", False)
    assert local.day_info(monday) == DayInfo(monday, False, "holiday", "", "local", False)


def test_reasons_without_a_holiday_name():
    day = D("2027-03-08")
    assert DayInfo(day, True, "makeup").reason() == "调休上班"
    assert DayInfo(day, True, "makeup", "春节").reason() == "调休上班（春节）"
    assert DayInfo(day, False, "holiday").reason() == "法定节假日"
    assert DayInfo(day, False, "holiday", "春节").reason() == "法定节假日：春节"
    assert DayInfo(day, False, "holiday", "", "local").reason() == "地方休息日"
    assert DayInfo(day, False, "holiday", "院庆", "local").reason() == "地方休息日：院庆"


def test_holiday_names_in_chinese_and_unknown_names_kept():
    assert _holiday_name("National Day") == "国庆节"
    assert _holiday_name("Anti-Fascist 70th Day") == "抗战胜利70周年纪念日"
    assert _holiday_name("Founders' Day") == "Founders' Day"


def test_official_years_of_the_pinned_chinesecalendar():
    assert official_years() == (2004, 2026)
    assert CAL.official_years == frozenset(range(2004, 2027))


# ---------------------------------------------------------------- overrides


def test_an_override_moves_a_day_between_rest_and_work_and_is_listed_once():
    holiday, makeup = D("2025-10-01"), MAKEUP_SUN
    cal = WorkCalendar([Override(holiday, True, "院内值班", "local"), Override(makeup, False, "院庆", "local")])
    assert cal.day_info(holiday) == DayInfo(holiday, True, "makeup", "院内值班", "local", True)
    assert cal.day_info(makeup) == DayInfo(makeup, False, "holiday", "院庆", "local", True)
    days = [d.day for d in cal.special_days(2025)]
    assert days.count(holiday) == 1 and days.count(makeup) == 1
    assert cal.local_days == 2
    assert WorkCalendar([Override(holiday, True, "", "local")]).local_days == 1
    assert WorkCalendar([Override(D("2027-01-01"), False, "元旦")]).local_days == 0


def test_special_days_of_a_year_in_date_order():
    days = CAL.special_days(2025)
    assert days == sorted(days, key=lambda d: d.day)
    assert {d.day.year for d in days} == {2025}
    assert DayInfo(MAKEUP_SUN, True, "makeup", "国庆节", "official", True) in days
    assert DayInfo(SAT, False, "weekend", known=True) not in days
    assert days[0].day == D("2025-01-01")
    assert CAL.special_days(2030) == []


# ---------------------------------------------------------------- counting limits


@pytest.mark.rule("CAL-1")
def test_cal1_count_limit_at_max_count_and_one_past():
    assert MAX_COUNT == 5000
    assert CAL.add_working_days(D("2005-01-04"), 0) == DueDate(D("2005-01-04"))
    far = CAL.add_working_days(D("2004-01-01"), MAX_COUNT)
    assert far.date.year == 2024 and not far.provisional
    with pytest.raises(ValueError, match="^天数应在 0 到 5000 之间（收到 5001）$"):
        CAL.add_working_days(D("2000-01-01"), MAX_COUNT + 1)
    with pytest.raises(ValueError, match="^天数应在 0 到 5000 之间（收到 -1）$"):
        CAL.working_days_before(D("2025-10-09"), -1)


@pytest.mark.rule("CAL-4")
def test_cal4_counting_across_unknown_years_lists_them():
    due = CAL.add_working_days(D("2026-12-30"), 300)
    assert due.provisional and due.unknown_years == (2027, 2028)
    assert CAL.add_working_days(D("2026-12-30"), 1) == DueDate(D("2026-12-31"))


def test_counting_off_the_end_of_the_calendar_is_a_chinese_error():
    with pytest.raises(ValueError, match="^日期超出可计算的范围$"):
        CAL.add_working_days(D("9999-12-30"), 5)
    with pytest.raises(ValueError, match="^日期超出可计算的范围$"):
        CAL.working_days_before(D("0001-01-02"), 5)


@pytest.mark.rule("CAL-1")
def test_cal1_working_days_between_limit_at_twice_max_count():
    start = D("2000-01-01")
    assert CAL.working_days_between(start, start + dt.timedelta(days=MAX_COUNT * 2)) > 0
    with pytest.raises(ValueError, match="^日期区间过长$"):
        CAL.working_days_between(start, start + dt.timedelta(days=MAX_COUNT * 2 + 1))
    assert CAL.working_days_between(FRI, FRI) == 0
    assert CAL.working_days_between(FRI, SAT) == 0
    assert CAL.working_days_between(FRI, MAKEUP_SUN) == 1
    assert CAL.working_days_between(MAKEUP_SUN, FRI) == 0


@pytest.mark.rule("CAL-4")
def test_cal4_unknown_years_between_either_order_inclusive():
    assert CAL.unknown_years_between(D("2026-06-01"), D("2028-01-01")) == (2027, 2028)
    assert CAL.unknown_years_between(D("2028-01-01"), D("2026-06-01")) == (2027, 2028)
    assert CAL.unknown_years_between(D("2027-01-01"), D("2027-12-31")) == (2027,)
    assert CAL.unknown_years_between(D("2025-01-01"), D("2026-12-31")) == ()
    assert CAL.missing_years([2028, 2025, 2027, 2027]) == [2027, 2028]


# ---------------------------------------------------------------- rolling (CAL-2)


@pytest.mark.rule("CAL-2")
def test_cal2_forward_roll_takes_the_very_next_working_day():
    assert CAL.next_working_day(SAT) == DueDate(MAKEUP_SUN)  # not Monday: the make-up Sunday works
    assert CAL.next_working_day(FRI) == DueDate(FRI)
    assert CAL.previous_working_day(SAT) == DueDate(FRI)
    assert CAL.previous_working_day(D("2025-10-08")) == DueDate(D("2025-09-30"))


@pytest.mark.rule("CAL-4")
def test_cal4_roll_in_an_unknown_year_is_provisional():
    assert CAL.next_working_day(D("2027-03-06")) == DueDate(D("2027-03-08"), True, (2027,))
    assert CAL.next_working_day(D("2027-03-08")) == DueDate(D("2027-03-08"), True, (2027,))


def test_rolling_off_the_end_of_the_calendar_is_a_chinese_error():
    last = dt.date.max
    cal = WorkCalendar([Override(last, False, "", "local")])
    with pytest.raises(ValueError, match="^日期超出可计算的范围$"):
        cal.next_working_day(last)


# ---------------------------------------------------------------- periods (CAL-2)


@pytest.mark.rule("CAL-2")
def test_cal2_weeks_are_seven_days_each():
    tuesday = D("2026-03-03")
    assert CAL.add_weeks(tuesday, 1) == DueDate(D("2026-03-10"))
    assert CAL.add_weeks(tuesday, 2) == DueDate(D("2026-03-17"))
    assert CAL.add_weeks(tuesday, 0) == DueDate(tuesday)
    assert CAL.apply_offset(tuesday, 2, "weeks") == DueDate(D("2026-03-17"))
    # two weeks before lands on 02-17, in the Spring Festival: back to the make-up Saturday 02-14
    assert CAL.apply_offset(tuesday, 2, "weeks", before=True) == DueDate(D("2026-02-14"))


@pytest.mark.rule("CAL-2")
def test_cal2_calendar_days_roll_forward_after_and_back_before():
    assert CAL.add_calendar_days(FRI, 1) == DueDate(MAKEUP_SUN)  # Saturday → the make-up Sunday
    assert CAL.add_calendar_days(SAT, 0) == DueDate(MAKEUP_SUN)  # zero days still rolls forward
    assert CAL.add_calendar_days(MON, -2) == DueDate(FRI)  # Saturday → Friday
    assert CAL.add_calendar_days(MON, -1) == DueDate(MAKEUP_SUN)


@pytest.mark.rule("CAL-2")
def test_cal2_calendar_day_limit_at_seven_times_max_count():
    start = D("2000-01-03")
    assert CAL.add_calendar_days(start, MAX_COUNT * 7).date >= start + dt.timedelta(days=MAX_COUNT * 7)
    assert CAL.add_calendar_days(start, -MAX_COUNT * 7).date <= start - dt.timedelta(days=MAX_COUNT * 7)
    with pytest.raises(ValueError, match="^天数应在 0 到 35000 之间（收到 35001）$"):
        CAL.add_calendar_days(start, MAX_COUNT * 7 + 1)
    with pytest.raises(ValueError, match="^天数应在 0 到 35000 之间（收到 -35001）$"):
        CAL.add_calendar_days(start, -MAX_COUNT * 7 - 1)
    with pytest.raises(ValueError, match="^日期超出可计算的范围$"):
        CAL.add_calendar_days(D("9999-12-01"), 31)


@pytest.mark.rule("CAL-2")
def test_cal2_months_roll_direction_follows_the_sign():
    assert CAL.add_months(D("2025-10-27"), -1) == DueDate(FRI)  # Saturday 09-27 → Friday, not Thursday
    assert CAL.add_months(D("2025-08-27"), 1) == DueDate(MAKEUP_SUN)  # Saturday 09-27 → make-up Sunday
    assert CAL.add_months(SAT, 0) == DueDate(MAKEUP_SUN)
    assert CAL.add_months(D("2025-01-31"), 1) == DueDate(D("2025-02-28"))


@pytest.mark.rule("CAL-2")
def test_cal2_months_reach_the_first_and_last_representable_years():
    assert CAL.add_months(D("9999-11-15"), 1).date == D("9999-12-15")
    assert CAL.add_months(D("0001-02-15"), -1).date == D("0001-01-15")
    with pytest.raises(ValueError, match="^日期超出可计算的范围$"):
        CAL.add_months(D("9999-12-15"), 1)
    with pytest.raises(ValueError, match="^日期超出可计算的范围$"):
        CAL.add_months(D("0001-01-15"), -1)
    with pytest.raises(ValueError, match="^天数应在 0 到 5000 之间（收到 5001）$"):
        CAL.add_months(D("2000-01-15"), -5001)


@pytest.mark.rule("CAL-2")
def test_apply_offset_zero_is_allowed_negative_is_not():
    assert CAL.apply_offset(FRI, 0, "working_days") == DueDate(FRI)
    assert CAL.apply_offset(FRI, 0, "calendar_days", before=True) == DueDate(FRI)
    with pytest.raises(ValueError, match="^时限数值不能为负数$"):
        CAL.apply_offset(FRI, -1, "working_days")
    with pytest.raises(ValueError, match="^未知的时限单位：days（可用：working_days、calendar_days、weeks、months）$"):
        CAL.apply_offset(FRI, 1, "days")


# ---------------------------------------------------------------- display and health


@pytest.mark.rule("CAL-4")
def test_cal4_a_non_provisional_date_has_no_note():
    assert DueDate(FRI, False, (2027,)).provisional_note() == ""
    assert DueDate(FRI, False, (2027,)).display() == "2025-09-26"
    assert DueDate(FRI).display() == "2025-09-26"
    assert DueDate(FRI, True, (2027,)).display() == "2025-09-26（暂按周末推算：2027年节假日安排尚未录入）"


@pytest.mark.rule("CAL-4")
def test_cal4_health_reports_this_year_and_next():
    assert health(today=D("2025-06-01")) == {
        "ok": True, "official_years": [2004, 2026], "entered_years": [], "known_years": list(range(2004, 2027)),
        "missing_years": [], "local_override_days": 0, "note": "",
    }
    later = health(today=D("2026-06-01"))
    assert later["ok"] is False and later["missing_years"] == [2027]
    assert later["note"] == "暂按周末推算：2027年节假日安排尚未录入"
    cal = WorkCalendar([Override(D("2027-01-01"), False, "元旦"), Override(D("2026-05-06"), False, "", "local")])
    entered = health(cal, D("2026-06-01"))
    assert entered["ok"] is True and entered["entered_years"] == [2027]
    assert entered["known_years"] == list(range(2004, 2028)) and entered["local_override_days"] == 1
