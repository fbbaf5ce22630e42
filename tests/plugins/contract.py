"""Implements every hook that core does not yet answer with a real plugin, so tests
prove the call path from core (and its argument names) end to end.

Each answer carries ``"plugin": "contract"`` so a test can tell it from another's.
"""

from __future__ import annotations

import datetime as dt

from litestar import get

from core import hookimpl

TAG = {"plugin": "contract"}


@hookimpl
def register_catalogs():
    return [{"code": "TEST-CAT", "edition": "2026", "entries": [{"code": "T01", "name": "测试技术"}]}]


@hookimpl
def deadline_rules():
    return [{"rule": "TEST-1", "event": "first_case", "obligation": "filing", "amount": 15,
             "unit": "working_days", "before": False}]


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
    return [{"key": "outbox-test", "title": "测试报送渠道", "kinds": ["filing", "case"], **TAG}]


@hookimpl
def disclosure_fields():
    return [{"key": "filing_date", "title": "备案日期", **TAG}]


@hookimpl
def menu_items(user):
    if "admin" not in user.roles:
        return []
    return [{"label": "契约测试", "href": "/p/contract/1"}]


@get("/p/contract/{thing_id:int}", name="contract:thing")
async def thing(thing_id: int) -> dict:
    return {"thing": thing_id}


@hookimpl
def register_routes():
    return [thing]
