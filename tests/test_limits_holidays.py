"""Every limit of core/holidays/rules.py (reading a State Council holiday notice, CAL-1):
year 2000–2100, 200 lines, 31-day ranges, 60-character names.

Pure: no database. Exercised by ``make mutation`` (scripts/mutation.py).
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import Problem
from core.holidays.rules import NoticeDay, notice_text, parse_notice, parse_year

D = dt.date.fromisoformat


def _days(year: int, text: str) -> list[tuple[str, bool, str, int]]:
    days, problems = parse_notice(year, text)
    assert problems == []
    return [(d.day.isoformat(), d.working, d.note, d.line) for d in days]


def _problems(year: int, text: str) -> list[Problem]:
    days, problems = parse_notice(year, text)
    assert days == []
    return problems


@pytest.mark.rule("CAL-1")
@pytest.mark.parametrize("value, year", [("2000", 2000), ("2100", 2100), (" 2027 ", 2027), (2027, 2027)])
def test_cal1_year_2000_to_2100(value, year):
    assert parse_year(value) == (year, [])


@pytest.mark.rule("CAL-1")
@pytest.mark.parametrize("value", ["1999", "2101", "27", "20270", "二〇二七", "2027年"])
def test_cal1_year_outside_2000_to_2100(value):
    assert parse_year(value) == (None, [Problem("年份应为 2000 至 2100 之间的四位数字，例如 2027", "year")])


def test_year_missing():
    assert parse_year(None) == (None, [Problem("请填写年份，例如 2027", "year")])
    assert parse_year("  ") == (None, [Problem("请填写年份，例如 2027", "year")])


@pytest.mark.rule("CAL-1")
def test_cal1_at_most_200_lines():
    one = "2027-01-01 元旦"
    lines_200 = [one] + ["# 说明"] * 199
    assert len(parse_notice(2027, "\n".join(lines_200))[0]) == 1
    with_blanks = [one] + ["# 说明"] * 199 + [""] * 10
    assert len(parse_notice(2027, "\n".join(with_blanks))[0]) == 1  # blank lines do not count
    assert parse_notice(2027, "\n".join([one] + ["# 说明"] * 200)) == ([], [Problem("一次最多录入 200 行", "text")])


@pytest.mark.rule("CAL-1")
def test_cal1_a_range_of_at_most_31_days():
    assert len(parse_notice(2027, "2027-07-01~2027-07-31 暑假")[0]) == 31
    assert _problems(2027, "2027-07-01~2027-08-01 暑假") == [
        Problem("第1行：2027-07-01 至 2027-08-01 超过 31 天，请检查日期", "text", "CAL-1")]
    assert len(parse_notice(2027, "2027-07-01~2027-07-02 两天")[0]) == 2
    assert len(parse_notice(2027, "2027-07-01~2027-07-01 一天")[0]) == 1


@pytest.mark.rule("CAL-1")
def test_cal1_a_name_of_at_most_60_characters():
    assert _days(2027, "2027-01-01 " + "节" * 60)[0][2] == "节" * 60
    assert _problems(2027, "2027-01-01 " + "节" * 61) == [Problem("第1行：名称过长（最多 60 字）", "text", "CAL-1")]


@pytest.mark.rule("CAL-1")
def test_cal1_date_forms_ranges_and_lists():
    assert _days(2027, "2027/1/1 元旦") == [("2027-01-01", False, "元旦", 1)]
    assert _days(2027, "2027年1月1日 元旦") == [("2027-01-01", False, "元旦", 1)]
    assert _days(2027, "1月1日 元旦") == [("2027-01-01", False, "元旦", 1)]
    assert _days(2027, "2027.1.1 元旦") == [("2027-01-01", False, "元旦", 1)]
    assert [d[0] for d in _days(2027, "2027-10-01 至 2027-10-03 国庆节")] == ["2027-10-01", "2027-10-02", "2027-10-03"]
    assert [d[0] for d in _days(2027, "10月1日到3日 国庆节")] == ["2027-10-01", "2027-10-02", "2027-10-03"]
    assert [d[0] for d in _days(2027, "10月1日至10月2日 国庆节")] == ["2027-10-01", "2027-10-02"]
    assert [d[0] for d in _days(2027, "2027-10-01～2027-10-02 国庆节")] == ["2027-10-01", "2027-10-02"]
    assert [d[0] for d in _days(2027, "2027-10-01 - 2027-10-02 国庆节")] == ["2027-10-01", "2027-10-02"]
    assert [d[0] for d in _days(2027, "2027-10-01、2027-10-03和10月5日 国庆节")] == [
        "2027-10-01", "2027-10-03", "2027-10-05"]
    # a list separator not followed by a date ends the list; the rest is the name
    assert _days(2027, "2027-10-01、国庆节") == [("2027-10-01", False, "国庆节", 1)]
    # a range separator not followed by a date is not a range: it stays in the text, as written
    assert _days(2027, "2027-10-01 至 国庆节") == [("2027-10-01", False, "至国庆节", 1)]


@pytest.mark.rule("CAL-1")
def test_cal1_state_council_wording_with_heading_enumerator_and_weekdays():
    text = "三、清明节：4月3日（周六）至5日（周一）放假，共3天。4月11日（星期日）上班。"
    assert _days(2027, text) == [("2027-04-03", False, "清明节", 1), ("2027-04-04", False, "清明节", 1),
                                 ("2027-04-05", False, "清明节", 1), ("2027-04-11", True, "清明节", 1)]
    assert _days(2027, "1. 2027-01-01 元旦") == [("2027-01-01", False, "元旦", 1)]
    assert _days(2027, "12、2027-01-01 元旦") == [("2027-01-01", False, "元旦", 1)]


@pytest.mark.rule("CAL-1")
def test_cal1_a_make_up_day_without_name_belongs_to_the_nearest_holiday():
    text = "2027-01-01 元旦\n2027-01-09 补班\n2027-01-17 腊八"
    # 01-09 is 8 days from both 01-01 and 01-17: the earlier holiday wins the tie
    assert _days(2027, text)[1] == ("2027-01-09", True, "元旦", 2)
    text = "2027-01-01 元旦\n2027-01-10 调休上班\n2027-01-17 腊八"
    assert _days(2027, text)[1] == ("2027-01-10", True, "腊八", 2)
    assert _days(2027, "2027-01-01 元旦\n2027-01-10 调休上班 春节")[1] == ("2027-01-10", True, "春节", 2)


def test_problems_in_a_line():
    assert _problems(2027, "2027-13-01 元旦") == [Problem("第1行：日期「2027-13-01」不存在", "text", "CAL-1")]
    assert _problems(2027, "2027-01-01~2027-01-32 元旦") == [Problem("第1行：日期「2027-01-32」不存在", "text", "CAL-1")]
    assert _problems(2027, "2027-12-31~2028-01-01 元旦") == [
        Problem("第1行：2028-01-01 不在 2027 年内（一次录入一个年份的通知）", "text", "CAL-1")]
    assert _problems(2027, "2027-01-01 元旦。说明") == [
        Problem("第1行：无法识别「说明」（每段应以日期开头）", "text", "CAL-1")]
    assert _problems(2027, "2027-01-01 元旦\n放假\n") == [Problem("第2行：未找到日期", "text", "CAL-1")]


def test_make_up_days_on_weekends_only_and_listed_once():
    assert _problems(2027, "2027-01-01 元旦\n2027-01-04 调休上班") == [Problem(
        "第2行：调休上班日 2027-01-04 是星期一，调休上班日必须是周六或周日", "text", "CAL-1")]
    assert _days(2027, "2027-01-01 元旦\n2027-01-09 调休上班")[1][1] is True  # a Saturday
    assert _days(2027, "2027-01-01 元旦\n2027-01-10 调休上班")[1][1] is True  # a Sunday
    assert _problems(2027, "2027-01-01、2027-01-01 元旦") == [
        Problem("第1行：2027-01-01 重复列出（已见于同一行）", "text", "CAL-1")]
    assert _problems(2027, "2027-01-02 调休上班\n2027-01-02 元旦")[-1] == Problem(
        "第2行：2027-01-02 既列为假日又列为调休上班日（见第1行和第2行）", "text", "CAL-1")


def test_problems_are_sorted_by_line():
    problems = _problems(2027, "2027-01-01 元旦\n2027-01-04 调休上班\n2027-13-01 x")
    assert [p.message[:3] for p in problems] == ["第2行", "第3行"]


def test_days_back_to_lines():
    days = [(D("2027-01-01"), False, "元旦"), (D("2027-01-02"), False, "元旦"), (D("2027-01-03"), False, "元旦"),
            (D("2027-01-05"), False, "元旦"), (D("2027-01-06"), False, "别的"), (D("2027-01-09"), True, "元旦"),
            (D("2027-01-10"), True, "")]
    assert notice_text(days) == "\n".join([
        "2027-01-01~2027-01-03 元旦", "2027-01-05 元旦", "2027-01-06 别的", "2027-01-09 调休上班 元旦",
        "2027-01-10 调休上班"])
    assert notice_text([]) == ""
    assert NoticeDay(D("2027-01-01"), False, "元旦", 1).line == 1


def test_no_holiday_at_all_names_the_year():
    assert parse_notice(2027, "") == ([], [Problem("未填写任何假日：请按通知逐行填写 2027 年的放假日期和调休上班日", "text", "CAL-1")])
    assert parse_notice(2028, "# 无") == ([], [Problem("未填写任何假日：请按通知逐行填写 2028 年的放假日期和调休上班日", "text", "CAL-1")])


def test_names_are_cleaned_of_punctuation_only():
    assert _days(2027, "2027-01-01 ：元旦：") == [("2027-01-01", False, "元旦", 1)]
    assert _days(2027, "2027-12-25 Xmas") == [("2027-12-25", False, "Xmas", 1)]


def test_segments_empty_or_of_filler_words_are_skipped():
    assert [d[0] for d in _days(2027, "1月1日 元旦；；1月2日 元旦")] == ["2027-01-01", "2027-01-02"]
    assert [d[0] for d in _days(2027, "1月1日 元旦；放假；1月2日 元旦")] == ["2027-01-01", "2027-01-02"]


def test_spaces_before_a_segments_date():
    assert [d[0] for d in _days(2027, "1月1日 元旦； 1月2日 元旦")] == ["2027-01-01", "2027-01-02"]
    assert [d[0] for d in _days(2027, "1月1日 元旦；   1月2日 元旦")] == ["2027-01-01", "2027-01-02"]


def test_a_list_separator_at_the_end_or_before_words():
    assert _problems(2027, "1月1日 元旦\n1月2日、") == [
        Problem("第2行：请写明假日名称，例如「2027-01-01~2027-01-03 元旦」", "text", "CAL-1")]
    # "和" joins dates; before a word it is part of the name, as written
    assert _days(2027, "2027-10-01和国庆节") == [("2027-10-01", False, "和国庆节", 1)]


def test_text_without_a_date_is_quoted_up_to_30_characters():
    words = "这是一段没有日期的说明文字" * 3
    assert _problems(2027, words) == [Problem(
        f"第1行：未找到日期：「{words[:30]}」（日期写作 2027-01-01 或 1月1日；说明文字请删除或在行首加 #）", "text", "CAL-1")]
    assert _problems(2027, "1月1日 元旦。" + words) == [
        Problem(f"第1行：无法识别「{words[:30]}」（每段应以日期开头）", "text", "CAL-1")]
