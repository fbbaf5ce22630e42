"""Shapes of admission that cross boundaries: what plugins receive and supply."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import msgspec

# The shapes plugins receive and supply live in the contract (core/contract.py).
from core.contract import (
    STEP_KINDS,
    FieldSpec,
    FormSpec,
    InstitutionInfo,
    PersonInfo,
    ProjectInfo,
    Section,
    Step,
    StepBase,
)

CLASS_LABELS = {"prohibited": "禁止类", "restricted": "限制类", "routine": "常规类"}


class ProjectStatus(enum.StrEnum):
    """Where a project's admission stands (``Project.status``)."""

    draft = "draft"
    in_review = "in_review"
    returned = "returned"
    rejected = "rejected"
    withdrawn = "withdrawn"
    admitted = "admitted"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


class EthicsStatus(enum.StrEnum):
    """The ethics committee's approval of a project (``Project.ethics_status``, HOSP-7)."""

    pending = "pending"
    approved = "approved"
    deferred = "deferred"  # medical affairs let it proceed; owed within 3 months of admission
    rejected = "rejected"


class RoundStatus(enum.StrEnum):
    """The yearly round (``AdmissionRound.status``, HOSP-4)."""

    open = "open"
    closed = "closed"


class Abilities(msgspec.Struct, frozen=True):
    """What the actor may do on a project's page: the lead's own actions and the current
    step's, as its kind (core.admission.kinds) grants them; ``step_action``: any of those."""

    edit: bool = False
    withdraw: bool = False
    ethics_proof: bool = False
    decide: bool = False
    vote: bool = False
    panel: bool = False
    proceed: bool = False
    object: bool = False
    answer: bool = False
    close: bool = False
    document: bool = False
    filing: bool = False
    step_action: bool = False


class ProjectPage(msgspec.Struct, frozen=True):
    """Everything a project's page shows (``service.project_view``). ``project`` is the
    project's row; ``steps`` the frozen workflow (or the plugin's, for a draft)."""

    project: dict[str, Any]
    spec: FormSpec
    steps: list[Step]
    step: Step | None
    timeline: list[dict[str, Any]]
    votes: list[dict[str, Any]]
    panel: list[dict[str, Any]]
    objections: list[dict[str, Any]]
    files: list[Any]
    publicity_ends: dt.date | None
    grades: list[tuple[str, str]]
    institution: InstitutionInfo
    can: Abilities
    step_template: str = ""

    def context(self) -> dict[str, Any]:
        """The page's template variables."""
        return {f: getattr(self, f) for f in self.__struct_fields__}


class WorkItem(msgspec.Struct, frozen=True):
    """One entry of a user's admission work list (``service.inbox``)."""

    project_id: int
    title: str
    lead: str
    step: str
    action: str
    link: str


STATUS_LABELS = {
    ProjectStatus.draft: "草稿", ProjectStatus.in_review: "审核中", ProjectStatus.returned: "退回修改",
    ProjectStatus.rejected: "未通过", ProjectStatus.withdrawn: "已撤回", ProjectStatus.admitted: "已准入",
    ProjectStatus.cancelled: "准入已取消",
}
PATH_LABELS = {"round": "年度准入", "temporary": "临时准入"}
DECISION_LABELS = {
    "create": "创建草稿", "submit": "提交申请", "resubmit": "修改后重新提交", "approve": "通过",
    "return": "退回修改", "reject": "不通过", "withdraw": "撤回申请", "vote": "投票",
    "recuse": "回避", "panel": "组建专家组", "proceed_without_ethics": "准予先行申报（伦理审查后补）",
    "ethics_proof": "补交伦理审查证明", "objection": "提出异议", "answer": "答复异议",
    "publicity_closed": "公示期满", "document": "印发准入文件", "filing": "报学校备案",
    "cancel": "取消准入", "admitted": "准予准入", "first_case": "登记首例病例（开启限制类技术备案）",
    "not_passed": "伦理审查未通过（未达三分之二）",
    "restricted_from": "评估结论：按限制类技术管理（EVAL-8）",
}
VOTE_LABELS = {"approve": "同意", "reject": "不同意", "recuse": "回避"}


__all__ = ["Abilities", "EthicsStatus", "ProjectPage", "ProjectStatus", "RoundStatus", "WorkItem",
           "CLASS_LABELS", "DECISION_LABELS", "PATH_LABELS", "STATUS_LABELS", "STEP_KINDS", "VOTE_LABELS", "FieldSpec",
           "FormSpec", "InstitutionInfo", "PersonInfo", "ProjectInfo", "Section", "Step", "StepBase"]
