"""Every limit of the deadline rules (core/obligations/rules.py), at, before and past it.

Pure: no database. Exercised by ``make mutation`` (scripts/mutation.py). Dates come
from chinesecalendar (2025 National Day 10-01…10-08 with make-up days 09-28 and 10-11;
2026 New Year 01-01…01-03 with make-up day 01-04).
"""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from core.calendar import DueDate, official
from core.errors import Problem
from core.obligations import rules
from core.obligations.rules import DeadlineRule, Offset, Recurrence, Scope

D = dt.date.fromisoformat
CAL = official()


def _raw(**kw) -> dict:
    return {"id": "R-1", "event": "first_case", "obligation": "filing", "title": "备案", "article": "第一条",
            "role": "medical_affairs", "offset": {"amount": 15, "unit": "working_days"}, **kw}


def _yearly(**kw) -> dict:
    raw = _raw(recurrence={"month": 1, "period_months": {"routine": 12, "restricted": 24}}, **kw)
    del raw["offset"]
    return raw


# ---------------------------------------------------------------- rule validation


def test_a_valid_rule_loads():
    rule, problems = rules.check_rule("p", _raw())
    assert problems == []
    assert rule == DeadlineRule(id="R-1", event="first_case", obligation="filing", title="备案", article="第一条",
                                role="medical_affairs", offset=Offset(15, "working_days"), plugin="p")
    assert rule.key == ("R-1", "filing")


@pytest.mark.parametrize("unit, limit", sorted(rules.MAX_AMOUNT.items()))
def test_offset_amount_at_its_units_maximum_and_one_past(unit, limit):
    assert rules.MAX_AMOUNT == {"working_days": 250, "calendar_days": 366, "weeks": 52, "months": 60}
    assert rules.check_rule("p", _raw(offset={"amount": limit - 1, "unit": unit}))[1] == []
    assert rules.check_rule("p", _raw(offset={"amount": limit, "unit": unit}))[1] == []
    rule, problems = rules.check_rule("p", _raw(offset={"amount": limit + 1, "unit": unit}))
    assert rule is None
    assert problems == [Problem(
        f"插件 p 的时限规则 R-1：offset.amount {limit + 1} 超出合理范围（{unit} 最多 {limit}）", "offset.amount", "R-1")]


@pytest.mark.parametrize("amount", [0, -1])
def test_offset_amount_must_be_a_positive_integer(amount):
    rule, problems = rules.check_rule("p", _raw(offset={"amount": amount, "unit": "weeks"}))
    assert rule is None
    assert problems == [Problem(f"插件 p 的时限规则 R-1：offset.amount 必须是正整数，实为 {amount!r}",
                                "offset.amount", "R-1")]


def test_offset_amount_one_is_the_smallest_accepted():
    assert rules.check_rule("p", _raw(offset={"amount": 1, "unit": "weeks"}))[1] == []


def test_unknown_unit_and_direction():
    _, problems = rules.check_rule("p", _raw(offset={"amount": 3, "unit": "fortnights", "direction": "around"}))
    assert problems == [
        Problem("插件 p 的时限规则 R-1：offset.unit 无法表达的时间单位 'fortnights'"
                "（可用：working_days, calendar_days, weeks, months）", "offset.unit", "R-1"),
        Problem("插件 p 的时限规则 R-1：offset.direction 无法表达的方向 'around'（可用：after、before）",
                "offset.direction", "R-1"),
    ]
    assert rules.check_rule("p", _raw(offset={"amount": 3, "unit": "weeks", "direction": "before"}))[1] == []


@pytest.mark.rule("HOSP-17")
@pytest.mark.parametrize("month", [1, 2, 11, 12])
def test_hosp17_recurrence_month_1_to_12_accepted(month):
    raw = _yearly()
    raw["recurrence"]["month"] = month
    assert rules.check_rule("p", raw)[1] == []


@pytest.mark.rule("HOSP-17")
@pytest.mark.parametrize("month", [0, 13, -1])
def test_hosp17_recurrence_month_outside_1_to_12_refused(month):
    raw = _yearly()
    raw["recurrence"]["month"] = month
    rule, problems = rules.check_rule("p", raw)
    assert rule is None
    assert problems == [Problem(f"插件 p 的时限规则 R-1：recurrence.month 月份必须在 1–12 之间，实为 {month}",
                                "recurrence.month", "R-1")]


@pytest.mark.rule("HOSP-17")
def test_hosp17_recurrence_periods():
    raw = _yearly()
    raw["recurrence"]["period_months"] = {}
    assert rules.check_rule("p", raw)[1] == [Problem(
        "插件 p 的时限规则 R-1：recurrence.period_months 至少给出一个技术类别的监测期", "recurrence.period_months", "R-1")]
    raw["recurrence"]["period_months"] = {"routine": 0, "restricted": -1, "magic": 1}
    assert rules.check_rule("p", raw)[1] == [
        Problem("插件 p 的时限规则 R-1：recurrence.period_months routine 的监测期必须是正整数个月，实为 0",
                "recurrence.period_months", "R-1"),
        Problem("插件 p 的时限规则 R-1：recurrence.period_months restricted 的监测期必须是正整数个月，实为 -1",
                "recurrence.period_months", "R-1"),
        Problem("插件 p 的时限规则 R-1：recurrence.period_months 未知技术类别 'magic'", "recurrence.period_months", "R-1"),
    ]
    raw["recurrence"]["period_months"] = {"routine": 1}
    assert rules.check_rule("p", raw)[1] == []


@pytest.mark.rule("HOSP-17")
def test_hosp17_a_yearly_rule_has_no_direction():
    raw = _yearly()
    raw["recurrence"]["direction"] = "before"
    assert rules.check_rule("p", raw) == (None, [Problem(
        "插件 p 的时限规则 R-1：recurrence.direction 每年固定月份的时限没有“之前/之后”，不能设置方向",
        "recurrence.direction", "R-1")])
    raw["id"] = ""
    assert rules.check_rule("p", raw, 1)[1][0].rule is None


def test_offset_and_recurrence_exactly_one():
    both = _raw(recurrence={"month": 1, "period_months": {"routine": 12}})
    neither = {k: v for k, v in _raw().items() if k != "offset"}
    message = Problem("插件 p 的时限规则 R-1：offset 与 recurrence 必须且只能给出其一", "offset", "R-1")
    assert rules.check_rule("p", both)[1] == [message]
    assert rules.check_rule("p", neither)[1] == [message]


def test_blank_fields_unknown_role_and_class():
    raw = _raw(id=" ", title="", role="janitor", scope={"classes": ["routine", "exotic"]})
    rule, problems = rules.check_rule("p", raw, 4)
    assert rule is None
    assert problems == [
        Problem("插件 p 的时限规则  ：id 不能为空", "id", " "),
        Problem("插件 p 的时限规则  ：title 不能为空", "title", " "),
        Problem(f"插件 p 的时限规则  ：role 未知角色 'janitor'（可用：{', '.join(rules.ROLES)}）", "role", " "),
        Problem("插件 p 的时限规则  ：scope.classes 未知技术类别 'exotic'（可用：prohibited, restricted, routine）",
                "scope.classes", " "),
    ]
    _, problems = rules.check_rule("p", _raw(id="", event="", obligation="", article=""), 2)
    assert problems == [
        Problem("插件 p 的时限规则 #3：id 不能为空", "id", None),
        Problem("插件 p 的时限规则 #3：event 不能为空", "event", None),
        Problem("插件 p 的时限规则 #3：obligation 不能为空", "obligation", None),
        Problem("插件 p 的时限规则 #3：article 不能为空", "article", None),
    ]


def test_not_a_table_or_badly_typed():
    assert rules.check_rule("p", ["x"], 1) == (None, [Problem("插件 p 的时限规则 #2：应为一个表（dict），实为 list", "rule")])
    rule, problems = rules.check_rule("p", _raw(offset={"amount": "3", "unit": "weeks"}))
    assert rule is None
    assert len(problems) == 1 and problems[0].field == "rule"
    assert problems[0].message.startswith("插件 p 的时限规则 R-1：Expected `int`")


def test_check_rules_combines_and_replaces():
    national = _raw(id="NAT-29", obligation="training_base_filing")
    province = _raw(id="JL-30", obligation="training_base_filing",
                    replaces=[{"id": "NAT-29", "obligation": "training_base_filing"}])
    other = _raw(id="NAT-11")
    loaded = rules.check_rules([("national", [national, other]), ("jilin", (province,))])
    assert [r.id for r in loaded] == ["NAT-11", "JL-30"]
    # the same rule twice, identically, counts once
    assert [r.id for r in rules.check_rules([("a", [other]), ("b", [dict(other)])])] == ["NAT-11"]


def test_check_rules_refuses_everything_when_anything_is_wrong():
    other = _raw(id="NAT-11")
    with pytest.raises(rules.DeadlineRuleError) as err:
        rules.check_rules([("a", [other]), ("b", [{**other, "title": "别的"}])])
    assert err.value.problems == [
        Problem("插件 b 的时限规则 NAT-11：与插件 a 的同名规则（filing）内容不同", "id", "NAT-11")]
    with pytest.raises(rules.DeadlineRuleError) as err:
        rules.check_rules([("a", {"not": "a list"}), ("b", [_raw(role="x"), _raw(id="OK")])])
    assert err.value.problems[0] == Problem("插件 a 的 deadline_rules 应返回列表，实为 dict", "rule")
    assert [p.field for p in err.value.problems] == ["rule", "role"]
    assert str(err.value) == "；".join(p.message for p in err.value.problems)


def test_applies_to_event_scope_and_conditions():
    rule = rules.check_rule("p", _raw(event="admission", scope={"classes": ["restricted"], "codes": ["T1"]},
                                      when={"ethics_pending": True}))[0]
    assert rule.applies_to("admission", "restricted", "T1", {"ethics_pending": True})
    assert not rule.applies_to("discharge", "restricted", "T1", {"ethics_pending": True})
    assert not rule.applies_to("admission", "routine", "T1", {"ethics_pending": True})
    assert not rule.applies_to("admission", "restricted", "T2", {"ethics_pending": True})
    assert not rule.applies_to("admission", "restricted", "T1", {})
    any_rule = rules.check_rule("p", _raw())[0]
    assert any_rule.applies_to("first_case", "routine", "", {})


def test_offset_text_in_chinese():
    def text(**offset):
        return rules.check_rule("p", _raw(offset=offset))[0].offset_text()

    assert text(amount=15, unit="working_days") == "后15个工作日"
    assert text(amount=3, unit="working_days", direction="before") == "前3个工作日"
    assert text(amount=30, unit="calendar_days") == "后30日"
    assert text(amount=1, unit="weeks") == "后1周"
    assert text(amount=1, unit="months", direction="before") == "前1个月"
    assert rules.check_rule("p", _yearly())[0].offset_text() == "监测期内每年1月"


# ---------------------------------------------------------------- due dates


def _due(amount, unit, direction, event):
    return rules.due_date(CAL, Offset(amount, unit, direction), D(event)).date


@pytest.mark.rule("NAT-11")
def test_after_each_unit():
    assert _due(15, "working_days", "after", "2025-09-26") == D("2025-10-23")
    assert _due(1, "calendar_days", "after", "2025-09-29") == D("2025-09-30")
    assert _due(2, "calendar_days", "after", "2025-09-29") == D("2025-10-09")  # 10-01 rolls forward
    assert _due(1, "weeks", "after", "2025-09-23") == D("2025-09-30")
    assert _due(2, "weeks", "after", "2025-09-23") == D("2025-10-09")  # 10-07 rolls forward
    assert _due(3, "months", "after", "2025-06-30") == D("2025-09-30")


@pytest.mark.rule("JL-30")
def test_jl30_working_days_before_counts_back_over_the_holiday():
    assert _due(3, "working_days", "before", "2025-10-09") == D("2025-09-28")  # 09-30, 09-29, 09-28 (make-up)
    assert _due(1, "working_days", "before", "2025-10-09") == D("2025-09-30")


@pytest.mark.rule("JL-29")
def test_jl29_before_landing_on_a_working_day_stays():
    assert _due(1, "months", "before", "2025-10-30") == D("2025-09-30")  # a Tuesday, working
    assert _due(1, "calendar_days", "before", "2025-09-30") == D("2025-09-29")
    assert _due(1, "weeks", "before", "2025-09-30") == D("2025-09-23")


@pytest.mark.rule("JL-29")
def test_jl29_before_landing_on_a_rest_day_moves_to_the_working_day_before():
    assert _due(1, "weeks", "before", "2025-10-14") == D("2025-09-30")  # 10-07 holiday → 09-30
    assert _due(1, "months", "before", "2025-11-05") == D("2025-09-30")  # 10-05 holiday → 09-30
    assert _due(2, "calendar_days", "before", "2025-09-29") == D("2025-09-26")  # Sat 09-27 → Fri 09-26
    assert _due(1, "calendar_days", "before", "2025-09-29") == D("2025-09-28")  # make-up Sunday works


@pytest.mark.rule("JL-29")
def test_roll_back_is_the_last_working_day_on_or_before():
    assert rules._roll_back(CAL, D("2025-09-30")) == DueDate(D("2025-09-30"))  # working: itself
    assert rules._roll_back(CAL, D("2025-09-29")) == DueDate(D("2025-09-29"))  # working, next day working too
    assert rules._roll_back(CAL, D("2025-10-08")) == DueDate(D("2025-09-30"))
    assert rules._roll_back(CAL, D("2025-09-27")) == DueDate(D("2025-09-26"))


def test_shift_months_clamps_to_the_months_last_day():
    assert rules._shift_months(D("2025-03-31"), -1) == D("2025-02-28")
    assert rules._shift_months(D("2024-03-31"), -1) == D("2024-02-29")
    assert rules._shift_months(D("2025-01-31"), 1) == D("2025-02-28")
    assert rules._shift_months(D("2025-05-31"), 1) == D("2025-06-30")
    assert rules._shift_months(D("2025-05-30"), 1) == D("2025-06-30")
    assert rules._shift_months(D("2025-05-29"), 1) == D("2025-06-29")
    assert rules._shift_months(D("2025-12-15"), 1) == D("2026-01-15")
    assert rules._shift_months(D("2026-01-15"), -1) == D("2025-12-15")
    assert rules._shift_months(D("2025-01-15"), 0) == D("2025-01-15")
    assert rules._shift_months(D("2025-11-30"), 24) == D("2027-11-30")


@pytest.mark.rule("JL-29")
def test_jl29_month_before_from_a_month_end():
    assert _due(1, "months", "before", "2025-03-31") == D("2025-02-28")  # a Friday
    assert _due(1, "months", "before", "2025-07-31") == D("2025-06-30")  # a Monday


# ---------------------------------------------------------------- HOSP-17 recurrence


def _occ(event, tech_class="routine", month=1):
    rule = rules.check_rule("p", {**_yearly(), "recurrence": {"month": month,
                                                             "period_months": {"routine": 12, "restricted": 24}}})[0]
    return [(k, d.date) for k, d in rules.occurrences(CAL, rule, D(event), tech_class)]


@pytest.mark.rule("HOSP-17")
def test_hosp17_window_starts_after_the_admission_day():
    # admitted on January 1st: that January is not inside the period (it starts that day), the next one is
    assert [k for k, _ in _occ("2025-01-01")] == ["2026"]
    # admitted the day before: that January is inside
    assert [k for k, _ in _occ("2024-12-31")] == ["2025"]
    # admitted on February 1st with a February obligation: only next February
    assert [k for k, _ in _occ("2025-02-01", month=2)] == ["2026"]


@pytest.mark.rule("HOSP-17")
def test_hosp17_window_end_inclusive():
    # 12 months from 2025-01-15 ends 2026-01-15: January 2026 starts inside it
    assert [k for k, _ in _occ("2025-01-15")] == ["2026"]
    # 12 months from 2024-12-31 ends 2025-12-31: January 2025 starts inside, January 2026 does not
    assert [k for k, _ in _occ("2024-12-31")] == ["2025"]
    # a restricted technology's 24 months reach two Januaries
    assert [k for k, _ in _occ("2025-01-15", "restricted")] == ["2026", "2027"]
    # the period ends on the first day of the month: that month starts inside it (end inclusive)
    assert [k for k, _ in _occ("2025-02-01", month=2)] == ["2026"]
    assert [k for k, _ in _occ("2025-02-02", month=2)] == ["2026"]
    assert [k for k, _ in _occ("2025-01-31", month=2)] == ["2025"]
    assert _occ("2025-03-01", "prohibited") == []


@pytest.mark.rule("HOSP-17")
def test_hosp17_due_on_the_months_last_day_rolled_to_a_working_day():
    assert _occ("2025-01-15") == [("2026", D("2026-02-02"))]  # 2026-01-31 is a Saturday
    assert _occ("2025-03-15", month=3) == [("2026", D("2026-03-31"))]  # a Tuesday
    assert _occ("2025-05-15", month=5) == [("2026", D("2026-06-01"))]  # Sunday 05-31 → Monday


def test_an_offset_rule_occurs_once():
    rule = rules.check_rule("p", _raw())[0]
    assert rules.occurrences(CAL, rule, D("2025-09-26"), "restricted") == [("", DueDate(D("2025-10-23")))]


# ---------------------------------------------------------------- status and reminders


def test_status_due_today_is_due_soon_not_overdue():
    today = D("2026-03-10")
    soon = D("2026-03-13")
    assert rules.status_of("open", D("2026-03-09"), False, today, soon) == "overdue"
    assert rules.status_of("open", today, False, today, soon) == "due_soon"  # due today
    assert rules.status_of("open", D("2026-03-13"), False, today, soon) == "due_soon"  # exactly at the lead
    assert rules.status_of("open", D("2026-03-14"), False, today, soon) == "open"
    assert rules.status_of("done", today, True, today, soon) == "done_late"
    assert rules.status_of("done", today, False, today, soon) == "done_on_time"
    assert rules.status_of("waived", today, False, today, soon) == "waived"


def test_days_left_in_working_days_negative_when_overdue():
    assert rules.days_left(CAL, D("2025-09-30"), D("2025-09-30")) == 0
    assert rules.days_left(CAL, D("2025-09-30"), D("2025-10-09")) == 1
    assert rules.days_left(CAL, D("2025-10-09"), D("2025-09-30")) == -1
    assert rules.days_left(CAL, D("2025-09-29"), D("2025-09-30")) == 1
    assert rules.days_left(CAL, D("2025-09-30"), D("2025-09-29")) == -1


def test_reminder_stage_at_each_lead():
    leads = (5, 1)
    assert rules.reminder_stage(-1, leads) == "overdue"
    assert rules.reminder_stage(0, leads) == "lead-1"  # due today
    assert rules.reminder_stage(1, leads) == "lead-1"  # exactly at the lead
    assert rules.reminder_stage(2, leads) == "lead-5"
    assert rules.reminder_stage(5, leads) == "lead-5"
    assert rules.reminder_stage(6, leads) is None
    assert rules.reminder_stage(0, ()) is None


def test_recurrence_and_scope_shapes():
    assert Recurrence(1, {"routine": 12}).month == 1
    assert Scope().classes == ()


def test_status_exempt():
    assert rules.status_of("exempt", D("2026-03-01"), False, D("2026-03-10"), D("2026-03-13")) == "exempt"


# ---------------------------------------------------------------- exemptions (grandfathering)


FILING = rules.check_rule("p", _raw(id="JL-12"))[0]


def _exempt(**kw) -> dict:
    return {"rule": "JL-12", "obligation": "filing", "evidence": "2021年前已开展", **kw}


def test_exemption_covers_only_its_rule_codes_institutions_and_events_before_the_cut_off():
    (e,) = rules.check_exemptions([("jilin", [_exempt(codes=["T1"], institutions=["PDY1"],
                                                        before=D("2021-06-01"))])], [FILING])
    assert e.plugin == "jilin"
    assert e.covers(FILING, "T1", "PDY1", D("2021-05-31"))
    assert not e.covers(FILING, "T1", "PDY1", D("2021-06-01"))  # the cut-off day itself is not before it
    assert not e.covers(FILING, "T2", "PDY1", D("2021-05-31"))
    assert not e.covers(FILING, "T1", "PDY2", D("2021-05-31"))
    other = rules.check_rule("p", _raw(id="JL-12", obligation="filing_completion"))[0]
    assert not e.covers(other, "T1", "PDY1", D("2021-05-31"))
    (any_day,) = rules.check_exemptions([("jilin", [_exempt(codes=["T1"])])], [FILING])
    assert any_day.covers(FILING, "T1", "ANY", D("2030-01-01"))
    assert rules.exemption_for([e, any_day], FILING, "T1", "PDY1", D("2021-06-01")) is any_day
    assert rules.exemption_for([e], FILING, "T1", "PDY1", D("2021-06-01")) is None


def test_exemption_shown_with_its_article():
    (e,) = rules.check_exemptions([("jilin", [_exempt(codes=["T1"], article="第四十五条")])], [FILING])
    assert e.shown == "2021年前已开展（第四十五条）"
    (plain,) = rules.check_exemptions([("jilin", [_exempt(codes=["T1"])])], [FILING])
    assert plain.shown == "2021年前已开展"


def test_exemption_problems_name_plugin_and_item():
    with pytest.raises(rules.DeadlineRuleError) as err:
        rules.check_exemptions([
            ("a", {"not": "a list"}),
            ("b", [_exempt(rule="JL-99", evidence=" "), "x", _exempt(rule="", codes=["T"]), _exempt(codes=["T"])]),
        ], [FILING])
    assert err.value.problems[0] == Problem("插件 a 的 deadline_exemptions 应返回列表，实为 dict", "exemption")
    assert err.value.problems[1:4] == [
        Problem("插件 b 的豁免 #1（JL-99）：豁免的规则 JL-99（filing）不在本部署的时限规则中", "exemption", "JL-99"),
        Problem("插件 b 的豁免 #1（JL-99）：evidence（豁免依据）不能为空", "exemption", "JL-99"),
        Problem("插件 b 的豁免 #1（JL-99）：codes 与 institutions 至少给出其一（否则等于删除该规则，请用 replaces）",
                "exemption", "JL-99"),
    ]
    assert err.value.problems[4].message.startswith("插件 b 的豁免 #2：Expected `object`")
    assert err.value.problems[5] == Problem("插件 b 的豁免 #3：豁免的规则 （filing）不在本部署的时限规则中", "exemption", "")
    assert len(err.value.problems) == 6
    assert rules.check_exemptions([], [FILING]) == []


# ---------------------------------------------------------------- rules in force (JL-42, JL-43)


def test_rules_in_force_need_a_day_or_a_setting():
    day = {"key": "jilin-2021", "title": "实施细则", "effective_on": "2021-07-01"}
    (item,) = rules.check_in_force([("jilin", [day]), ("again", (dict(day),))])
    assert item.effective_on == D("2021-07-01") and item.plugin == "jilin"
    (single,) = rules.check_in_force([("jilin", {"key": "k", "title": "t", "setting": "CLINTECH_X"})])
    assert single.setting == "CLINTECH_X"
    with pytest.raises(rules.DeadlineRuleError) as err:
        rules.check_in_force([("a", [{"key": " ", "title": "t", "setting": "S"}, {"key": "k", "title": " ", "setting": "S"},
                                     {"key": "k2", "title": "t", "setting": " "}, day, 5]),
                              ("b", [{**day, "title": "别的"}])])
    assert err.value.problems[:3] == [
        Problem("插件 a 的 rules_in_force #1：key 与 title 不能为空", "rules_in_force"),
        Problem("插件 a 的 rules_in_force #2：key 与 title 不能为空", "rules_in_force"),
        Problem("插件 a 的 rules_in_force #3（k2）：effective_on 与 setting 至少给出其一", "rules_in_force"),
    ]
    assert err.value.problems[3].message.startswith("插件 a 的 rules_in_force #5：Expected `object`")
    assert err.value.problems[4] == Problem("插件 b 的 rules_in_force #1：与插件 a 的 jilin-2021 内容不同", "rules_in_force")
    assert len(err.value.problems) == 5


# ---------------------------------------------------------------- vocabularies checked at load


def test_replaces_names_id_and_obligation():
    assert rules.check_rule("p", _raw(replaces=["NAT-11"])) == (None, [Problem(
        '插件 p 的时限规则 R-1：replaces 的每一项须写明规则编号与事项类型，如 {id = "NAT-11", obligation = "filing"}'
        "（同一编号可有多条规则）", "replaces")])
    assert rules.check_rule("p", _raw(replaces=[{"id": "NAT-11", "obligation": "paperwork"}]))[1] == [
        Problem("插件 p 的时限规则 R-1：replaces 未知事项类型 'paperwork'（NAT-11）", "replaces", "R-1")]


def test_replacing_a_rule_the_deployment_does_not_have_is_an_error():
    with pytest.raises(rules.DeadlineRuleError) as err:
        rules.check_rules([("jilin", [_raw(id="NAT-1"), _raw(id="JL-30", replaces=[{"id": "NAT-29",
                                                                                    "obligation": "filing"}])])])
    assert err.value.problems == [Problem("插件 jilin 的时限规则 JL-30：replaces 指向的规则 NAT-29（filing）不在本部署的时限规则中",
                                          "replaces", "JL-30")]


def test_unknown_event_obligation_and_when_fact():
    assert rules.check_rule("p", _raw(event="party"))[1] == [Problem(
        f"插件 p 的时限规则 R-1：event 未知事件 'party'，该规则永远不会触发（可用：{', '.join(rules.EVENTS)}）", "event", "R-1")]
    assert rules.check_rule("p", _raw(obligation="paperwork"))[1] == [Problem(
        f"插件 p 的时限规则 R-1：obligation 未知事项类型 'paperwork'（可用：{', '.join(rules.OBLIGATIONS)}）",
        "obligation", "R-1")]
    assert rules.check_rule("p", _raw(when={"ethics_pending": True}))[1] == [Problem(
        "插件 p 的时限规则 R-1：when 事件 first_case 没有字段 'ethics_pending'（可用：无）", "when", "R-1")]
    assert rules.check_rule("p", _raw(event="publicity_start", when={"x": 1}))[1] == [Problem(
        "插件 p 的时限规则 R-1：when 事件 publicity_start 没有字段 'x'（可用：step）", "when", "R-1")]
    assert "、" not in "".join(rules.EVENTS["rules_effective"]) and rules.check_rule(
        "p", _raw(event="rules_effective", when={"y": 1}))[1][0].message.endswith("（可用：filed、rules）")


def test_a_rule_without_an_id_key_is_numbered():
    raw = _raw()
    del raw["id"]
    rule, problems = rules.check_rule("p", raw, 1)
    assert rule is None
    assert problems[0].message.startswith("插件 p 的时限规则 #2：Object missing required field `id`")


def test_check_rules_numbers_each_rule_and_reports_every_bad_one():
    with pytest.raises(rules.DeadlineRuleError) as err:
        rules.check_rules([("p", [_raw(id="A", role="x"), _raw(id="", title="t"), _raw(id="B", role="y")])])
    assert [p.message.split("：")[0] for p in err.value.problems] == [
        "插件 p 的时限规则 A", "插件 p 的时限规则 #2", "插件 p 的时限规则 B"]


def test_a_plugin_may_answer_with_the_contracts_structs():
    struct = rules.check_rule("p", _raw())[0]
    rule, problems = rules.check_rule("q", msgspec.structs.replace(struct, plugin=""))
    assert problems == [] and rule == msgspec.structs.replace(struct, plugin="q")
    assert rules.check_rule("p", {**_raw(), "id": ""})[1][0].message.startswith("插件 p 的时限规则 #1：")


def test_convert_errors_name_the_field_of_the_hook():
    with pytest.raises(rules.DeadlineRuleError) as err:
        rules.check_exemptions([("b", ["x", 5])], [FILING])
    assert [p.field for p in err.value.problems] == ["exemption", "exemption"]
    with pytest.raises(rules.DeadlineRuleError) as err:
        rules.check_in_force([("a", [5, "x"])])
    assert [p.field for p in err.value.problems] == ["rules_in_force", "rules_in_force"]


def test_exemption_for_matches_the_institution_too():
    (e,) = rules.check_exemptions([("jilin", [_exempt(codes=["T1"], institutions=["PDY1"])])], [FILING])
    assert rules.exemption_for([e], FILING, "T1", "PDY1", D("2021-05-31")) is e
    assert rules.exemption_for([e], FILING, "T1", "PDY2", D("2021-05-31")) is None
