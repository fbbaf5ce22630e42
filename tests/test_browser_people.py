"""In Chromium: people and the institution's systems.

* JL-11: a grade-2 endoscopic case (S6) recorded on the case page opens no filing and no
  case report; a grade-4 one does (the level comes from the hospital's grading catalogue).
* NAT-20: medical affairs records the management body's authorisations on a physician's
  archive; the authorised physician's case is accepted without a finding; a case whose
  operator holds no authorisation is recorded (every case is reported, NAT-37) and warned.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.filing.tables import Filing
from tests.case_helpers import release_obligations
from tests.people_helpers import admitted_code

pytestmark = pytest.mark.browser


async def _record(page, project_id: int, case_id: str, operation: str, operated: dt.date,
                  operator: str = "clinician_a") -> None:
    await page.goto("/cases/")
    await page.select_option("select[name=technology_code] >> nth=0", f"P{project_id}")
    await page.locator('#indicator-fields').wait_for()
    await page.fill("input[name=case_id]", case_id)
    await page.fill("input[name=patient_key]", f"PK-{case_id}")
    await page.fill("input[name=admitted_on]", (operated - dt.timedelta(days=1)).isoformat())
    await page.fill("input[name=operated_on]", operated.isoformat())
    await page.fill("input[name=discharged_on]", (operated + dt.timedelta(days=3)).isoformat())
    await page.fill("input[name=operation_code]", operation)
    await page.select_option("select[name=operators]", operator)
    await page.select_option("select[name=outcome]", "improved")
    for select in await page.locator("#indicator-fields select").all():
        await select.select_option("否")
    await page.check("input[name=consent]")
    await page.click("button:has-text('登记并报送')")
    await page.wait_for_url("**/cases/*?saved=1")


@pytest.mark.rule("JL-11")
@pytest.mark.rule("NAT-16")
async def test_jl11_grade_2_endoscopic_case_creates_no_filing_grade_4_does(deployment, page_as):
    hooks = deployment["host"].view()
    project_id = await admitted_code(hooks, "S6")
    try:
        page = await page_as("clinician_a")
        operated = dt.date(2026, 3, 10)
        await _record(page, project_id, "JL11-GRADE2", "45.42", operated)
        operation = await page.locator("#case-operation").inner_text()
        assert "45.42" in operation and "二级手术" in operation
        assert "JL-11" in await page.locator("#case-scope").inner_text()
        assert "不属于限制类技术" in await page.locator("#case-scope").inner_text()
        assert "JL-38" not in await page.content()  # no case report
        assert not await Filing.exists().where(Filing.project == project_id)
        await _record(page, project_id, "JL11-GRADE4", "43.41", operated)
        assert "四级手术" in await page.locator("#case-operation").inner_text()
        assert "JL-38" in await page.content()  # reported, due 15 working days after discharge
        filing = await Filing.select(Filing.case_count).where(Filing.project == project_id).first()
        assert filing == {"case_count": 1}
        # An operation outside the catalogue is refused on the page, the input kept.
        await page.goto("/cases/")
        await page.select_option("select[name=technology_code] >> nth=0", f"P{project_id}")
        await page.fill("input[name=case_id]", "JL11-UNKNOWN")
        await page.fill("input[name=patient_key]", "PK-JL11-UNKNOWN")
        await page.fill("input[name=admitted_on]", "2026-03-09")
        await page.fill("input[name=operated_on]", "2026-03-10")
        await page.fill("input[name=discharged_on]", "2026-03-13")
        await page.fill("input[name=operation_code]", "99.99")
        await page.select_option("select[name=operators]", "clinician_a")
        await page.check("input[name=consent]")
        await page.click("button:has-text('登记并报送')")
        await page.locator('.field-error[data-field="operation_code"]').wait_for()
        assert "不在本机构手术分级目录" in await page.locator('.field-error[data-field="operation_code"]').inner_text()
        assert await page.input_value("input[name=operation_code]") == "99.99"
    finally:
        await release_obligations()


@pytest.mark.rule("NAT-16")
@pytest.mark.rule("NAT-24")
async def test_nat16_medical_affairs_edits_the_grading_catalogue_and_the_public_sees_it(deployment, page_as):
    page = await page_as("medaffairs_a")
    await page.goto("/grading")
    await page.locator("#grading-operations").wait_for()
    await page.fill("#grading-edit input[name=code]", "47.01")
    await page.fill("#grading-edit input[name=name]", "腹腔镜阑尾切除术")
    await page.select_option("#grading-edit select[name=level]", "2")
    await page.fill("#grading-edit input[name=basis]", "管理委员会2026年第3次会议")
    await page.click("#grading-edit button[value=save]")
    await page.locator("#grading-saved").wait_for()
    assert "腹腔镜阑尾切除术" in await page.locator("#grading-operations").inner_text()
    assert "新增 47.01" in await page.locator("#grading-editions").inner_text()
    public = await page_as(None)
    await public.goto(f"/public/grading/{deployment['hospital_a']}")
    assert "腹腔镜阑尾切除术" in await public.locator("#public-grading").inner_text()


async def _grant(page, user_id: int, *, technology: str = "", level: str = "") -> None:
    await page.goto(f"/people/{user_id}")
    form = page.locator("#grant-form")
    await form.locator("select[name=scope]").select_option("technology" if technology else "level")
    if technology:
        await form.locator("select[name=technology_key]").select_option(technology)
    if level:
        await form.locator("select[name=level]").select_option(level)
    await form.locator("input[name=valid_from]").fill("2026-01-05")
    await form.locator("input[name=valid_until]").fill("2028-01-04")
    await form.locator("input[name=ability]").fill("独立完成内镜下切除术80例")
    await form.locator("input[name=training]").fill("省级培训基地规范化培训6个月")
    await form.locator("input[name=exam]").fill("过程考核、结业考核合格")
    await form.locator("input[name=decision]").fill("2026年第1次医疗技术临床应用管理委员会会议")
    await form.locator("button[type=submit]").click()
    await page.locator("#people-saved").wait_for()


@pytest.mark.rule("NAT-20")
@pytest.mark.rule("NAT-19")
async def test_nat20_an_authorised_physicians_case_is_accepted_an_unauthorised_operators_is_warned(deployment,
                                                                                                 page_as):
    from core.accounts.tables import User

    hooks = deployment["host"].view()
    project_id = await admitted_code(hooks, "S6")
    doctor = await User.select(User.id).where(User.username == "clinician_a").first()
    try:
        medical = await page_as("medaffairs_a")
        await _grant(medical, doctor["id"], technology="S6")
        await _grant(medical, doctor["id"], level="4")
        text = await medical.locator("#authorisations").inner_text()
        assert "S6" in text and "四级及以下手术" in text and "有效" in text
        page = await page_as("clinician_a")
        operated = dt.date(2026, 3, 10)
        await _record(page, project_id, "AUTH-OK", "43.41", operated)
        assert await page.locator("[data-finding]").count() == 0  # authorised: accepted, nothing to warn
        await _record(page, project_id, "AUTH-NONE", "43.41", operated, operator="depthead_a")
        findings = page.locator('[data-finding="NAT-20"]')
        assert await findings.count() == 1  # 李主任 holds grade 4 (the demo's), not the technology
        assert "无该技术授权" in await findings.first.inner_text()
        assert "JL-38" in await page.content()  # still reported: a case performed is never hidden
        # The operator's archive shows it among errors and incidents; medical affairs prints it.
        depthead = await User.select(User.id).where(User.username == "depthead_a").first()
        await medical.goto(f"/people/{depthead['id']}")
        assert "无该技术授权" in await medical.locator("#incidents").inner_text()
    finally:
        await release_obligations()
