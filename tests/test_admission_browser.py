"""新技术准入 in a real Chromium, through the logins of every role involved.

"Today" is the real date for clicks; the jobs that end publicity (HOSP-10) and cancel a
lapsed admission (HOSP-7) are run by the test with an explicit later date — no sleeps.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from core.admission import service
from core.admission.tables import Project
from tests.admission_helpers import actor, valid_form

pytestmark = pytest.mark.browser

TEXT = "本院心内科已具备开展条件，相关说明详见附件材料。"


async def goto_project(page, project_id: int) -> None:
    await page.goto(f"/admission/projects/{project_id}")


async def post(page, selector: str) -> None:
    """Click a submit button and wait for the next page (a 303 back to the project)."""
    async with page.expect_navigation():
        await page.click(selector)


async def create(page, title: str, *, path: str = "round", technology: str | None = None) -> int:
    await page.goto("/admission")
    await page.fill("#new-project input[name=title]", title)
    if technology:
        await page.select_option("#new-project select[name=technology_id]", technology)
    await page.select_option("#new-project select[name=path]", path)
    await post(page, "#new-project button.primary")
    return int(page.url.rsplit("/", 1)[1])


async def fill_application(page, answers: dict) -> None:
    for key, value in answers.items():
        if isinstance(value, list):
            for i, row in enumerate(value):
                for col, cell in row.items():
                    await page.fill(f'[name="{key}__{i}__{col}"]', cell)
        elif key in ("grade", "subject"):  # chosen, not typed (NAT-43: the licence's subjects)
            await page.select_option(f"select[name={key}]", value)
        else:
            await page.fill(f'[name="{key}"]', value)


async def decide(page, project_id: int, decision: str = "approve", reason: str = "同意", considerations=False):
    await goto_project(page, project_id)
    if considerations:
        for key in ("planned", "cultivate", "equipment", "fees"):
            await page.fill(f"#decide-form [name=c_{key}]", "已在科室专项论证会上逐项讨论")
    await page.check(f"#decide-form input[name=decision][value={decision}]")
    await page.fill("#decide-form textarea[name=reason]", reason)
    await post(page, "#decide-form button.primary")


async def vote(page, project_id: int, *, restricted: bool = False, score: bool = False):
    await goto_project(page, project_id)
    if score:
        await page.fill("#vote-form [name=score]", "88")
        if restricted:
            for key in ("qualification", "plan", "qc"):
                await page.fill(f"#vote-form [name=s_{key}]", "85")
    await page.check("#vote-form input[name=vote][value=approve]")
    await post(page, "#vote-form button.primary")


async def panel(page, project_id: int, expert_id: int):
    await goto_project(page, project_id)
    await page.check(f"#panel-form input[name=experts][value='{expert_id}']")
    await post(page, "#panel-form button.primary")


async def status(page, project_id: int) -> str:
    await goto_project(page, project_id)
    return await page.locator("#status").get_attribute("data-status")


async def step_of(project_id: int) -> str | None:
    return (await Project.select(Project.current_step).where(Project.id == project_id).first())["current_step"]


async def restricted_choice(hooks) -> str:
    from core.catalog import service as catalog

    await catalog.ensure_synced(hooks.host)
    return str((await catalog.choices(hooks, classes=("restricted",)))[0].id)


@pytest.mark.rule("HOSP-11")
async def test_routine_and_restricted_projects_from_draft_to_university_filing(deployment, page_as):
    """HOSP-4 round → HOSP-4 argumentation → HOSP-7/21 ethics → HOSP-8 formal review →
    HOSP-9 experts → HOSP-10 publicity with an objection → head's approval → document →
    HOSP-11 filing; HOSP-17 monitoring 1 and 2 years."""
    hooks = deployment["host"].view()
    today = clock.today()
    ma = await page_as("medaffairs_a")
    await ma.goto("/admission/rounds")
    await ma.fill("#open-round [name=year]", str(today.year))
    await ma.fill("#open-round [name=opens_on]", f"{today.year}-01-01")
    await ma.fill("#open-round [name=closes_on]", f"{today.year}-12-31")
    await post(ma, "#open-round button.primary")
    round_row = await service.current_round(deployment["hospital_a"], today)
    assert round_row is not None
    try:
        clinician = await page_as("clinician_a")
        routine = await create(clinician, "浏览器常规类新技术")
        restricted = await create(clinician, "浏览器限制类新技术", technology=await restricted_choice(hooks))
        # Per-field validation as the user leaves the field (htmx), then the whole form.
        await clinician.fill("[name=significance]", "太短")
        await clinician.press("[name=significance]", "Tab")
        await clinician.locator('#err-significance .field-error:has-text("HOSP-8")').wait_for()
        await fill_application(clinician, valid_form(planned_start=""))
        await post(clinician, "#application-form button[value=submit]")
        errors = await clinician.locator("#errors").all_inner_texts()
        assert await clinician.locator("#status").get_attribute("data-status") == "in_review", errors
        await goto_project(clinician, routine)
        await fill_application(clinician, valid_form(planned_start=""))
        await post(clinician, "#application-form button[value=submit]")

        depthead = await page_as("depthead_a")
        badge = await depthead.locator('nav.side a[href="/admission"] .badge').inner_text()
        assert int(badge) >= 2
        for pid in (routine, restricted):
            await decide(depthead, pid, considerations=True)
        ethics = await page_as("ethics_a")
        for pid in (routine, restricted):
            await vote(ethics, pid)
            assert await step_of(pid) == "formal"
        expert_id = (await actor("expert_a")).id
        for pid in (routine, restricted):
            await decide(ma, pid, reason="形式审查合格，同意提交专家论证")
            await panel(ma, pid, expert_id)
        expert = await page_as("expert_a")
        await vote(expert, routine, score=True)
        await vote(expert, restricted, restricted=True, score=True)
        for pid in (routine, restricted):
            await decide(ma, pid, reason="专家组一致同意")
            assert await step_of(pid) == "publicity"

        # HOSP-10: every hospital user reads the publicity page and may object.
        qc = await page_as("qc_a")
        await qc.goto("/admission/publicity")
        assert await qc.locator(f'a[href="/admission/projects/{routine}"]').count() == 1
        await goto_project(qc, routine)
        await qc.fill("#objection-form textarea[name=text]", "请明确质控指标的统计口径")
        await post(qc, "#objection-form button")
        await goto_project(ma, routine)
        await ma.fill("#objections textarea[name=answer]", "已在质控指标中补充统计口径")
        await post(ma, "#objections button")
        # Two weeks on: past the publicity week even when its last day falls on a weekend.
        assert sorted(await service.close_due_publicity(hooks, today + dt.timedelta(days=14))) >= sorted(
            [routine, restricted])

        head = await page_as("head_a")
        for pid in (routine, restricted):
            await decide(head, pid, reason="同意准入")
        for pid in (routine, restricted):
            await goto_project(ma, pid)
            await post(ma, "#document-form button")
            await post(ma, "#filing-form button")
            assert await ma.locator("#status").get_attribute("data-status") == "admitted"
            assert await ma.locator('#timeline tr[data-decision="filing"]').count() == 1
        from core.outbox.tables import Delivery

        delivery = await Delivery.select().where((Delivery.subject_type == "project")
                                                 & (Delivery.subject_id == restricted)).first().output(load_json=True)
        assert delivery["channel"] == "university"
        assert [a["key"] for a in delivery["attachments"]] == ["application", "approval"]
        await goto_project(clinician, restricted)
        info = await clinician.locator(".alert.info").inner_text()
        assert "等待首例病例" in info and "报大学教务处备案" in info
        rows = {r["id"]: r for r in await Project.select().where(Project.id.is_in([routine, restricted]))}
        assert rows[routine]["monitoring_until"].year == today.year + 1
        assert rows[restricted]["monitoring_until"].year == today.year + 2
        pdf = await clinician.request.get(f"/admission/projects/{restricted}/pdf/approval")
        assert pdf.ok and (await pdf.body()).startswith(b"%PDF")
    finally:
        await service.close_round(await actor("medaffairs_a"), round_row["id"])


async def walk_temporary_to_head(pages: dict, project_id: int, *, ethics: bool) -> None:
    """Department check → ethics (or HOSP-7 proceed) → experts → office → head (HOSP-12)."""
    ma = pages["medaffairs_a"]
    await decide(pages["depthead_a"], project_id, reason="科室领导审核同意")
    if ethics:
        await vote(pages["ethics_a"], project_id)
    else:
        await goto_project(ma, project_id)
        await ma.fill("#proceed-form textarea[name=reason]", "伦理委员会下次会议在两个月后，临床急需")
        await post(ma, "#proceed-form button")
    await panel(ma, project_id, (await actor("expert_a")).id)
    await vote(pages["expert_a"], project_id, score=True)
    await decide(ma, project_id, reason="专家同意")
    await decide(ma, project_id, reason="逐级呈批")
    await decide(pages["head_a"], project_id, reason="院长审签同意")


@pytest.mark.rule("HOSP-12")
async def test_temporary_path_outside_the_round(deployment, page_as):
    """HOSP-12: department leaders → ethics → experts by grade and class → up the chain →
    the head signs → filed with the university."""
    pages = {u: await page_as(u) for u in ("clinician_a", "depthead_a", "ethics_a", "medaffairs_a", "expert_a",
                                            "head_a")}
    clinician = pages["clinician_a"]
    project_id = await create(clinician, "浏览器临时准入", path="temporary")
    await fill_application(clinician, valid_form(planned_start=""))
    await post(clinician, "#application-form button[value=submit]")
    await walk_temporary_to_head(pages, project_id, ethics=True)
    ma = pages["medaffairs_a"]
    await goto_project(ma, project_id)
    assert await ma.locator("#status").get_attribute("data-status") == "admitted"
    await post(ma, "#filing-form button")
    assert await ma.locator('#timeline tr[data-decision="filing"]').count() == 1
    assert await step_of(project_id) is None


@pytest.mark.rule("HOSP-7")
async def test_ethics_approval_lapses_and_the_admission_is_cancelled(deployment, page_as):
    """HOSP-7: medical affairs lets the application proceed without ethics approval; 3 months
    after admission without the approval, the daily job cancels it and everyone is told."""
    pages = {u: await page_as(u) for u in ("clinician_a", "depthead_a", "medaffairs_a", "expert_a", "head_a")}
    clinician = pages["clinician_a"]
    project_id = await create(clinician, "浏览器伦理逾期", path="temporary")
    await fill_application(clinician, valid_form(planned_start=""))
    await post(clinician, "#application-form button[value=submit]")
    await walk_temporary_to_head(pages, project_id, ethics=False)
    await goto_project(clinician, project_id)
    assert "须于" in await clinician.locator(".alert.info").inner_text()
    row = await Project.select().where(Project.id == project_id).first()
    hooks = deployment["host"].view()
    assert project_id not in await service.cancel_lapsed(hooks, row["ethics_due"])
    assert project_id in await service.cancel_lapsed(hooks, row["ethics_due"] + dt.timedelta(days=1))
    assert await status(clinician, project_id) == "cancelled"
    assert "3个月内未提交伦理审查证明" in await clinician.locator(".alert.error").inner_text()
    await clinician.goto("/inbox")
    assert await clinician.locator("text=准入资格已取消").count() >= 1
