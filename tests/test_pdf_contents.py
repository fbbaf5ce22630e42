"""Issue 11 point 15: PDFs carry what the paper form would — the ethics tally and the
experts' scores on the application document, the department head's four argumentation
answers under their questions, the lead on the annual QC report, whose year label names
the year its figures cover; a public list cites each rule once."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core import clock
from core.admission import service
from core.qc import service as qc
from tests.admission_helpers import actor, valid_form, walk
from tests.case_helpers import admitted, release_obligations
from tests.test_filing_web import pdf_text


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.rule("HOSP-21")
@pytest.mark.rule("HOSP-9")
@pytest.mark.rule("HOSP-4")
async def test_the_application_pdf_carries_the_ethics_tally_the_expert_scores_and_the_argumentation(
        deployment, login_as):
    from core.admission.tables import AdmissionRound

    hooks = deployment["host"].view()
    clinician, today = await actor("clinician_a"), clock.today()
    if not await AdmissionRound.exists().where((AdmissionRound.institution == deployment["hospital_a"])
                                               & (AdmissionRound.status == "open")):
        await service.open_round(await actor("medaffairs_a"), today.year, today, today + dt.timedelta(days=30))
    project_id = await service.create_project(clinician, hooks, service.NewProject(
        title="打印测试项目", path="round", outside_lists=True))
    await service.submit(clinician, hooks, project_id, valid_form())
    # The yearly path: the department's argumentation (HOSP-4), ethics, the panel, then on.
    row = await walk(hooks, project_id, "publicity", today)
    steps = {s["key"]: s for s in row["steps"]}
    pdf = await (await login_as("medaffairs_a")).get(f"/admission/projects/{project_id}/pdf/form")
    assert pdf.status_code == 200
    text = flat(pdf_text(pdf.content))
    assert "同意1票" in text and "HOSP-21" in text  # the ethics committee's tally
    assert "孙专家" in text and "88" in text  # the expert, their total
    panel = next(s for s in steps.values() if s["kind"] == "panel")
    for _, label in panel.get("criteria") or []:
        assert flat(label) in text
    argumentation = next(s for s in steps.values() if s["kind"] == "argumentation")
    for _, label in argumentation["considerations"]:  # each answer under its question
        assert flat(label) in text
    assert "已梳理" in text and "拟培育" in text  # the answers walk() gave


@pytest.mark.rule("HOSP-17")
async def test_the_annual_report_pdf_names_the_lead_and_the_year_its_figures_cover(deployment, login_as):
    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=29, form=valid_form())
    lead = await actor("clinician_a")
    report_id = await qc.open_report(lead, hooks, project_id, 2027)
    report = await qc.get_report(lead, report_id)
    assert report["prefill"]["period"].endswith("2026-12-31")
    await qc.submit_report(lead, report_id, {"summary": "本年度质控良好，无并发症。", "problems": "暂无明显问题。",
                                             "improvements": "继续加强随访管理。"}, today=dt.date(2027, 1, 20))
    text = flat(pdf_text((await (await login_as("clinician_a")).get(f"/qc/reports/{report_id}/pdf")).content))
    assert "2026年度" in text and "2027年度" not in text  # the period's year, filed in 2027
    assert "项目负责人张医生" in text
    await release_obligations()


@pytest.mark.rule("JL-41")
async def test_a_public_list_cites_each_rule_once(deployment, anon):
    from core.tenancy.tables import Region

    city = await Region.select(Region.id).where(Region.level == "city").first()
    page = await anon.get(f"/public/filings/region/{city['id']}")
    assert page.status_code == 200
    found = re.findall(r"依据：([^<]*)", page.text)
    assert found
    for cited in found:
        rules = [r.strip() for r in cited.split("、") if r.strip()]
        assert len(rules) == len(set(rules)), cited


async def test_a_title_is_said_once_even_when_a_name_matches_its_kind(deployment, login_as):
    """"S1 S1": the management body named 医疗技术临床应用管理委员会 — its kind's own label
    — had its heading read the name twice (name, then the kind as a badge)."""
    page = await (await login_as("medaffairs_a")).get(f"/body/{deployment['hospital_a']}")
    assert page.status_code == 200
    heading = re.search(r"<h2>(医疗技术临床应用管理委员会.*?)</h2>", page.text, re.S)
    assert heading, "the demo's committee"
    assert flat(re.sub(r"<[^>]+>", " ", heading.group(1))).count("医疗技术临床应用管理委员会") == 1
