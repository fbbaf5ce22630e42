"""Working-day arithmetic (CAL-1 … CAL-4) and reading a holiday notice — pure, no database.

Known cases come from chinesecalendar 1.11 (the State Council notices for 2025 and
2026); the 2027 notice below is sample test data, not the real notice.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.calendar import DueDate, Override, WorkCalendar, health, official, provisional_note
from core.holidays.rules import notice_text, parse_notice, parse_year

D = dt.date.fromisoformat
CAL = official()

# Sample data in the State Council notice's shape (test data only, not a legal claim).
SAMPLE_2027 = """# 2027 年放假安排（测试用示例数据，非官方通知）
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（周五）至13日（周六）放假调休，共9天。2月20日（周六）上班。
2027-04-03~2027-04-05 清明节
2027-05-01~2027-05-05 劳动节
2027-04-25 调休上班
2027-05-08 调休上班
2027-06-09 端午节
2027-09-15 中秋节
2027-10-01 至 2027-10-07 国庆节
2027-09-26、2027-10-09 调休上班
"""


def calendar_with_2027() -> WorkCalendar:
    days, problems = parse_notice(2027, SAMPLE_2027)
    assert problems == []
    return WorkCalendar([Override(d.day, d.working, d.note) for d in days])


# ---------------------------------------------------------------- CAL-1 known cases


@pytest.mark.rule("CAL-1")
def test_cal1_fifteen_working_days_across_2025_national_day():
    """CAL-1: 2025-09-26 + 15 working days = 2025-10-23: the start day is not counted,
    make-up days 09-28 and 10-11 count, 10-01…10-08 are skipped."""
    assert CAL.add_working_days(D("2025-09-26"), 15) == DueDate(D("2025-10-23"))
    assert CAL.is_working_day(D("2025-09-28")) and CAL.is_working_day(D("2025-10-11"))
    assert not any(CAL.is_working_day(D("2025-10-01") + dt.timedelta(days=i)) for i in range(8))
    assert CAL.working_days_between(D("2025-09-26"), D("2025-10-23")) == 15
    # the start day is not counted even when it is itself a working day
    assert CAL.add_working_days(D("2025-09-29"), 1).date == D("2025-09-30")
    assert CAL.add_working_days(D("2025-09-30"), 1).date == D("2025-10-09")


@pytest.mark.rule("CAL-1")
def test_cal1_explains_why_a_day_is_or_is_not_a_working_day():
    assert CAL.day_info(D("2025-10-11")).sentence() == "2025-10-11（星期六）是工作日：调休上班（国庆节）"
    assert CAL.explain(D("2025-09-28")) == (True, "调休上班（国庆节）")
    assert CAL.explain(D("2025-10-06")) == (False, "法定节假日：中秋节")
    assert CAL.explain(D("2025-10-01")) == (False, "法定节假日：国庆节")
    assert CAL.explain(D("2025-10-12")) == (False, "周末休息日")
    assert CAL.explain(D("2025-10-09")) == (True, "普通工作日")
    assert CAL.day_info(D("2025-10-11")).kind == "makeup"


@pytest.mark.rule("CAL-1")
def test_cal1_2026_spring_festival_with_make_up_saturdays():
    """2026 春节: 02-15…02-23 off; Saturdays 02-14 and 02-28 are make-up working days."""
    assert CAL.explain(D("2026-02-14")) == (True, "调休上班（春节）")
    assert CAL.explain(D("2026-02-28")) == (True, "调休上班（春节）")
    assert all(not CAL.is_working_day(D("2026-02-15") + dt.timedelta(days=i)) for i in range(9))
    assert CAL.add_working_days(D("2026-02-13"), 1).date == D("2026-02-14")
    assert CAL.add_working_days(D("2026-02-14"), 1).date == D("2026-02-24")
    assert CAL.add_working_days(D("2026-02-12"), 15).date == D("2026-03-11")
    assert CAL.working_days_between(D("2026-02-13"), D("2026-02-28")) == 6


# ---------------------------------------------------------------- CAL-3 / JL-30


@pytest.mark.rule("CAL-3")
@pytest.mark.rule("JL-30")
def test_cal3_jl30_three_working_days_before_counts_backwards():
    """JL-30: a training base files 3 working days before its first enrolment notice;
    the notice day itself is not counted (CAL-3), holidays are skipped backwards too."""
    assert CAL.working_days_before(D("2025-10-09"), 3).date == D("2025-09-28")
    assert CAL.working_days_before(D("2026-02-25"), 3).date == D("2026-02-13")
    assert CAL.working_days_before(D("2025-11-20"), 3).date == D("2025-11-17")


# ---------------------------------------------------------------- CAL-2 periods


@pytest.mark.rule("CAL-2")
def test_cal2_month_period_ends_on_same_numbered_day_or_month_end():
    assert CAL.add_months(D("2025-11-14"), 1).date == D("2025-12-15")  # 12-14 is a Sunday
    assert CAL.add_months(D("2025-08-31"), 1).date == D("2025-09-30")  # no 31st: month's last day
    assert CAL.add_months(D("2025-01-31"), 1).date == D("2025-02-28")
    assert CAL.add_months(D("2025-05-08"), 3).date == D("2025-08-08")


@pytest.mark.rule("CAL-2")
def test_cal2_period_ending_on_a_rest_day_rolls_to_next_working_day():
    assert CAL.add_months(D("2025-05-08"), 1).date == D("2025-06-09")  # 06-08 Sunday
    assert CAL.add_months(D("2025-09-01"), 1).date == D("2025-10-09")  # National Day
    assert CAL.add_months(D("2026-01-16"), 1).date == D("2026-02-24")  # 02-16 春节
    assert CAL.add_months(D("2026-01-31"), 1).date == D("2026-02-28")  # a make-up Saturday counts
    assert CAL.add_weeks(D("2025-09-24"), 1).date == D("2025-10-09")  # HOSP-10 style week
    assert CAL.add_calendar_days(D("2025-09-30"), 5).date == D("2025-10-09")


@pytest.mark.rule("CAL-2")
def test_cal2_period_counted_back_rolls_to_the_previous_working_day():
    """JL-29 (a month before training): never later than the full period before."""
    assert CAL.add_months(D("2025-11-08"), -1).date == D("2025-09-30")
    assert CAL.apply_offset(D("2025-11-08"), 1, "months", before=True).date == D("2025-09-30")
    assert CAL.previous_working_day(D("2025-10-05")).date == D("2025-09-30")
    assert CAL.next_working_day(D("2025-10-05")).date == D("2025-10-09")


def test_apply_offset_covers_every_unit():
    start = D("2025-09-26")
    assert CAL.apply_offset(start, 15, "working_days").date == D("2025-10-23")
    assert CAL.apply_offset(D("2025-10-09"), 3, "working_days", before=True).date == D("2025-09-28")
    assert CAL.apply_offset(start, 1, "weeks").date == D("2025-10-09")
    assert CAL.apply_offset(start, 3, "calendar_days").date == D("2025-09-29")
    with pytest.raises(ValueError, match="未知的时限单位"):
        CAL.apply_offset(start, 1, "fortnights")


def test_bad_counts_raise_a_chinese_value_error_not_a_hang():
    with pytest.raises(ValueError, match="天数"):
        CAL.add_working_days(D("2025-01-01"), -1)
    with pytest.raises(ValueError, match="天数"):
        CAL.add_working_days(D("2025-01-01"), 10**9)
    with pytest.raises(ValueError, match="范围"):
        CAL.add_working_days(dt.date.max - dt.timedelta(days=3), 10)


# ---------------------------------------------------------------- CAL-4 provisional years


@pytest.mark.rule("CAL-4")
def test_cal4_unknown_year_is_weekends_only_and_flagged_provisional():
    due = CAL.add_working_days(D("2026-12-20"), 15)
    assert due == DueDate(D("2027-01-08"), True, (2027,))
    assert due.provisional_note() == "暂按周末推算：2027年节假日安排尚未录入"
    assert due.display() == "2027-01-08（暂按周末推算：2027年节假日安排尚未录入）"
    info = CAL.day_info(D("2027-01-01"))  # chinesecalendar itself raises here
    assert info.working and not info.known
    assert info.reason() == "普通工作日；暂按周末推算：2027年节假日安排尚未录入"
    # a date inside a known year is exact even when computed late in the year
    assert CAL.add_working_days(D("2026-12-01"), 5) == DueDate(D("2026-12-08"))
    assert CAL.add_months(D("2026-12-15"), 1).provisional
    assert CAL.working_days_before(D("2004-01-05"), 3).unknown_years == (2003,)


@pytest.mark.rule("CAL-4")
def test_cal4_entering_the_2027_notice_makes_2027_exact():
    cal = calendar_with_2027()
    assert cal.add_working_days(D("2026-12-20"), 15) == DueDate(D("2027-01-11"))
    assert cal.add_working_days(D("2027-01-29"), 10) == DueDate(D("2027-02-20"))  # make-up Saturday
    assert CAL.add_working_days(D("2027-01-29"), 10).date == D("2027-02-12")
    assert cal.explain(D("2027-02-20")) == (True, "调休上班（春节）")
    assert cal.explain(D("2027-04-25")) == (True, "调休上班（劳动节）")  # nearest holiday
    assert cal.explain(D("2027-10-09")) == (True, "调休上班（国庆节）")
    assert cal.explain(D("2027-01-01")) == (False, "法定节假日：元旦")
    assert 2027 in cal.known_years and 2027 in cal.notice_years
    assert health(cal, today=D("2026-11-25"))["missing_years"] == []


@pytest.mark.rule("CAL-4")
def test_cal4_plugin_adjustments_apply_but_never_make_a_year_known():
    cal = WorkCalendar([Override(D("2027-03-03"), False, "本省临时假日", source="local")])
    assert cal.explain(D("2027-03-03"))[1].startswith("地方休息日：本省临时假日")
    assert not cal.is_known(D("2027-03-03"))
    status = health(cal, today=D("2026-11-25"))
    assert status["missing_years"] == [2027] and status["local_override_days"] == 1
    assert status["note"] == "暂按周末推算：2027年节假日安排尚未录入"
    assert status["official_years"] == [2004, 2026]


def test_admin_notice_wins_over_plugin_and_official_on_the_same_day():
    cal = WorkCalendar([Override(D("2025-10-13"), False, "地方假日", source="local"),
                        Override(D("2025-10-13"), True, "管理员更正")])
    assert cal.explain(D("2025-10-13")) == (True, "调休上班（管理员更正）")


def test_provisional_note_lists_every_unknown_year():
    assert provisional_note([2028, 2027, 2027]) == "暂按周末推算：2027年、2028年节假日安排尚未录入"
    assert provisional_note([]) == ""


# ---------------------------------------------------------------- properties

DATES = st.dates(min_value=D("2004-01-01"), max_value=D("2027-06-30"))
COUNTS = st.integers(min_value=0, max_value=80)


@pytest.mark.rule("CAL-1")
@settings(max_examples=300, deadline=None)
@given(day=DATES, n=COUNTS, m=COUNTS)
def test_cal1_adding_n_then_m_equals_adding_n_plus_m(day, n, m):
    for cal in (CAL, calendar_with_2027()):
        first = cal.add_working_days(day, n)
        assert cal.add_working_days(first.date, m).date == cal.add_working_days(day, n + m).date


@pytest.mark.rule("CAL-1")
@settings(max_examples=300, deadline=None)
@given(day=DATES, n=st.integers(min_value=1, max_value=80))
def test_cal1_result_is_always_a_working_day_and_counts_back_to_n(day, n):
    due = CAL.add_working_days(day, n)
    assert CAL.is_working_day(due.date) and due.date > day
    assert CAL.working_days_between(day, due.date) == n
    assert due.provisional == (due.date.year > 2026)
    back = CAL.working_days_before(day, n)
    assert CAL.is_working_day(back.date) and back.date < day


@pytest.mark.rule("CAL-3")
@settings(max_examples=300, deadline=None)
@given(day=DATES, n=COUNTS)
def test_cal3_after_and_before_are_inverse_on_working_days(day, n):
    start = CAL.next_working_day(day).date
    assert CAL.working_days_before(CAL.add_working_days(start, n).date, n).date == start
    assert CAL.add_working_days(CAL.working_days_before(start, n).date, n).date == start


@pytest.mark.rule("CAL-2")
@settings(max_examples=200, deadline=None)
@given(day=DATES, months=st.integers(min_value=1, max_value=24))
def test_cal2_month_periods_end_on_a_working_day_not_before_the_same_numbered_day(day, months):
    due = CAL.add_months(day, months).date
    assert CAL.is_working_day(due)
    index = day.year * 12 + day.month - 1 + months
    assert (due.year * 12 + due.month - 1 >= index) and due > day
    back = CAL.add_months(day, -months).date
    assert CAL.is_working_day(back) and back < day


# ---------------------------------------------------------------- reading a notice


@pytest.mark.rule("CAL-1")
def test_notice_reads_iso_lines_and_the_state_council_wording():
    days, problems = parse_notice(2027, SAMPLE_2027)
    assert problems == []
    by_day = {d.day: d for d in days}
    assert [d for d in by_day if by_day[d].note == "春节" and not by_day[d].working] == [
        D("2027-02-05") + dt.timedelta(days=i) for i in range(9)]
    assert by_day[D("2027-02-20")].working and by_day[D("2027-02-20")].note == "春节"
    assert by_day[D("2027-09-26")].working and by_day[D("2027-10-09")].working
    assert len([d for d in days if not d.working]) == 3 + 9 + 3 + 5 + 1 + 1 + 7
    # the stored days go back to the line format, and read again to the same days
    again, problems = parse_notice(2027, notice_text([(d.day, d.working, d.note) for d in days]))
    assert problems == [] and again == [type(d)(d.day, d.working, d.note, again[i].line) for i, d in enumerate(days)]


@pytest.mark.rule("CAL-1")
def test_notice_problems_name_the_line_and_nothing_is_accepted():
    text = "\n".join([
        "2027-01-01~2027-01-03 元旦",
        "2027-02-10 调休上班",             # line 2: a Wednesday
        "2026-12-31 元旦",                 # line 3: other year
        "2027-02-30 春节",                 # line 4: no such date
        "经国务院批准，现将放假安排通知如下",  # line 5: no date
        "2027-05-01~2027-05-03",           # line 6: no name
        "2027-05-09~2027-05-08 劳动节",     # line 7: end before start
        "2027-01-02 调休上班",             # line 8: holiday and make-up at once
        "2027-01-01 元旦",                 # line 9: listed twice
    ])
    days, problems = parse_notice(2027, text)
    assert days == []
    messages = [p.message for p in problems]
    assert messages == [
        "第2行：调休上班日 2027-02-10 是星期三，调休上班日必须是周六或周日",
        "第3行：2026-12-31 不在 2027 年内（一次录入一个年份的通知）",
        "第4行：日期「2027-02-30」不存在",
        "第5行：未找到日期：「经国务院批准，现将放假安排通知如下」（日期写作 2027-01-01 或 1月1日；说明文字请删除或在行首加 #）",
        "第6行：请写明假日名称，例如「2027-01-01~2027-01-03 元旦」",
        "第7行：结束日期 2027-05-08 早于开始日期 2027-05-09",
        "第8行：2027-01-02 既列为假日又列为调休上班日（见第1行和第8行）",
        "第9行：2027-01-01 重复列出（已见于第1行）",
    ]
    assert {p.field for p in problems} == {"text"}


def test_notice_needs_a_holiday_and_a_year():
    assert parse_notice(2027, "")[1][0].message.startswith("未填写任何假日")
    assert parse_notice(2027, "2027-02-20 调休上班")[1][0].message.startswith("未填写任何假日")
    assert parse_year("27") == (None, parse_year("27")[1]) and parse_year("27")[1][0].field == "year"
    assert parse_year(" 2027 ") == (2027, [])


@pytest.mark.rule("CAL-1")
@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=D("2004-04-01"), max_value=D("2026-10-31")), n=st.integers(min_value=1, max_value=40))
def test_cal1_cal3_agree_with_chinesecalendar_find_workday(day, n):
    """Inside the years chinesecalendar knows, our counting from a working day is its
    counting. (From a rest day, ``find_workday`` first moves to the next working day
    and then counts; CAL-1 counts from the day after D, so there they differ.)"""
    from chinese_calendar import find_workday

    start = CAL.next_working_day(day).date
    assert CAL.add_working_days(start, n).date == find_workday(n, start)
    assert CAL.working_days_before(day, n).date == find_workday(-n, day)


@pytest.mark.rule("CAL-1")
def test_cal1_counts_from_the_day_after_a_rest_day():
    """2004-02-01 is a Sunday: the 1st working day after it is Monday 02-02."""
    assert CAL.add_working_days(D("2004-02-01"), 1).date == D("2004-02-02")
    assert CAL.add_working_days(D("2025-10-01"), 1).date == D("2025-10-09")


@pytest.mark.rule("CAL-1")
def test_cal1_a_count_repeated_on_one_calendar_is_the_count_of_a_fresh_calendar():
    """A calendar remembers the spans it has counted (a batch of cases counts the same
    spans again and again): every repeated count, forwards and backwards, across a year
    without its notice (CAL-4: provisional), is what a calendar built afresh counts."""
    reused = WorkCalendar()
    for _ in range(2):
        for start in (D("2025-12-20") + dt.timedelta(days=k) for k in range(0, 400, 7)):
            for n in (0, 1, 5, 15, 20, 60):
                assert reused.add_working_days(start, n) == WorkCalendar().add_working_days(start, n)
                assert reused.working_days_before(start, n) == WorkCalendar().working_days_before(start, n)
    with pytest.raises(ValueError):
        reused.add_working_days(D("2026-01-01"), -1)
