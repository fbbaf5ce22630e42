"""Shapes of filing that cross boundaries: what the province plugins supply."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

import msgspec

# The shapes province plugins supply live in the contract (core/contract.py).
from core.contract import (
    ARGUMENTATION_MATERIAL,
    CORE_MATERIALS,
    FORM_MATERIAL,
    Annotation,
    FilingFormSpec,
    FormField,
    Material,
)

if TYPE_CHECKING:
    from core.contract import FilingPolicy, InstitutionInfo
    from core.errors import Problem
    from core.obligations.rules import ExemptionEvidence
    from core.outbox.service import DeliveryView


class FilingStatus(enum.StrEnum):
    """Where a filing stands (``Filing.status``)."""

    open = "open"
    submitted = "submitted"
    returned = "returned"
    completed = "completed"
    withdrawal_requested = "withdrawal_requested"
    withdrawn = "withdrawn"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    FilingStatus.open: "待提交", FilingStatus.submitted: "已提交，待备案", FilingStatus.returned: "退回补正",
    FilingStatus.completed: "已完成备案", FilingStatus.withdrawal_requested: "申请撤销中",
    FilingStatus.withdrawn: "已撤销", FilingStatus.cancelled: "已注销",
}
BASIS_LABELS = {"specification": "限制类技术临床应用管理规范", "consensus": "相关专业专家共识"}
# NAT-25: why a restricted technology stopped; (2)(3) cancel the filing, (4) is
# also reported to the provincial commission; (1) the technology became prohibited.
STOP_GROUNDS = {
    "prohibited": "（一）该技术被列为禁止类技术",
    "conditions": "（二）主要专业技术人员或关键设备、设施及其他辅助条件发生变化，不能满足相关技术临床应用管理规范要求",
    "safety": "（三）发生与该技术直接相关的严重不良后果或重大医疗质量、安全、伦理问题",
    "efficacy": "（四）该技术安全性、有效性存在重大问题或临床应用效果不确切",
}

class FilingAbilities(msgspec.Struct, frozen=True):
    """What the actor may do on a filing's page: the hospital's actions (medical affairs of
    its institution) and the desk's (the regulator of its licence region)."""

    edit: bool = False
    submit: bool = False
    request_withdrawal: bool = False
    # ``return`` is a keyword: the template reads it as ``can["return"]``.
    return_: bool = msgspec.field(default=False, name="return")
    complete: bool = False
    confirm_withdrawal: bool = False
    cancel: bool = False
    record_annotation: bool = False

    def __getitem__(self, key: str) -> bool:
        return bool(getattr(self, "return_" if key == "return" else key))


class FilingPage(msgspec.Struct, frozen=True):
    """Everything a filing's page shows (``service.filing_view``), for the hospital and for
    the regulator. ``filing`` is the filing's row (with its institution's columns)."""

    filing: dict[str, Any]
    status_label: str
    institution: InstitutionInfo
    materials: list[Material]
    spec: FilingFormSpec
    policy: FilingPolicy
    files: dict[str, list[Any]]
    problems: list[Problem]
    submissions: list[dict[str, Any]]
    deliveries: list[DeliveryView]
    pushes: list[DeliveryView]
    filing_channels: list[Any]
    days_left: int | None
    exemption: ExemptionEvidence | None
    completion_days_left: int | None
    # The technology's state of use (core.lifecycle.summary) for ``lifecycle/_use_line.html``.
    use: dict[str, Any]
    events: list[dict[str, Any]]
    licence_region: dict[str, Any] | None
    staff_users: list[dict[str, Any]]
    today: dt.date
    read_only: bool
    can: FilingAbilities
    basis_labels: dict[str, str] = msgspec.field(default_factory=lambda: BASIS_LABELS)
    grounds: dict[str, str] = msgspec.field(default_factory=lambda: STOP_GROUNDS)

    def context(self) -> dict[str, Any]:
        """The page's template variables."""
        return {f: getattr(self, f) for f in self.__struct_fields__}


__all__ = ["FilingAbilities", "FilingPage", "FilingStatus", "ARGUMENTATION_MATERIAL", "BASIS_LABELS", "CORE_MATERIALS", "FORM_MATERIAL", "STATUS_LABELS", "STOP_GROUNDS",
           "Annotation", "FilingFormSpec", "FormField", "Material"]
