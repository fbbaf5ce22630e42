"""Shapes of filing that cross boundaries: what the province plugins supply."""

from __future__ import annotations

import msgspec

STATUS_LABELS = {
    "open": "待提交", "submitted": "已提交，待备案", "returned": "退回补正", "completed": "已完成备案",
    "withdrawal_requested": "申请撤销中", "withdrawn": "已撤销", "cancelled": "已注销",
}
BASIS_LABELS = {"specification": "限制类技术临床应用管理规范", "consensus": "相关专业专家共识"}
# NAT-25 / JL-26: why a restricted technology stopped; (2)(3) cancel the filing, (4) is
# also reported to the provincial commission; (1) the technology became prohibited.
STOP_GROUNDS = {
    "prohibited": "（一）该技术被列为禁止类技术",
    "conditions": "（二）主要专业技术人员或关键设备、设施及其他辅助条件发生变化，不能满足相关技术临床应用管理规范要求",
    "safety": "（三）发生与该技术直接相关的严重不良后果或重大医疗质量、安全、伦理问题",
    "efficacy": "（四）该技术安全性、有效性存在重大问题或临床应用效果不确切",
}
# Material keys core reads a meaning from (see hookspecs.filing_materials).
FORM_MATERIAL = "form"
ARGUMENTATION_MATERIAL = "argumentation"


class Material(msgspec.Struct, frozen=True):
    """One material of the province's ordered list (``filing_materials``)."""

    key: str
    title: str
    rule: str = ""
    required: bool = True


class FormField(msgspec.Struct, frozen=True):
    """One field of the filing form. ``prefill`` names what the portal already knows:
    institution_name, institution_grade, licence_no, region_name, licence_region_name,
    technology_name, technology_code, first_case_on, lead_name, lead_title,
    contact_name, self_assessment, assessment_basis. ``kind``: text, textarea, date."""

    key: str
    label: str
    kind: str = "text"
    prefill: str = ""
    required: bool = False
    help: str = ""


class Annotation(msgspec.Struct, frozen=True):
    """Who puts 备注三 on the licence copy. ``direct``: the filing department itself
    (JL-12: notes the licence copy and the registration system's 备注三); ``push``: the
    filing department pushes name and date through ``channel`` to ``recipient``, which
    annotates (HN-2.2c: 审批办), and the regulator records it once done."""

    mode: str = "direct"
    channel: str = ""
    recipient: str = ""
    rule: str = ""


class FilingFormSpec(msgspec.Struct, frozen=True):
    """The filing form (备案表) and the province's filing details, as ``filing_form`` answers."""

    title: str
    template: str  # the printable Jinja template, from the plugin's template_dirs
    rule: str = ""
    fields: tuple[FormField, ...] = ()
    staff_columns: tuple[tuple[str, str], ...] = (("name", "姓名"), ("sex", "性别"), ("scope", "执业范围"),
                                                   ("title", "职称"))
    pledge: str = ""
    lead_certificates: tuple[str, ...] = ("医师资格证", "医师执业证")
    physician_certificates: tuple[str, ...] = ("医师资格证", "医师执业证")
    annotation: Annotation = Annotation()
    withdrawal_rule: str = ""  # the province's rule, if its documents give one
    cancellation_rule: str = "NAT-25"
    completion_rule: str = "NAT-11"
    note: str = ""

    def field(self, key: str) -> FormField | None:
        return next((f for f in self.fields if f.key == key), None)
