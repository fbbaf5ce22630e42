"""Quality control on known data: figures per technology/department/month, indicators
against targets, timeliness, the QC levels (HOSP-13), regional ranking, SVG charts,
XLSX export, the annual report (HOSP-17) with its PDF, the summary (HOSP-19)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from core.cases import service as cases
from core.qc import service as qc
from tests.admission_helpers import actor, valid_form
from tests.case_helpers import REPORTED, admitted, case_input, receive, release_obligations
from tests.filing_helpers import region_actor


@pytest.fixture(scope="module")
async def known(deployment):
    """A restricted project with four cases: one complication, one adverse event, one
    report late; the indicator 并发症发生率 (target ≤2%) 是 in one case."""
    hooks = deployment["host"].view()
    form = valid_form(qc_indicators=[{"name": "并发症发生率", "target": "≤2%", "method": "按月"},
                                     {"name": "手术时间", "target": "<120", "method": "均值", "kind": "number"}])
    project_id = await admitted(hooks, tech_index=7, form=form)
    clinician = await actor("clinician_a")
    code = f"P{project_id}"
    on_time = await cases.record_cases(clinician, hooks, [
        case_input(project_id, qc_values={"并发症发生率": "是", "手术时间": "100"}, complication=True,
                   complications="穿刺点血肿"),
        case_input(project_id, qc_values={"并发症发生率": "否", "手术时间": "140"}, adverse_event=True,
                   adverse_events="过敏反应"),
        case_input(project_id, qc_values={"并发症发生率": "否"}, operated_on="2026-03-11"),
    ], today=REPORTED)
    late = await cases.record_cases(clinician, hooks, [case_input(
        project_id, admitted_on="2026-04-01", operated_on="2026-04-02", discharged_on="2026-04-03",
        qc_values={"并发症发生率": "否"})], today=dt.date(2026, 5, 20))
    # Reported when the platform's receipt comes back: three on time, the last one late.
    for result in on_time:
        await receive(hooks, result.delivery_id, REPORTED)
    await receive(hooks, late[0].delivery_id, dt.date(2026, 5, 20))
    yield {"hooks": hooks, "project": project_id, "code": code}
    await release_obligations()


@pytest.mark.rule("HOSP-14")
@pytest.mark.rule("JL-38")
async def test_hosp14_figures_and_indicators_on_known_data(deployment, known):
    ma = await actor("medaffairs_a")
    data = await qc.figures(ma, qc.Filter(technology_code=known["code"]))
    total = data["total"]
    assert (total["cases"], total["complications"], total["adverse_events"]) == (4, 1, 1)
    assert total["complication_rate"] == 25.0 and total["adverse_rate"] == 25.0
    assert (total["reports"], total["on_time"], total["timeliness"]) == (4, 3, 75.0)
    assert [(m["month"], m["cases"]) for m in data["months"]] == [("2026-03", 3), ("2026-04", 1)]
    assert [d["cases"] for d in data["departments"]] == [4]
    indicators = {i["name"]: i for i in await qc.indicator_figures(ma, known["hooks"], qc.Filter(
        technology_code=known["code"]))}
    assert indicators["并发症发生率"]["value"] == 25.0 and indicators["并发症发生率"]["meets"] is False
    assert indicators["手术时间"]["value"] == 120.0 and indicators["手术时间"]["meets"] is False


@pytest.mark.rule("HOSP-13")
async def test_hosp13_each_qc_level_sees_its_scope(deployment, known):
    flt = qc.Filter(technology_code=known["code"])
    lead = await qc.figures(await actor("clinician_a"), flt)  # project QC group (lead)
    officer = await qc.figures(await actor("qc_a"), flt)  # the QC officer the form names (王质控)
    department = await qc.figures(await actor("depthead_a"), flt)
    other = await qc.figures(await actor("medaffairs_b"), flt)
    assert lead["total"]["cases"] == officer["total"]["cases"] == department["total"]["cases"] == 4
    assert other["total"]["cases"] == 0


async def test_regulators_see_their_region_with_institutions_ranked(deployment, known):
    city1 = await qc.figures(await region_actor("regulator_city1"), qc.Filter(technology_code=known["code"]))
    assert city1["total"]["cases"] == 4 and city1["institutions"][0]["rank"] == 1
    city2 = await qc.figures(await region_actor("regulator_city2"), qc.Filter(technology_code=known["code"]))
    assert city2["total"]["cases"] == 0
    ranked = qc.ranked([{"name": "甲", "timeliness": 80.0, "complication_rate": 1.0},
                        {"name": "乙", "timeliness": 95.0, "complication_rate": 3.0},
                        {"name": "丙", "timeliness": 95.0, "complication_rate": 1.0}])
    assert [r["name"] for r in ranked] == ["丙", "乙", "甲"]


async def test_qc_page_has_an_svg_chart_and_exports_xlsx(deployment, login_as, known):
    client = await login_as("medaffairs_a")
    response = await client.get(f"/qc/technology/{known['code']}?period=all")
    assert response.status_code == 200
    assert "<svg" in response.text and 'class="bar"' in response.text and "2026-03：3 例" in response.text
    assert "未达标" in response.text
    regulator = await login_as("qccenter")
    page = await regulator.get(f"/qc/technology/{known['code']}?period=all")
    assert 'id="qc-ranking"' in page.text
    export = await client.get(f"/qc/export.xlsx?technology_code={known['code']}&period=all")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(export.content))
    assert {"按技术", "按科室", "按月", "质控指标"} <= set(wb.sheetnames)
    assert list(wb["按月"].iter_rows(values_only=True))[1][:2] == ("2026-03", 3)


@pytest.mark.rule("HOSP-17")
@pytest.mark.rule("HOSP-16")
async def test_hosp17_january_report_prefilled_completed_reviewed_and_printed(deployment, login_as, known):
    """HOSP-17 yearly report; HOSP-16: the department QC group reviews it before medical affairs."""
    from core.obligations.tables import Obligation

    hooks = known["hooks"]
    lead, head, ma = await actor("clinician_a"), await actor("depthead_a"), await actor("medaffairs_a")
    due = await Obligation.select().where((Obligation.subject_type == "project")
                                          & (Obligation.subject_id == known["project"])
                                          & (Obligation.kind == "qc_annual_report"))
    assert sorted(o["occurrence"] for o in due) == ["2027", "2028"]
    report_id = await qc.open_report(lead, hooks, known["project"], 2027)
    report = await qc.get_report(lead, report_id)
    assert report["prefill"]["cases"] == 4 and report["prefill"]["complication_rate"] == 25.0
    with pytest.raises(qc.DomainError):
        await qc.open_report(lead, hooks, known["project"], 2030)  # outside the 2-year period
    await qc.submit_report(lead, report_id, {"summary": "本年度开展4例，质控良好。", "problems": "一例血肿已处理。",
                                             "improvements": "加强术后压迫止血。"}, today=dt.date(2027, 1, 20))
    await qc.review_report(head, hooks, report_id, "approve", "同意", today=dt.date(2027, 1, 22))
    await qc.review_report(ma, hooks, report_id, "approve", "备案", today=dt.date(2027, 1, 25))
    assert (await qc.get_report(ma, report_id))["status"] == "approved"
    ob = await Obligation.select().where((Obligation.subject_id == known["project"])
                                         & (Obligation.kind == "qc_annual_report")
                                         & (Obligation.occurrence == "2027")).first()
    assert ob["status"] == "done" and not ob["done_late"]
    client = await login_as("clinician_a")
    pdf = await client.get(f"/qc/reports/{report_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    listing = await client.get("/qc/reports/")
    assert str(known["project"]) in listing.text


@pytest.mark.rule("HOSP-19")
async def test_hosp19_summary_and_medical_affairs_decision(deployment, known):
    hooks = known["hooks"]
    answers = {k: "情况良好" for k, _ in qc.SUMMARY_FIELDS}
    await qc.submit_summary(await actor("clinician_a"), hooks, known["project"], answers)
    with pytest.raises(qc.DomainError):
        await qc.decide_summary(await actor("medaffairs_a"), hooks, known["project"], "routine", "")
    await qc.decide_summary(await actor("medaffairs_a"), hooks, known["project"], "routine", "安全有效，转为常规",
                            today=dt.date(2028, 3, 10))
    summary = await qc.get_summary(await actor("medaffairs_a"), known["project"])
    assert summary["decision"] == "routine" and summary["prefill"]["cases"] == 4


def test_qc_window_is_the_last_twelve_calendar_months_by_default():
    """The QC pages read the last 12 calendar months unless another period or dates are chosen."""
    assert qc.window_start("12", dt.date(2027, 2, 15)) == dt.date(2026, 3, 1)
    assert qc.window_start("24", dt.date(2027, 2, 15)) == dt.date(2025, 3, 1)
    assert qc.window_start("12", dt.date(2026, 12, 31)) == dt.date(2026, 1, 1)
    assert qc.window_start("all", dt.date(2027, 2, 15)) is None
    assert qc.DEFAULT_PERIOD == "12"


async def test_qc_window_limits_the_figures_and_dates_override_it(deployment, login_as, known):
    ma = await actor("medaffairs_a")
    # Seen from 2027-03-20 the last 12 months start on 2026-04-01: only the April case.
    data = await qc.figures(ma, qc.Filter(technology_code=known["code"],
                                          since=qc.window_start("12", dt.date(2027, 3, 20))))
    assert data["total"]["cases"] == 1 and [m["month"] for m in data["months"]] == ["2026-04"]
    client = await login_as("medaffairs_a")
    page = await client.get(f"/qc/technology/{known['code']}?since=2026-04-01&until=2026-04-30")
    assert page.status_code == 200 and '<div class="stat" id="qc-cases">1</div>' in page.text
    assert "2026-04-01 至 2026-04-30" in page.text
    everything = await client.get(f"/qc/technology/{known['code']}?period=all")
    assert '<div class="stat" id="qc-cases">4</div>' in everything.text


@pytest.mark.rule("HOSP-17")
async def test_two_reviewers_of_one_report_version_one_wins_the_other_conflicts(deployment, known):
    """QC's moves go through core.changes: the same report version reviewed twice is a
    conflict for the second reviewer, with one audit event."""
    from core.audit.tables import AuditEvent
    from core.errors import Conflict

    hooks = known["hooks"]
    lead, head = await actor("clinician_a"), await actor("depthead_a")
    report_id = await qc.open_report(lead, hooks, known["project"], 2028)
    await qc.submit_report(lead, report_id, {"summary": "本年度开展4例，质控良好。", "problems": "一例血肿已处理。",
                                             "improvements": "加强术后压迫止血。"}, today=dt.date(2028, 1, 20))
    stale = await qc.get_report(head, report_id)
    version = stale["version"]
    await qc.review_report(head, hooks, report_id, "approve", "同意", today=dt.date(2028, 1, 22), version=version)
    with pytest.raises(Conflict):  # a second tab still showing the submitted report returns it
        await qc._move(head, stale, qc.ReportStatus.draft, {}, "return", version)
    report = await qc.get_report(head, report_id)
    assert report["status"] == "dept_reviewed" and report["version"] == version + 1
    actions = [e["action"] for e in await AuditEvent.select(AuditEvent.action).where(
        (AuditEvent.record_type == "qc_annual_report") & (AuditEvent.record_id == report_id))]
    assert actions == ["qc_report.open", "qc_report.submit", "qc_report.dept_review"]
