"""Implements the data hooks in the shapes core/hookspecs.py documents, so tests prove
the call path from core (and its argument names) end to end, with or without a real
implementation. Tests register it alone (``PluginHost(("contract",), extra=…)``) so
the answers are its own; its web hooks live in ``contract_web.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from core import hookimpl
from core.catalog.loader import load_dir

HERE = Path(__file__).parent
TAG = {"plugin": "contract"}


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
    return [{"key": "complication_rate", "title": f"{technology.name}并发症发生率", **TAG}]


@hookimpl(tryfirst=True)
def application_form(project):
    return {"fields": [{"key": "indications", "title": "适应证"}], "institution_id": project.institution_id,
            **TAG}


@hookimpl
def validate_project(project, person):
    if person.years_in_post < 3:
        return [{"rule": "HOSP-5", "message": "项目负责人任职不满 3 年", **TAG}]
    return []


@hookimpl
def validate_case(case):
    if case.discharge_date < case.operation_date:
        return [{"rule": "TEST-CASE", "message": "出院日期早于手术日期", "field": "discharge_date", **TAG}]
    return []


@hookimpl(tryfirst=True)
def filing_materials(technology, institution):
    if institution.id != -42:
        return None
    return [{"key": "only", "title": "唯一材料", "rule": "TEST", "required": True}]


@hookimpl(tryfirst=True)
def filing_form(technology, institution):
    return {"fields": [{"key": "start_date", "title": "开展日期"}], "technology": technology.code, **TAG}


@hookimpl
def reporting_channels():
    return [{"key": "contract_test", "name": "测试报送渠道", "kinds": ["filing", "case"], "transport": "package",
             "endpoint_setting": "CLINTECH_CHANNEL_CONTRACT_TEST_URL"}]


@hookimpl
def disclosure_fields():
    return [{"key": "filing_date", "title": "备案日期", **TAG}]
