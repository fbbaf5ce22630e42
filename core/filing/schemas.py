"""Shapes of filing that cross boundaries: what the province plugins supply."""

from __future__ import annotations

import enum

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

__all__ = ["FilingStatus", "ARGUMENTATION_MATERIAL", "BASIS_LABELS", "CORE_MATERIALS", "FORM_MATERIAL", "STATUS_LABELS", "STOP_GROUNDS",
           "Annotation", "FilingFormSpec", "FormField", "Material"]
