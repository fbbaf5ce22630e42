"""One definition of a technology's cumulative cases in an institution (``core.cases.counts``):
the public pages (NAT-24 院务公开, NAT-40 lists and their open data), the QC pages and the
annual QC report (HOSP-17) show the same number for the same data — voided cases
excluded, corrections applied. The issue saw 7 on the public page and 6 on the QC page:
the public page read a counter kept on the filing (the first case registered on the filing
counted once more), the QC page counted the last 12 months only."""

from __future__ import annotations

import datetime as dt
import re

import msgspec
import pytest

from core.cases import corrections, counts
from core.cases import service as cases
from core.cases.tables import CaseRecord
from core.filing import service as filing
from core.filing.tables import Filing
from core.qc import service as qc
from core.supervision import opendata
from tests.admission_helpers import actor
from tests.case_helpers import REPORTED, admitted, case_input, release_obligations
from tests.filing_helpers import region_actor
from tests.supervision_helpers import completed_filing


@pytest.fixture(scope="module")
async def counted(deployment):
    """A filed restricted technology with five cases recorded in 2026 (one operated in
    2025-12 by correction) — one of them voided: four count."""
    hooks = deployment["host"].view()
    project = await admitted(hooks, tech_index=19)
    filing_id = await completed_filing(hooks, project)
    recorded = await cases.record_cases(await actor("clinician_a"), hooks,
                                        [case_input(project) for _ in range(5)], today=REPORTED)
    ma = await actor("medaffairs_a")
    await corrections.void(ma, hooks, recorded[0].id, "重复登记，作废此病例")
    row = await CaseRecord.select().where(CaseRecord.id == recorded[1].id).first()
    await corrections.correct(ma, hooks, recorded[1].id, corrections.Correction(
        admitted_on=row["admitted_on"], operated_on=dt.date(2026, 3, 9), discharged_on=row["discharged_on"],
        indication=row["indication"], outcome=row["outcome"], follow_up=row["follow_up"]),
        "手术日期录入错误，更正为实际手术日期", today=REPORTED)
    code = (await Filing.select(Filing.technology_code).where(Filing.id == filing_id).first())["technology_code"]
    yield {"hooks": hooks, "project": project, "filing": filing_id, "code": code, "cases": recorded}
    await release_obligations()


@pytest.mark.rule("NAT-24")
@pytest.mark.rule("NAT-40")
@pytest.mark.rule("JL-25")
@pytest.mark.rule("JL-41")
@pytest.mark.rule("HOSP-17")
async def test_public_pages_qc_and_annual_report_show_the_same_cumulative_count(deployment, login_as, anon, counted):
    inst, code = deployment["hospital_a"], counted["code"]
    live = await CaseRecord.count().where((CaseRecord.institution == inst) & (CaseRecord.technology_code == code)
                                          & (CaseRecord.voided == False))  # noqa: E712
    assert live == 4
    assert await counts.cumulative_cases(inst, code) == 4
    assert await counts.cumulative_cases(inst, code.lower()) == 4  # keys read as the lifecycle reads them
    assert (await counts.cumulative_cases_many([(inst, code), (deployment["hospital_b"], code)])
            == {(inst, code): 4, (deployment["hospital_b"], code): 0})
    # The counter kept on the filing disagrees (the first case registered on the filing plus
    # every case recorded, the void taken off): nothing shows it any more.
    counter = (await Filing.select(Filing.case_count).where(Filing.id == counted["filing"]).first())["case_count"]
    assert counter != 4

    # 1. The public pages and their open data (NAT-24, NAT-40).
    _, rows = await filing.institution_disclosure(inst)
    assert [r["case_count"] for r in rows if r["technology_code"] == code] == [4]
    assert [r["case_count"] for r in await filing.public_all() if r["id"] == counted["filing"]] == [4]
    data = msgspec.json.decode(await opendata.as_json())
    assert [r["case_count"] for r in data["records"] if r["filing_id"] == counted["filing"]] == [4]
    page = (await anon.get(f"/public/institutions/{inst}")).text
    assert re.search(rf'data-technology="{code}"[^>]*>.*?<td class="num">4</td>', page, re.S)
    # The regulator's desk shows the same.
    desk = await filing.desk(await region_actor("regulator_city1"), counted["hooks"])
    assert [r["case_count"] for r in desk if r["id"] == counted["filing"]] == [4]

    # 2. The QC pages: the cumulative count beside the period's figures, whatever the period.
    ma = await actor("medaffairs_a")
    assert [(r["institution"], r["cases"]) for r in await qc.cumulative(ma, code)] == [(inst, 4)]
    province = await qc.cumulative(await region_actor("regulator_province"), code)
    assert {r["institution"]: r["cases"] for r in province}[inst] == 4
    client = await login_as("medaffairs_a")
    for period in ("", "?since=2026-03-10&until=2026-03-10"):
        qc_page = (await client.get(f"/qc/technology/{code}{period}")).text
        assert re.search(rf'id="qc-cumulative".*?data-institution="{inst}"><td>[^<]*</td><td class="num">4</td>',
                         qc_page, re.S), period

    # 3. The annual QC report of the year (HOSP-17): cumulative up to the period's end.
    report_id = await qc.open_report(ma, counted["hooks"], counted["project"], 2027)
    report = await qc.get_report(ma, report_id)
    assert (report["prefill"]["cumulative_cases"], report["prefill"]["cumulative_until"]) == (4, "2026-12-31")
    assert "累计 4 例" in (await client.get(f"/qc/reports/{report_id}")).text


async def test_until_counts_cases_operated_up_to_that_day(deployment, counted):
    """The corrected case was operated on 2026-03-09, the others on 2026-03-10: up to the 9th one counts."""
    inst, code = deployment["hospital_a"], counted["code"]
    assert await counts.cumulative_cases(inst, code, until=dt.date(2026, 3, 9)) == 1
    assert await counts.cumulative_cases(inst, code, until=dt.date(2026, 3, 8)) == 0


@pytest.mark.rule("NAT-24")
async def test_a_technology_outside_the_catalogue_is_counted_by_its_project_key(deployment):
    """A technology outside every list has no code: its key is "P<project id>" (as the
    lifecycle keys it), and only that project's cases count."""
    hooks = deployment["host"].view()
    project = await admitted(hooks, tech_class="routine")
    await cases.record_cases(await actor("clinician_a"), hooks, [case_input(project, qc_values={}) for _ in range(2)],
                             today=REPORTED)
    assert await counts.cumulative_cases(deployment["hospital_a"], f"P{project}") == 2
    assert await counts.cumulative_cases(deployment["hospital_a"], f"p{project}") == 2
    assert await counts.cumulative_cases(deployment["hospital_b"], f"P{project}") == 0
    await release_obligations()
