"""限制类技术备案 in a real Chromium, Henan deployment (``PluginHost(("henan",
"hospital_default"))`` served on its own loopback port): the Henan hospital files a
restricted technology from its first case to the completed filing — five materials in
HN-2.2b order, submission through 河南省医疗技术临床应用信息系统 while it is down, a
return for a missing material, completion with 备注三 pushed to 审批办 (HN-2.2c) — and
the anonymous public list shows it (HN-2.3).

The outbox worker is run by the test (``deliver_due`` with an explicit ``now``) against a
real loopback receiver that is first down, then works.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from core.filing.tables import Filing
from core.outbox import service as outbox
from core.outbox.tables import Delivery
from tests.filing_helpers import FIRST_CASE, HENAN_USERS, PDF, admitted_project, henan_world
from tests.fixtures import open_pages, serve
from tests.receiver import Receiver

pytestmark = pytest.mark.browser

HENAN_FIVE = ["form", "assessment", "argumentation", "lead_credentials", "other"]


@pytest.fixture(scope="module", autouse=True)
async def _forget_obligations(deployment):
    """Filing tests open obligations due in 2026; other tests' dashboards must not see them."""
    yield
    from tests.filing_helpers import forget_filing_obligations

    await forget_filing_obligations()


@pytest.fixture(scope="module")
async def henan_server(deployment):
    """The Henan deployment's portal served on a free loopback port, in a thread."""
    from core.catalog import service as catalog
    from web.app import create_app

    world = await henan_world()
    await catalog.ensure_synced(world["host"])
    with serve(create_app(world["host"])) as url:
        yield world | {"url": url}


@pytest.fixture
async def henan_page(browser, henan_server):
    """``page = await henan_page("hn_medical_affairs")``: a browser context on the Henan portal."""
    contexts: list = []
    yield await open_pages(browser, henan_server["url"], contexts)
    for context in contexts:
        await context.close()


async def _upload(page, filing_id: int, key: str, tmp_path) -> None:
    file = tmp_path / f"{key}.pdf"
    file.write_bytes(PDF + key.encode() + b"-henan-browser")
    await page.select_option("#upload select[name=material]", key)
    await page.set_input_files("#upload input[name=file]", str(file))
    await page.click("#upload button[type=submit]")
    await page.wait_for_url(f"**/filings/{filing_id}?ok=uploaded")


async def _deliver(hooks, filing_id: int, hours: int) -> None:
    ids = [d["id"] for d in await Delivery.select(Delivery.id).where(
        (Delivery.subject_type == "filing") & (Delivery.subject_id == filing_id))]
    await outbox.deliver_due(hooks, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours), delivery_ids=ids)


@pytest.mark.rule("HN-2.2b")
@pytest.mark.rule("HN-2.2c")
@pytest.mark.rule("HN-2.3")
async def test_hn22b_hn22c_hn23_henan_filing_from_first_case_to_public_list_in_the_browser(
        henan_server, henan_page, tmp_path, monkeypatch):
    hooks = henan_server["host"].view()
    receiver = Receiver()  # not started: 河南省医疗技术临床应用信息系统 is down
    monkeypatch.setenv("CLINTECH_CHANNEL_HENAN_PLATFORM_URL", receiver.url)
    monkeypatch.setenv("CLINTECH_CHANNEL_HENAN_PLATFORM_TIMEOUT", "2")
    project_id = await admitted_project(hooks, HENAN_USERS, title=f"河南浏览器备案{time.monotonic_ns() % 10**6}")

    # Medical affairs records the first case: the filing opens with its HN-2.2b deadline.
    page = await henan_page(HENAN_USERS["medical_affairs"])
    await page.click("nav.side >> text=限制类技术备案")
    await page.select_option("#first-case select[name=project_id]", str(project_id))
    await page.fill("#first-case input[name=case_date]", FIRST_CASE.isoformat())
    await page.click("#first-case button[type=submit]")
    await page.wait_for_url("**/filings/*?ok=opened")
    filing_id = int(page.url.split("/filings/")[1].split("?")[0])
    deadlines = await page.inner_text("#deadlines")
    assert "2026-03-30" in deadlines and "HN-2.2b" in deadlines
    keys = await page.locator("#materials li[data-material]").evaluate_all(
        "els => els.map(e => e.dataset.material)")
    assert keys == HENAN_FIVE  # HN-2.2b upload order

    # Self-assessment and the Henan form; then the four required scans, in order.
    await page.fill("textarea[name=self_assessment]", "对照管理规范逐项自评，人员、设备、设施、质控均符合要求。")
    await page.fill("input[name=form_phone]", "0371-85961175")
    await page.fill("#physicians tbody tr:first-child input[name=phys_sex]", "女")
    await page.click("#details button[type=submit]")
    await page.wait_for_url(f"**/filings/{filing_id}?ok=saved")
    for key in HENAN_FIVE[:4]:
        await _upload(page, filing_id, key, tmp_path)
    assert await page.locator("#complete-check").count() == 1
    await page.click("#submit button[type=submit]")
    await page.wait_for_url(f"**/filings/{filing_id}?ok=submitted")
    assert await page.get_attribute("#status", "data-status") == "submitted"
    delivery = await page.inner_text("#delivery")
    assert "河南省医疗技术临床应用信息系统" in delivery
    assert await page.locator("#delivery [data-status=queued]").count() == 1

    # The system is down: the delivery fails with its reason and is kept for a retry.
    await _deliver(hooks, filing_id, 1)
    await page.reload()
    assert "无法连接对方系统" in await page.inner_text("#delivery")
    assert await page.locator("#delivery [data-status=failed]").count() == 1
    receiver.start()
    try:
        await _deliver(hooks, filing_id, 8)
        await page.reload()
        assert await page.locator("#delivery [data-status=accepted]").count() == 1

        # The 郑州 regulator (licence-issuing department) returns it for a missing material.
        desk = await henan_page(HENAN_USERS["regulator"])
        await desk.click("nav.side >> text=备案工作台")
        await desk.click(f"#desk tr[data-filing='{filing_id}'] a")
        await desk.fill("#desk-actions textarea[name=reason]", "缺少其他相关材料（设备清单）")
        await desk.click("#desk-actions form[action$='/return'] button")
        await desk.wait_for_url(f"**/filings/{filing_id}?ok=returned")

        # Medical affairs adds the fifth material and resubmits: delivered once more.
        await page.reload()
        assert "缺少其他相关材料" in await page.inner_text("#return-reason")
        await _upload(page, filing_id, "other", tmp_path)
        await page.click("#submit button[type=submit]")
        await page.wait_for_url(f"**/filings/{filing_id}?ok=submitted")
        await _deliver(hooks, filing_id, 16)

        # The regulator completes: 备注三 recorded and pushed to 审批办 (HN-2.2c).
        await desk.reload()
        await desk.click("#desk-actions form[action$='/complete'] button")
        await desk.wait_for_url(f"**/filings/{filing_id}?ok=completed")
        assert "审批办" in await desk.inner_text("#deadlines")
        await _deliver(hooks, filing_id, 24)
        await desk.reload()
        assert await desk.locator("#delivery [data-status=accepted]").count() == 3
        assert sum(receiver.processed.values()) == 3  # two submissions and the push, none twice
    finally:
        receiver.stop()
    row = await Filing.select().where(Filing.id == filing_id).first()
    assert row["status"] == "completed" and row["annotation_expected"] in await desk.inner_text("#deadlines")

    # The public, anonymous list of the Henan city shows the hospital with the technology.
    public = await henan_page(None)
    await public.goto(f"/public/filings/region/{henan_server['city']}")
    text = await public.inner_text("#public-list")
    assert row["technology_name"] in text and "郑州市示范医院" in text
