"""限制类技术备案 in a real Chromium, Jilin deployment (the tests' default): hospital A's
medical affairs enters the first case on the case page — a case record, its report queued
once, the filing opened — then the six materials of JL-12 word for word, the submission to
the licence-issuing department (its desk here, not the provincial platform), completion with
备注三 noted by the department itself, and the public list. Every page shows Jilin's rule ids
and texts and never Henan's.
"""

from __future__ import annotations

import re

import pytest

from core.cases.tables import CaseRecord
from core.filing.tables import Filing
from core.outbox.tables import Delivery
from tests.filing_helpers import PDF, admitted_project
from tests.province_browser import enter_first_case, shot, text_without

pytestmark = pytest.mark.browser

# 第十二条（一）–（六） of seed 001, word for word, in order.
JILIN_SIX = [
    ("form", "医疗机构开展限制类医疗技术临床应用备案表（见附件3）"),
    ("self_assessment", "医疗机构开展限制类技术的自我评估报告"),
    ("first_case", "首例临床应用病例信息"),
    ("argumentation", "本机构医疗技术临床应用管理专门组织和伦理委员会论证材料"),
    ("lead_credentials", "技术负责人（限于本机构为主要执业机构的注册医师）医师资格证书、医师执业证书、专业技术职称证书复印件"),
    ("physicians", "本机构开展限制类技术医师名单，每名医师的医师资格证书、医师执业证书复印件"),
]
# Henan's ids and wording that must never show in a Jilin deployment.
NOT_JILIN = re.compile(r"\bHN-\d|河南|审批办|医政科、妇科|专家共识为准")


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


@pytest.mark.rule("JL-12")
@pytest.mark.rule("JL-38")
@pytest.mark.rule("JL-41")
async def test_jl12_filing_from_first_case_to_public_list_in_the_browser(deployment, page_as, tmp_path):
    hooks = deployment["host"].view()
    project_id = await admitted_project(hooks, title="浏览器备案演示")

    # 登记首例: the first case is entered as a case — a record, its JL-38 report, the filing.
    page = await page_as("medaffairs_a")
    await page.click("nav.side >> text=限制类技术备案")
    await shot(page, "jl-01-filings-waiting")
    case_id = await enter_first_case(page, project_id, "clinician_a", f"JL-FIRST-{project_id}", "JL-12")
    await page.click("nav.side >> text=病例")
    cases_text = await text_without(page, NOT_JILIN)
    assert f"JL-FIRST-{project_id}" in cases_text and "暂无病例" not in cases_text
    assert "NAT-37、JL-38" in cases_text and "JL-38" in await page.inner_text("table")
    await shot(page, "jl-02-case-list")
    case = await CaseRecord.select().where(CaseRecord.id == case_id).first()
    assert case["report_rule"] == "JL-38"
    # JL-38: to the national and the provincial platform, one delivery each.
    assert await Delivery.count().where((Delivery.kind == "case") & (Delivery.subject_id == case_id)) == 2

    # The filing the first case opened: JL-12's deadline and six materials, word for word.
    filing = await Filing.select().where(Filing.project == project_id).first()
    filing_id = filing["id"]
    assert filing["case_count"] == 1
    await page.goto(f"/filings/{filing_id}")
    text = await text_without(page, NOT_JILIN)
    assert "2026-03-30" in text and "JL-12：开展首例临床应用之日起15个工作日内" in text
    assert "备案部门：长春市卫生健康委员会医政医管处" in text
    materials = await page.locator("#materials li[data-material]").evaluate_all(
        "els => els.map(e => [e.dataset.material, e.querySelector('strong').innerText])")
    assert [tuple(m) for m in materials] == JILIN_SIX
    assert "本机构开展限制类技术医师名单（JL-12（六）：每名医师的医师资格证书、医师执业证书）" in text
    assert await page.locator("select[name=assessment_basis]").count() == 0  # no 专家共识 choice in Jilin
    await shot(page, "jl-03-filing-open")

    # Self-assessment, the form's phone, the staff table; then the six scans.
    await page.fill("textarea[name=self_assessment]", "对照管理规范逐项自评，人员、设备、设施、质控均符合要求。")
    await page.fill("input[name=form_phone]", "0431-88888888")
    await page.fill("#physicians tbody tr:first-child input[name=phys_sex]", "男")
    await page.click("#details button[type=submit]")
    await page.wait_for_url(f"**/filings/{filing_id}?ok=saved")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf at all")
    await page.set_input_files("#upload input[name=file]", str(bad))
    await page.click("#upload button[type=submit]")
    assert "仅支持 PDF、JPG、PNG" in await page.inner_text("#upload")
    for key, _ in JILIN_SIX:
        await _upload(page, filing_id, key, tmp_path, PDF + key.encode() + b"-browser")
    assert await page.locator("#complete-check").count() == 1
    await page.click("#submit button[type=submit]")
    await page.wait_for_url(f"**/filings/{filing_id}?ok=submitted")
    assert await page.get_attribute("#status", "data-status") == "submitted"
    # JL-12: filed with the licence-issuing department; the platform (JL-37) gets no filing.
    assert "吉林省医疗技术临床应用监管平台" not in await page.inner_text("#delivery")
    assert not await Delivery.exists().where((Delivery.subject_type == "filing") & (Delivery.subject_id == filing_id))
    await text_without(page, NOT_JILIN)
    await shot(page, "jl-04-filing-submitted")

    # The desk of the licence-issuing department (city 1) states JL-12's duty and returns it.
    desk = await page_as("regulator_city1")
    await desk.click("nav.side >> text=备案工作台")
    desk_text = await text_without(desk, NOT_JILIN)
    assert "JL-12" in await desk.inner_text("#desk-rule")
    assert "录入“医疗机构电子化注册系统”中“备注三”一栏" in desk_text and "逐级上报至省级卫生健康行政部门" in desk_text
    assert await desk.locator("#pushes").count() == 0
    await shot(desk, "jl-05-desk")
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

    # City 1 completes: the department notes 备注三 itself and reports up (JL-12).
    await desk.reload()
    assert "JL-12" in await desk.inner_text("#desk-actions")
    await desk.click("#desk-actions form[action$='/complete'] button")
    await desk.wait_for_url(f"**/filings/{filing_id}?ok=completed")
    row = await Filing.select().where(Filing.id == filing_id).first()
    completed = await text_without(desk, NOT_JILIN)
    assert row["annotation_recorded"] == row["annotation_expected"]
    assert row["annotation_recorded"] in await desk.inner_text("#annotation-recorded")
    assert "完成备案，已在副本备注栏注明并录入“备注三”，已逐级上报至省级卫生健康行政部门" in completed
    assert "注销备案（JL-26）" in completed
    await shot(desk, "jl-06-completed")

    # The public, anonymous list shows hospital A with the technology and its department.
    public = await page_as(None)
    await public.goto(f"/public/filings/region/{deployment['city1']}")
    text = await public.inner_text("#public-list")
    assert row["technology_name"] in text and "医院A" in text and "长春市卫生健康委员会医政医管处" in text
    await public.click(f"#public-list a[href='/public/institutions/{deployment['hospital_a']}']")
    assert row["technology_name"] in await public.inner_text("#disclosure")
    await shot(public, "jl-07-public")
