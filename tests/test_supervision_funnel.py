"""Funnel plots of a technology's complication rate per institution against the provincial
rate: a generated data set of seven institutions, six at 5% and one at 25% over 200 cases
each — the 25% one lies above the 99.8% limit and is named; the others are inside."""

from __future__ import annotations

import datetime as dt

import pytest

from core.accounts.schemas import SYSTEM
from core.errors import NotFound
from core.supervision import funnel
from tests.admission_helpers import actor
from tests.filing_helpers import region_actor

CODE = "FUNNEL-T1"
N = 200


@pytest.fixture(scope="module")
async def generated(deployment):
    """Seven institutions in city 1 with 200 cases each of one technology: six with 10
    complications (5%), one with 50 (25%). Provincial rate 110/1400 = 7.86%."""
    from core.cases.tables import CaseRecord
    from core.tenancy import service as tenancy
    from core.tenancy.schemas import InstitutionInput

    ids = []
    for i in range(7):
        ids.append(await tenancy.create_institution(SYSTEM, InstitutionInput(
            name=f"漏斗测试医院{i + 1}", licence_no=f"FUNNEL-{i + 1}", grade="三级甲等", region=deployment["city1"],
            registered_subjects=["外科"])))
    day = dt.date(2026, 3, 2)
    rows = []
    for i, inst in enumerate(ids):
        events = 50 if i == 6 else 10
        for k in range(N):
            rows.append(CaseRecord(
                institution=inst, external_id=f"F{i}-{k}", dedupe_key=f"{inst}:F{i}-{k}", content_hash="x",
                technology_code=CODE, technology_name="漏斗测试技术", tech_class="restricted", patient_key=f"p{k}",
                admitted_on=day, operated_on=day, discharged_on=day, complication=k < events,
                outcome="death" if (i == 0 and k < 2) else "improved", source="demo"))
    for start in range(0, len(rows), 100):  # PostgreSQL takes at most 32,767 parameters a query
        await CaseRecord.insert(*rows[start:start + 100])
    return {"ids": ids, "outlier": ids[6]}


def test_limits_are_binomial_quantiles_over_n():
    lim = funnel.limits(200, 0.0786)
    assert lim["99.8"][0] < lim["95"][0] < 0.0786 < lim["95"][1] < lim["99.8"][1]
    assert funnel.flag(0.25, lim) == "high998" and funnel.flag(0.05, lim) == "in"
    assert funnel.limits(20, 0.0786)["99.8"][1] > lim["99.8"][1]  # wider at fewer cases: the funnel


async def test_funnel_names_the_outlier_of_a_known_data_set(generated, deployment):
    province = await region_actor("regulator_province")
    f = await funnel.funnel(province, CODE, "complication")
    assert (f.total_n, f.total_events) == (7 * N, 110) and round(f.rate, 4) == round(110 / 1400, 4)
    flagged = {p.institution_id: p.flag for p in f.points}
    assert flagged[generated["outlier"]] == "high998"
    assert all(flagged[i] == "in" for i in generated["ids"][:6])
    assert f.points[0].institution_id == generated["outlier"]  # outliers first
    chart = funnel.svg(f)
    assert chart.count('class="institution outlier"') == 1 and "漏斗测试医院7" in chart
    deaths = await funnel.funnel(province, CODE, "mortality")
    assert (deaths.total_events, {p.institution_id: p.events for p in deaths.points}[generated["ids"][0]]) == (2, 2)
    # The city's regulator sees its institutions against the provincial rate; city 2 sees none.
    assert {p.institution_id for p in (await funnel.funnel(await region_actor("regulator_city2"), CODE)).points} == set()
    with pytest.raises(NotFound):  # a hospital's user reads no province's funnel
        await funnel.funnel(await actor("medaffairs_a"), CODE)
    drill = await funnel.institution_cases(province, CODE, "complication", generated["outlier"])
    assert len(drill["cases"]) == N and sum(c["event"] for c in drill["cases"]) == 50
    assert all(c["event"] for c in drill["cases"][:50])
    with pytest.raises(NotFound):
        await funnel.institution_cases(await region_actor("regulator_city2"), CODE, "complication",
                                       generated["outlier"])


@pytest.mark.browser
async def test_browser_funnel_marks_the_outlier_and_drills_to_its_cases(generated, page_as):
    page = await page_as("regulator_province")
    await page.goto("/")
    await page.click("nav.side >> text=质控漏斗图")
    await page.select_option("#funnel-filters select[name=code]", CODE)
    await page.click("#funnel-filters button")
    await page.locator("#funnel-chart svg circle.outlier").wait_for()
    # The plot marks exactly one institution, the generated outlier (25% against 7.86%), by name.
    assert await page.locator("#funnel-chart svg circle.outlier").count() == 1
    outlier = page.locator("#funnel-chart svg circle.outlier")
    assert await outlier.get_attribute("data-institution") == str(generated["outlier"])
    assert (await outlier.locator("title").text_content()).startswith("漏斗测试医院7：50/200，25.0%")
    row = page.locator(f"#funnel-table tr[data-institution='{generated['outlier']}']")
    assert await row.get_attribute("data-flag") == "high998"
    assert "高于99.8%控制限" in await row.inner_text() and "25.0%" in await row.inner_text()
    assert await page.locator("#funnel-table tr[data-flag=in]").count() == 6
    await row.locator("a").click()
    await page.wait_for_url(f"**/institutions/{generated['outlier']}?measure=complication")
    assert await page.locator("#drill-cases tr[data-case]").count() == N
