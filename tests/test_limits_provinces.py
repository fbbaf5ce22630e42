"""The province filing checks that live in the province plugins (validate_filing):
HN-2.2a's assessment basis, HN-2.2b (4) and JL-12 (五)(六). Pure: no database.
Exercised by ``make mutation`` (plugins/henan/policy.py, plugins/jilin/policy.py)."""

from __future__ import annotations

import pytest

from core.contract import FilingCheck, PersonCheck
from core.errors import Problem
from plugins.henan import policy as henan
from plugins.jilin import policy as jilin

LEAD = PersonCheck("王医生", 3, of_institution=True)
DOCTOR = PersonCheck("李医生", 7, of_institution=True)


def _filing(**kw) -> FilingCheck:
    base = {"institution_id": 1, "technology_code": "T1", "technology_name": "技术", "has_specification": True,
            "self_assessment": "对照管理规范逐条自评，均符合", "assessment_basis": "specification",
            "assessment_reference": "", "lead": LEAD, "physicians": (DOCTOR,)}
    return FilingCheck(**{**base, **kw})


@pytest.mark.rule("HN-2.2a")
def test_hn22a_basis_specification_or_consensus_with_its_reference():
    assert henan.validate_filing(_filing()) == []
    assert henan.validate_filing(_filing(assessment_basis="")) == [
        Problem("请选择自我评估依据", "assessment_basis", "HN-2.2a")]
    no_spec = [Problem("该技术目录未载明管理规范：请填写所依据的规范名称，或改为依据相关专业专家共识",
                       "assessment_reference", "HN-2.2a")]
    assert henan.validate_filing(_filing(has_specification=False)) == no_spec
    assert henan.validate_filing(_filing(has_specification=False, assessment_reference="  ")) == no_spec
    assert henan.validate_filing(_filing(has_specification=False, assessment_reference="某规范")) == []
    assert henan.validate_filing(_filing(assessment_basis="consensus", assessment_reference=" ")) == [
        Problem("请填写所依据的专家共识名称", "assessment_reference", "HN-2.2a")]
    assert henan.validate_filing(_filing(assessment_basis="consensus", assessment_reference="某共识")) == []


@pytest.mark.rule("HN-2.2b")
def test_hn22b_visiting_lead_refused():
    visiting = PersonCheck("王医生", 3, of_institution=True, visiting=True)
    assert henan.validate_filing(_filing(lead=visiting)) == [
        Problem("技术负责人王医生为进修医师，须为在本机构注册的执业医师", "lead", "HN-2.2b")]
    # not of this institution at all: core's own check says so; no second problem here
    assert henan.validate_filing(_filing(lead=PersonCheck("王医生", 3, visiting=True))) == []
    assert henan.validate_filing(_filing(lead=None)) == []


@pytest.mark.rule("JL-12")
def test_jl12_visiting_lead_and_physician_list():
    assert jilin.validate_filing(_filing()) == []
    visiting = PersonCheck("王医生", 3, of_institution=True, visiting=True)
    assert jilin.validate_filing(_filing(lead=visiting)) == [
        Problem("技术负责人王医生为进修医师，须为以本机构为主要执业机构的注册医师", "lead", "JL-12")]
    assert jilin.validate_filing(_filing(lead=PersonCheck("王医生", 3, visiting=True))) == []
    assert jilin.validate_filing(_filing(lead=None)) == []
    assert jilin.validate_filing(_filing(physicians=())) == [
        Problem("请填写开展该技术的医师名单", "physicians", "JL-12")]
