"""Steps the per-province browser walks share: the first case entered on the case page,
a page's text checked for another province's ids and wording, screenshots."""

from __future__ import annotations

import os
import re

from tests.filing_helpers import FIRST_CASE

SHOTS = os.environ.get("CLINTECH_SCREENSHOTS", "")


async def shot(page, name: str) -> None:
    """A full-page screenshot when CLINTECH_SCREENSHOTS names a folder (for a person to look at)."""
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        await page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


async def text_without(page, forbidden: re.Pattern, selector: str = "main") -> str:
    """The page's text, asserting none of ``forbidden`` (another province's ids and wording)."""
    text = await page.inner_text(selector)
    assert forbidden.findall(text) == [], (page.url, forbidden.findall(text))
    return text


async def enter_first_case(page, project_id: int, operator: str, case_id: str, rule: str) -> int:
    """登记首例: from the filing list's waiting project (its filing ``rule`` cited there) to the
    case form, entered and saved. Returns the case's id (its page)."""
    await page.click("nav.side >> text=限制类技术备案")
    assert rule in await page.inner_text("#filing-rule")
    await page.click(f"#waiting li[data-project='{project_id}'] >> text=登记首例病例")
    await page.wait_for_url(f"**/cases?technology_code=P{project_id}")
    assert await page.input_value("#case-form select[name=technology_code]") == f"P{project_id}"
    await page.fill("#case-form input[name=case_id]", case_id)
    await page.fill("#case-form input[name=patient_key]", f"PK-{case_id}")
    await page.fill("#case-form input[name=admitted_on]", FIRST_CASE.replace(day=FIRST_CASE.day - 1).isoformat())
    await page.fill("#case-form input[name=operated_on]", FIRST_CASE.isoformat())
    await page.fill("#case-form input[name=discharged_on]", FIRST_CASE.replace(day=FIRST_CASE.day + 5).isoformat())
    await page.select_option("#case-form select[name=operators]", [operator])
    await page.fill("#case-form textarea[name=indication]", "首例适应症明确")
    await page.select_option("#case-form select[name=outcome]", "improved")
    await page.fill("#case-form textarea[name=follow_up]", "术后随访无异常")
    for select in await page.locator("#indicator-fields select").all():
        await select.select_option("否")
    for field in await page.locator("#indicator-fields input").all():
        await field.fill("1")
    await page.check("#case-form input[name=consent]")
    await page.click("#case-form button[type=submit]")
    await page.wait_for_url("**/cases/*?saved=1")
    return int(page.url.split("/cases/")[1].split("?")[0])
