"""A third province (浙江省, rules "ZJ-*" invented for the test), written as a plugin author
would from docs/plugins.md: materials, form, policy, deadline rule, a case channel. No
core change; its pages must show its own rule ids and never another province's."""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.errors import Problem

HERE = Path(__file__).parent
NAME = "third_province"

MATERIALS = [
    {"key": "form", "title": "浙江省限制类技术备案登记表", "rule": "ZJ-7"},
    {"key": "argumentation", "title": "伦理委员会与技术管理委员会论证意见", "rule": "ZJ-7"},
    {"key": "lead_credentials", "title": "技术负责人执业证书", "rule": "ZJ-7"},
]


@hookimpl
def filing_materials(technology, institution):
    return MATERIALS


@hookimpl
def filing_form(technology, institution):
    return {
        "title": "浙江省限制类技术备案登记表",
        "template": "third_province/filing_form.html",
        "rule": "ZJ-7",
        "fields": [
            {"key": "institution_name", "label": "医疗机构名称", "prefill": "institution_name", "required": True},
            {"key": "technology", "label": "技术名称", "prefill": "technology_name", "required": True},
            {"key": "department", "label": "备案部门", "prefill": "licence_department"},
        ],
        "pledge": "所报材料真实。",
    }


@hookimpl
def province_policy():
    return {
        "filing": {
            "rule": "ZJ-7",
            "deadline_text": "首例之日起10个工作日内",
            "completion_rule": "ZJ-8",
            "desk_text": "备案部门自收到完整材料之日起10个工作日内完成备案",
            "completed_text": "完成备案（浙江）",
            "annotation": {"mode": "direct", "rule": "ZJ-8"},
            "withdrawal_rule": "ZJ-9",
            "cancellation_rule": "ZJ-9",
            "lead_certificates": ["医师执业证"],
            "lead_rule": "ZJ-7",
            "physicians_heading": "浙江省备案医师",
        },
        "cases": {"rules": ["ZJ-20"], "his_rule": "ZJ-20"},
        "consistency": {"rule": "ZJ-22", "text": "备案与副本核对"},
    }


@hookimpl
def warning_rules():
    return [{"key": "late_report", "detector": "late_report", "rule": "ZJ-20", "title": "病例迟报"},
            {"key": "unfiled_cases", "detector": "unfiled_cases", "rule": "ZJ-21", "title": "未备案开展"}]


@hookimpl
def validate_filing(filing):
    if "浙江" not in filing.self_assessment:
        return [Problem("自我评估须对照浙江省规范", "self_assessment", "ZJ-7")]
    return []


@hookimpl
def deadline_rules():
    return [
        {"id": "ZJ-7", "event": "first_case", "obligation": "filing", "title": "浙江省限制类技术备案",
         "article": "首例之日起10个工作日内备案。", "role": "medical_affairs",
         "offset": {"amount": 10, "unit": "working_days", "direction": "after"},
         "scope": {"classes": ["restricted"]}, "replaces": [{"id": "NAT-11", "obligation": "filing"}]},
        {"id": "ZJ-8", "event": "filing_materials_complete", "obligation": "filing_completion",
         "title": "完成备案", "article": "收到完整材料之日起10个工作日内完成备案。", "role": "regulator",
         "offset": {"amount": 10, "unit": "working_days", "direction": "after"},
         "scope": {"classes": ["restricted"]}, "replaces": [{"id": "NAT-11", "obligation": "filing_completion"}]},
        dict(LISTING_GRACE),
    ]


# A province's exceptions, as data (docs/plugins.md): technologies begun before its rules
# are grandfathered from ZJ-7 (invented "ZJ-31"), and existing users of a technology newly
# listed in a catalogue edition get 3 months to file (invented "ZJ-30").
GRANDFATHERED = {"rule": "ZJ-7", "obligation": "filing", "codes": ["G09"], "before": "2020-01-01",
                 "evidence": "2020年前已开展并经省卫健委登记，免予备案", "article": "浙江省办法第三十一条"}
LISTING_GRACE = {"id": "ZJ-30", "event": "technology_listed", "obligation": "filing",
                 "title": "新列入目录的限制类技术：已开展的机构3个月内备案", "role": "medical_affairs",
                 "article": "技术新列入限制类技术目录前已开展的，应当自目录施行之日起3个月内备案。",
                 "offset": {"amount": 3, "unit": "months"}, "scope": {"classes": ["restricted"]},
                 "when": {"filed": False}}


@hookimpl
def deadline_exemptions():
    return [dict(GRANDFATHERED)]


@hookimpl
def reporting_channels():
    return [{"key": "zj_platform", "name": "浙江省医疗技术监管平台", "kinds": ["case"], "transport": "package",
             "rules": ["ZJ-20"]}]


@hookimpl
def demo_region():
    return {"province": ("浙江省", "330000"), "cities": [("杭州市", "330100"), ("宁波市", "330200")]}


@hookimpl
def template_dirs():
    return [str(HERE / "templates")]
