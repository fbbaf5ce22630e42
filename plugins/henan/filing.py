"""Henan's filing form (河南省限制类医疗技术临床应用备案表, HN-2.2b) and public-list fields.

The notice (seed 004) names the form but prints no layout; its fields follow what the
notice asks the filing to show: institution, technology, conditions and self-assessment
against the specification or expert consensus (HN-2.2a), the lead and the physicians.
"""

from __future__ import annotations

from core import hookimpl

FORM = {
    "title": "河南省限制类医疗技术临床应用备案表",
    "template": "henan/filing_form.html",
    "rule": "HN-2.2b",
    "fields": [
        {"key": "institution_name", "label": "医疗机构名称", "prefill": "institution_name", "required": True},
        {"key": "licence_no", "label": "执业许可证登记号", "prefill": "licence_no", "required": True},
        {"key": "grade", "label": "机构等级", "prefill": "institution_grade", "required": True},
        {"key": "licence_department", "label": "发证机关", "prefill": "licence_department", "required": True},
        {"key": "contact", "label": "联系人", "prefill": "contact_name", "required": True},
        {"key": "phone", "label": "联系电话", "required": True},
        {"key": "technology", "label": "限制类技术名称", "prefill": "technology_name", "required": True},
        {"key": "first_case", "label": "首例开展日期", "prefill": "first_case_on", "required": True},
        {"key": "lead", "label": "技术负责人", "prefill": "lead_name", "required": True},
        {"key": "basis", "label": "自我评估依据（管理规范或专家共识）", "prefill": "assessment_basis", "required": True},
        {"key": "conditions", "label": "具备的条件及自我评估情况", "kind": "textarea", "prefill": "self_assessment"},
    ],
    "staff_columns": [["name", "姓名"], ["sex", "性别"], ["title", "职称"], ["scope", "执业范围"]],
    "pledge": "本机构已按照国家和河南省限制类技术临床应用管理规范（无规范的按相关专业专家共识）进行自我评估，符合开展条件，所报材料真实、完整。",
    "note": "扫描件按顺序上传至河南省医疗技术临床应用信息系统（HN-2.2b）。",
}

# HN-2.3: every department publishes all filed institutions in its area.
DISCLOSURE = [
    {"key": "institution", "label": "医疗机构", "rule": "HN-2.3"},
    {"key": "region", "label": "所在地", "rule": "HN-2.3"},
    {"key": "technology", "label": "限制类技术名称", "rule": "HN-2.3"},
    {"key": "filed_on", "label": "完成备案时间", "rule": "HN-2.3"},
    {"key": "case_count", "label": "累计开展例数", "rule": "NAT-24"},
]


@hookimpl
def filing_form(technology, institution):
    """HN-2.2b (1): 河南省限制类医疗技术临床应用备案表."""
    return FORM


@hookimpl
def disclosure_fields():
    """HN-2.3: the columns of the public list of filed institutions."""
    return DISCLOSURE
