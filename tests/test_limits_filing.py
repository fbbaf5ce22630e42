"""Every limit of the filing rules (core/filing/rules.py), at, before and past it.

Pure: no database. Exercised by ``make mutation`` (scripts/mutation.py).
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import Problem
from core.filing import rules
from core.filing.schemas import FilingFormSpec, FormField, Material
from core.policy import FilingCheck, FilingPolicy, PersonCheck

D = dt.date.fromisoformat


# ---------------------------------------------------------------- transitions


def test_each_action_only_from_its_statuses():
    assert rules.check_transition("open", "submit") == []
    assert rules.check_transition("returned", "edit") == []
    assert rules.check_transition("submitted", "complete") == []
    assert rules.check_transition("withdrawal_requested", "confirm_withdrawal") == []
    assert rules.check_transition("completed", "submit") == [
        Problem("备案当前状态为「已完成备案」，不能提交备案", "status")]
    assert rules.check_transition("weird", "fly") == [Problem("备案当前状态为「weird」，不能fly", "status")]


# ---------------------------------------------------------------- NAT-11: lateness and first case


@pytest.mark.rule("NAT-11")
def test_nat11_late_only_after_the_due_day():
    due = D("2025-10-23")
    assert rules.is_late(D("2025-10-22"), due) is False
    assert rules.is_late(D("2025-10-23"), due) is False  # on the 15th working day: on time
    assert rules.is_late(D("2025-10-24"), due) is True
    assert rules.is_late(D("2025-10-24"), None) is False


def _first(**kw):
    base = {"tech_class": "restricted", "status": "admitted", "awaiting": True, "case_date": D("2026-03-10"),
            "admitted_on": D("2026-03-10"), "today": D("2026-03-20")}
    return rules.check_first_case(**{**base, **kw})


@pytest.mark.rule("NAT-11")
def test_nat11_first_case_on_the_admission_day_itself_is_accepted():
    assert _first() == []
    assert _first(case_date=D("2026-03-11")) == []
    assert _first(case_date=D("2026-03-09")) == [
        Problem("首例病例日期不能早于准入日期（2026-03-10）", "case_date")]
    assert _first(case_date=D("2026-03-09"), admitted_on=None) == []


@pytest.mark.rule("NAT-11")
def test_nat11_first_case_today_is_accepted_tomorrow_is_not():
    assert _first(case_date=D("2026-03-20")) == []
    assert _first(case_date=D("2026-03-21")) == [Problem("首例病例日期不能晚于今天", "case_date")]
    assert _first(case_date=None) == [Problem("请填写首例病例的开展日期", "case_date")]


@pytest.mark.rule("NAT-11")
def test_nat11_only_an_admitted_restricted_technology_awaiting_its_first_case():
    assert _first(tech_class="routine") == [Problem("仅限制类技术需要备案（NAT-11）", "project_id", "NAT-11")]
    assert _first(status="applied") == [Problem("该项目尚未准入，不能登记首例病例", "project_id", "NAT-11")]
    assert _first(status="applied", awaiting=False) == [
        Problem("该项目尚未准入，不能登记首例病例", "project_id", "NAT-11")]
    assert _first(awaiting=False) == [Problem("该项目已登记首例病例", "project_id", "NAT-11")]


# ---------------------------------------------------------------- completeness (core's own checks)

MATERIALS = [Material("form", "备案表", "JL-12"), Material("argumentation", "论证材料", "JL-12"),
             Material("extra", "其他材料", "JL-12", required=False)]
SPEC = FilingFormSpec(title="备案表", template="x.html", rule="JL-12",
                      fields=(FormField("contact", "联系人", required=True), FormField("memo", "备注")))
# Jilin's policy as its plugin answers it (JL-12 (五)(六): certificates, cited with JL-12).
POLICY = FilingPolicy(rule="JL-12", lead_certificates=("医师资格证", "医师执业证"), lead_rule="JL-12",
                      physician_certificates=("医师资格证", "医师执业证"), physicians_rule="JL-12")
LEAD = {"institution": 1, "visiting": False, "qualifications": ("医师资格证", "医师执业证"), "display_name": "王医生",
        "active": True}
PHYSICIAN = {"name": "李医生", "user_id": 7}
USERS = {7: {"institution": 1, "qualifications": ("医师资格证", "医师执业证")}}


def _complete(**kw) -> list[Problem]:
    base = {"materials": MATERIALS, "present": {"form": 1, "argumentation": 2}, "spec": SPEC, "policy": POLICY,
            "institution_id": 1, "lead": LEAD, "physicians": [PHYSICIAN], "physician_users": USERS,
            "ethics_status": "approved", "self_assessment": "对照管理规范逐条自评，均符合", "form": {"contact": "张三"}}
    return rules.completeness(**{**base, **kw})


def test_a_complete_filing_has_no_problem():
    assert _complete() == []


@pytest.mark.rule("JL-12")
def test_jl12_each_required_material_present():
    assert _complete(present={"argumentation": 1}) == [Problem("缺少材料：备案表", "material_form", "JL-12")]
    assert _complete(present={"form": 0, "argumentation": 1}) == [
        Problem("缺少材料：备案表", "material_form", "JL-12")]
    plain = [Material("form", "备案表"), Material("argumentation", "论证材料")]
    assert _complete(materials=plain, present={"argumentation": 1}) == [
        Problem("缺少材料：备案表", "material_form", None)]


@pytest.mark.rule("NAT-13")
def test_nat13_ethics_approval_and_argumentation_material():
    assert _complete(ethics_status="pending") == [
        Problem("伦理委员会尚未审查通过该技术，限制类技术不得应用于临床，不能备案", "ethics", "NAT-13")]
    assert _complete(materials=MATERIALS[:1], present={"form": 1}) == [
        Problem("缺少本机构医疗技术临床应用管理组织和伦理委员会的论证材料", "ethics", "NAT-13")]


SELF = "请填写自我评估情况（至少10个字）"


@pytest.mark.rule("NAT-11")
def test_nat11_self_assessment_at_9_10_and_11_characters():
    assert _complete(self_assessment="一二三四五六七八九") == [Problem(SELF, "self_assessment", "NAT-11")]
    assert _complete(self_assessment="  一二三四五六七八九  ") == [Problem(SELF, "self_assessment", "NAT-11")]
    assert _complete(self_assessment="一二三四五六七八九十") == []
    assert _complete(self_assessment="一二三四五六七八九十一") == []
    assert _complete(self_assessment=None) == [Problem(SELF, "self_assessment", "NAT-11")]


@pytest.mark.rule("NAT-11")
def test_nat11_the_lead_is_a_registered_active_physician_here():
    assert _complete(lead=None) == [Problem("未确定技术负责人", "lead", "NAT-11")]
    elsewhere = [Problem("技术负责人王医生不是本机构在职人员", "lead", "NAT-11")]
    assert _complete(lead={**LEAD, "institution": 2}) == elsewhere
    assert _complete(lead={**LEAD, "active": False}) == elsewhere
    no_active_key = {k: v for k, v in LEAD.items() if k != "active"}
    assert _complete(lead=no_active_key) == []
    assert _complete(lead={"institution": 2, "qualifications": LEAD["qualifications"]}) == [
        Problem("技术负责人不是本机构在职人员", "lead", "NAT-11")]
    # A visiting lead is the province's check (validate_filing), not core's.
    assert _complete(lead={**LEAD, "visiting": True}) == []


@pytest.mark.rule("JL-12")
def test_jl12_lead_certificates():
    assert _complete(lead={**LEAD, "qualifications": ("医师资格证",)}) == [
        Problem("技术负责人王医生缺少证书：医师执业证", "lead", "JL-12")]
    assert _complete(lead={**LEAD, "qualifications": None}) == [
        Problem("技术负责人王医生缺少证书：医师资格证、医师执业证", "lead", "JL-12")]
    # The policy names the certificates and the rule; no rule of its own: the policy's, else NAT-11.
    assert _complete(policy=FilingPolicy(rule="XX-1", lead_certificates=("医师执业证",)),
                     lead={**LEAD, "qualifications": ()}) == [
        Problem("技术负责人王医生缺少证书：医师执业证", "lead", "XX-1")]
    assert _complete(policy=FilingPolicy(lead_certificates=("医师执业证",)), lead={**LEAD, "qualifications": ()}) == [
        Problem("技术负责人王医生缺少证书：医师执业证", "lead", "NAT-11")]
    assert _complete(policy=FilingPolicy(), lead={**LEAD, "qualifications": ()}) == []


@pytest.mark.rule("JL-12")
def test_jl12_physician_names_and_certificates():
    assert _complete(physicians=[]) == []  # a list is the province's requirement (validate_filing)
    assert _complete(physicians=[{"name": "  ", "user_id": 7}, {"name": None}]) == [
        Problem("医师名单第1行缺少姓名", "physicians"), Problem("医师名单第2行缺少姓名", "physicians")]
    users = {7: {"institution": 1, "qualifications": ("医师资格证",)}}
    assert _complete(physician_users=users) == [Problem("医师李医生缺少证书：医师执业证", "physicians", "JL-12")]
    assert _complete(policy=FilingPolicy(physician_certificates=("医师资格证",)), physician_users=users) == []
    assert _complete(policy=FilingPolicy(physician_certificates=("医师资格证", "医师执业证")),
                     physician_users=users) == [Problem("医师李医生缺少证书：医师执业证", "physicians", None)]
    assert _complete(physician_users={7: {"institution": 1}}) == [
        Problem("医师李医生缺少证书：医师资格证、医师执业证", "physicians", "JL-12")]
    # No certificates asked for: no check per physician (Henan asks for no physician list).
    assert _complete(policy=FilingPolicy(), physician_users={}) == []


@pytest.mark.rule("JL-12")
def test_jl12_physician_without_user_record_or_from_elsewhere():
    not_here = [Problem("医师李医生不是本机构登记的人员，无法核对证书", "physicians", "JL-12")]
    assert _complete(physician_users={}) == not_here  # no user record at all
    assert _complete(physicians=[{"name": "李医生"}]) == not_here  # no user id
    assert _complete(physician_users={7: {**USERS[7], "institution": 2}}) == not_here
    # no user id never matches a user, whatever ids the users have
    assert _complete(physicians=[{"name": "李医生"}], physician_users={1: USERS[7], 0: None}) == not_here
    # a physician not registered here does not stop the check of the next one
    users = {7: {"institution": 1, "qualifications": ()}}
    assert _complete(physicians=[{"name": "赵医生", "user_id": 8}, PHYSICIAN], physician_users=users) == [
        Problem("医师赵医生不是本机构登记的人员，无法核对证书", "physicians", "JL-12"),
        Problem("医师李医生缺少证书：医师资格证、医师执业证", "physicians", "JL-12")]
    # each physician is checked: the second one's missing record is reported too
    two = [PHYSICIAN, {"name": "赵医生", "user_id": 8}]
    assert _complete(physicians=two) == [
        Problem("医师赵医生不是本机构登记的人员，无法核对证书", "physicians", "JL-12")]


@pytest.mark.rule("JL-12")
def test_jl12_required_form_fields():
    assert _complete(form={"contact": " "}) == [Problem("备案表缺少「联系人」", "form_contact", "JL-12")]
    assert _complete(form={}) == [Problem("备案表缺少「联系人」", "form_contact", "JL-12")]
    bare = FilingFormSpec(title="备案表", template="x.html", fields=SPEC.fields)
    assert _complete(spec=bare, form={}) == [Problem("备案表缺少「联系人」", "form_contact", None)]


# ---------------------------------------------------------------- the provinces' own checks (plugins)


def _check(**kw) -> FilingCheck:
    base = dict(institution_id=1, technology_code="G01", technology_name="x", has_specification=True,
                self_assessment="对照管理规范逐条自评，均符合", assessment_basis="specification",
                assessment_reference="", lead=PersonCheck(name="王医生", of_institution=True),
                physicians=(PersonCheck(name="李医生"),))
    return FilingCheck(**{**base, **kw})


@pytest.mark.rule("JL-12")
def test_jl12_visiting_lead_and_physician_list():
    from plugins.jilin.policy import validate_filing

    assert validate_filing(_check()) == []
    assert validate_filing(_check(lead=PersonCheck(name="王医生", of_institution=True, visiting=True))) == [
        Problem("技术负责人王医生为进修医师，须为以本机构为主要执业机构的注册医师", "lead", "JL-12")]
    # A visiting physician of another institution is core's "not here", not a second problem.
    assert validate_filing(_check(lead=PersonCheck(name="王医生", of_institution=False, visiting=True))) == []
    assert validate_filing(_check(lead=None)) == []
    assert validate_filing(_check(physicians=())) == [Problem("请填写开展该技术的医师名单", "physicians", "JL-12")]


@pytest.mark.rule("HN-2.2a")
def test_hn22a_basis_specification_or_consensus_with_its_reference():
    from plugins.henan.policy import validate_filing

    assert validate_filing(_check(assessment_basis="")) == [
        Problem("请选择自我评估依据", "assessment_basis", "HN-2.2a")]
    no_spec = [Problem("该技术目录未载明管理规范：请填写所依据的规范名称，或改为依据相关专业专家共识",
                       "assessment_reference", "HN-2.2a")]
    assert validate_filing(_check(has_specification=False)) == no_spec
    assert validate_filing(_check(has_specification=False, assessment_reference="  ")) == no_spec
    assert validate_filing(_check(has_specification=False, assessment_reference="某规范")) == []
    assert validate_filing(_check()) == []  # the catalogue names the specification
    assert validate_filing(_check(assessment_basis="consensus", assessment_reference=" ")) == [
        Problem("请填写所依据的专家共识名称", "assessment_reference", "HN-2.2a")]
    assert validate_filing(_check(assessment_basis="consensus", assessment_reference="某共识")) == []


@pytest.mark.rule("HN-2.2b")
def test_hn22b_lead_registered_here_not_visiting():
    from plugins.henan.policy import validate_filing

    assert validate_filing(_check(lead=PersonCheck(name="王医生", of_institution=True, visiting=True))) == [
        Problem("技术负责人王医生为进修医师，须为在本机构注册的执业医师", "lead", "HN-2.2b")]
    assert validate_filing(_check(physicians=())) == []  # Henan asks for no physician list


# ---------------------------------------------------------------- 备注三 and closing


@pytest.mark.rule("JL-12")
def test_annotation_texts():
    assert rules.date_zh(D("2026-03-05")) == "2026年3月5日"
    assert rules.annotation_text("经皮冠状动脉介入治疗", D("2026-03-05")) == "经皮冠状动脉介入治疗（2026年3月5日备案）"
    assert rules.annotation_after_close("技术", D("2026-03-05"), D("2026-09-01"), "撤销") == (
        "技术（2026年3月5日备案，2026年9月1日撤销）")
    assert rules.annotation_after_close("技术", None, D("2026-09-01"), "注销") == "技术（2026年9月1日注销）"


def test_check_reason_at_2_and_2000_characters():
    short = [Problem("请填写理由（至少2个字）", "reason")]
    assert rules.check_reason("甲") == short
    assert rules.check_reason(" 甲 ") == short
    assert rules.check_reason(None) == short
    assert rules.check_reason("甲乙") == []
    assert rules.check_reason("甲乙丙") == []
    assert rules.check_reason("字" * 1999) == []
    assert rules.check_reason("字" * 2000) == []
    assert rules.check_reason(" " + "字" * 2000 + " ") == []
    assert rules.check_reason("字" * 2001) == [Problem("理由不能超过2000字", "reason")]
    assert rules.check_reason("", "why", "撤销原因") == [Problem("请填写撤销原因（至少2个字）", "why")]
    assert rules.check_reason("字" * 2001, "why", "撤销原因") == [Problem("撤销原因不能超过2000字", "why")]


@pytest.mark.rule("NAT-25")
def test_nat25_ground_and_report_to_province():
    assert rules.check_ground("safety") == []
    assert rules.check_ground("boredom") == [Problem("请选择停止临床应用的情形（NAT-25）", "ground", "NAT-25")]
    assert rules.reported_to_province("efficacy") is True
    assert rules.reported_to_province("safety") is False


def test_completion_not_before_the_complete_materials():
    assert rules.check_completion(None, None) == [Problem("请填写完成备案日期", "completed_on")]
    early = [Problem("完成备案日期不能早于收到完整材料的日期", "completed_on")]
    assert rules.check_completion(D("2026-03-09"), D("2026-03-10")) == early
    assert rules.check_completion(D("2026-03-10"), D("2026-03-10")) == []
    assert rules.check_completion(D("2026-03-11"), D("2026-03-10")) == []
    assert rules.check_completion(D("2026-03-11"), None) == []


@pytest.mark.rule("JL-12")
def test_without_physician_certificates_every_physician_still_needs_a_name():
    physicians = [PHYSICIAN, {"name": " ", "user_id": 8}]
    assert _complete(policy=FilingPolicy(), physicians=physicians) == [Problem("医师名单第2行缺少姓名", "physicians")]
