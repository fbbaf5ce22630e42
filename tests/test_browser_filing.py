"""限制类技术备案 in a real Chromium, Jilin deployment: hospital A files a restricted
technology from its first case to the completed filing, through a return for missing
materials and an outage of the provincial platform, and the public list shows it.

The outbox worker is run by the test (``deliver_due``) against a real loopback receiver
that is first down, then answers garbage, then works.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.filing.tables import Filing
from core.outbox import service as outbox
from core.outbox.tables import Delivery
from tests.filing_helpers import FIRST_CASE, PDF, admitted_project
from tests.receiver import Receiver

pytestmark = pytest.mark.browser

JILIN_SIX = ["form", "self_assessment", "first_case", "argumentation", "lead_credentials", "physicians"]

@pytest.fixture(scope="module", autouse=True)
async def _forget_obligations(deployment):
    """Filing tests open obligations due in 2026; other tests' dashboards must not see them."""
    yield
    from tests.filing_helpers import forget_filing_obligations

    await forget_filing_obligations()



async def _upload(page, filing_id: int, key: str, tmp_path, content: bytes) -> None:
    file = tmp_path / f"{key}.pdf"
    file.write_bytes(content)
    await page.select_option("#upload select[name=material]", key)
    await page.set_input_files("#upload input[name=file]", str(file))
    await page.click("#upload button[type=submit]")
    await page.wait_for_url(f"**/filings/{filing_id}?ok=uploaded")


async def _deliver(hooks, filing_id: int, hours: int) -> None:
    ids = [d["id"] for d in await Delivery.select(Delivery.id).where(
        (Delivery.subject_type == "filing") & (Delivery.subject_id == filing_id))]
    await outbox.deliver_due(hooks, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours), delivery_ids=ids)


@pytest.mark.rule("JL-12")
async def test_jl12_filing_from_first_case_to_public_list_in_the_browser(deployment, page_as, tmp_path,
                                                                        monkeypatch):
    hooks = deployment["host"].view()
    receiver = Receiver()  # not started: the platform is down
    monkeypatch.setenv("CLINTECH_CHANNEL_JILIN_PLATFORM_URL", receiver.url)
    monkeypatch.setenv("CLINTECH_CHANNEL_JILIN_PLATFORM_TIMEOUT", "2")
    project_id = await admitted_project(hooks, title="浏览器备案演示")

    # Medical affairs records the first case: the filing opens with its JL-12 deadline.
    page = await page_as("medaffairs_a")
    await page.click("nav.side >> text=限制类技术备案")
    await page.select_option("#first-case select[name=project_id]", str(project_id))
    await page.fill("#first-case input[name=case_date]", FIRST_CASE.isoformat())
    await page.click("#first-case button[type=submit]")
    await page.wait_for_url("**/filings/*?ok=opened")
    filing_id = int(page.url.split("/filings/")[1].split("?")[0])
    assert "2026-03-30" in await page.inner_text("#deadlines")
    assert "缺少材料" in await page.inner_text("#missing")

    # Self-assessment and the form's phone; the staff table is prefilled with the lead.
    await page.fill("textarea[name=self_assessment]", "对照管理规范逐项自评，人员、设备、设施、质控均符合要求。")
    await page.fill("input[name=form_phone]", "0431-88888888")
    await page.fill("#physicians tbody tr:first-child input[name=phys_sex]", "男")
    await page.click("#details button[type=submit]")
    await page.wait_for_url(f"**/filings/{filing_id}?ok=saved")
    # A wrong file type is refused next to the field.
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf at all")
    await page.set_input_files("#upload input[name=file]", str(bad))
    await page.click("#upload button[type=submit]")
    assert "仅支持 PDF、JPG、PNG" in await page.inner_text("#upload")
    for key in JILIN_SIX:
        await _upload(page, filing_id, key, tmp_path, PDF + key.encode() + b"-browser")
    assert await page.locator("#complete-check").count() == 1
    await page.click("#submit button[type=submit]")
    await page.wait_for_url(f"**/filings/{filing_id}?ok=submitted")
    assert await page.get_attribute("#status", "data-status") == "submitted"

    # The platform is down, then answers garbage: the delivery shows it and keeps it.
    await _deliver(hooks, filing_id, 1)
    await page.reload()
    assert "无法连接对方系统" in await page.inner_text("#delivery")
    receiver.start()
    try:
        receiver.mode = "garbage"
        await _deliver(hooks, filing_id, 8)
        await page.reload()
        assert "无法识别的应答" in await page.inner_text("#delivery")
        receiver.mode = "healthy"
        await _deliver(hooks, filing_id, 16)
        await page.reload()
        assert await page.locator("#delivery [data-status=accepted]").count() == 1

        # The licence-issuing department (city 1) returns it for a missing stamp.
        desk = await page_as("regulator_city1")
        await desk.click("nav.side >> text=备案工作台")
        await desk.click(f"#desk tr[data-filing='{filing_id}'] a")
        await desk.click("#desk-actions form[action$='/return'] button")
        assert "请填写退回理由" in await desk.inner_text("#errors")
        await desk.fill("#desk-actions textarea[name=reason]", "备案表缺少医院公章")
        await desk.click("#desk-actions form[action$='/return'] button")
        await desk.wait_for_url(f"**/filings/{filing_id}?ok=returned")

        # Medical affairs uploads the stamped form as a new version and resubmits.
        await page.reload()
        assert "备案表缺少医院公章" in await page.inner_text("#return-reason")
        await _upload(page, filing_id, "form", tmp_path, PDF + b"stamped-browser")
        await page.click("#submit button[type=submit]")
        await page.wait_for_url(f"**/filings/{filing_id}?ok=submitted")
        await _deliver(hooks, filing_id, 24)
        assert sum(receiver.processed.values()) == 2  # each submission once, never twice
    finally:
        receiver.stop()

    # City 1 completes: 备注三 recorded, reported up.
    await desk.reload()
    await desk.click("#desk-actions form[action$='/complete'] button")
    await desk.wait_for_url(f"**/filings/{filing_id}?ok=completed")
    row = await Filing.select().where(Filing.id == filing_id).first()
    assert row["annotation_recorded"] in await desk.inner_text("#annotation-recorded")

    # The public, anonymous list shows hospital A with the technology.
    public = await page_as(None)
    await public.goto(f"/public/filings/region/{deployment['city1']}")
    text = await public.inner_text("#public-list")
    assert row["technology_name"] in text and "医院A" in text
    await public.click(f"#public-list a[href='/public/institutions/{deployment['hospital_a']}']")
    assert row["technology_name"] in await public.inner_text("#disclosure")
