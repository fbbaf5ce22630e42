"""In Chromium: a clinician records a case on the page (the indicator fields follow the
chosen technology over htmx) and sees it in the QC chart of that technology."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from tests.case_helpers import admitted, release_obligations

pytestmark = pytest.mark.browser


@pytest.mark.rule("NAT-37")
@pytest.mark.rule("HOSP-18")
async def test_nat37_clinician_records_a_case_and_sees_it_in_the_qc_chart(deployment, page_as):
    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=8)
    try:
        page = await page_as("clinician_a")
        await page.goto("/cases/")
        await page.select_option("select[name=technology_code] >> nth=0", f"P{project_id}")
        await page.locator('#indicator-fields select[name="qc:并发症发生率"]').wait_for()
        today = clock.today()
        await page.fill("input[name=case_id]", "BROWSER-CASE-1")
        await page.fill("input[name=patient_key]", "PK-BROWSER-1")
        await page.fill("input[name=admitted_on]", (today - dt.timedelta(days=9)).isoformat())
        await page.fill("input[name=operated_on]", (today - dt.timedelta(days=8)).isoformat())
        await page.fill("input[name=discharged_on]", (today - dt.timedelta(days=2)).isoformat())
        await page.select_option("select[name=operators]", "clinician_a")
        await page.fill("textarea[name=indication]", "冠心病")
        await page.select_option("select[name=outcome]", "improved")
        await page.select_option('select[name="qc:并发症发生率"]', "否")
        await page.click("button:has-text('登记并报送')")
        await page.get_by_text("知情同意").first.wait_for()
        assert "HOSP-18" in await page.content()  # refused without consent, input kept
        assert await page.input_value("input[name=case_id]") == "BROWSER-CASE-1"
        await page.check("input[name=consent]")
        await page.click("button:has-text('登记并报送')")
        await page.wait_for_url("**/cases/*?saved=1")
        assert "JL-38" in await page.content()
        await page.goto(f"/qc/technology/P{project_id}")
        chart = page.locator("#qc-trend svg")
        await chart.wait_for()
        assert await page.locator("#qc-cases").inner_text() == "1"
        assert "1 例" in await chart.inner_html()
    finally:
        await release_obligations()
