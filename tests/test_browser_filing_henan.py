"""限制类技术备案 in a real Chromium, Henan deployment (``PluginHost(("henan",
"hospital_default"))`` served on its own loopback port). The admin names 郑州's department
and the other materials it specifies; the Henan hospital enters its first case on the case
page (a case record, its HN-3 report queued once, the filing opened); the five materials of
HN-2.2b word for word and in order; submission through 河南省医疗技术临床应用信息系统 while it
is down, then up; a return for a missing material; completion by 郑州's filing department,
whose push to 审批办 (HN-2.2c) is its own work on its desk — done when sent — and 备注三 recorded
once 审批办 has annotated; the consistency check (HN-4.3) and the public list (HN-2.3).
Every page shows Henan's rule ids and texts and never Jilin's.

The outbox worker is run by the test (``deliver_due`` with an explicit ``now``) against a
real loopback receiver that is first down, then works.
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from core.cases.tables import CaseRecord
from core.filing.service import PUSH_SUBJECT
from core.filing.tables import Filing, FilingSubmission
from core.obligations.tables import Obligation
from core.outbox import service as outbox
from core.outbox.tables import Delivery
from tests.filing_helpers import HENAN_USERS, PDF, admitted_project, henan_world
from tests.fixtures import open_pages, serve
from tests.province_browser import enter_first_case, shot, text_without
from tests.receiver import Receiver

pytestmark = pytest.mark.browser

# 豫卫医函〔2024〕86号 二（二）2 (seed 004), word for word, in the upload order.
HENAN_FIVE = [
    ("form", "河南省限制类医疗技术临床应用备案表"),
    ("assessment", "开展临床应用的限制类技术名称、具备的条件及有关评估材料"),
    ("argumentation", "本机构医疗技术临床应用管理委员会、伦理委员会论证材料"),
    ("lead_credentials", "技术负责人（限于在本机构注册的执业医师）的执业医师证书、医院授权证明等资质证明材料"),
    ("other", "当地卫生健康行政部门规定的其他材料"),
]
ZHENGZHOU = "郑州市卫生健康委员会医政医管科"
# Jilin's ids and wording that must never show in a Henan deployment.
NOT_HENAN = re.compile(r"\bJL-\d|吉林|逐级上报|医疗机构电子化注册系统|JL-12（六）")


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


async def _deliver(hooks, subject_type: str, subject_id: int, hours: int) -> None:
    ids = [d["id"] for d in await Delivery.select(Delivery.id).where(
        (Delivery.subject_type == subject_type) & (Delivery.subject_id == subject_id))]
    await outbox.deliver_due(hooks, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours), delivery_ids=ids)


@pytest.mark.rule("HN-2.2b")
@pytest.mark.rule("HN-2.2c")
@pytest.mark.rule("HN-2.3")
@pytest.mark.rule("HN-3")
@pytest.mark.rule("HN-4.3")
async def test_hn22b_hn22c_hn23_henan_filing_from_first_case_to_public_list_in_the_browser(
        henan_server, henan_page, tmp_path, monkeypatch):
    hooks = henan_server["host"].view()
    receiver = Receiver()  # not started: 河南省医疗技术临床应用信息系统 is down
    monkeypatch.setenv("CLINTECH_CHANNEL_HENAN_PLATFORM_URL", receiver.url)
    monkeypatch.setenv("CLINTECH_CHANNEL_HENAN_PLATFORM_TIMEOUT", "2")
    project_id = await admitted_project(hooks, HENAN_USERS, title=f"河南浏览器备案{time.monotonic_ns() % 10**6}")

    # The admin names 郑州's department's other materials (HN-2.2b (5)): a setting of the region.
    admin = await henan_page("admin")
    await admin.goto("/admin/regions")
    row = admin.locator(f"#region-{henan_server['city']}")
    assert await row.locator("input[name=department]").input_value() == ZHENGZHOU
    await row.locator("input[name=filing_materials]").fill("设备清单及维护记录")
    await row.locator("button").click()
    await admin.wait_for_url("**/admin/regions?ok=1")
    await shot(admin, "hn-01-regions")
    try:
        await _walk(henan_server, henan_page, hooks, receiver, project_id, tmp_path)
    finally:
        receiver.stop()
        from core.tenancy.tables import Region

        await Region.update({Region.filing_materials: ""}).where(Region.id == henan_server["city"])


async def _walk(henan_server, henan_page, hooks, receiver, project_id: int, tmp_path) -> None:
    # 登记首例: the first case is a case record with its HN-3 report, and it opens the filing.
    page = await henan_page(HENAN_USERS["medical_affairs"])
    case_id = await enter_first_case(page, project_id, HENAN_USERS["clinician"], f"HN-FIRST-{project_id}",
                                      "HN-2.2b")
    await page.click("nav.side >> text=病例")
    cases_text = await text_without(page, NOT_HENAN)
    assert f"HN-FIRST-{project_id}" in cases_text and "暂无病例" not in cases_text and "NAT-37、HN-3" in cases_text
    await shot(page, "hn-02-case-list")
    assert (await CaseRecord.select().where(CaseRecord.id == case_id).first())["report_rule"] == "HN-3"
    # NAT-37: to Henan's system and to the national platform, one delivery each.
    assert sorted(d["channel"] for d in await Delivery.select(Delivery.channel).where(
        (Delivery.kind == "case") & (Delivery.subject_id == case_id))) == ["henan_platform", "national_platform"]

    filing = await Filing.select().where(Filing.project == project_id).first()
    filing_id = filing["id"]
    await page.goto(f"/filings/{filing_id}")
    text = await text_without(page, NOT_HENAN)
    assert "2026-03-30" in await page.inner_text("#deadlines") and "HN-2.2b" in await page.inner_text("#deadlines")
    assert f"备案部门：{ZHENGZHOU}" in text
    materials = await page.locator("#materials li[data-material]").evaluate_all(
        "els => els.map(e => [e.dataset.material, e.querySelector('strong').innerText])")
    assert [tuple(m) for m in materials] == HENAN_FIVE  # HN-2.2b's order, word for word
    assert f"{ZHENGZHOU}规定：设备清单及维护记录" in await page.inner_text("#materials li[data-material=other]")
    assert "自我评估依据（HN-2.2a）" in text
    await shot(page, "hn-03-filing-open")

    # Self-assessment and the Henan form; the four required scans, then submission.
    await page.fill("textarea[name=self_assessment]", "对照管理规范逐项自评，人员、设备、设施、质控均符合要求。")
    await page.fill("input[name=form_phone]", "0371-85961175")
    await page.fill("#physicians tbody tr:first-child input[name=phys_sex]", "女")
    await page.click("#details button[type=submit]")
    await page.wait_for_url(f"**/filings/{filing_id}?ok=saved")
    for key, _ in HENAN_FIVE[:4]:
        await _upload(page, filing_id, key, tmp_path)
    assert "缺少材料：当地卫生健康行政部门规定的其他材料（HN-2.2b）" in await page.inner_text("#missing")
    await _upload(page, filing_id, "other", tmp_path)
    assert await page.locator("#complete-check").count() == 1
    await page.click("#submit button[type=submit]")
    await page.wait_for_url(f"**/filings/{filing_id}?ok=submitted")
    assert "河南省医疗技术临床应用信息系统" in await page.inner_text("#delivery")
    assert await page.locator("#delivery [data-status=queued]").count() == 1

    # The system is down: the delivery fails with its reason and is kept; then it works.
    await _deliver(hooks, "filing", filing_id, 1)
    await page.reload()
    assert "无法连接对方系统" in await page.inner_text("#delivery")
    receiver.start()
    await _deliver(hooks, "filing", filing_id, 8)
    await page.reload()
    assert await page.locator("#delivery [data-status=accepted]").count() == 1
    await text_without(page, NOT_HENAN)
    await shot(page, "hn-04-submitted")

    # 郑州's filing department: its desk states HN-2.2c's duty; it returns for a missing item.
    desk = await henan_page(HENAN_USERS["regulator"])
    await desk.click("nav.side >> text=备案工作台")
    desk_text = await text_without(desk, NOT_HENAN)
    assert "HN-2.2c" in await desk.inner_text("#desk-rule") and "推送至发证部门（审批办等）" in desk_text
    assert "NAT-11" not in await desk.inner_text("#desk-rule")
    await desk.click(f"#desk tr[data-filing='{filing_id}'] a")
    await desk.fill("#desk-actions textarea[name=reason]", "设备清单缺少维护记录")
    await desk.click("#desk-actions form[action$='/return'] button")
    await desk.wait_for_url(f"**/filings/{filing_id}?ok=returned")
    await page.reload()
    assert "设备清单缺少维护记录" in await page.inner_text("#return-reason")
    await _upload(page, filing_id, "other", tmp_path)
    await page.click("#submit button[type=submit]")
    await page.wait_for_url(f"**/filings/{filing_id}?ok=submitted")
    await _deliver(hooks, "filing", filing_id, 16)
    assert sum(receiver.processed.values()) == 2  # two submissions, none twice

    # Completion: 备注三 is pushed to 审批办 by the filing department — queued on its desk.
    await desk.reload()
    assert "推送至发证部门（审批办）" in await desk.inner_text("#desk-actions")
    await desk.click("#desk-actions form[action$='/complete'] button")
    await desk.wait_for_url(f"**/filings/{filing_id}?ok=completed")
    completed = await text_without(desk, NOT_HENAN)
    assert "完成备案；技术名称、完成备案时间由备案部门推送至发证部门（审批办）备注副本" in completed
    assert "（由备案部门推送至发证部门（审批办）备注，HN-2.2c）" in completed
    push = await Delivery.select().where((Delivery.subject_type == PUSH_SUBJECT)
                                         & (Delivery.subject_id == filing_id)).first().output(load_json=True)
    assert push["attachments"] == [] and push["payload"]["to"] == "发证部门（审批办）"
    sub = await FilingSubmission.select().where(FilingSubmission.filing == filing_id).order_by(
        FilingSubmission.number, ascending=False).first()
    obligation = await Obligation.select().where(Obligation.id == sub["completion_obligation_id"]).first()
    assert (obligation["rule_id"], obligation["status"]) == ("HN-2.2c", "open")  # not done by the click
    await desk.click("nav.side >> text=备案工作台")
    await desk.wait_for_url("**/filings/desk")  # count() does not wait for the navigation
    assert await desk.locator(f"#pushes #delivery-{push['id']}").count() == 1
    assert "推送至发证部门（审批办）（HN-2.2c）" in await desk.inner_text("#pushes")
    await shot(desk, "hn-05-desk-push-queued")
    # The hospital never sees the department's push.
    await page.goto("/outbox")
    assert await page.locator(f"#delivery-{push['id']}").count() == 0

    # The worker sends it: the filing department's HN-2.2c obligation is done.
    await _deliver(hooks, PUSH_SUBJECT, filing_id, 24)
    await desk.reload()
    assert await desk.locator(f"#pushes #delivery-{push['id']}[data-status=accepted]").count() == 1
    assert (await Obligation.select().where(Obligation.id == obligation["id"]).first())["status"] == "done"
    await shot(desk, "hn-06-desk-push-sent")

    # 审批办 has annotated: the department records 备注三; the consistency check (HN-4.3) clears.
    await desk.goto("/filings/consistency")
    assert "HN-4.3" in await text_without(desk, NOT_HENAN)
    assert await desk.locator(f"#mismatched tr[data-filing='{filing_id}']").count() == 1
    await desk.goto(f"/filings/{filing_id}")
    await desk.click("#annotation button[type=submit]")
    row = await Filing.select().where(Filing.id == filing_id).first()
    await desk.wait_for_url(f"**/filings/{filing_id}?**")
    assert row["annotation_expected"] in await desk.inner_text("#annotation-recorded")
    await desk.goto("/filings/consistency")
    assert await desk.locator(f"#mismatched tr[data-filing='{filing_id}']").count() == 0
    await shot(desk, "hn-07-consistency")

    # The public, anonymous list of the Henan city shows the hospital with the technology.
    public = await henan_page(None)
    await public.goto(f"/public/filings/region/{henan_server['city']}")
    text = await public.inner_text("#public-list")
    assert row["technology_name"] in text and "郑州市示范医院" in text
