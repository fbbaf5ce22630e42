"""In Chromium (issue 11): medical affairs corrects and voids a reported case (the void
asks for confirmation first); the case page tells the report's state honestly."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from core import clock
from core.cases import service as cases
from tests.admission_helpers import actor
from tests.case_helpers import admitted, case_input, release_obligations

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CLINTECH_SHOTS", "")


async def shot(page, name: str) -> None:
    if SHOTS:
        await page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.mark.rule("NAT-37")
async def test_nat37_medical_affairs_corrects_then_voids_a_case_in_the_browser(deployment, page_as):
    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=13)
    try:
        today = clock.today()
        [result] = await cases.record_cases(await actor("clinician_a"), hooks, [case_input(
            project_id, case_id="BROWSER-CORR-1", admitted_on=(today - dt.timedelta(days=9)).isoformat(),
            operated_on=(today - dt.timedelta(days=8)).isoformat(),
            discharged_on=(today - dt.timedelta(days=2)).isoformat())], source="page")
        page = await page_as("medaffairs_a")
        await page.goto(f"/cases/{result.id}")
        report = await page.locator("td[data-report]").inner_text()
        assert "待发送" in report and "已报送" not in report
        await shot(page, "case-before")
        form = page.locator("#correct-form")
        await form.locator("select[name=outcome]").select_option("worse")
        await form.locator("textarea[name=reason]").fill("转归录入错误，据出院小结更正")
        await form.locator("button[type=submit]").click()
        await page.wait_for_url("**/cases/*?saved=correct")
        history = await page.locator("#history").inner_text()
        assert "赵医务" in history and "转归录入错误" in history and "更正" in history
        await shot(page, "case-corrected")
        void = page.locator("#void-form")
        await void.locator("textarea[name=reason]").fill("重复登记")
        dialogs = []

        async def dismiss(dialog):
            dialogs.append(dialog.message)
            await dialog.dismiss()

        page.once("dialog", dismiss)
        await void.locator("button[type=submit]").click()
        assert dialogs and "作废" in dialogs[0]
        assert await page.locator("#voided-banner").count() == 0  # dismissed: nothing happened
        page.once("dialog", lambda dialog: dialog.accept())
        await void.locator("button[type=submit]").click()
        await page.wait_for_url("**/cases/*?saved=void")
        assert "重复登记" in await page.locator("#voided-banner").inner_text()
        await shot(page, "case-voided")
    finally:
        await release_obligations()


@pytest.mark.rule("NAT-11")
async def test_nat11_switching_jilin_off_asks_first_and_the_filing_stays_readable(deployment, page_as):
    from tests.test_tenancy import filing_of

    filing = await filing_of(deployment, deployment["hospital_a"])
    admin = await page_as("admin")
    await admin.goto("/admin/plugins")
    row = admin.locator("#plugin-jilin")
    await row.get_by_role("button", name="停用").click()
    confirm = row.locator("#confirm-off")
    await confirm.wait_for()
    text = await confirm.inner_text()
    assert "备案材料清单" in text and "只读可查" in text and "filing_materials" not in text
    await shot(admin, "plugin-confirm-off")
    await row.get_by_role("button", name="确认停用").click()
    await row.locator("[data-state=off]").wait_for()
    try:
        page = await page_as("medaffairs_a")
        response = await page.goto(f"/filings/{filing['filing_id']}")
        assert response.status == 200
        assert "只读可查" in await page.locator("#read-only").inner_text()
        await shot(page, "filing-read-only")
    finally:
        await admin.goto("/admin/plugins")
        await admin.locator("#plugin-jilin").get_by_role("button", name="启用").click()
        await admin.locator("#plugin-jilin [data-state=on]").wait_for()


async def test_regulator_reads_a_case_of_the_region_and_a_user_opens_their_account(deployment, page_as):
    from tests.case_helpers import case_route

    case = await case_route(deployment, deployment["hospital_a"])
    page = await page_as("regulator_province")
    await page.get_by_role("link", name="辖区病例").click()
    await page.locator(f'a[href="/cases/{case["case_id"]}"]').click()
    await page.wait_for_url(f"**/cases/{case['case_id']}")
    main = await page.locator("main").inner_text()
    assert "患者（匿名）" in main and "更正病例" not in main
    await shot(page, "case-regulator")
    await page.locator(".who a").click()
    await page.wait_for_url("**/account")
    assert "当前会话" in await page.locator("#sessions").inner_text()
    await shot(page, "account")


async def test_saving_the_application_in_the_browser_keeps_the_typed_rows_and_no_more(deployment, page_as):
    """Issue 11 point 15, as a person does it: type one team member, save the draft again and
    again in Chromium — the form offers the same blank rows each time and stores exactly the
    typed one (the browser sends the blank rows too)."""
    from core.admission import service
    from core.admission.tables import Project

    clinician = await actor("clinician_a")
    project_id = await service.create_project(clinician, deployment["host"].view(), service.NewProject(
        title="浏览器表格行测试", path="temporary", outside_lists=True))
    page = await page_as("clinician_a")
    await page.goto(f"/admission/projects/{project_id}")
    names = page.locator("input[name^='team__'][name$='__name']")
    offered = await names.count()  # blank rows to type into, nothing stored yet
    assert offered >= 1
    await names.nth(0).fill("张医生")
    await page.locator("input[name='team__0__title']").fill("主治医师")
    for _ in range(3):
        await page.get_by_role("button", name="保存草稿").click()
        await page.wait_for_url(f"**/admission/projects/{project_id}*")
        await page.locator("p.alert.ok").wait_for()
        assert await names.nth(0).input_value() == "张医生"
        assert await names.count() == 1 + offered  # the one typed row plus the same blanks, not more
    form = (await Project.select(Project.form).where(Project.id == project_id).first().output(load_json=True))["form"]
    assert [(r["name"], r.get("title")) for r in form["team"]] == [("张医生", "主治医师")]
    assert form["evidence"] == [] and form["products"] == []
    await shot(page, "form-rows-saved")
