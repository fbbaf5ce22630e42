"""In Chromium, in the Jilin deployment: a case of a filed restricted technology operated by a
physician who is not on the filing's list of physicians (JL-12 (六)) — the regulator of the
city runs 重新检测 and sees the warning, the hospital's medical affairs explains it with a
PDF, the regulator reads the answer and closes it; the hospital's credit score (NAT-39)
shows the points lost, linked to the warning and to the case, and the hospital answers it.

Two warnings name the case: the operator is not on the filing's physician list (JL-12, the
``unauthorised_operator`` detector) and holds no authorisation for the technology on the
operation date (JL-21, the people area's ``operator_without_authorisation``); the walk
answers and closes the first."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.admission_helpers import PDF
from tests.case_helpers import admitted, release_obligations
from tests.province_browser import shot
from tests.supervision_helpers import cases_record, completed_filing

pytestmark = pytest.mark.browser


@pytest.mark.rule("JL-12")
@pytest.mark.rule("NAT-41")
@pytest.mark.rule("NAT-39")
@pytest.mark.rule("JL-21")
async def test_jl12_regulator_sees_unauthorised_operator_hospital_explains_regulator_closes(deployment, page_as):
    hooks = deployment["host"].view()
    project = await admitted(hooks, tech_index=10)
    await completed_filing(hooks, project)
    [case] = await cases_record(hooks, project, operators=["depthead_a"], assistants=[])
    try:
        regulator = await page_as("regulator_city1")
        await regulator.goto("/warnings")
        await regulator.click("#evaluate-form button")
        await regulator.wait_for_url("**/warnings?evaluated=*")
        assert "检测完成" in await regulator.inner_text("#evaluated")
        # The operator holds no authorisation for it either (the people area's authorisations):
        # the JL-21 warning lists the case too.
        authorisation = regulator.locator("#warnings tr[data-rule=operator_without_authorisation]").first
        assert "JL-21" in await authorisation.inner_text()
        await authorisation.locator("a").first.click()
        await regulator.wait_for_url("**/warnings/*")
        assert await regulator.locator(f"#warning-records a[href='/cases/{case.id}']").count() == 1
        await regulator.go_back()
        row = regulator.locator("#warnings tr[data-rule=unauthorised_operator]").first
        assert "JL-12" in await row.inner_text() and "术者不在备案的医师名单内" in await row.inner_text()
        await row.locator("a").first.click()
        await regulator.wait_for_url("**/warnings/*")
        warning_url = regulator.url
        assert "不在该技术备案的医师名单内" in await regulator.inner_text("#warning-text")
        assert await regulator.locator(f"#warning-records a[href='/cases/{case.id}']").count() == 1
        await shot(regulator, "sup-01-warning")

        hospital = await page_as("medaffairs_a")
        await hospital.goto(urlparse(warning_url).path)
        assert await hospital.inner_text("#warning-status") == "机构已查看"
        await hospital.click("#answer-form button[type=submit]")  # nothing filled: refused, named
        assert "请选择答复方式" in await hospital.inner_text("#answer-form")
        await hospital.check("#answer-form input[value=explained]")
        await hospital.fill("#answer-form textarea[name=answer]", "该医师已完成规范化培训，将补充备案医师名单")
        await hospital.set_input_files("#answer-form input[name=files]",
                                       files=[{"name": "培训证明.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        await hospital.click("#answer-form button[type=submit]")
        await hospital.wait_for_url("**?ok=answered")
        assert await hospital.inner_text("#warning-status") == "机构已说明"

        await regulator.reload()
        assert "将补充备案医师名单" in await regulator.inner_text("#warning-answer")
        assert await regulator.locator("#warning-history a:has-text('培训证明.pdf')").count() == 1
        await regulator.fill("#close-form textarea[name=note]", "已核实培训证明，责令补充备案医师名单后关闭")
        await regulator.click("#close-form button[type=submit]")
        await regulator.wait_for_url("**?ok=closed")
        assert await regulator.inner_text("#warning-status") == "已关闭"
        await shot(regulator, "sup-02-closed")
        await hospital.reload()
        assert "责令补充备案医师名单" in await hospital.inner_text("#warning-close-note")
        assert await hospital.locator("#answer-form").count() == 0

        # NAT-39: the hospital's credit score shows the point lost, linked to the warning and the case.
        warning_path = urlparse(warning_url).path
        await hospital.click("nav.side >> text=信誉评分")
        await hospital.wait_for_url("**/credit/*")
        loss = hospital.locator(f"#credit-warnings tr.loss:has(a[href='{warning_path}'])")
        assert await loss.locator("td").first.inner_text() == "−5.0"
        assert await loss.locator(f"a[href='/cases/{case.id}']").count() == 1
        await shot(hospital, "sup-03-credit")
        await loss.locator(f"a[href='/cases/{case.id}']").click()
        await hospital.wait_for_url(f"**/cases/{case.id}")
        await hospital.go_back()
        await hospital.select_option("#credit-answer-form select[name=item]", "warnings")
        await hospital.fill("#credit-answer-form textarea[name=text]", "所涉医师已补充备案，申请复核")
        await hospital.click("#credit-answer-form button[type=submit]")
        await hospital.wait_for_url("**ok=answered")
        assert "申请复核" in await hospital.inner_text("#credit-answers")
        await regulator.goto("/credit")
        await regulator.click(f"#credit-scores tr[data-institution='{deployment['hospital_a']}'] a")
        await regulator.wait_for_url("**/credit/*")
        assert "申请复核" in await regulator.inner_text("#credit-answers")
    finally:
        await release_obligations()


@pytest.mark.rule("NAT-24")
@pytest.mark.rule("JL-25")
async def test_nat24_jl25_anonymous_disclosure_page_and_the_qc_page_show_the_same_cumulative_count(
        deployment, page_as):
    """In Chromium: an anonymous visitor opens hospital A's 院务公开 page — its restricted
    technology with filing date and cumulative cases (a voided case left out), the
    grading catalogue one click away; medical affairs' QC page of the technology shows the
    same cumulative count whatever the period chosen."""
    import datetime as dt

    from core.cases import corrections
    from core.filing.tables import Filing
    from core.grading import service as grading
    from core.grading.tables import GradingEdition
    from tests.admission_helpers import actor

    hooks = deployment["host"].view()
    a = deployment["hospital_a"]
    project = await admitted(hooks, tech_index=11)
    filing_id = await completed_filing(hooks, project)
    recorded = [c for _ in range(3) for c in await cases_record(hooks, project, operators=["clinician_a"])]
    await corrections.void(await actor("medaffairs_a"), hooks, recorded[0].id, "重复登记，作废此病例")
    if await grading.edition_in_force(a) is None:
        await GradingEdition.insert(GradingEdition(uid=f"{a}:browser", institution=a, number=99,
                                                   effective_on=dt.date(2026, 1, 1), basis="管理委员会审定"))
    code = (await Filing.select(Filing.technology_code).where(Filing.id == filing_id).first())["technology_code"]
    try:
        public = await page_as(None)
        await public.goto(f"/public/institutions/{a}")
        row = public.locator(f"#disclosure tr[data-technology='{code}']")
        cells = await row.locator("td").all_inner_texts()
        assert cells[1] == "2026-03-20" and cells[2] == "2" and cells[3] == "已备案"
        assert await public.get_attribute("#open-data-link", "href") == f"/open-data/institutions/{a}/disclosure.csv"
        await shot(public, "sup-04-disclosure")
        await public.click("#grading-link")
        await public.wait_for_url(f"**/public/grading/{a}")
        assert await public.locator("h1:has-text('手术分级管理目录')").count() == 1

        hospital = await page_as("medaffairs_a")
        for query in ("", "?since=2026-03-10&until=2026-03-10"):
            await hospital.goto(f"/qc/technology/{code}{query}")
            assert await hospital.inner_text(f"#qc-cumulative tr[data-institution='{a}'] td.num") == "2"
    finally:
        await release_obligations()
