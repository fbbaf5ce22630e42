"""In Chromium: people and the institution's systems.

* JL-11: a grade-2 endoscopic case (S6) recorded on the case page opens no filing and no
  case report; a grade-4 one does (the level comes from the hospital's grading catalogue).
* NAT-20, JL-27, NAT-33, JL-34: a physician trained at a base, examined (results reported),
  authorised on the QC centre's database record, then operating — the case is accepted; a
  case whose operator holds no authorisation for the technology is refused at entry, and
  once declared as really performed it is recorded (every case is reported, NAT-37) and warned.
* The committee, training and archive pages as medical affairs, the QC centre and a regulator.
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


async def _refused(page, project_id: int, case_id: str, operation: str, operated: dt.date, operator: str) -> None:
    """Fill the case form as ``_record`` does, submit, and wait for the refusal on the page."""
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
    await page.locator('.field-error[data-field="operators"]').wait_for()


@pytest.mark.rule("NAT-20")
@pytest.mark.rule("NAT-19")
@pytest.mark.rule("NAT-26")
@pytest.mark.rule("NAT-33")
@pytest.mark.rule("JL-21")
@pytest.mark.rule("JL-27")
@pytest.mark.rule("JL-34")
async def test_trained_examined_authorised_then_operating_is_accepted_an_unauthorised_operator_refused(
        deployment, page_as):
    """张医生 is trained at hospital A's base for S6, passes the process and final exams, the
    results are reported (JL-34); the grant reads the QC centre's database (JL-27) — refused
    before, accepted after — and 张医生's grade-4 S6 case is accepted with no finding.
    李主任 (grade 4, no S6 authorisation) as operator is refused at entry (NAT-20); declared as
    really performed, the case is recorded, reported and warned."""
    from core import clock
    from core.accounts.tables import User
    from core.people.tables import Certificate

    hooks = deployment["host"].view()
    project_id = await admitted_code(hooks, "S6")
    doctor = await User.select(User.id).where(User.username == "clinician_a").first()
    number = (await Certificate.select(Certificate.number).where(
        (Certificate.user == doctor["id"]) & (Certificate.kind == "practice")).first())["number"]
    assert number  # the demo keeps 张医生's 医师执业证书编码
    today = clock.today()
    try:
        medical = await page_as("medaffairs_a")
        # Not yet trained: the grant is refused, naming the rule (JL-27).
        await medical.goto(f"/people/{doctor['id']}")
        form = medical.locator("#grant-form")
        await form.locator("select[name=scope]").select_option("technology")
        await form.locator("select[name=technology_key]").select_option("S6")
        await form.locator("input[name=valid_from]").fill("2026-01-05")
        await form.locator("input[name=valid_until]").fill("2028-01-04")
        await form.locator("input[name=ability]").fill("独立完成内镜下切除术80例")
        await form.locator("input[name=training]").fill("省级培训基地规范化培训6个月")
        await form.locator("input[name=exam]").fill("过程考核、结业考核合格")
        await form.locator("input[name=decision]").fill("2026年第1次医疗技术临床应用管理委员会会议")
        await form.locator("button[type=submit]").click()
        await medical.locator('.field-error[data-field="training"]').wait_for()
        assert "培训数据库" in await medical.locator('.field-error[data-field="training"]').inner_text()
        # The base: a course, 张医生 enrolled with his practice certificate number, examined, reported.
        await medical.goto(f"/training/institution/{deployment['hospital_a']}")
        course = medical.locator("#course-form")
        await course.locator("select[name=technology_key]").select_option("S6")
        await course.locator("input[name=title]").fill("消化内镜诊疗技术规范化培训（浏览器测试）")
        await course.locator("input[name=places]").fill("5")
        await course.locator("input[name=enrolment_notice_on]").fill((today - dt.timedelta(days=150)).isoformat())
        await course.locator("input[name=starts_on]").fill((today - dt.timedelta(days=110)).isoformat())
        await course.locator("textarea[name=plan]").fill("理论授课40学时，临床操作带教；过程考核与结业考核")
        await course.locator("button[type=submit]").click()
        await medical.wait_for_url("**/training/*")
        enrol = medical.locator("#enrol-form")
        await enrol.locator("input[name=name]").fill("张医生")
        await enrol.locator("input[name=practice_no]").fill(number)
        await enrol.locator("input[name=home_institution]").fill("示范医院A")
        await enrol.locator("button[type=submit]").click()
        await medical.locator("#training-saved").wait_for()
        exam = medical.locator("#exam-form")
        await exam.locator("select[name^=process_]").select_option("pass")
        await exam.locator("select[name^=final_]").select_option("pass")
        await exam.locator("input[name=held_on]").fill((today - dt.timedelta(days=20)).isoformat())
        await exam.locator("button[type=submit]").click()
        await medical.locator("#training-saved").wait_for()
        report = medical.locator("form[action$='/report']")
        await report.locator("input[name=on]").fill((today - dt.timedelta(days=10)).isoformat())
        await report.locator("button[type=submit]").click()
        await medical.locator("#training-saved").wait_for()
        assert "结业考核" in await medical.locator("#trainees").inner_text()
        # Now in the database: the grant is made and its basis shows the record.
        await medical.goto(f"/people/{doctor['id']}")
        assert "结业考核合格" in await medical.locator("#trained-records").inner_text()
        await _grant(medical, doctor["id"], technology="S6")
        await _grant(medical, doctor["id"], level="4")
        text = await medical.locator("#authorisations").inner_text()
        assert "S6" in text and "四级及以下手术" in text and "有效" in text
        assert await medical.locator('#authorisations [data-evidence="course"]').count() == 1
        page = await page_as("clinician_a")
        operated = dt.date(2026, 3, 10)
        await _record(page, project_id, "AUTH-OK", "43.41", operated)
        assert await page.locator("[data-finding]").count() == 0  # trained, authorised: accepted
        # 李主任 holds grade 4 (the demo's) but not S6: refused at entry, the input kept.
        await _refused(page, project_id, "AUTH-NONE", "43.41", operated, "depthead_a")
        error = await page.locator('.field-error[data-field="operators"]').inner_text()
        assert "无该技术授权" in error and "NAT-20" in error
        assert await page.input_value("input[name=case_id]") == "AUTH-NONE"
        # Really performed so: declared, recorded, reported — and warned.
        await page.check("input[name=declare_unauthorised]")
        await page.check("input[name=consent]")
        await page.click("button:has-text('登记并报送')")
        await page.wait_for_url("**/cases/*?saved=1")
        findings = page.locator('[data-finding="NAT-20"]')
        assert await findings.count() == 1 and "无该技术授权" in await findings.first.inner_text()
        assert "JL-38" in await page.content()  # still reported: a case performed is never hidden
        depthead = await User.select(User.id).where(User.username == "depthead_a").first()
        await medical.goto(f"/people/{depthead['id']}")
        assert "无该技术授权" in await medical.locator("#incidents").inner_text()
    finally:
        await release_obligations()


@pytest.mark.rule("NAT-15")
@pytest.mark.rule("JL-16")
@pytest.mark.rule("NAT-19")
@pytest.mark.rule("JL-27")
async def test_committee_training_and_archive_pages_as_medical_affairs_qc_centre_and_regulator(deployment, page_as):
    """The committee, the training pages and a physician's archive open in Chromium for the
    institution's medical affairs, the provincial QC centre and the city's regulator; each
    sees what its role may and no foreign institution."""
    from core.accounts.tables import User
    from core.tenancy.tables import Institution

    a, b = deployment["hospital_a"], deployment["hospital_b"]
    doctor = await User.select(User.id).where(User.username == "clinician_a").first()
    region = (await Institution.select(Institution.region).where(Institution.id == a).first())["region"]
    city = (await User.select(User.region).where(User.username == "regulator_city1").first())["region"]
    regulator, stranger = ("regulator_city1", "regulator_city2") if region == city else ("regulator_city2",
                                                                                       "regulator_city1")
    medical = await page_as("medaffairs_a")
    await medical.goto(f"/body/{a}")
    assert await medical.locator("#body").count() == 1 and await medical.locator("#member-form").count() == 1
    await medical.goto(f"/body/{a}/systems")
    assert await medical.locator("#systems").count() == 1
    await medical.goto("/training/")
    await medical.wait_for_url(f"**/training/institution/{a}")
    assert await medical.locator("#course-form").count() == 1
    await medical.goto(f"/people/{doctor['id']}")
    assert await medical.locator("#grant-form").count() == 1 and await medical.locator("#review-form").count() == 1
    for who in ("qccenter", regulator):
        page = await page_as(who)
        await page.goto("/training/")
        assert await page.locator("#trained").count() == 1
        assert await page.locator("#reviews").count() == 1  # JL-43: the province's reviews
        await page.goto(f"/body/{a}")
        assert await page.locator("#body").count() == 1 and await page.locator("#member-form").count() == 0
        await page.goto(f"/people/{doctor['id']}")
        assert "医疗技术临床应用档案" in await page.locator("h1").inner_text()
        assert await page.locator("#grant-form").count() == 0 and await page.locator("#review-form").count() == 0
        await page.goto(f"/training/institution/{a}")
        assert await page.locator("#course-form").count() == 0
    other = await page_as(stranger)
    answer = await other.goto(f"/people/{doctor['id']}")
    assert answer.status == 404
    hospital_b = await page_as("medaffairs_b")
    assert (await hospital_b.goto(f"/body/{a}")).status == 404
    assert (await hospital_b.goto(f"/training/institution/{a}")).status == 404
    assert (await hospital_b.goto(f"/people/{doctor['id']}")).status == 404
    assert (await hospital_b.goto(f"/body/{b}")).status == 200


@pytest.mark.rule("JL-43")
async def test_jl43_in_chromium_medical_affairs_applies_the_qc_centre_reviews_and_the_grant_stands(deployment, page_as):
    """A physician moving in from another province: the receiving institution's medical
    affairs applies on the archive, the provincial QC centre passes the review on its training
    page, and the technology grant then stands (passing counts as training, JL-27)."""
    from core.accounts.tables import User

    hooks = deployment["host"].view()
    await admitted_code(hooks, "S6")
    doctor = await User.select(User.id).where(User.username == "depthead_a").first()
    try:
        medical = await page_as("medaffairs_a")
        await medical.goto(f"/people/{doctor['id']}")
        form = medical.locator("#review-form")
        await form.locator("select[name=technology_key]").select_option("S6")
        await form.locator("input[name=origin]").fill("辽宁省某三级医院")
        await form.locator("input[name=materials]").fill("已核对其辽宁省规范化培训合格证及近三年开展该技术的病例")
        await form.locator("button[type=submit]").click()
        await medical.locator("#people-saved").wait_for()
        assert "待省质控中心评议" in await medical.locator("#reviews").inner_text()
        qc = await page_as("qccenter")
        await qc.goto("/training/")
        row = qc.locator("#reviews tr[data-status=submitted]", has_text="李主任")
        await row.locator("input[name=opinion]").fill("培训经历与技术能力符合规范要求")
        await row.locator("button[type=submit]").click()
        await qc.wait_for_url("**/training/?saved=review*")
        assert "外省调入医师评议合格" in await qc.locator("#trained").inner_text()
        await medical.goto(f"/people/{doctor['id']}")
        assert "视同规范化培训合格" in await medical.locator("#trained-records").inner_text()
        await _grant(medical, doctor["id"], technology="S6")
        assert await medical.locator('#authorisations [data-evidence="review"]').count() == 1
    finally:
        await release_obligations()
