"""Shapes of admission that cross boundaries: what plugins receive and supply."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

CLASS_LABELS = {"prohibited": "禁止类", "restricted": "限制类", "routine": "常规类"}
STATUS_LABELS = {
    "draft": "草稿", "in_review": "审核中", "returned": "退回修改", "rejected": "未通过",
    "withdrawn": "已撤回", "admitted": "已准入", "cancelled": "准入已取消",
}
PATH_LABELS = {"round": "年度准入", "temporary": "临时准入"}
DECISION_LABELS = {
    "create": "创建草稿", "submit": "提交申请", "resubmit": "修改后重新提交", "approve": "通过",
    "return": "退回修改", "reject": "不通过", "withdraw": "撤回申请", "vote": "投票",
    "recuse": "回避", "panel": "组建专家组", "proceed_without_ethics": "准予先行申报（伦理审查后补）",
    "ethics_proof": "补交伦理审查证明", "objection": "提出异议", "answer": "答复异议",
    "publicity_closed": "公示期满", "document": "印发准入文件", "filing": "报学校备案",
    "cancel": "取消准入", "admitted": "准予准入", "first_case": "登记首例病例（开启限制类技术备案）",
}
VOTE_LABELS = {"approve": "同意", "reject": "不同意", "recuse": "回避"}

# Step kinds core knows how to run; the plugin orders and names them.
STEP_KINDS = ("argumentation", "ethics", "review", "panel", "publicity", "approval", "document", "filing")


class Step(msgspec.Struct, frozen=True):
    """One step of a hospital's admission workflow, as ``admission_steps`` supplies it.

    ``kind`` says how core runs it; ``role`` who acts; ``admits`` marks the approval
    after which the project counts as admitted; ``options`` carries kind-specific data
    (the argumentation's considerations, the publicity's length in weeks …).
    """

    key: str
    title: str
    kind: str
    role: str
    rule: str = ""
    admits: bool = False
    options: dict[str, Any] = {}


class FieldSpec(msgspec.Struct, frozen=True):
    """One field of the application form. ``kind``: text, textarea, select, date,
    number, table (rows of ``columns``), subject (a 诊疗科目), grade."""

    key: str
    label: str
    kind: str = "text"
    required: bool = False
    rule: str = ""
    help: str = ""
    options: tuple[tuple[str, str], ...] = ()
    columns: tuple[tuple[str, str], ...] = ()
    min_length: int = 0
    min_rows: int = 0


class Section(msgspec.Struct, frozen=True):
    key: str
    title: str
    fields: tuple[FieldSpec, ...]


class FormSpec(msgspec.Struct, frozen=True):
    """The application form (《临床新技术立项准入申请表》) a hospital plugin supplies."""

    title: str
    sections: tuple[Section, ...]

    def fields(self) -> list[FieldSpec]:
        return [f for s in self.sections for f in s.fields]

    def field(self, key: str) -> FieldSpec | None:
        return next((f for f in self.fields() if f.key == key), None)


class InstitutionInfo(msgspec.Struct, frozen=True):
    id: int
    name: str
    licence_no: str
    grade: str
    registered_subjects: tuple[str, ...] = ()


class PersonInfo(msgspec.Struct, frozen=True):
    """The project lead as the rules see them (HOSP-5)."""

    id: int
    display_name: str
    title: str = ""
    roles: tuple[str, ...] = ()
    institution_id: int | None = None
    resident_since: dt.date | None = None
    years_as_resident: int = 0
    visiting: bool = False
    qualifications: tuple[str, ...] = ()


class ProjectInfo(msgspec.Struct, frozen=True):
    """A project as plugins see it (never a database row)."""

    id: int | None
    institution_id: int
    department_id: int | None
    department_subject: str
    title: str
    path: str
    tech_class: str
    outside_lists: bool
    technology_code: str = ""
    technology_name: str = ""
    technology_specification: str = ""
    technology_requirements: tuple[str, ...] = ()
    grade: str = ""
    form: dict[str, Any] = {}
    has_evidence_files: bool = False
    today: dt.date | None = None
