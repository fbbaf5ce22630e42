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
from tests.test_browser_filing_henan import henan_page, henan_server  # noqa: F401  (fixtures)

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


async def dead_links(page) -> list[str]:
    """Every in-portal link of the page that does not open (status 400 or more) for the
    same user: a walk must find none."""
    hrefs = await page.eval_on_selector_all("a[href^='/']", "els => els.map(e => e.getAttribute('href'))")
    dead = []
    for href in sorted(set(hrefs)):
        if "logout" in href:
            continue
        response = await page.request.get(href)
        if response.status >= 400:
            dead.append(f"{page.url} → {href}: {response.status}")
    return dead


@pytest.mark.rule("NAT-25")
@pytest.mark.rule("HOSP-20")
@pytest.mark.rule("NAT-11")
async def test_walk_stop_cancel_resume_as_every_role_without_a_dead_link(deployment, page_as, live_server):
    """A walk of one stop as every role it touches: medical affairs stops a restricted
    technology from its page (trigger, committee, meeting date); the licence department
    cancels the filing from its desk's stop report; the hospital head (the management
    committee's chair) and the province read it; the public list says so; medical affairs
    resumes by filing again and the next first case opens a new filing. Each page's
    links all open; no page claims a state that did not happen."""
    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=22)
    dead: list[str] = []
    try:
        filing_id = await completed_filing(hooks, project_id)
        row = await Filing.select().where(Filing.id == filing_id).first()
        code, a = row["technology_code"], deployment["hospital_a"]
        url = f"/lifecycle/institutions/{a}/{code}"

        ma = await page_as("medaffairs_a")
        await ma.goto("/lifecycle/")
        await ma.click(f"a[href='{url}']")
        await ma.wait_for_url(f"**{url}")
        assert await ma.locator("#stop").count() == 1
        dead += await dead_links(ma)
        await ma.check("#stop input[name=trigger][value=conditions]")
        await ma.fill("#stop input[name=committee]", "医疗技术临床应用管理委员会（院长等7人）")
        await ma.fill("#stop input[name=meeting_on]", clock.today().isoformat())
        await ma.fill("#stop textarea[name=reason]", "技术负责人调离，不能满足管理规范要求")
        async with ma.expect_navigation():
            await ma.click("#stop button[type=submit]")
        assert "已停止该技术的临床应用" in await ma.locator("#notice").inner_text()
        assert await ma.locator("#use-state [data-use=stopped]").count() == 1
        assert await ma.locator("#history tr[data-action=stop]").count() == 1
        dead += await dead_links(ma)

        head = await page_as("head_a")
        await head.goto(url)
        assert await head.locator("#use-state [data-use=stopped]").count() == 1
        assert await head.locator("#stop").count() == 0 and await head.locator("#resume").count() == 0
        dead += await dead_links(head)
        await head.goto("/evaluations/periodic")
        dead += await dead_links(head)

        city = await page_as("regulator_city1")
        await city.goto("/lifecycle/desk")
        dead += await dead_links(city)
        await city.goto(url)
        dead += await dead_links(city)
        await city.goto(f"/filings/{filing_id}")
        assert await city.locator("#stop-report").count() == 1
        async with city.expect_navigation():
            await city.click("form[action$='/cancel'] button[type=submit]")
        dead += await dead_links(city)

        province = await page_as("regulator_province")
        for path in ("/lifecycle/desk", url, "/evaluations"):
            await province.goto(path)
            dead += await dead_links(province)

        public = await page_as()
        await public.goto(f"/public/filings/technology/{code}")
        dead += await dead_links(public)
        await public.goto("/lifecycle/")
        assert "/login" in public.url  # no page for the public, no error

        await ma.goto(url)
        assert await ma.locator("#use-state [data-use=cancelled]").count() == 1
        await ma.fill("#resume input[name=committee]", "医疗技术临床应用管理委员会")
        await ma.fill("#resume input[name=meeting_on]", clock.today().isoformat())
        await ma.fill("#resume textarea[name=reason]", "新任技术负责人到岗，经评估符合规范，重新备案")
        async with ma.expect_navigation():
            await ma.click("#resume button[type=submit]")
        assert await ma.locator("#use-state [data-use=in_use]").count() == 1
        dead += await dead_links(ma)
        # The next first case opens a new filing (NAT-11): the workflow does not end here.
        await record_case(ma, project_id, "BROWSER-WALK-1")
        await ma.wait_for_url("**/cases/*?saved=1")
        assert await Filing.count().where((Filing.project == project_id) & (Filing.status == "open")) == 1
        assert dead == []
    finally:
        await release_obligations()


@pytest.mark.rule("NAT-22")
async def test_walk_periodic_adjust_reaches_the_technologys_page(deployment, page_as):
    """Medical affairs records an "adjust" evaluation in Chromium: a missing choice of what
    is adjusted is said in Chinese with the typing kept; once recorded, the evaluation's
    link opens the technology's page, which shows the adjustment; no dead link."""
    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=24)
    dead: list[str] = []
    try:
        row = await Filing.select().where(Filing.id == await completed_filing(hooks, project_id)).first()
        code = row["technology_code"]
        ma = await page_as("medaffairs_a")
        await ma.goto("/evaluations/periodic")
        await ma.select_option("#review-form select[name=technology_key]", code)
        await ma.fill("#review-form input[name=committee]", "医疗技术临床应用管理委员会")
        await ma.fill("#review-form textarea[name=findings]", "近一年并发症率上升，部分病例适应证把握偏宽")
        await ma.check("#review-form input[name=result][value=adjust]")
        await ma.fill("#review-form textarea[name=adjustments]", "适应证限于70岁以下患者")
        async with ma.expect_navigation():
            await ma.click("#review-form button.primary")
        assert "请选择调整的事项" in await ma.content()
        assert await ma.input_value("#review-form textarea[name=adjustments]") == "适应证限于70岁以下患者"
        await ma.check("#review-form input[name=adjustment_kinds][value=requirements]")
        async with ma.expect_navigation():
            await ma.click("#review-form button.primary")
        assert "调整已记入" in await ma.locator("#ok").inner_text()
        dead += await dead_links(ma)
        async with ma.expect_navigation():
            await ma.click("#reviews a:has-text('使用状态页') >> nth=0")
        assert "适应证限于70岁以下患者" in await ma.locator("#adjustments").inner_text()
        assert await ma.locator("#use-state [data-use=in_use]").count() == 1
        dead += await dead_links(ma)
        assert dead == []
    finally:
        await release_obligations()


@pytest.mark.rule("HN-4.2")
async def test_walk_henan_staff_change_refiles_and_resumes(henan_server, henan_page):  # noqa: F811
    """HN-4.2 in Chromium on a Henan deployment: medical affairs records the staff change on
    the technology's page, which suspends it and opens the re-filing it links to; the
    department's desk and the public list say it is suspended; once the department has
    completed the new filing the page says 在用 again. Henan's rule ids only; no dead link."""
    from core.filing import service as filing
    from tests.filing_helpers import HENAN_USERS, PDF, actor, region_actor
    from tests.test_browser_filing_henan import NOT_HENAN
    from tests.test_lifecycle import _henan_completed_filing

    hooks = henan_server["host"].view()
    project_id = await admitted(hooks, HENAN_USERS, tech_index=10)
    ma_actor = await actor(HENAN_USERS["medical_affairs"])
    department = await region_actor(HENAN_USERS["regulator"])
    dead: list[str] = []
    try:
        old_id = await _henan_completed_filing(hooks, project_id, ma_actor, department)
        code = (await Filing.select(Filing.technology_code).where(Filing.id == old_id).first())["technology_code"]
        url = f"/lifecycle/institutions/{ma_actor.institution_id}/{code}"
        ma = await henan_page(HENAN_USERS["medical_affairs"])
        await ma.goto(url)
        assert "HN-4.2" in await ma.locator("#refile").inner_text()
        await ma.fill("#refile textarea[name=reason]", "技术负责人调离，由副主任医师接任")
        async with ma.expect_navigation():
            await ma.click("#refile button[type=submit]")
        assert "开启重新备案" in await ma.locator("#notice").inner_text()
        assert await ma.locator("#use-state [data-use=suspended]").count() == 1
        assert await ma.locator("#lift").count() == 0
        dead += await dead_links(ma)
        assert not NOT_HENAN.search(await ma.locator("main").inner_text())
        async with ma.expect_navigation():
            await ma.click("#refiling a")
        new_id = int(ma.url.rstrip("/").rsplit("/", 1)[1].split("?")[0])
        assert new_id != old_id
        dead += await dead_links(ma)

        desk = await henan_page(HENAN_USERS["regulator"])
        await desk.goto("/lifecycle/desk")
        assert "技术负责人调离" in await desk.content()
        dead += await dead_links(desk)
        public = await henan_page()
        await public.goto(f"/public/filings/technology/{code}")
        listed = await public.locator("#public-list").inner_text()
        assert "暂停" in listed and "HN-4.2" in listed
        dead += await dead_links(public)

        row = await Filing.select().where(Filing.id == new_id).first().output(load_json=True)
        await filing.save_details(ma_actor, hooks, new_id, filing.FilingDetails(
            version=row["version"], self_assessment="新任技术负责人资质符合要求。", assessment_basis="consensus",
            assessment_reference="相关专业专家共识（2025版）", form={"phone": "0371-88888888"},
            physicians=row["physicians"]))
        for m in (await filing.filing_view(ma_actor, hooks, new_id)).materials:
            await filing.upload_material(ma_actor, hooks, new_id, m.key, f"w-{m.key}.pdf", PDF + b"w" + m.key.encode())
        await filing.submit(ma_actor, hooks, new_id)
        await filing.complete(department, hooks, new_id)
        await ma.goto(url)
        assert await ma.locator("#use-state [data-use=in_use]").count() == 1
        assert "重新备案已完成" in await ma.locator("#history").inner_text()
        await public.goto(f"/public/filings/technology/{code}")
        assert "在用" in await public.locator("#public-list").inner_text()
        assert dead == []
    finally:
        await release_obligations()
