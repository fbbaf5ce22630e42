"""The province-wide lists' data (issues 14, 15): 57 institutions of city 1 — more than one
page of ``core.listing.PAGE_SIZE`` — each with one department, a few cases of one technology
and a few obligations. Shared by the HTTP tests (tests/test_province_lists.py) and the
Chromium walk (tests/test_browser_province_lists.py); conftest.py registers this module as a
plugin, so any module asks for the ``province`` fixture by name."""

from __future__ import annotations

import datetime as dt

import pytest

from core.accounts.schemas import SYSTEM

MANY = 57  # more than one page (core.listing.PAGE_SIZE is 50)
CODE = "PAGED-T1"


@pytest.fixture(scope="module")
async def province(deployment):
    """57 institutions of city 1, each with one department and a few cases of one technology
    (rows written directly, as an import would; the triggers keep the summaries)."""
    from core.cases.tables import CaseRecord
    from core.tenancy import service as tenancy
    from core.tenancy.schemas import InstitutionInput
    from core.tenancy.tables import Department

    ids = []
    for n in range(MANY):
        ids.append(await tenancy.create_institution(SYSTEM, InstitutionInput(
            name=f"分页测试医院{n:03d}", licence_no=f"PAGED-{n:03d}", grade="二级甲等",
            region=deployment["city1"], registered_subjects=["外科"])))
    departments = {}
    for n, inst in enumerate(ids):
        rows = await Department.insert(Department(institution=inst, name=f"分页测试科{n:03d}", subject="外科")
                                       ).returning(Department.id)
        departments[inst] = rows[0]["id"]
    cases = []
    for n, inst in enumerate(ids):
        for k in range(1 + n % 4):
            day = dt.date(2025, 6, 1) + dt.timedelta(days=n + k)
            cases.append(CaseRecord(
                institution=inst, department=departments[inst], external_id=f"PG{n}-{k}",
                dedupe_key=f"{inst}:PG{n}-{k}", content_hash="x", technology_code=CODE, technology_name="分页测试技术",
                patient_key=f"pg{n}-{k}", tech_class="restricted", admitted_on=day, operated_on=day,
                discharged_on=day, complication=(n + k) % 5 == 0, outcome="improved", source="demo"))
    for start in range(0, len(cases), 100):
        await CaseRecord.insert(*cases[start:start + 100])
    # Obligations: institution n has n % 3 overdue ones and one done on time.
    from core.obligations.tables import Obligation

    due = []
    for n, inst in enumerate(ids):
        for k in range(n % 3 + 1):
            overdue = k < n % 3
            due.append(Obligation(
                dedupe_key=f"paged:{inst}:{k}", rule_id="TEST-1", kind="test_paged", title="分页测试事项",
                institution=inst, subject_type="institution", subject_id=inst, event_kind="test",
                event_on=dt.date(2025, 1, 1), due_on=dt.date(2025, 2, 1) if overdue else dt.date(2025, 1, 20),
                status="open" if overdue else "done", done_on=None if overdue else dt.date(2025, 1, 10)))
    await Obligation.insert(*due)
    return {"ids": ids, "departments": departments}
