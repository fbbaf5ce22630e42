"""A regulator's evaluation (seed 003) in a real Chromium: started on an EVAL-5 trigger, a
panel of 7 experts, a 4-of-7 sitting without a conclusion, a second sitting where one
expert is recused and 5 agree — a valid "restricted" conclusion (EVAL-7, EVAL-8) — and the
catalogue shows the new entry from its date of effect, not the day before.

"Today" is frozen for the server (``core.clock``), so the dates are the test's own."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock

pytestmark = pytest.mark.browser

TODAY = dt.date(2026, 5, 11)
EFFECTIVE = dt.date(2026, 6, 1)
FIELDS = ["clinical", "clinical", "clinical", "management", "management", "ethics", "ethics"]


async def submit(page, selector: str) -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def record_sitting(page, votes: list[tuple[str, str]], outcome: str = "restricted") -> None:
    rows = page.locator("#sitting-form tbody tr[data-expert]")
    assert await rows.count() == 7
    for i, (vote, opinion) in enumerate(votes):
        row = rows.nth(i)
        await row.locator(f"input[type=radio][value={vote}]").check()
        if opinion:
            await row.locator("input[name^=opinion_]").fill(opinion)
    await page.check(f"#sitting-form input[name=outcome][value={outcome}]")
    await page.fill("#sitting-form textarea[name=recommendation]", "技术难度大、风险高，建议列入省级限制类技术目录严格管理")
    await page.fill("#sitting-form input[name=effective_on]", EFFECTIVE.isoformat())
    await submit(page, "#sitting-form button.primary")


async def catalogue_codes(page, code: str) -> list[str]:
    await page.goto(f"/catalog?q={code}")
    return await page.locator("#catalog-table tbody tr[data-code]").evaluate_all("rows => rows.map(r => r.dataset.code)")


@pytest.mark.rule("EVAL-7")
@pytest.mark.rule("EVAL-8")
async def test_a_seven_expert_panel_with_one_recusal_concludes_restricted_and_the_catalogue_follows(
        deployment, page_as):
    with clock.frozen(TODAY):
        page = await page_as("regulator_province")
        await page.get_by_role("link", name="技术评估").first.click()
        await page.wait_for_url("**/evaluations")
        await page.select_option("#start-form select[name=technology]", "outside")
        await page.fill("#start-form input[name=technology_code]", "BX01")
        await page.fill("#start-form input[name=technology_name]", "浏览器测试介入技术")
        await page.select_option("#start-form select[name=domain]", "medical")
        await page.select_option("#start-form select[name=trigger]", "2")
        await page.fill("#start-form textarea[name=situation]", "三家医疗机构报告非操作因素导致的严重不良事件")
        await submit(page, "#start-form button.primary")
        assert await page.locator("#status").get_attribute("data-status") == "investigating"

        for i, field in enumerate(FIELDS):
            await page.fill(f"#panel-form input[name=name_{i}]", f"专家{i + 1}")
            await page.fill(f"#panel-form input[name=affiliation_{i}]", "省医学会")
            await page.select_option(f"#panel-form select[name=field_{i}]", field)
        await submit(page, "#panel-form button")
        assert await page.locator("#panel tbody tr[data-expert]").count() == 7
        assert "至少 5 名专家同意" in await page.locator("#panel").inner_text()

        # 4 of 7: not more than two thirds — no conclusion; the panel sits again.
        await record_sitting(page, [("agree", "")] * 4 + [("disagree", "证据不足")] * 3)
        assert "未形成有效结论" in await page.locator("#ok").inner_text()
        assert await page.locator("#status").get_attribute("data-status") == "panel"
        assert await page.locator(".sitting[data-valid=no]").count() == 1

        # One expert recused for a conflict of interest, 5 agree of the 7: valid.
        await record_sitting(page, [("agree", "")] * 5 + [("recuse", "本人所在医院为该技术主要开展单位"),
                                                          ("disagree", "建议继续观察")])
        assert await page.locator("#status").get_attribute("data-status") == "concluded"
        conclusion = await page.locator("#conclusion").inner_text()
        assert "列入限制类技术目录" in conclusion and EFFECTIVE.isoformat() in conclusion
        second = await page.locator(".sitting[data-valid=yes]").inner_text()
        assert "同意 5、不同意 1、回避 1" in second and "本人所在医院为该技术主要开展单位" in second
        assert "国家卫生健康委医政司" in await page.locator("#outbox-status").inner_text()  # EVAL-10

        assert await catalogue_codes(page, "BX01") == []  # not yet in effect
    with clock.frozen(EFFECTIVE - dt.timedelta(days=1)):
        assert await catalogue_codes(page, "BX01") == []
    with clock.frozen(EFFECTIVE):
        assert await catalogue_codes(page, "BX01") == ["BX01"]
        row = await page.locator("#catalog-table tbody tr[data-code=BX01]").inner_text()
        assert "浏览器测试介入技术" in row and "限制类" in row


@pytest.mark.rule("EVAL-8")
@pytest.mark.rule("NAT-25")
async def test_a_prohibited_conclusion_stops_the_hospital_which_is_told_and_finds_it_on_its_page(
        deployment, page_as):
    """EVAL-8 (一) walked in Chromium: the province concludes "prohibited" for a technology
    hospital A uses; hospital A's medical affairs opens the notice, whose link shows the
    technology stopped as prohibited from the date of effect with the conclusion as its
    document; the licence department's desk lists it; no dead link on the way."""
    from tests.case_helpers import admitted, release_obligations
    from tests.test_browser_lifecycle import dead_links

    name = "浏览器禁止测试技术"
    project_id = await admitted(deployment["host"].view(), tech_class="routine", title=name,
                                today=dt.date(2026, 3, 2))
    dead: list[str] = []
    try:
        with clock.frozen(TODAY):
            page = await page_as("regulator_province")
            await page.goto("/evaluations")
            await page.select_option("#start-form select[name=technology]", "outside")
            await page.fill("#start-form input[name=technology_name]", name)
            await page.select_option("#start-form select[name=domain]", "medical")
            await page.select_option("#start-form select[name=trigger]", "4")
            await page.fill("#start-form textarea[name=situation]", "国际上已淘汰该技术，国内有新的循证医学证据证明存在安全问题")
            await submit(page, "#start-form button.primary")
            for i, field in enumerate(FIELDS):
                await page.fill(f"#panel-form input[name=name_{i}]", f"专家{i + 1}")
                await page.select_option(f"#panel-form select[name=field_{i}]", field)
            await submit(page, "#panel-form button")
            await record_sitting(page, [("agree", "")] * 6 + [("disagree", "建议继续观察")], outcome="prohibited")
            assert await page.locator("#status").get_attribute("data-status") == "concluded"
            dead += await dead_links(page)
            # Before its date of effect the hospital sees it decided, not yet in force.
            early = await page_as("medaffairs_a")
            await early.goto(f"/lifecycle/institutions/{deployment['hospital_a']}/P{project_id}")
            assert await early.locator("#use-state [data-use=in_use]").count() == 1
            assert EFFECTIVE.isoformat() in await early.locator("#pending-restriction").inner_text()
        with clock.frozen(EFFECTIVE):
            ma = await page_as("medaffairs_a")
            await ma.goto("/inbox")
            notice = ma.locator("#inbox li", has_text=name).filter(has_text="禁止类技术").first.locator("a")
            async with ma.expect_navigation():
                await notice.click()
            assert f"P{project_id}" in ma.url
            state = await ma.locator("#use-state").inner_text()
            assert "停止" in state and "禁止类技术" in state and "EVAL-8" in state
            assert await ma.locator("#resume").count() == 0  # never resumed (NAT-9)
            assert "评估" in await ma.locator("#history tr[data-action=stop]").inner_text()
            dead += await dead_links(ma)
            city = await page_as("regulator_city1")
            await city.goto("/lifecycle/desk")
            assert name in await city.content()
            dead += await dead_links(city)
        assert dead == []
    finally:
        await release_obligations()
