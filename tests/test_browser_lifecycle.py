"""In Chromium (issue 10 "Done means"): the province suspends a technology; hospital A's case
page and HIS API then refuse a case of it naming the rule; the public list shows the
suspension; the province lifts it and the case is accepted."""

from __future__ import annotations

import httpx
import pytest

from core import clock
from core.filing.tables import Filing
from tests.case_helpers import admitted, case, release_obligations, token_for
from tests.supervision_helpers import completed_filing

pytestmark = pytest.mark.browser

async def record_case(page, project_id: int, case_id: str) -> None:
    today = clock.today().isoformat()
    await page.goto("/cases/")
    await page.select_option("select[name=technology_code] >> nth=0", f"P{project_id}")
    await page.fill("input[name=case_id]", case_id)
    await page.fill("input[name=patient_key]", f"PK-{case_id}")
    for name in ("admitted_on", "operated_on", "discharged_on"):
        await page.fill(f"input[name={name}]", today)
    await page.select_option("select[name=operators]", "clinician_a")
    await page.check("input[name=consent]")
    await page.click("button:has-text('登记并报送')")


@pytest.mark.rule("JL-26")
@pytest.mark.rule("NAT-25")
@pytest.mark.rule("NAT-40")
async def test_jl26_province_suspends_cases_are_refused_public_list_says_so_until_lifted(
        deployment, page_as, live_server):
    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=10)
    try:
        row = await Filing.select().where(Filing.id == await completed_filing(hooks, project_id)).first()
        code = row["technology_code"]
        _, token = await token_for(deployment["hospital_a"])

        province = await page_as("regulator_province")
        await province.goto("/lifecycle/desk")
        await province.fill("#suspend-region input[name=technology_key]", code)
        await province.fill("#suspend-region textarea[name=reason]", "接报临床应用效果不确切，全省核查")
        await province.fill("#suspend-region input[name=document]", "吉卫医发〔2026〕11号")
        await province.click("#suspend-region button[type=submit]")
        await province.wait_for_url("**/lifecycle/desk?ok=region_suspend")
        assert "暂停中" in await province.locator("#region-suspensions").inner_text()

        clinician = await page_as("clinician_a")
        await record_case(clinician, project_id, "BROWSER-SUSP-1")
        refusal = clinician.get_by_text("暂停临床应用").first
        await refusal.wait_for()
        assert "JL-26" in await clinician.content()
        assert await clinician.input_value("input[name=case_id]") == "BROWSER-SUSP-1"  # input kept

        day = clock.today().isoformat()
        his = case(project_id, admitted_on=day, operated_on=day, discharged_on=day)
        async with httpx.AsyncClient(base_url=live_server) as client:
            response = await client.post("/api/v1/cases", json={"cases": [his]},
                                         headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 422 and response.json()["problems"][0]["rule"] == "JL-26"

        public = await page_as()
        await public.goto(f"/public/filings/technology/{code}")
        listed = await public.locator("#public-list").inner_text()
        assert "暂停" in listed and "JL-26" in listed

        await province.goto("/lifecycle/desk")
        lift = province.locator("#region-suspensions form").first
        await lift.locator("input[name=reason]").fill("核查完毕，确属个别机构问题，技术本身无问题")
        await lift.locator("button[type=submit]").click()
        await province.wait_for_url("**/lifecycle/desk?ok=region_lift")

        await record_case(clinician, project_id, "BROWSER-SUSP-2")
        await clinician.wait_for_url("**/cases/*?saved=1")
        await public.goto(f"/public/filings/technology/{code}")
        assert "在用" in await public.locator("#public-list").inner_text()
    finally:
        await release_obligations()
