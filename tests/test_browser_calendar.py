"""The admin's calendar page in a real Chromium: the htmx widgets and entering a notice.

Screenshots go to ``$CLINTECH_SCREENSHOTS`` when it is set, else the test's temporary directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_calendar import SAMPLE_2027

pytestmark = pytest.mark.browser


@pytest.fixture
async def clean_2027_browser(deployment):
    import datetime as dt

    from core.holidays.tables import HolidayOverride

    async def wipe():
        await HolidayOverride.delete().where(
            (HolidayOverride.day >= dt.date(2027, 1, 1)) & (HolidayOverride.day <= dt.date(2027, 12, 31)))

    await wipe()
    yield
    await wipe()


@pytest.mark.rule("CAL-4")
async def test_cal4_admin_checks_dates_and_enters_the_2027_notice_in_the_browser(page_as, clean_2027_browser, tmp_path):
    shots = Path(os.environ.get("CLINTECH_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page = await page_as("admin")
    await page.goto("/admin/calendar")
    await page.get_by_role("link", name="节假日日历").wait_for()

    # check a date over htmx: the answer replaces only the result box
    await page.fill("input[name=day]", "2025-10-11")
    await page.get_by_role("button", name="是否工作日").click()
    await page.locator("#check-result [data-working=yes]").wait_for()
    assert "调休上班（国庆节）" in await page.locator("#check-result").inner_text()

    # add 15 working days across the new year: provisional before the notice
    await page.fill("input[name=start]", "2026-12-20")
    await page.fill("input[name=n]", "15")
    await page.get_by_role("button", name="计算", exact=True).click()
    await page.locator('#preview-result [data-date="2027-01-08"]').wait_for()
    assert "暂按周末推算：2027年节假日安排尚未录入" in await page.locator("#preview-result").inner_text()

    # a bad line: the page answers with the line number and keeps the text
    await page.fill("input[name=year]", "2027")
    await page.fill("textarea[name=text]", SAMPLE_2027 + "2027-02-10 调休上班\n")
    await page.get_by_role("button", name="保存", exact=True).click()
    await page.locator(".field-error", has_text="调休上班日 2027-02-10 是星期三").wait_for()
    assert "2027-02-10 调休上班" in await page.input_value("textarea[name=text]")

    await page.fill("textarea[name=text]", SAMPLE_2027)
    await page.get_by_role("button", name="保存", exact=True).click()
    await page.locator('[data-saved="2027"]').wait_for()
    await page.fill("input[name=start]", "2026-12-20")
    await page.fill("input[name=n]", "15")
    await page.get_by_role("button", name="计算", exact=True).click()
    await page.locator('#preview-result [data-date="2027-01-11"]').wait_for()
    assert "暂按周末推算" not in await page.locator("#preview-result").inner_text()
    await page.screenshot(path=str(shots / "admin-calendar.png"), full_page=True)
