"""Boundaries of the evaluation rules (seed 003; NAT-22), pure functions, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from core.evaluation import rules

DAY = dt.date(2026, 5, 11)


@pytest.mark.rule("EVAL-7")
@pytest.mark.parametrize("size, valid_from", [(7, 5), (9, 7), (11, 8), (13, 9), (15, 11)])
def test_eval7_more_than_two_thirds_of_the_panel_at_the_boundary(size, valid_from):
    assert rules.votes_needed(size) == valid_from
    assert rules.conclusion_valid(size, valid_from)
    assert not rules.conclusion_valid(size, valid_from - 1)  # exactly two thirds or less is not enough


@pytest.mark.rule("EVAL-7")
def test_eval7_panel_size_six_seven_eight_nine():
    fields = ["clinical", "management", "ethics"]

    def panel(n):
        return [(f"专家{i}", fields[i % 3]) for i in range(n)]

    assert rules.check_panel(panel(6)) and "不少于7名" in rules.check_panel(panel(6))[0].message
    assert rules.check_panel(panel(7)) == []
    assert "奇数" in rules.check_panel(panel(8))[0].message
    assert rules.check_panel(panel(9)) == []
    assert rules.check_panel([(f"专家{i}", "clinical") for i in range(7)])  # the fields are not covered
    assert rules.check_panel(panel(6) + [("专家0", "ethics")])  # a name twice


@pytest.mark.rule("EVAL-8")
def test_eval8_dates_of_a_sitting_at_their_limits():
    votes = {1: ("agree", "")}

    def problems(**kw):
        values = {"held_on": DAY, "today": DAY, "votes": votes, "panel": [1], "outcome": "restricted",
                  "recommendation": "建议列入限制类技术目录严格管理", "effective_on": DAY, "specification": "",
                  "qc_indicators": []} | kw
        return {p.field for p in rules.check_sitting(**values)}

    assert problems() == set()  # held today, effective the same day
    assert problems(held_on=DAY + dt.timedelta(days=1), effective_on=DAY + dt.timedelta(days=1)) == {"held_on"}
    assert problems(effective_on=DAY - dt.timedelta(days=1)) == {"effective_on"}
    assert problems(recommendation="建议列入限制类目录") == {"recommendation"}  # 9 characters
    assert problems(outcome="strengthened", qc_indicators=["术后并发症发生率"]) == set()


@pytest.mark.rule("NAT-22")
def test_nat22_a_review_dated_today_passes_tomorrow_does_not():
    def fields(**kw):
        values = {"reviewed_on": DAY, "today": DAY, "committee": "管委", "findings": "近一年运行平稳无不良事件",
                  "result": "continue", "adjustments": ""} | kw
        return {p.field for p in rules.check_review(**values)}

    assert fields() == set()
    assert fields(reviewed_on=DAY + dt.timedelta(days=1)) == {"reviewed_on"}
    assert fields(committee="管") == {"committee"}
    assert fields(result="adjust", adjustments="收紧", kinds=["requirements"]) == {"adjustments"}
    assert fields(result="adjust", adjustments="收紧适应", kinds=["requirements"]) == set()
    assert fields(result="adjust", adjustments="收紧适应") == {"adjustment_kinds"}
    assert fields(result="adjust", adjustments="收紧适应", kinds=["scope"]) == {"adjustment_kinds"}
