"""Jilin's filing form (seed 001, annex 3 医疗技术临床应用备案表) and public-list fields."""

from __future__ import annotations

from core import hookimpl

# JL-12 (1): annex 3 — institution, grade/category, contact, phone, start date, technology,
# self-assessment, a staff table (name, sex, practice scope, title) and the institution's
# pledge signed by the legal representative and stamped. "一式两份".
FORM = {
    "title": "医疗技术临床应用备案表",
    "template": "jilin/filing_form.html",
    "rule": "JL-12",
    "fields": [
        {"key": "institution_name", "label": "医疗机构名称", "prefill": "institution_name", "required": True},
        {"key": "grade", "label": "等级/类别", "prefill": "institution_grade", "required": True},
        {"key": "contact", "label": "联系人", "prefill": "contact_name", "required": True},
        {"key": "phone", "label": "联系电话", "required": True},
        {"key": "start_date", "label": "开展时间", "prefill": "first_case_on", "required": True},
        {"key": "technology", "label": "医疗技术名称", "prefill": "technology_name", "required": True},
        {"key": "self_assessment", "label": "医疗机构自评情况", "kind": "textarea", "prefill": "self_assessment",
         "help": "留空则采用“自我评估”中填写的内容"},
    ],
    "staff_columns": [["name", "姓名"], ["sex", "性别"], ["scope", "执业范围"], ["title", "职称"]],
    "pledge": "承诺该项技术已对照相关技术管理规范进行自我评估且符合相应医疗技术管理规范要求。",
    "note": "此表一式两份，一份提交卫生健康行政部门，一份医院留档保存。",
}

# JL-41 / JL-25: departments publish the filed institutions; institutions disclose name,
# filing date and cumulative cases.
DISCLOSURE = [
    {"key": "institution", "label": "医疗机构", "rule": "JL-41"},
    {"key": "technology", "label": "限制类技术名称", "rule": "JL-41"},
    {"key": "filed_on", "label": "完成备案时间", "rule": "JL-25"},
    {"key": "case_count", "label": "累计开展例数", "rule": "JL-25"},
    {"key": "filing_department", "label": "备案部门", "rule": "JL-12"},
]


@hookimpl
def filing_form(technology, institution):
    """JL-12 (1): annex 3 with its staff table and pledge."""
    return FORM


@hookimpl
def disclosure_fields():
    """JL-41: the columns of the public list of filed institutions."""
    return DISCLOSURE
