"""Pure checks on tenant records (no I/O)."""

from __future__ import annotations

from core.errors import Problem
from core.tenancy.schemas import DepartmentInput, InstitutionInput, RegionInput

LEVELS = {"province": "省", "city": "市", "county": "县/区"}
_CHILD_LEVEL = {None: "province", "province": "city", "city": "county"}


def check_region(data: RegionInput, parent_level: str | None) -> list[Problem]:
    problems = []
    if not data.name.strip():
        problems.append(Problem("请填写区划名称", "name"))
    if not data.code.strip():
        problems.append(Problem("请填写区划代码", "code"))
    if data.level not in LEVELS:
        problems.append(Problem("层级须为省、市或县/区", "level"))
    elif _CHILD_LEVEL.get(parent_level) != data.level:
        expected = LEVELS.get(_CHILD_LEVEL.get(parent_level), "（无）")
        problems.append(Problem(f"该上级区划之下只能建立「{expected}」级区划", "level"))
    return problems


def check_institution(data: InstitutionInput) -> list[Problem]:
    problems = []
    if not data.name.strip():
        problems.append(Problem("请填写机构名称", "name"))
    if not data.licence_no.strip():
        problems.append(Problem("请填写执业许可证登记号", "licence_no"))
    if not data.grade.strip():
        problems.append(Problem("请填写机构等级", "grade"))
    if any(not s.strip() for s in data.registered_subjects):
        problems.append(Problem("诊疗科目不能为空", "registered_subjects"))
    return problems


def check_department(data: DepartmentInput, registered_subjects: list[str]) -> list[Problem]:
    """A department practises under one of the institution's registered subjects (NAT-43)."""
    problems = []
    if not data.name.strip():
        problems.append(Problem("请填写科室名称", "name"))
    if data.subject not in registered_subjects:
        problems.append(
            Problem("科室的诊疗科目必须是本机构已登记的诊疗科目", "subject", rule="NAT-43")
        )
    return problems
