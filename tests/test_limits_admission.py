"""Every limit of the admission rules (core/admission/rules.py), at, before and past it.

Pure: no database. Exercised by ``make mutation`` (scripts/mutation.py).
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.admission import rules
from core.admission.schemas import FieldSpec, FormSpec, ProjectInfo, Section
from core.contract import ArgumentationStep, ReviewStep
from core.errors import Problem

D = dt.date.fromisoformat


# ---------------------------------------------------------------- HOSP-5: years as resident


@pytest.mark.rule("HOSP-5")
def test_hosp5_years_between_counts_whole_years_to_the_day():
    start = D("2023-03-15")
    assert rules.years_between(start, D("2026-03-14")) == 2  # one day short of three years
    assert rules.years_between(start, D("2026-03-15")) == 3  # the anniversary itself
    assert rules.years_between(start, D("2026-03-16")) == 3
    # the month decides before the day
    assert rules.years_between(start, D("2026-02-20")) == 2
    assert rules.years_between(start, D("2026-04-01")) == 3
    assert rules.years_between(start, D("2026-03-01")) == 2


@pytest.mark.rule("HOSP-5")
def test_hosp5_years_between_unknown_or_future_start_is_zero():
    today = D("2026-06-01")
    assert rules.years_between(None, today) == 0
    assert rules.years_between(D("2026-06-02"), today) == 0  # starts tomorrow
    assert rules.years_between(today, today) == 0  # starts today
    assert rules.years_between(D("2025-06-01"), today) == 1


# ---------------------------------------------------------------- HOSP-21: ethics two thirds


@pytest.mark.rule("HOSP-21")
def test_hosp21_threshold_is_two_thirds_of_all_members_rounded_up_recusals_do_not_lower_it():
    """Seed 002: 伦理委员会做出的决定应当得到伦理委员会三分之二委员同意 — of the members."""
    assert rules.ethics_threshold(9) == 6
    assert rules.ethics_threshold(7) == 5  # 4.67 → 5
    assert rules.ethics_threshold(6) == 4
    assert rules.ethics_threshold(3) == 2
    assert rules.ethics_threshold(2) == 2  # 1.33 → 2: both members
    assert rules.ethics_threshold(1) == 1
    assert rules.ethics_threshold(0) == 0
    # 9 members, 2 recused: still 6, not the 5 that two thirds of 7 voters would give
    assert rules.ethics_outcome(9, 5, 0, 2) is None
    assert rules.ethics_outcome(9, 6, 0, 2) == "approve"


@pytest.mark.rule("HOSP-21")
def test_hosp21_all_recused_or_voted_short_of_two_thirds_ends_not_passed():
    assert rules.ethics_outcome(5, 0, 0, 5) == "not_passed"  # everyone recused
    assert rules.ethics_outcome(5, 1, 0, 4) == "not_passed"
    assert rules.ethics_outcome(5, 1, 0, 3) is None  # one member still to vote
    assert rules.ethics_outcome(2, 1, 1, 0) == "not_passed"  # the stuck 1-for/1-against case
    assert rules.ethics_outcome(2, 1, 0, 0) is None
    assert rules.ethics_outcome(0, 1, 0, 0) is None  # no committee: nothing to decide
    reason = rules.ethics_not_passed_reason(2, 1, 1, 0)
    assert "同意 1、不同意 1、回避 0" in reason and "2 票" in reason and "HOSP-21" in reason


@pytest.mark.rule("HOSP-21")
def test_hosp21_outcome_at_one_vote_short_and_at_two_thirds():
    assert rules.ethics_outcome(9, 5, 0, 0) is None  # one short of 6
    assert rules.ethics_outcome(9, 6, 0, 0) == "approve"
    assert rules.ethics_outcome(9, 7, 0, 0) == "approve"
    assert rules.ethics_outcome(9, 0, 5, 0) is None
    assert rules.ethics_outcome(9, 0, 6, 0) == "reject"
    assert rules.ethics_outcome(9, 3, 3, 0) is None
    assert rules.ethics_outcome(9, 5, 3, 0) is None  # one member still to vote
    assert rules.ethics_outcome(9, 5, 4, 0) == "not_passed"


@pytest.mark.rule("HOSP-21")
def test_hosp21_medical_affairs_may_not_proceed_once_a_member_voted():
    assert rules.check_proceed_without_ethics(0) == []
    assert rules.check_proceed_without_ethics(1)[0].rule == "HOSP-21"


# ---------------------------------------------------------------- HOSP-9: scores 0–100


@pytest.mark.rule("HOSP-9")
@pytest.mark.parametrize("score", [0, 1, 99, 100, " 100 ", "0"])
def test_hosp9_score_inside_0_to_100_is_accepted(score):
    assert rules.check_score(score, {}, []) == []


@pytest.mark.rule("HOSP-9")
@pytest.mark.parametrize("score", [-1, 101, "", "abc", "50.5", None])
def test_hosp9_score_outside_0_to_100_is_refused(score):
    assert rules.check_score(score, {}, []) == [Problem("评分须为 0–100 的整数", "score", "HOSP-9")]


@pytest.mark.rule("HOSP-9")
def test_hosp9_restricted_criteria_each_scored_0_to_100():
    criteria = [("qualification", "人员资质"), ("plan", "技术方案"), ("qc", "质控指标")]
    assert rules.check_score(50, {"qualification": 0, "plan": 100, "qc": " 7 "}, criteria) == []
    assert rules.check_score(50, {"qualification": -1, "plan": 101}, criteria) == [
        Problem("请为「人员资质」评分（0–100）", "s_qualification", "HOSP-9"),
        Problem("请为「技术方案」评分（0–100）", "s_plan", "HOSP-9"),
        Problem("请为「质控指标」评分（0–100）", "s_qc", "HOSP-9"),
    ]
    assert rules.check_score(101, {"qualification": 1}, criteria[:1]) == [
        Problem("评分须为 0–100 的整数", "score", "HOSP-9")]


# ---------------------------------------------------------------- HOSP-4: the yearly round


@pytest.mark.rule("HOSP-4")
def test_hosp4_round_open_from_its_first_to_its_last_day():
    row = {"status": "open", "opens_on": D("2026-01-05"), "closes_on": D("2026-06-30")}
    assert not rules.round_is_open(row, D("2026-01-04"))
    assert rules.round_is_open(row, D("2026-01-05"))  # the day it opens
    assert rules.round_is_open(row, D("2026-01-06"))
    assert rules.round_is_open(row, D("2026-06-29"))
    assert rules.round_is_open(row, D("2026-06-30"))  # the day it closes
    assert not rules.round_is_open(row, D("2026-07-01"))


@pytest.mark.rule("HOSP-4")
def test_hosp4_closed_or_missing_round_accepts_nothing():
    row = {"status": "closed", "opens_on": D("2026-01-01"), "closes_on": D("2026-06-30")}
    assert rules.round_is_open(row, D("2026-03-01")) is False
    assert rules.round_is_open(None, D("2026-03-01")) is False
    assert rules.round_is_open({}, D("2026-03-01")) is False


@pytest.mark.rule("HOSP-4")
def test_hosp4_default_round_is_the_first_half_year():
    assert rules.default_round_dates(2026) == (D("2026-01-01"), D("2026-06-30"))


@pytest.mark.rule("HOSP-4")
def test_hosp4_argumentation_covers_each_consideration():
    required = [("planned", "拟开展"), ("fees", "收费")]
    assert rules.check_considerations({"planned": "x", "fees": " y "}, required) == []
    assert rules.check_considerations({"planned": "  ", "fees": None}, required) == [
        Problem("请填写科室论证内容：拟开展", "c_planned", "HOSP-4"),
        Problem("请填写科室论证内容：收费", "c_fees", "HOSP-4"),
    ]


# ---------------------------------------------------------------- HOSP-17: monitoring period


@pytest.mark.rule("HOSP-17")
def test_hosp17_monitoring_one_year_routine_two_years_restricted():
    assert rules.monitoring_months("restricted") == 24
    assert rules.monitoring_months("routine") == 12


# ---------------------------------------------------------------- form fields


def _field(**kw) -> FieldSpec:
    return FieldSpec(**{"key": "f", "label": "内容", **kw})


@pytest.mark.rule("HOSP-8")
def test_hosp8_min_length_at_one_short_exactly_and_past():
    spec = _field(kind="textarea", required=True, rule="HOSP-8", min_length=10)
    short = [Problem("「内容」至少 10 字，请写明具体内容", "f", "HOSP-8")]
    assert rules.check_field(spec, "一二三四五六七八九") == short  # 9
    assert rules.check_field(spec, " 一二三四五六七八九十 ") == []  # 10, trimmed
    assert rules.check_field(spec, "一二三四五六七八九十一") == []  # 11
    assert rules.check_field(spec, "一二三", for_submission=False) == []  # drafts may be short


@pytest.mark.rule("HOSP-8")
def test_required_field_blank_or_missing():
    spec = _field(required=True, rule="HOSP-8")
    assert rules.check_field(spec, None) == [Problem("请填写「内容」", "f", "HOSP-8")]
    assert rules.check_field(spec, "   ") == [Problem("请填写「内容」", "f", "HOSP-8")]
    assert rules.check_field(spec, "   ", for_submission=False) == []
    assert rules.check_field(_field(), "") == []
    assert rules.check_field(_field(required=True), "") == [Problem("请填写「内容」", "f", None)]


@pytest.mark.rule("HOSP-8")
def test_table_field_min_rows_at_limit():
    spec = _field(kind="table", required=True, rule="HOSP-8", columns=(("name", "姓名"), ("title", "职称")),
                  min_rows=2)
    one = [{"name": "张三", "title": ""}, {"name": " ", "title": ""}, "not a row"]
    assert rules.check_field(spec, one) == [Problem("请至少填写 2 行「内容」", "f", "HOSP-8")]
    two = [{"name": "张三"}, {"title": "主治医师"}]
    assert rules.check_field(spec, two) == []
    assert rules.check_field(spec, one, for_submission=False) == []
    # a required table without min_rows needs one row
    spec1 = _field(kind="table", required=True, columns=(("name", "姓名"),))
    assert rules.check_field(spec1, []) == [Problem("请至少填写 1 行「内容」", "f", None)]
    assert rules.check_field(spec1, None) == [Problem("请至少填写 1 行「内容」", "f", None)]
    assert rules.check_field(spec1, [{"name": "a"}]) == []
    assert rules.check_field(_field(kind="table", columns=(("name", "姓名"),)), []) == []


def test_clean_rows_trims_and_drops_blank_rows():
    columns = (("name", "姓名"), ("title", "职称"))
    rows = [{"name": " 张三 ", "title": None, "extra": "x"}, {"name": "", "title": " "}, ["x"]]
    assert rules.clean_rows(rows, columns) == [{"name": "张三", "title": ""}]
    assert rules.clean_rows(None, columns) == []
    assert rules.clean_rows(["x", {"name": "李四"}], columns) == [{"name": "李四", "title": ""}]


def test_date_number_and_select_fields():
    assert rules.check_field(_field(kind="date"), "2026-03-01") == []
    assert rules.check_field(_field(kind="date", rule="R"), "2026-02-30") == [
        Problem("「内容」须为日期（如 2026-03-01）", "f", "R")]
    assert rules.check_field(_field(kind="number"), "3.5") == []
    assert rules.check_field(_field(kind="number", rule="R"), "三") == [Problem("「内容」须为数字", "f", "R")]
    select = _field(kind="select", rule="R", options=(("a", "甲"), ("b", "乙")))
    assert rules.check_field(select, "b") == []
    assert rules.check_field(select, "乙") == [Problem("「内容」请从列表中选择", "f", "R")]
    assert rules.check_field(_field(kind="select"), "anything") == []


@pytest.mark.rule("NAT-43")
def test_nat43_subject_field_only_registered_subjects():
    spec = _field(kind="subject")
    assert rules.check_field(spec, "外科", registered_subjects=("外科", "内科")) == []
    assert rules.check_field(spec, "眼科", registered_subjects=("外科", "内科")) == [Problem(
        "「眼科」不在本机构执业许可证登记的诊疗科目内（外科、内科），不得开展", "f", "NAT-43")]
    assert rules.check_field(spec, "眼科") == []  # nothing registered to check against


@pytest.mark.rule("HOSP-1")
def test_hosp1_grade_field_one_of_the_hospitals_grades():
    spec = _field(kind="grade")
    grades = ("一级", "二级", "三级")
    assert rules.check_field(spec, "二级", grades=grades) == []
    assert rules.check_field(spec, "四级", grades=grades) == [Problem("技术等级须为：一级、二级、三级", "f", "HOSP-1")]
    assert rules.check_field(_field(kind="grade", rule="X-1"), "四级", grades=grades)[0].rule == "X-1"
    assert rules.check_field(spec, "四级") == []


def test_check_form_checks_every_field_of_every_section():
    form = FormSpec("表", (Section("a", "甲", (_field(key="x", required=True),)),
                          Section("b", "乙", (_field(key="y", kind="grade"),))))
    assert rules.check_form(form, {"x": "", "y": "四级"}, grades=("一级",)) == [
        Problem("请填写「内容」", "x", None), Problem("技术等级须为：一级", "y", "HOSP-1")]
    assert rules.check_form(form, {"x": ""}, for_submission=False) == []
    subject_form = FormSpec("表", (Section("a", "甲", (_field(key="s", kind="subject"),)),))
    assert rules.check_form(subject_form, {"s": "眼科"}, registered_subjects=("外科",))[0].rule == "NAT-43"


# ---------------------------------------------------------------- national rules in core


@pytest.mark.rule("NAT-9")
def test_nat9_prohibited_refused_others_not():
    assert rules.check_not_prohibited("prohibited") == [
        Problem("禁止类技术不得应用于临床，申请不予受理", "technology", "NAT-9")]
    assert rules.check_not_prohibited("restricted") == []
    assert rules.check_not_prohibited("routine") == []


def _project(**kw) -> ProjectInfo:
    base = {"id": 1, "institution_id": 1, "department_id": 2, "department_subject": "外科", "title": "t",
            "path": "round", "tech_class": "routine", "outside_lists": False}
    return ProjectInfo(**{**base, **kw})


@pytest.mark.rule("NAT-43")
def test_nat43_registered_subject_of_project_and_department():
    registered = ("外科", "内科")
    assert rules.check_registered_subject(_project(), registered) == []
    assert rules.check_registered_subject(_project(form={"subject": " 内科 "}), registered) == []
    assert rules.check_registered_subject(_project(form={"subject": "眼科"}), registered) == [
        Problem("「眼科」不在本机构登记的诊疗科目内，不得开展该技术", "subject", "NAT-43")]
    assert rules.check_registered_subject(_project(form={"subj": "眼科"}), registered, "subj") == [
        Problem("「眼科」不在本机构登记的诊疗科目内，不得开展该技术", "subj", "NAT-43")]
    # the form names a registered subject but the department's own is not registered
    assert rules.check_registered_subject(_project(department_subject="眼科", form={"subject": "外科"}),
                                          registered) == [
        Problem("申请科室的诊疗科目未登记在本机构执业许可证上", "subject", "NAT-43")]
    assert rules.check_registered_subject(_project(department_subject="", form={}), registered) == []
    # no subject on the form: the department's own subject is the one checked
    assert rules.check_registered_subject(_project(department_subject="眼科", form={}), registered) == [
        Problem("「眼科」不在本机构登记的诊疗科目内，不得开展该技术", "subject", "NAT-43")]


@pytest.mark.rule("NAT-9b")
def test_nat9b_every_product_has_an_approval_and_is_approved():
    assert rules.check_products([{"name": "支架", "approval_no": "国械注准2026", "approved": "是"}]) == []
    assert rules.check_products([{"name": "", "approval_no": ""}, {"name": "导管", "approval_no": "1"}]) == [
        Problem("药品/器械「第 1 行」未填写注册证号或批准文号；未经批准上市的产品不得使用", "products", "NAT-9b")]
    for word in ("否", "no", "未获批", "未上市", " 否 "):
        assert rules.check_products([{"name": "导管", "approval_no": "1", "approved": word}]) == [
            Problem("药品/器械「导管」未经批准上市，涉及该产品的技术不得开展", "products", "NAT-9b")]
    assert rules.check_products([{"name": "a", "approval_no": "1"}, {"approval_no": ""}])[0].message.startswith(
        "药品/器械「第 2 行」")


# ---------------------------------------------------------------- procedure


STEP = ReviewStep(key="formal", title="医务处形式审查", role="medical_affairs")
HEAD_STEP = ArgumentationStep(key="department", title="科室专项论证", role="dept_head")


def test_only_the_steps_role_acts_never_the_applicant():
    kw = {"actor_id": 5, "lead_id": 9, "actor_department": 1, "project_department": 2}
    assert rules.check_can_act(STEP, ("medical_affairs",), **kw) == []
    assert rules.check_can_act(None, ("medical_affairs",), **kw) == [Problem("该项目当前没有待处理的步骤")]
    assert rules.check_can_act(STEP, ("medical_affairs",), **{**kw, "lead_id": 5}) == [
        Problem("申请人不能审核自己的项目")]
    assert rules.check_can_act(STEP, ("clinician",), **kw) == [Problem("「医务处形式审查」不由您的角色办理")]
    assert rules.check_can_act(HEAD_STEP, ("dept_head",), **kw) == [Problem("只能办理本科室的项目")]
    assert rules.check_can_act(HEAD_STEP, ("dept_head",), **{**kw, "project_department": 1}) == []


@pytest.mark.rule("HOSP-8")
def test_decisions_need_a_written_reason_except_plain_approval():
    assert rules.check_decision("approve", "") == []
    assert rules.check_decision("maybe", "x") == [Problem("请选择审核意见", "decision")]
    for decision in ("return", "reject"):
        assert rules.check_decision(decision, "  ") == [Problem("请填写书面意见（理由）", "reason", None)]
        assert rules.check_decision(decision, "材料不全") == []
    assert rules.check_decision("approve", " ", reason_always=True) == [
        Problem("请填写书面意见（理由）", "reason", "HOSP-8")]
    assert rules.check_decision("approve", "同意", reason_always=True) == []


# ---------------------------------------------------------------- HOSP-5 in the default hospital's policy


def _lead(**kw):
    from core.contract import PersonInfo

    return PersonInfo(**{"id": 3, "display_name": "王医生", **kw})


def _validate(project, person):
    from plugins.hospital_default.admission import validate_project

    return [p for p in validate_project(project, person) if p.rule == "HOSP-5"]


@pytest.mark.rule("HOSP-5")
def test_hosp5_routine_lead_needs_three_years_inclusive():
    """Seed 000: 从事住院医师岗位3年以上（含）的住院医师（不含进修医师）."""
    project = _project(form={"evidence": [{"kind": "文献"}]})
    assert _validate(project, _lead(years_as_resident=2)) == [
        Problem("常规类新技术的项目负责人须从事住院医师岗位3年以上（当前 2 年）", "lead", "HOSP-5")]
    assert _validate(project, _lead(years_as_resident=3)) == []
    assert _validate(project, _lead(years_as_resident=4)) == []
    assert _validate(project, _lead(years_as_resident=10, visiting=True)) == [
        Problem("进修医师不能担任常规类新技术的项目负责人", "lead", "HOSP-5")]


@pytest.mark.rule("HOSP-5")
def test_hosp5_restricted_lead_needs_the_specifications_qualifications():
    project = _project(tech_class="restricted", technology_requirements=("介入培训", "主治医师"))
    assert _validate(project, _lead(qualifications=("介入培训", "主治医师"))) == []
    assert _validate(project, _lead(qualifications=("主治医师",), years_as_resident=0)) == [
        Problem("项目负责人不符合该限制类技术管理规范的人员资质要求：缺少介入培训", "lead", "HOSP-5")]


@pytest.mark.rule("HOSP-4")
def test_hosp4_default_round_opened_after_june_runs_from_today_to_the_years_end():
    assert rules.default_round_dates(2026, D("2026-06-30")) == (D("2026-01-01"), D("2026-06-30"))
    assert rules.default_round_dates(2026, D("2026-07-01")) == (D("2026-07-01"), D("2026-12-31"))
    assert rules.default_round_dates(2027, D("2026-07-01")) == (D("2027-01-01"), D("2027-06-30"))
    assert rules.default_round_dates(2026, None) == (D("2026-01-01"), D("2026-06-30"))


@pytest.mark.rule("HOSP-4")
def test_hosp4_round_state_at_its_first_and_last_day():
    row = {"status": "open", "opens_on": D("2026-01-05"), "closes_on": D("2026-06-30")}
    assert rules.round_state(row, D("2026-01-04")) == "not_started"
    assert rules.round_state(row, D("2026-01-05")) == "open"
    assert rules.round_state(row, D("2026-06-30")) == "open"
    assert rules.round_state(row, D("2026-07-01")) == "ended"
    assert rules.round_state({**row, "status": "closed"}, D("2026-03-01")) == "closed"
