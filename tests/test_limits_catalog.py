"""Every limit of core/catalog/rules.py: entries, surgery levels 1–4, the edition in force.

Pure: no database. Exercised by ``make mutation`` (scripts/mutation.py).
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.catalog import rules
from core.catalog.schemas import QCIndicator, TechnologyEntry
from core.errors import Problem

D = dt.date.fromisoformat


def test_parse_date_forms():
    assert rules.parse_date(None, "effective") == (None, None)
    assert rules.parse_date("", "effective") == (None, None)
    assert rules.parse_date(dt.datetime(2026, 3, 1, 9, 30), "effective") == (D("2026-03-01"), None)
    assert rules.parse_date(D("2026-03-01"), "effective") == (D("2026-03-01"), None)
    assert rules.parse_date(" 2026-03-01 ", "effective") == (D("2026-03-01"), None)
    assert rules.parse_date("2026-02-30", "effective") == (None, Problem(
        "「施行日期」不是有效日期：'2026-02-30'（应为 YYYY-MM-DD）", "effective"))
    assert rules.parse_date("x", "other") == (None, Problem("「other」不是有效日期：'x'（应为 YYYY-MM-DD）", "other"))


@pytest.mark.parametrize("value, levels", [
    (None, ()), ("", ()), ([], ()), ([4, 3, 3], (3, 4)), ((1,), (1,)), ("三、四级", (3, 4)), ("3,4", (3, 4)),
    ("一级手术", (1,)), ("二级；四级", (2, 4)), ("1/2", (1, 2)), ("1 2", (1, 2)), ("三，四", (3, 4)), ("4;1", (1, 4)),
    ("手术3级", (3,)), (["二", "4"], (2, 4)), ("三级手术、四级手术", (3, 4)), (" ", ()),
])
def test_surgery_levels_1_to_4(value, levels):
    assert rules.parse_levels(value) == (levels, None)


@pytest.mark.parametrize("value", [[0], [5], "五级", "0", "5", [True], "三、五级", [1.0]])
def test_surgery_levels_outside_1_to_4_refused(value):
    assert rules.parse_levels(value) == ((), Problem(
        f"「手术级别限制」应为 1–4 级（如“三、四级”），而不是 {value!r}", "surgery_levels"))


def test_a_valid_entry():
    seen: set[str] = set()
    entry, problems = rules.validate_entry({
        "code": " T1 ", "name": " 技术 ", "class": "限制类", "surgery_levels": "四级", "specification": " 规范 ",
        "qc_indicators": [" 并发症发生率 ", {"name": " 死亡率 ", "code": "Q2", "definition": "定义"}],
        "note": " 备注 "}, seen=seen)
    assert problems == []
    assert entry == TechnologyEntry(code="T1", name="技术", tech_class="restricted", surgery_levels=(4,),
                                    specification="规范", qc_indicators=(QCIndicator("并发症发生率"),
                                                                         QCIndicator("死亡率", "Q2", "定义")),
                                    note="备注")
    assert seen == {"T1"}
    entry, _ = rules.validate_entry({"code": "T2", "name": "n", "qc_indicators": [{"name": "x"}]},
                                    default_class="routine")
    assert entry == TechnologyEntry(code="T2", name="n", tech_class="routine", qc_indicators=(QCIndicator("x"),))


@pytest.mark.parametrize("label, tech_class", [
    ("prohibited", "prohibited"), ("禁止类", "prohibited"), ("禁止", "prohibited"), ("限制", "restricted"),
    ("常规", "routine"), ("常规类", "routine"), ("restricted", "restricted")])
def test_class_spellings(label, tech_class):
    assert rules.validate_entry({"code": "T", "name": "n", "class": label})[0].tech_class == tech_class


def test_entry_problems_name_their_fields():
    seen = {"T1"}
    entry, problems = rules.validate_entry({"code": "T1", "name": " ", "class": "魔法类", "surgery_levels": "9",
                                            "qc_indicators": ["ok", " ", {"code": "Q"}], "colour": "red", "size": 1},
                                           seen=seen)
    assert entry is None
    assert problems == [
        Problem("编码 T1 在同一版本中重复", "code"),
        Problem("「技术名称」不能为空", "name"),
        Problem("未知类别 '魔法类'（应为 禁止类/限制类/常规类，或 prohibited/restricted/routine）", "class"),
        Problem("「手术级别限制」应为 1–4 级（如“三、四级”），而不是 '9'", "surgery_levels"),
        Problem("第 2 个质控指标缺少名称", "qc_indicators"),
        Problem("第 3 个质控指标缺少名称", "qc_indicators"),
        Problem("未知字段：colour、size", "colour"),
    ]
    assert seen == {"T1"}
    assert rules.validate_entry({"code": "T", "class": "routine"})[1] == [Problem("「技术名称」不能为空", "name")]
    assert rules.validate_entry({"name": "n"})[1] == [Problem("「编码」不能为空", "code"), Problem("「类别」不能为空", "class")]


def test_scope_spellings():
    assert rules.validate_scope("national") == ("national", None)
    assert rules.validate_scope(" 省级 ") == ("provincial", None)
    assert rules.validate_scope("院级") == ("hospital", None)
    assert rules.validate_scope("city") == (None, Problem("未知范围 'city'（应为 national/provincial/hospital）", "scope"))
    assert rules.validate_scope(None)[0] is None


def test_edition_in_force_from_its_effective_day_until_its_successors():
    effective, superseded = D("2022-05-01"), D("2026-01-01")
    assert not rules.is_current(effective, superseded, D("2022-04-30"))
    assert rules.is_current(effective, superseded, D("2022-05-01"))
    assert rules.is_current(effective, superseded, D("2025-12-31"))
    assert not rules.is_current(effective, superseded, D("2026-01-01"))  # the successor's day
    assert rules.is_current(None, superseded, D("1990-01-01"))
    assert rules.is_current(effective, None, D("2099-01-01"))
    assert rules.is_current(None, None, D("2026-01-01"))


@pytest.mark.rule("NAT-9")
def test_nat9_citation_problems():
    assert rules.citation_problems(tech_class="restricted", current=True, available=True) == []
    assert rules.citation_problems(tech_class="prohibited", current=True, available=True, allow_prohibited=True) == []
    assert rules.citation_problems(tech_class="prohibited", current=False, available=False) == [
        Problem("该技术所属目录的插件已停用或条目已撤销，不能用于新的工作", "technology"),
        Problem("该技术所属目录版本已被新版本替代（或尚未施行），新的工作请选择现行版本", "technology"),
        Problem("禁止类技术不得应用于临床，不能申请或报送", "technology", "NAT-9"),
    ]
