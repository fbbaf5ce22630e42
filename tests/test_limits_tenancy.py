"""Every check of core/tenancy/rules.py. Pure: no database."""

from __future__ import annotations

import pytest

from core.errors import Problem
from core.tenancy import rules
from core.tenancy.schemas import DepartmentInput, InstitutionInput, RegionInput


def test_region_levels_follow_the_tree():
    assert rules.check_region(RegionInput("吉林省", "22", "province"), None) == []
    assert rules.check_region(RegionInput("长春市", "2201", "city"), "province") == []
    assert rules.check_region(RegionInput("朝阳区", "220104", "county"), "city") == []
    assert rules.check_region(RegionInput("长春市", "2201", "city"), None) == [
        Problem("该上级区划之下只能建立「省」级区划", "level")]
    assert rules.check_region(RegionInput("某区", "1", "county"), "province") == [
        Problem("该上级区划之下只能建立「市」级区划", "level")]
    assert rules.check_region(RegionInput("某地", "1", "city"), "county") == [
        Problem("该上级区划之下只能建立「（无）」级区划", "level")]
    assert rules.check_region(RegionInput(" ", " ", "village"), None) == [
        Problem("请填写区划名称", "name"), Problem("请填写区划代码", "code"), Problem("层级须为省、市或县/区", "level")]


def test_institution_required_fields():
    good = InstitutionInput("某医院", "PDY0001", "三级甲等", 1, registered_subjects=["外科"])
    assert rules.check_institution(good) == []
    assert rules.check_institution(InstitutionInput(" ", "", " ", 1, registered_subjects=["外科", " "])) == [
        Problem("请填写机构名称", "name"), Problem("请填写执业许可证登记号", "licence_no"),
        Problem("请填写机构等级", "grade"), Problem("诊疗科目不能为空", "registered_subjects")]


@pytest.mark.rule("NAT-43")
def test_nat43_department_subject_is_registered():
    assert rules.check_department(DepartmentInput("心内科", "内科"), ["内科", "外科"]) == []
    assert rules.check_department(DepartmentInput(" ", "眼科"), ["内科"]) == [
        Problem("请填写科室名称", "name"), Problem("科室的诊疗科目必须是本机构已登记的诊疗科目", "subject", "NAT-43")]
