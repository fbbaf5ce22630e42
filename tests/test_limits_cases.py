"""Every limit of core/cases/rules.py: case ids up to 80, patient keys up to 64, dates, QC values.

Pure: no database. Exercised by ``make mutation`` (scripts/mutation.py).
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.cases import rules
from core.cases.rules import CaseInput, Indicator
from core.errors import Problem

D = dt.date.fromisoformat
TODAY = D("2026-03-20")


def _case(**kw) -> CaseInput:
    base = {"case_id": "ZY001", "technology_code": "T1", "patient_key": "P-0001", "admitted_on": D("2026-03-01"),
            "operated_on": D("2026-03-02"), "discharged_on": D("2026-03-09"), "operators": ["doc1"], "consent": True}
    return CaseInput(**{**base, **kw})


def test_a_complete_case_has_no_problem():
    assert rules.case_problems(_case(), TODAY) == []


@pytest.mark.rule("NAT-37")
def test_nat37_case_id_up_to_80_characters():
    assert rules.case_problems(_case(case_id="c" * 80), TODAY) == []
    assert rules.case_problems(_case(case_id=" " + "c" * 80 + " "), TODAY) == []
    assert rules.case_problems(_case(case_id="c" * 81), TODAY) == [
        Problem("医院病例号不超过 80 个字符", "case_id", "NAT-37")]
    assert rules.case_problems(_case(case_id="  "), TODAY) == [Problem("请填写医院病例号（本院唯一）", "case_id", "NAT-37")]


@pytest.mark.rule("NAT-37")
def test_nat37_dates_in_order_same_day_allowed():
    same = D("2026-03-05")
    assert rules.case_problems(_case(admitted_on=same, operated_on=same, discharged_on=same), TODAY) == []
    assert rules.case_problems(_case(admitted_on=D("2026-03-03")), TODAY) == [
        Problem("手术（操作）日期不能早于入院日期", "operated_on", "NAT-37")]
    assert rules.case_problems(_case(discharged_on=D("2026-03-01")), TODAY) == [
        Problem("出院日期不能早于手术（操作）日期", "discharged_on", "NAT-37")]


@pytest.mark.rule("NAT-37")
def test_nat37_dates_up_to_today():
    assert rules.case_problems(_case(discharged_on=TODAY), TODAY) == []
    tomorrow = TODAY + dt.timedelta(days=1)
    assert rules.case_problems(_case(discharged_on=tomorrow), TODAY) == [
        Problem("日期不能晚于今天（出院后再报送）", "discharged_on", "NAT-37")]
    assert rules.case_problems(_case(admitted_on=tomorrow, operated_on=tomorrow, discharged_on=tomorrow), TODAY) == [
        Problem("日期不能晚于今天（出院后再报送）", f, "NAT-37") for f in ("admitted_on", "operated_on", "discharged_on")]


def test_other_case_checks_name_their_rules():
    assert rules.case_problems(_case(technology_code=" "), TODAY) == [Problem("请填写技术编码", "technology_code", "HOSP-3")]
    assert rules.case_problems(_case(operators=[" ", ""]), TODAY) == [Problem("请至少填写一名术者", "operators", "NAT-19")]
    assert rules.case_problems(_case(outcome="healed"), TODAY) == [
        Problem("转归应为：治愈、好转、未愈、恶化、死亡、其他", "outcome", "NAT-37")]
    assert rules.case_problems(_case(outcome="death"), TODAY) == []
    assert rules.case_problems(_case(complication=True, complications=" "), TODAY) == [
        Problem("有并发症时请填写并发症情况", "complications", "HOSP-15")]
    assert rules.case_problems(_case(complication=True, complications="出血"), TODAY) == []
    assert rules.case_problems(_case(complications=""), TODAY) == []
    assert rules.case_problems(_case(adverse_event=True), TODAY) == [
        Problem("有不良事件时请填写不良事件情况", "adverse_events", "HOSP-15")]
    assert rules.case_problems(_case(adverse_event=True, adverse_events="跌倒"), TODAY) == []
    assert rules.case_problems(_case(consent=False), TODAY) == [
        Problem("未签署知情同意书的病例不得实施新技术，也不予登记（HOSP-18）", "consent", "HOSP-18")]


@pytest.mark.rule("NAT-45")
def test_nat45_patient_key_up_to_64_characters():
    assert rules.patient_key_problems("k" * 64) == []
    assert rules.patient_key_problems(" " + "k" * 64 + " ") == []
    assert rules.patient_key_problems("k" * 65) == [Problem("患者匿名编号不超过 64 个字符", "patient_key", "NAT-45")]
    assert rules.patient_key_problems(" ") == [
        Problem("请填写患者匿名编号（由医院自行保管对照关系）", "patient_key", "NAT-45")]
    assert rules.patient_key_problems(None) == [
        Problem("请填写患者匿名编号（由医院自行保管对照关系）", "patient_key", "NAT-45")]


@pytest.mark.rule("NAT-45")
@pytest.mark.parametrize("key", ["110101199003071234", "11010119900307123X", "110101900307123",
                                 "P13812345678", "ID:11010119900307123x;"])
def test_nat45_id_and_mobile_numbers_refused(key):
    assert rules.patient_key_problems(key) == [Problem(
        "患者匿名编号不得为身份证号或手机号等可识别信息，请使用医院内部的匿名编号", "patient_key", "NAT-45")]


@pytest.mark.rule("NAT-45")
@pytest.mark.parametrize("key", ["1101011990030712345", "12812345678", "P-1381234567", "0110101199003071234"])
def test_nat45_numbers_that_are_not_ids_or_mobiles_pass(key):
    assert rules.patient_key_problems(key) == []


@pytest.mark.rule("NAT-45")
def test_nat45_names_of_2_to_5_characters_refused():
    name = [Problem("患者匿名编号看起来是姓名，不得填写患者姓名，请使用医院内部的匿名编号", "patient_key", "NAT-45")]
    assert rules.patient_key_problems("张") == []
    assert rules.patient_key_problems("张三") == name
    assert rules.patient_key_problems("阿依·古丽") == name
    assert rules.patient_key_problems("欧阳某某某某") == []  # six characters: not taken for a name
    assert rules.patient_key_problems("张三001") == []


@pytest.mark.rule("NAT-45")
def test_nat45_pseudonym_is_keyed_per_institution():
    one = rules.pseudonym("s", 1, " P-1 ")
    assert one == rules.pseudonym("s", 1, "P-1") and len(one) == 32
    assert one != rules.pseudonym("s", 2, "P-1") and one != rules.pseudonym("t", 1, "P-1")
    assert one == "7a5f6d1befdee6186ea4d81b2ad8848c"  # HMAC-SHA256 of "1:P-1", first 32 hex digits


INDICATORS = [Indicator("并发症发生率"), Indicator("手术时长", "number"), Indicator("说明", "text")]


@pytest.mark.rule("HOSP-14")
def test_hosp14_indicator_values_of_their_kind():
    assert rules.indicator_problems({"并发症发生率": "是", "手术时长": " 3.5 ", "说明": "无"}, INDICATORS) == []
    assert rules.indicator_problems({"手术时长": ""}, INDICATORS) == []
    assert rules.indicator_problems({"别的": "1", "并发症发生率": "可能", "手术时长": "三小时"}, INDICATORS) == [
        Problem("质控指标「别的」不是该技术的质控指标", "qc:别的", "HOSP-14"),
        Problem("质控指标「并发症发生率」应填写“是”或“否”", "qc:并发症发生率", "HOSP-14"),
        Problem("质控指标「手术时长」应为数字", "qc:手术时长", "HOSP-14"),
    ]


def test_normalise_qc_and_kinds():
    assert rules.normalise_qc({"并发症发生率": " 是 ", "手术时长": " 3 ", "说明": " ", "x": "否"}, INDICATORS) == {
        "并发症发生率": "1", "手术时长": "3", "x": "否"}
    assert rules.normalise_qc({"并发症发生率": "否"}, INDICATORS) == {"并发症发生率": "0"}
    assert rules.indicator_kind("术后感染率") == "rate"
    for name in ("手术时间", "住院天数", "出血量", "疼痛评分", "麻醉分钟", "操作时长"):
        assert rules.indicator_kind(name) == "number"
    assert rules.indicator_kind("随访情况") == "text"


def test_content_hash_ignores_order_and_blanks_but_not_content():
    a = _case(operators=["b", " a "], assistants=[" y", "x", " "], qc_values={"q": " 1 ", "r": " "})
    b = _case(case_id=" ZY001 ", operators=["a", "b", ""], assistants=["x", "y"], qc_values={"q": "1"})
    assert rules.content_hash(a) == rules.content_hash(b)
    assert rules.content_hash(a) != rules.content_hash(_case(operators=["a"]))
    assert rules.content_hash(a) != rules.content_hash(_case(operators=["b", "a"], assistants=["x"]))
    assert rules.content_hash(a) != rules.content_hash(_case(operators=["b", "a"], assistants=["x", "y"],
                                                             qc_values={"q": "2"}))
    assert len(rules.content_hash(a)) == 64
    # each part of the content counts on its own
    assert rules.content_hash(_case(case_id="ZY002")) != rules.content_hash(_case())
    assert rules.content_hash(_case(operators=["doc2"])) != rules.content_hash(_case())
    assert rules.content_hash(_case(assistants=["doc2"])) != rules.content_hash(_case())


def test_content_hash_is_stable_across_releases():
    """Stored hashes decide whether a resubmitted case is the same case: the way they
    are computed (sorted keys, UTF-8 text, not ASCII escapes) must not drift."""
    assert rules.content_hash(_case(indication="冠心病")) == "f429260dbf01ead1c1d058357d919a5e358a813ed9bab5e265aac5a8cc21b0e7"


def test_prefix_and_to_bool():
    problems = [Problem("m", "case_id", "NAT-37"), Problem("n")]
    assert rules.prefix(problems, "cases[2]") == [Problem("m", "cases[2].case_id", "NAT-37"), Problem("n", "cases[2]")]
    assert rules.to_bool(True) is True and rules.to_bool(False) is False
    assert rules.to_bool(" 是 ") is True and rules.to_bool("否") is False and rules.to_bool(1) is True
