"""Issue 11 point 16: ``clintech demo`` builds a deployment in which every state can be seen
at once — projects at each step of admission (publicity and admitted included), two years
of QC data, a corrected and a voided case, a filing opened by the first case, reports
received on time, late, or packaged for upload, and the warnings evaluated."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from core import clock, demo_states
from core.admission.tables import Project
from core.cases.tables import CaseRecord
from core.filing.tables import Filing
from core.outbox.tables import Delivery
from core.supervision.tables import RiskWarning


@pytest.fixture(scope="module")
async def built(deployment):
    hooks = deployment["host"].view()
    lines = await demo_states.load(hooks)
    yield {"hooks": hooks, "lines": lines}


async def test_projects_stand_at_each_step_of_admission(built):
    rows = {r["title"]: r for r in await Project.select(Project.title, Project.status, Project.current_step,
                                                          Project.steps).where(
        Project.title.like(f"{demo_states.PREFIX}%")).output(load_json=True)}
    kind = {t: next((s["kind"] for s in r["steps"] if s["key"] == r["current_step"]), None) for t, r in rows.items()}
    assert rows["演示：填写中的申请"]["status"] == "draft"
    assert kind["演示：待科室论证的项目"] == "argumentation"
    assert kind["演示：伦理审查中的项目"] == "ethics"
    assert kind["演示：专家评审中的项目"] == "panel"
    assert kind["演示：院内公示中的项目"] == "publicity" and rows["演示：院内公示中的项目"]["status"] == "in_review"
    assert rows["演示：退回修改的项目"]["status"] == "returned"
    assert rows["演示：已准入的项目"]["status"] == "admitted"
    assert rows["演示：未通过准入的项目"]["status"] == "rejected"
    assert rows["演示：申请人撤回的项目"]["status"] == "withdrawn"
    assert rows[demo_states.LAPSED_PROJECT]["status"] == "cancelled"  # HOSP-7: the ethics approval never came
    assert any("演示：院内公示中的项目" in line for line in built["lines"])


@pytest.mark.rule("NAT-37")
@pytest.mark.rule("NAT-11")
async def test_two_years_of_cases_with_a_correction_a_void_a_filing_and_every_report_state(built):
    project = await Project.select(Project.id, Project.admitted_on).where(
        Project.title == demo_states.QC_PROJECT).first()
    assert project["admitted_on"] <= clock.today() - dt.timedelta(days=700)
    rows = await CaseRecord.select().where(CaseRecord.project == project["id"])
    months = {(r["operated_on"].year, r["operated_on"].month) for r in rows}
    assert len(rows) >= 40 and len(months) >= 22
    assert any(r["version"] == 2 and not r["voided"] for r in rows)  # corrected
    assert sum(r["voided"] for r in rows) == 1
    assert any(r["report_late"] for r in rows) and any(r["reported_on"] and not r["report_late"] for r in rows)
    states = Counter(d["status"] for d in await Delivery.select(Delivery.status).where(
        (Delivery.subject_type == "case") & Delivery.subject_id.is_in([r["id"] for r in rows])))
    assert states["accepted"] > 0 and states["package_ready"] > 0 and states["failed"] > 0
    filing = await Filing.select(Filing.status, Filing.case_count).where(Filing.project == project["id"]).first()
    assert filing["status"] == "open" and filing["case_count"] == len(rows) - 1  # the voided one counts nowhere
    assert await RiskWarning.select(RiskWarning.id).where(RiskWarning.institution == rows[0]["institution"])


async def test_the_demo_states_are_made_once(built):
    before = await Project.count()
    assert await demo_states.load(built["hooks"]) == built["lines"]  # the same summary, nothing new
    assert await Project.count() == before


@pytest.mark.rule("NAT-11")
async def test_filings_stand_in_each_status(built):
    statuses = {r["project.title"]: r["status"] for r in await Filing.select(Filing.status, Filing.project.title)}
    for title, status in demo_states.FILING_PROJECTS:
        assert statuses.get(title) == status, (title, statuses.get(title))
    assert statuses[demo_states.QC_PROJECT] == "open"


async def test_every_status_of_projects_filings_and_report_deliveries_is_shown(built):
    """Against the status enums themselves: a status added later without a demo record fails here."""
    from core.admission.schemas import ProjectStatus
    from core.filing.schemas import FilingStatus

    projects = {r["status"] for r in await Project.select(Project.status).where(
        Project.title.like(f"{demo_states.PREFIX}%"))}
    assert projects == {str(s) for s in ProjectStatus}
    assert {r["status"] for r in await Filing.select(Filing.status)} == {str(s) for s in FilingStatus}
    deliveries = {r["status"] for r in await Delivery.select(Delivery.status)}
    assert {"accepted", "failed", "package_ready"} <= deliveries  # delivered, failed, packaged for upload
