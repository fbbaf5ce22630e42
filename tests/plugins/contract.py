"""Implements every data hook in the shapes ``core/contract.py`` types, so the hook tests
prove the contract end to end: the call path from core (and its argument names) and that
core accepts the answer. Tests register it alone (``PluginHost(("contract",), extra=…)``)
so the answers are its own; its web hooks live in ``contract_web.py``.

Answers are plain dicts/lists where a plugin author would write them so (core converts
them), and the contract's structs elsewhere, to prove both are accepted.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from core import hookimpl
from core.catalog.loader import load_dir
from core.contract import (
    ApprovalStep,
    DemoRegion,
    Material,
    Problem,
    PublicityStep,
    ReviewStep,
)

CLINTECH_API = "2"
HERE = Path(__file__).parent
INSTITUTION = 7  # the institution it answers the hospital and province hooks for


@hookimpl
def register_catalogs():
    return load_dir(HERE / "catalog")


@hookimpl
def deadline_rules():
    return [{"id": "TEST-1", "event": "first_case", "obligation": "filing", "title": "测试备案时限",
             "article": "首例后15个工作日内备案（测试）", "role": "medical_affairs",
             "offset": {"amount": 15, "unit": "working_days", "direction": "after"}}]


@hookimpl
def calendar_overrides():
    # A made-up extra holiday on a working Wednesday, and a make-up working Saturday.
    return [(dt.date(2026, 3, 4), False, "测试假日"), ("2026-03-07", True, "测试调休")]


@hookimpl
async def qc_indicators(technology):
    """Collect-all hooks may be coroutines; the caller awaits them."""
    return [{"title": f"{technology.name}并发症发生率", "kind": "rate", "target": "≤2%", "unit": "%"}]


@hookimpl(tryfirst=True)
def admission_steps(project):
    if project.institution_id != INSTITUTION:
        return None
    return [
        ReviewStep(key="formal", title="形式审查", role="medical_affairs", rule="HOSP-8", written_reply=True),
        {"key": "experts", "title": "专家评审", "kind": "panel", "role": "expert", "rule": "HOSP-9",
         "min_experts": 3, "criteria": [["plan", "技术方案"]]},
        PublicityStep(key="publicity", title="院内公示两周", role="medical_affairs", rule="HOSP-10", weeks=2),
        ApprovalStep(key="approval", title="院长审批", role="hospital_head", rule="HOSP-10", admits=True),
    ]


@hookimpl(tryfirst=True)
def application_form(project):
    if project.institution_id != INSTITUTION:
        return None
    return {"title": "契约测试申请表", "sections": [{"key": "basic", "title": "基本信息", "fields": [
        {"key": "grade", "label": "技术等级", "kind": "grade", "required": True, "rule": "HOSP-1"},
        {"key": "indications", "label": "适应证", "kind": "textarea", "required": True, "rule": "HOSP-8"}]}]}


@hookimpl(tryfirst=True)
def grades(project):
    if project.institution_id != INSTITUTION:
        return None
    return [("A", "甲级"), ["B", "乙级"]]


@hookimpl
def validate_project(project, person):
    if person.years_as_resident < 3:
        return [{"rule": "HOSP-5", "field": "lead", "message": "项目负责人任住院医师不满 3 年"}]
    return []


@hookimpl
def validate_case(case):
    if case.discharged_on < case.operated_on:
        return [Problem("出院日期早于手术日期", "discharged_on", "TEST-CASE")]
    return []


@hookimpl(tryfirst=True)
def filing_materials(technology, institution):
    if institution.id != INSTITUTION:
        return None
    # No "argumentation": core adds its slot (core.contract.CORE_MATERIALS, NAT-13).
    return [Material("form", "备案表", "TEST"), {"key": "plan", "title": "技术方案", "rule": "TEST", "required": False}]


@hookimpl(tryfirst=True)
def filing_form(technology, institution):
    if institution.id != INSTITUTION:
        return None
    return {"title": f"{technology.name}备案表", "template": "contract/filing_form.html", "rule": "TEST",
            "fields": [{"key": "start_date", "label": "开展日期", "kind": "date", "prefill": "first_case_on"}]}


@hookimpl
def reporting_channels():
    return [{"key": "contract_test", "name": "测试报送渠道", "kinds": ["filing", "case"], "transport": "package",
             "endpoint_setting": "CLINTECH_CHANNEL_CONTRACT_TEST_URL",
             "materials": [{"key": "form", "title": "备案表"}], "rules": ["TEST"]}]


@hookimpl
def disclosure_fields():
    return [{"key": "filed_on", "label": "备案日期", "rule": "TEST"}]


@hookimpl
def demo_region():
    return DemoRegion(province=("测试省", "980000"), cities=(("测试市", "980100"),))


@hookimpl
def template_dirs():
    return [str(HERE / "templates")]
