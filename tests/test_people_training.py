"""Training feeds authorisations, reviews count as training, the lead's specification
requirements as catalogue data, and who sees the trained-physician database:

* HOSP-5: a restricted technology's lead is read against the requirements its catalogue
  entry carries (``[technology.lead]``), from the lead's real certificates, title and years;
  no seed states a specification's staff requirements, so every shipped entry has none and
  the pages say so.
* JL-27 / NAT-33 / JL-34: the QC centre's database of trained physicians (final exam passed,
  results reported) is read at a grant — shown in its basis; in Jilin a technology grant
  without a record is refused naming JL-27; nationally the record is shown, not required.
* JL-43: a physician moving in from another province is reviewed by the provincial QC
  centre; passing counts as training. Only where the province's plugin declares it.
* Tenancy: an institution's own people and its own bases only; the QC centre its province.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import pytest

from core import clock
from core.accounts.tables import User
from core.errors import DomainError
from core.people import service as people
from core.people.tables import AuthorisationEvent
from core.plugins import PluginHost
from core.training import service as training
from tests.admission_helpers import actor
from tests.case_helpers import release_obligations
from tests.people_helpers import admitted_code

D = dt.date
ROOT = Path(__file__).resolve().parents[1]


async def _physician(username: str, name: str, institution: str = "clinician_a") -> int:
    from core.accounts import service as accounts
    from core.accounts.schemas import SYSTEM, UserInput

    row = await User.select(User.id).where(User.username == username).first()
    if row:
        return row["id"]
    peer = await User.select(User.institution, User.department).where(User.username == institution).first()
    return await accounts.create_user(SYSTEM, UserInput(
        username=username, display_name=name, roles=["clinician"], institution=peer["institution"],
        department=peer["department"], password="demo-pass-2026"))


async def _practice(user_id: int, number: str, issued: D | None = None, by: str = "medaffairs_a") -> None:
    await people.add_certificate(await actor(by), user_id, people.CertificateInput(
        kind="practice", name="医师执业证", number=number, issued_on=issued or D(2012, 3, 1)))


def _grant(key: str = "S6", **kw) -> people.GrantInput:
    return people.GrantInput(scope="technology", technology_key=key, valid_from=D(2026, 1, 5),
                             valid_until=D(2028, 1, 4), ability="独立完成该技术30例", training="参加省级规范化培训",
                             exam="结业考核合格", decision="2026年第2次医疗技术临床应用管理委员会会议", **kw)


async def _trained_course(hooks, key: str, trainees: list[tuple[str, str, str]]) -> int:
    """A course of hospital A for ``key``: enrolled, examined and its results reported."""
    medical = await actor("medaffairs_a")
    a = (await User.select(User.institution).where(User.username == "medaffairs_a").first())["institution"]
    today = clock.today()
    course_id = await training.create_course(medical, hooks, a, training.CourseInput(
        technology_key=key, title=f"规范化培训{secrets.token_hex(2)}", places=5, plan="理论授课与临床带教，过程考核与结业考核",
        enrolment_notice_on=today - dt.timedelta(days=120), starts_on=today - dt.timedelta(days=80)))
    ids = {}
    for name, practice_no, final in trainees:
        ids[await training.enrol(medical, course_id, name, "示范医院A", practice_no)] = ("pass", final)
    await training.record_exam(medical, hooks, course_id, today - dt.timedelta(days=30), ids)
    await training.report_results(medical, hooks, course_id, today - dt.timedelta(days=20))
    return course_id


@pytest.fixture(scope="module")
async def world(deployment):
    hooks = deployment["host"].view()
    project = await admitted_code(hooks, "S6")
    yield {"hooks": hooks, "project": project, "a": deployment["hospital_a"], "b": deployment["hospital_b"]}
    await release_obligations()


# ---------------------------------------------------------------- HOSP-5: the lead against the specification


@pytest.mark.rule("HOSP-5")
def test_hosp5_a_catalogue_entry_carries_its_leads_requirements_typed_and_checked_at_load():
    from core.catalog import rules
    from core.contract import StaffRequirement

    entry, problems = rules.validate_entry({"code": "X1", "name": "测试技术", "class": "限制类", "lead": {
        "certificates": ["测试技术培训合格证"], "titles": ["副主任医师", "主任医师"], "min_years": 10,
        "source": "《测试技术临床应用管理规范》二（一）"}})
    assert problems == [] and entry.lead == StaffRequirement(
        certificates=("测试技术培训合格证",), titles=("副主任医师", "主任医师"), min_years=10,
        source="《测试技术临床应用管理规范》二（一）")
    _, problems = rules.validate_entry({"code": "X1", "name": "测试", "class": "限制类",
                                        "lead": {"titles": ["主任医师"]}})
    assert [p.field for p in problems] == ["lead"] and "出处" in problems[0].message  # no source, no requirement
    _, problems = rules.validate_entry({"code": "X1", "name": "测试", "class": "限制类",
                                        "lead": {"title": "主任医师", "source": "x"}})
    assert [p.field for p in problems] == ["lead"]  # a misspelt key is an error
    lead = entry.lead
    assert lead.unmet(qualifications=("测试技术培训合格证",), title="主任医师", years_in_practice=12) == []
    missing = lead.unmet(qualifications=(), title="主治医师", years_in_practice=None)
    assert missing[0] == "测试技术培训合格证" and "主治医师" in missing[1] and "无法核对" in missing[2]
    assert lead.unmet(qualifications=("测试技术培训合格证", "副主任医师"), title="", years_in_practice=9) == [
        "临床工作满10年（当前 9 年）"]


@pytest.mark.rule("HOSP-5")
def test_hosp5_no_shipped_catalogue_entry_invents_a_lead_requirement():
    """The seeds name the specifications (e.g. 国卫办医发〔2022〕6号) but none carries their
    staff requirements: every shipped entry's ``lead`` is empty."""
    from core.catalog.loader import load_dir

    editions = [e for d in sorted(ROOT.glob("plugins/*/catalog")) for e in load_dir(d) if hasattr(e, "entries")]
    assert len(editions) >= 4
    assert [(e.key, t.code) for e in editions for t in e.entries if t.lead is not None] == []


@pytest.mark.rule("HOSP-5")
def test_hosp5_the_requirement_survives_the_catalogue_table():
    from core.catalog import service as catalog
    from core.catalog.schemas import StaffRequirement, TechnologyEntry

    lead = StaffRequirement(titles=("主任医师",), min_years=10, source="规范")
    values = catalog._tech_values(1, "national:x", "national", 0, TechnologyEntry(
        code="X1", name="测试", tech_class="restricted", lead=lead))
    edition = {"id": 1, "key": "x", "title": "x", "effective_on": None, "superseded_on": None}
    ref = catalog._ref(values | {"id": 9}, edition, on=D(2026, 1, 1), available=True)
    assert ref.lead == lead
    none = catalog._tech_values(1, "national:x", "national", 0, TechnologyEntry(code="X2", name="测试",
                                                                                  tech_class="restricted"))
    assert none["lead"] == {} and catalog._ref(none | {"id": 9}, edition, on=D(2026, 1, 1), available=True).lead is None


@pytest.mark.rule("HOSP-5")
async def test_hosp5_the_lead_is_read_from_real_certificates_title_and_years(world):
    from core.admission import service as admission
    from core.catalog.schemas import StaffRequirement, TechnologyEntry
    from plugins.hospital_default.admission import validate_project

    lead_id = await _physician("people_lead", "负责人医生")
    project = {"institution": world["a"], "tech_class": "restricted", "title": "测试", "technology_code": "X1"}
    need = StaffRequirement(certificates=("X1技术培训合格证",), titles=("副主任医师", "主任医师"), min_years=10,
                            source="《X1技术临床应用管理规范》")
    technology = TechnologyEntry(code="X1", name="测试", tech_class="restricted", lead=need)

    async def hosp5():
        person = await admission.person_info(lead_id, D(2026, 6, 1))
        info = admission.project_info(project | {"form": {"evidence": [{"kind": "文献"}]}}, D(2026, 6, 1), technology)
        return [p.message for p in validate_project(info, person) if p.rule == "HOSP-5"]

    [message] = await hosp5()
    assert "X1技术培训合格证" in message and "副主任医师或主任医师" in message and "无法核对" in message
    await _practice(lead_id, f"P{secrets.token_hex(4)}", issued=D(2018, 7, 1))
    medical = await actor("medaffairs_a")
    await people.add_certificate(medical, lead_id, people.CertificateInput(kind="training", name="X1技术培训合格证",
                                                                           issued_on=D(2024, 1, 1)))
    await people.add_certificate(medical, lead_id, people.CertificateInput(kind="title", name="副主任医师",
                                                                           issued_on=D(2023, 1, 1)))
    [message] = await hosp5()
    assert message.endswith("临床工作满10年（当前 7 年）")  # the practice certificate's date counts
    assert (await admission.person_info(lead_id, D(2026, 6, 1))).years_in_practice == 7
    await people.add_certificate(medical, lead_id, people.CertificateInput(kind="practice", name="医师执业证",
                                                                           issued_on=D(2010, 7, 1)))
    assert await hosp5() == []
    # A catalogue entry that states nothing: nothing to check.
    bare = admission.project_info(project | {"form": {"evidence": [{"kind": "文献"}]}}, D(2026, 6, 1),
                                  TechnologyEntry(code="S6", name="消化内镜诊疗技术", tech_class="restricted"))
    assert bare.technology_lead is None
    assert [p for p in validate_project(bare, await admission.person_info(lead_id, D(2026, 6, 1)))
            if p.rule == "HOSP-5"] == []


@pytest.mark.rule("HOSP-5")
async def test_hosp5_the_pages_say_no_requirement_is_declared(world, login_as):
    from core.admission.tables import Project

    client = await login_as("medaffairs_a")
    row = await Project.select(Project.technology_ref).where(Project.id == world["project"]).first()
    page = await client.get(f"/catalog/{row['technology_ref']}")
    assert page.status_code == 200 and "未声明" in page.text and 'id="lead-requirement"' in page.text
    page = await client.get(f"/admission/projects/{world['project']}")
    assert 'id="lead-requirement"' in page.text and "HOSP-5" in page.text and "未声明" in page.text


# ---------------------------------------------------------------- JL-27: the trained database feeds grants


@pytest.mark.rule("JL-27")
@pytest.mark.rule("NAT-33")
@pytest.mark.rule("JL-34")
async def test_jl27_a_technology_grant_reads_the_trained_database_and_is_refused_without_it(world):
    hooks = world["hooks"]
    medical = await actor("medaffairs_a")
    doctor = await _physician("people_trainee", "培训医生")
    number = f"110{secrets.token_hex(5)}"
    await _practice(doctor, number)
    with pytest.raises(DomainError) as exc:
        await people.grant(medical, doctor, _grant(), hooks=hooks)
    assert [(p.field, p.rule) for p in exc.value.problems] == [("training", "JL-27")]
    assert "培训数据库" in str(exc.value)
    # Nationally the database is read, not required: the same grant stands (no record to show).
    henan = PluginHost(("henan", "hospital_default")).view()
    # Trained at the base: passed the final exam, results reported to the QC centre (JL-34).
    await _trained_course(hooks, "S6", [("培训医生", number, "pass"), ("另一名医生", "OTHER-1", "fail")])
    records = await training.records_of(doctor, world["a"], "S6")
    assert len(records) == 1 and records[0]["kind"] == "course" and "结业考核合格" in records[0]["text"]
    auth_id = await people.grant(medical, doctor, _grant(), hooks=hooks)
    event = await AuthorisationEvent.select().where(AuthorisationEvent.authorisation == auth_id).first().output(
        load_json=True)
    assert [e["kind"] for e in event["evidence"]] == ["course"] and "报省医疗机构质量监测评价中心" in event["evidence"][0]["text"]
    # The failed trainee is not in the database; a level grant needs no record.
    other = await _physician("people_failed", "未通过医生")
    await _practice(other, "OTHER-1")
    assert await training.records_of(other, world["a"], "S6") == []
    with pytest.raises(DomainError):
        await people.grant(medical, other, _grant(), hooks=hooks)
    assert await people.grant(medical, other, people.GrantInput(
        scope="level", level=2, valid_from=D(2026, 1, 5), valid_until=D(2027, 1, 4), ability="二级手术30例",
        training="院内培训", exam="考核合格", decision="管委会会议"), hooks=hooks)
    assert await people.grant(medical, other, _grant(), hooks=henan)  # NAT-20: no database rule nationally


@pytest.mark.rule("JL-27")
async def test_jl27_the_archive_shows_the_database_record_and_the_grants_basis(world, login_as):
    doctor = await User.select(User.id).where(User.username == "people_trainee").first()
    if doctor is None:
        pytest.skip("runs after the grant test")
    page = await (await login_as("medaffairs_a")).get(f"/people/{doctor['id']}")
    assert 'id="trained-records"' in page.text and "结业考核合格" in page.text
    assert 'data-evidence="course"' in page.text and 'id="training-rule"' in page.text and "JL-27" in page.text


# ---------------------------------------------------------------- JL-43: moving in from another province


@pytest.mark.rule("JL-43")
async def test_jl43_a_physician_from_another_province_reviewed_by_the_qc_centre_counts_as_trained(world):
    hooks = world["hooks"]
    medical = await actor("medaffairs_a")
    doctor = await _physician("people_transfer", "调入医生")
    data = training.ReviewInput(technology_key="S6", origin="辽宁省某三甲医院",
                                materials="已核对其在辽宁省的规范化培训证书及近三年开展该技术120例")
    with pytest.raises(DomainError) as exc:  # nowhere but where the province says so
        await training.submit_review(medical, PluginHost(("henan", "hospital_default")).view(), doctor, data)
    assert exc.value.status_code == 404
    with pytest.raises(DomainError) as exc:  # another institution's medical affairs
        await training.submit_review(await actor("medaffairs_b"), hooks, doctor, data)
    assert exc.value.status_code == 404
    with pytest.raises(DomainError) as exc:
        await training.submit_review(medical, hooks, doctor, training.ReviewInput(technology_key="S6"))
    assert {p.field for p in exc.value.problems} == {"origin", "materials"} and {
        p.rule for p in exc.value.problems} == {"JL-43"}
    review_id = await training.submit_review(medical, hooks, doctor, data)
    with pytest.raises(DomainError):  # not yet reviewed: not yet training
        await people.grant(medical, doctor, _grant(), hooks=hooks)
    for who in ("medaffairs_a", "regulator_city1", "clinician_a"):  # only the QC centre decides
        with pytest.raises(DomainError) as exc:
            await training.decide_review(await actor(who), review_id, True, "合格", clock.today())
        assert exc.value.status_code == 404
    qc = await actor("qccenter")
    assert [r["id"] for r in await training.reviews(qc) if r["may_decide"]] == [review_id]
    with pytest.raises(DomainError) as exc:
        await training.decide_review(qc, review_id, True, "", clock.today())
    assert [p.field for p in exc.value.problems] == ["opinion"]
    await training.decide_review(qc, review_id, True, "培训经历与技术能力符合规范要求，评议合格", clock.today())
    [record] = await training.records_of(doctor, world["a"], "S6")
    assert record["kind"] == "review" and "视同规范化培训合格" in record["text"] and "JL-43" in record["text"]
    assert await people.grant(medical, doctor, _grant(), hooks=hooks)
    assert any(t["basis"].startswith("外省调入医师评议合格") for t in await training.trained(qc))
    with pytest.raises(DomainError):  # decided once
        await training.decide_review(qc, review_id, False, "再次评议", clock.today())


@pytest.mark.rule("JL-43")
async def test_jl43_the_pages_apply_and_decide(world, login_as):
    doctor = await _physician("people_transfer2", "调入医生二")
    client = await login_as("medaffairs_a")
    page = await client.get(f"/people/{doctor}")
    assert 'id="review-form"' in page.text and "JL-43" in page.text
    bad = await client.post(f"/people/{doctor}/reviews", data={"technology_key": "S6", "origin": "", "materials": ""})
    assert bad.status_code == 422 and "调入前的执业机构" in bad.text
    ok = await client.post(f"/people/{doctor}/reviews", data={
        "technology_key": "S6", "origin": "黑龙江省某医院", "materials": "已核对培训证书与开展病例记录共计80例"})
    assert ok.status_code == 303
    qc = await login_as("qccenter")
    page = await qc.get("/training/")
    review = await training.reviews(await actor("qccenter"), user_id=doctor)
    assert f'data-review="{review[0]["id"]}"' in page.text and "调入医生二" in page.text
    answer = await qc.post(f"/training/reviews/{review[0]['id']}", data={
        "result": "fail", "on": clock.today().isoformat(), "opinion": "培训证明不全，不合格"})
    assert answer.status_code == 303
    assert (await training.reviews(await actor("qccenter"), user_id=doctor))[0]["status"] == "failed"
    other = await login_as("medaffairs_b")
    assert (await other.post(f"/training/reviews/{review[0]['id']}", data={
        "result": "pass", "on": clock.today().isoformat(), "opinion": "越权"})).status_code == 404


# ---------------------------------------------------------------- tenancy of the trained database


async def test_tenancy_the_trained_database_an_institution_its_own_bases_the_qc_centre_its_province(world, login_as):
    """The QC centre reads the province's database; an institution its own bases' trainees;
    a regulator of another city none of hospital A's; foreign people are 404."""
    qc = {r["name"] for r in await training.trained(await actor("qccenter"))}
    assert "培训医生" in qc
    assert "培训医生" not in {r["name"] for r in await training.trained(await actor("medaffairs_b"))}
    a_city = await User.select(User.region).where(User.username == "regulator_city1").first()
    from core.tenancy.tables import Institution

    a_region = (await Institution.select(Institution.region).where(Institution.id == world["a"]).first())["region"]
    other = "regulator_city2" if a_region == a_city["region"] else "regulator_city1"
    assert "培训医生" not in {r["name"] for r in await training.trained(await actor(other))}
    doctor = await User.select(User.id).where(User.username == "people_trainee").first()
    assert (await (await login_as("medaffairs_b")).get(f"/people/{doctor['id']}")).status_code == 404
    assert (await (await login_as(other)).get(f"/people/{doctor['id']}")).status_code == 404
    assert (await (await login_as("qccenter")).get(f"/people/{doctor['id']}")).status_code == 200
    page = await (await login_as("qccenter")).get("/training/")
    assert "培训医生" in page.text


# ---------------------------------------------------------------- JL-43 first paragraph: the transitional list


@pytest.mark.rule("JL-43")
async def test_jl43_physicians_already_qualified_apply_the_institution_reviews_the_department_lists(world, login_as):
    """When Jilin's rules take effect the physician_application obligation opens (deadline
    rule JL-43, 2 months); a physician's application fulfils it; the institution reviews; the
    licence-issuing department publicises the list and reports it to the QC centre — then the
    physician is in the database and a technology grant stands."""
    from core.obligations import service as obligations
    from core.obligations.tables import Obligation
    from core.tenancy.tables import Institution

    hooks = world["hooks"]
    effective = clock.today() - dt.timedelta(days=20)
    answered = await obligations.on_events(await actor("medaffairs_a"), hooks, [obligations.DomainEvent(
        kind="rules_effective", occurred_on=effective, institution_id=world["a"], subject_type="project",
        subject_id=world["project"], subject_label="消化内镜诊疗技术", technology_class="restricted",
        technology_code="S6", occurrence="jilin-2021", extra={"rules": "jilin-2021", "filed": True})])
    [opened] = [o for o in answered[0] if o["kind"] == "physician_application"]
    assert opened["rule_id"] == "JL-43"
    doctor = await _physician("people_veteran", "资深医生")
    client = await login_as("people_veteran")
    page = await client.get(f"/people/{doctor}")
    assert 'id="application-form"' in page.text
    bad = await client.post(f"/people/{doctor}/applications", data={"technology_key": "S6", "conditions": "短"})
    assert bad.status_code == 422 and "已具备的条件" in bad.text
    ok = await client.post(f"/people/{doctor}/applications", data={
        "technology_key": "S6", "conditions": "2018年起独立开展内镜下黏膜剥离术，累计300例，参加过国家级培训"})
    assert ok.status_code == 303
    row = await Obligation.select(Obligation.status, Obligation.done_late).where(Obligation.id == opened["id"]).first()
    assert row == {"status": "done", "done_late": False}  # applied within the 2 months
    assert (await client.post(f"/people/{doctor}/applications", data={
        "technology_key": "S6", "conditions": "再次申请同一技术的条件说明文字"})).status_code == 422  # once
    other = await login_as("clinician_a")
    assert (await other.post(f"/people/{doctor}/applications", data={
        "technology_key": "S6", "conditions": "替别人申请的条件说明文字"})).status_code == 404
    [application] = [r for r in await training.reviews(await actor("medaffairs_a"), user_id=doctor)
                     if r["kind"] == "transitional"]
    assert application["may_review"] and not application["may_list"]
    medical = await login_as("medaffairs_a")
    assert (await medical.post(f"/people/{doctor}/applications/{application['id']}", data={
        "result": "pass", "on": clock.today().isoformat(), "opinion": ""})).status_code == 422
    assert (await (await login_as("medaffairs_b")).post(f"/people/{doctor}/applications/{application['id']}", data={
        "result": "pass", "on": clock.today().isoformat(), "opinion": "越权"})).status_code == 404
    assert (await medical.post(f"/people/{doctor}/applications/{application['id']}", data={
        "result": "pass", "on": clock.today().isoformat(), "opinion": "管委会评议：具备条件"})).status_code == 303
    assert await training.records_of(doctor, world["a"], "S6") == []  # not yet reported to the QC centre
    # The department that issued hospital A's licence publicises and reports the list.
    licence = (await Institution.select(Institution.licence_region).where(Institution.id == world["a"]).first())
    [licensing] = [u for u in await User.select(User.username, User.roles).where(
        User.region == licence["licence_region"]).output(load_json=True) if "regulator" in (u["roles"] or [])]
    stranger = "regulator_city2" if licensing["username"] == "regulator_city1" else "regulator_city1"
    with pytest.raises(DomainError) as exc:
        await training.list_transitional(await actor(stranger), application["id"], clock.today())
    assert exc.value.status_code == 404
    desk = await login_as(licensing["username"])
    assert f'action="/training/reviews/{application["id"]}/list"' in (await desk.get("/training/")).text
    assert (await desk.post(f"/training/reviews/{application['id']}/list",
                            data={"on": clock.today().isoformat()})).status_code == 303
    [record] = await training.records_of(doctor, world["a"], "S6")
    assert record["kind"] == "listed" and "JL-43" in record["text"]
    assert await people.grant(await actor("medaffairs_a"), doctor, _grant(), hooks=hooks)
    # Nowhere but where the province says so.
    with pytest.raises(DomainError) as exc:
        await training.apply_transitional(await actor("people_veteran"), PluginHost(("henan", "hospital_default")).view(),
                                          "S6", "条件说明文字足够长的一段")
    assert exc.value.status_code == 404


# ---------------------------------------------------------------- NAT-20: a case that came in anyway


@pytest.mark.rule("NAT-20")
async def test_nat20_a_revocation_effective_before_recorded_cases_warns_them(world):
    """Accepted at entry (authorised then); the body later revokes with effect before the
    operation date: the case came in anyway — a finding on it (the regulator's warning)."""
    from core.cases import service as cases
    from core.people.tables import OperatorFinding
    from tests.case_helpers import REPORTED, case_input
    from tests.people_helpers import trained_for

    hooks = world["hooks"]
    await _physician("people_revoked", "被取消医生")
    doctor = (await User.select(User.id).where(User.username == "people_revoked").first())["id"]
    await trained_for(hooks, "people_revoked", "S6")
    medical = await actor("medaffairs_a")
    auth_id = await people.grant(medical, doctor, _grant(), hooks=hooks)
    await people.grant(medical, doctor, people.GrantInput(
        scope="level", level=4, valid_from=D(2026, 1, 5), valid_until=D(2028, 1, 4), ability="四级手术50例",
        training="院内培训", exam="考核合格", decision="管委会会议"), hooks=hooks)
    [case] = await cases.record_cases(await actor("clinician_a"), hooks, [case_input(
        world["project"], operation_code="43.41", operators=["people_revoked"], assistants=[])], today=REPORTED)
    assert not await OperatorFinding.exists().where(OperatorFinding.record == case.id)
    await people.act(medical, doctor, auth_id, people.ActInput(
        action="revoke", version=1, on=D(2026, 3, 8), reason="核查发现资质材料不实", decision="管委会临时会议"))
    [finding] = await OperatorFinding.select().where(OperatorFinding.record == case.id)
    assert finding["rule"] == "NAT-20" and "该技术授权已取消" in finding["message"]
    # Acting again adds nothing twice.
    assert await people.recheck_cases(world["a"], doctor, "被取消医生", D(2026, 3, 8)) == 0
