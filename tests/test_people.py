"""Physicians' authorisations, certificates and archive (NAT-19, NAT-20, JL-20, JL-21):
granted, renewed, suspended, revoked with validity dates; every case's operators checked
on the operation date; a stopped technology suspends its authorisations; certificates kept
by medical affairs with expiry; the archive page and its PDF; tenancy."""

from __future__ import annotations

import datetime as dt

import pytest

from core.accounts.tables import User
from core.cases import service as cases
from core.cases.tables import CaseRecord
from core.errors import DomainError
from core.people import rules
from core.people import service as people
from core.people.tables import OperatorFinding
from core.supervision.detectors import Scope, registered
from tests.admission_helpers import actor
from tests.case_helpers import REPORTED, case_input, release_obligations
from tests.people_helpers import admitted_code, authorise

D = dt.date


def ev(action, on, until=None, i=0):
    return {"action": action, "on": on, "valid_until": until, "id": i}


async def _physician(username: str, name: str) -> int:
    """A physician of hospital A (心血管内科) the demo has not authorised."""
    from core.accounts import service as accounts
    from core.accounts.schemas import SYSTEM, UserInput

    row = await User.select(User.id).where(User.username == username).first()
    if row:
        return row["id"]
    a = await User.select(User.institution, User.department).where(User.username == "clinician_a").first()
    return await accounts.create_user(SYSTEM, UserInput(
        username=username, display_name=name, roles=["clinician"], institution=a["institution"],
        department=a["department"], password="demo-pass-2026"))


# ---------------------------------------------------------------- pure rules


@pytest.mark.rule("NAT-20")
def test_nat20_status_on_the_operation_date_follows_the_history():
    events = [ev("grant", D(2026, 1, 5), D(2026, 12, 31), 1), ev("suspend", D(2026, 4, 1), i=2),
              ev("reinstate", D(2026, 5, 1), i=3), ev("revoke", D(2026, 9, 1), i=4)]
    assert rules.status_on(events, D(2026, 1, 4))[0] == "not_yet"
    assert rules.status_on(events, D(2026, 3, 10))[0] == "active"
    assert rules.status_on(events, D(2026, 4, 15))[0] == "suspended"
    assert rules.status_on(events, D(2026, 6, 1))[0] == "active"
    assert rules.status_on(events, D(2026, 9, 2))[0] == "revoked"
    lapsed = [ev("grant", D(2025, 1, 1), D(2025, 12, 31), 1)]
    assert rules.status_on(lapsed, D(2026, 1, 1)) == ("expired", D(2025, 12, 31))
    renewed = lapsed + [ev("renew", D(2025, 12, 20), D(2027, 12, 31), 2)]
    assert rules.status_on(renewed, D(2026, 1, 1))[0] == "active"


@pytest.mark.rule("NAT-20")
def test_nat20_a_level_authorisation_covers_that_level_and_below_and_a_restricted_case_needs_the_technology():
    level3 = [{"scope": "level", "technology_key": "", "level": 3, "events": [ev("grant", D(2026, 1, 1), D(2027, 1, 1))]}]
    kw = {"day": D(2026, 3, 10), "technology_key": "S6", "technology_label": "S6 消化内镜诊疗技术"}
    assert rules.operator_problems("甲", level3, restricted=False, level=2, **kw) == []
    assert [p.rule for p in rules.operator_problems("甲", level3, restricted=False, level=4, **kw)] == ["NAT-20"]
    found = rules.operator_problems("甲", level3, restricted=True, level=3, **kw)
    assert len(found) == 1 and "无该技术授权" in found[0].message


@pytest.mark.rule("NAT-20")
def test_nat20_a_grant_names_its_basis_validity_and_the_bodys_decision():
    problems = rules.grant_problems(scope="level", technology_key="", level=5, valid_from=D(2026, 2, 1),
                                    valid_until=D(2026, 1, 1), ability="", training="", decision="")
    assert {p.field for p in problems} == {"level", "valid_until", "ability", "training", "decision"}
    assert {p.rule for p in problems} == {"NAT-20", "NAT-15"}


@pytest.mark.rule("NAT-19")
def test_nat19_qualifications_follow_the_certificates_in_force():
    certs = [{"name": "医师资格证", "issued_on": D(2010, 1, 1), "expires_on": None, "removed": 0},
             {"name": "医师执业证", "issued_on": D(2010, 1, 1), "expires_on": D(2026, 1, 1), "removed": 0}]
    assert rules.qualifications(["主治医师", "医师执业证"], certs, D(2025, 6, 1)) == ["主治医师", "医师执业证", "医师资格证"]
    assert rules.qualifications(["主治医师", "医师执业证"], certs, D(2026, 6, 1)) == ["主治医师", "医师资格证"]


# ---------------------------------------------------------------- authorisations and cases


@pytest.fixture(scope="module")
async def world(deployment):
    hooks = deployment["host"].view()
    project = await admitted_code(hooks, "S6")
    await authorise("clinician_a", technology_key="S6")
    await authorise("clinician_a", level=4)
    yield {"hooks": hooks, "project": project, "a": deployment["hospital_a"]}
    await release_obligations()


@pytest.mark.rule("NAT-20")
async def test_nat20_an_authorised_operators_case_is_accepted_an_unauthorised_ones_refused_unless_declared_then_warned(world):
    hooks, project = world["hooks"], world["project"]
    clinician = await actor("clinician_a")
    [ok] = await cases.record_cases(clinician, hooks, [case_input(project, operation_code="43.41")], today=REPORTED)
    assert not await OperatorFinding.exists().where(OperatorFinding.record == ok.id)
    await _physician("people_newcomer", "新来医生")  # no authorisation at all
    unauthorised = case_input(project, operation_code="43.41", operators=["people_newcomer"], assistants=[])
    # Refused at entry: no authorisation for the restricted technology on the operation date.
    with pytest.raises(DomainError) as exc:
        await cases.record_cases(clinician, hooks, [unauthorised], today=REPORTED)
    assert [(p.field, p.rule) for p in exc.value.problems] == [("items[0].operators", "NAT-20")]
    assert "无该技术授权" in str(exc.value) and "如实报送" in str(exc.value)
    assert not await CaseRecord.exists().where(CaseRecord.external_id == unauthorised.case_id)
    # Declared as really performed so: recorded and reported all the same (NAT-37: every case
    # performed is reported) ...
    [warned] = await cases.record_cases(clinician, hooks, [unauthorised], today=REPORTED, declare_unauthorised=True)
    assert warned.report_rule == "JL-38"
    findings = await OperatorFinding.select().where(OperatorFinding.record == warned.id)
    assert sorted(f["message"][:20] for f in findings) and {f["rule"] for f in findings} == {"NAT-20"}
    assert any("无该技术授权" in f["message"] for f in findings)
    assert any("无四级手术授权" in f["message"] for f in findings)
    # ... and the regulator's detector sees it (its rule id comes from the province plugin).
    found = await registered()["operator_without_authorisation"].find(Scope((world["a"],), REPORTED))
    assert [f.count for f in found if f.technology_code == "S6"] == [1]


@pytest.mark.rule("NAT-20")
@pytest.mark.rule("JL-21")
async def test_jl21_suspend_reinstate_renew_revoke_with_history_and_the_operation_date_decides(world):
    hooks, project = world["hooks"], world["project"]
    medical = await actor("medaffairs_a")
    depthead = await User.select(User.id).where(User.username == "depthead_a").first()
    auth_id = await authorise("depthead_a", technology_key="S6", valid_from=D(2026, 3, 1))
    level = await authorise("depthead_a", level=4, valid_from=D(2026, 3, 1))
    assert level != auth_id
    await people.act(medical, depthead["id"], auth_id, people.ActInput(
        action="suspend", version=1, on=D(2026, 4, 1), reason="发生严重并发症，暂停待评估", decision="管委会临时会议"))
    with pytest.raises(DomainError) as exc:  # a stale version loses
        await people.act(medical, depthead["id"], auth_id, people.ActInput(
            action="reinstate", version=1, on=D(2026, 5, 1), reason="评估合格", decision="管委会会议"))
    assert exc.value.status_code == 409
    clinician = await actor("clinician_a")
    march = case_input(project, operation_code="43.41", operators=["depthead_a"], assistants=[])
    [before] = await cases.record_cases(clinician, hooks, [march], today=REPORTED)  # operated 2026-03-10
    assert not await OperatorFinding.exists().where(OperatorFinding.record == before.id)
    april = case_input(project, operation_code="43.41", operators=["depthead_a"], assistants=[],
                       admitted_on="2026-04-13", operated_on="2026-04-14", discharged_on="2026-04-20")
    with pytest.raises(DomainError) as exc:  # suspended on the operation date: refused at entry
        await cases.record_cases(clinician, hooks, [april], today=D(2026, 4, 21))
    assert "该技术授权暂停" in str(exc.value) and {p.rule for p in exc.value.problems} == {"NAT-20"}
    [during] = await cases.record_cases(clinician, hooks, [april], today=D(2026, 4, 21), declare_unauthorised=True)
    findings = await OperatorFinding.select(OperatorFinding.message).where(OperatorFinding.record == during.id)
    assert [f["message"] for f in findings if "暂停" in f["message"]]
    await people.act(medical, depthead["id"], auth_id, people.ActInput(
        action="reinstate", version=2, on=D(2026, 5, 1), reason="评估合格", decision="管委会会议"))
    await people.act(medical, depthead["id"], auth_id, people.ActInput(
        action="renew", version=3, on=D(2026, 12, 1), valid_until=D(2029, 12, 1), decision="管委会年度再授权"))
    await people.act(medical, depthead["id"], auth_id, people.ActInput(
        action="revoke", version=4, on=D(2026, 12, 2), reason="调离本院", decision="管委会会议"))
    with pytest.raises(DomainError):  # nothing revives a revocation
        await people.act(medical, depthead["id"], auth_id, people.ActInput(
            action="reinstate", version=5, reason="误操作", decision="管委会"))
    rows = await people.authorisations(depthead["id"], world["a"])
    mine = next(r for r in rows if r["id"] == auth_id)
    assert [e["action"] for e in mine["events"]] == ["grant", "suspend", "reinstate", "renew", "revoke"]
    assert mine["state"] == "revoked"


@pytest.mark.rule("NAT-20")
@pytest.mark.rule("NAT-25")
async def test_nat20_a_suspended_technology_suspends_its_authorisations(world):
    from core.lifecycle import service as lifecycle

    clinician_a = await User.select(User.id).where(User.username == "clinician_a").first()
    medical = await actor("medaffairs_a")
    await lifecycle.suspend(medical, world["hooks"], technology_key="S6", reason="设备故障，暂停开展")
    try:
        rows = await people.authorisations(clinician_a["id"], world["a"])
        s6 = next(r for r in rows if r["technology_key"] == "S6")
        assert s6["state"] == "technology" and "授权随之暂停" in s6["state_label"]
    finally:
        await lifecycle.lift(medical, world["hooks"], technology_key="S6", reason="设备已修复")
    rows = await people.authorisations(clinician_a["id"], world["a"])
    assert next(r for r in rows if r["technology_key"] == "S6")["state"] == "active"  # lifting restores it


@pytest.mark.rule("NAT-20")
async def test_nat20_only_medical_affairs_of_the_institution_grants(world):
    clinician_b = await User.select(User.id).where(User.username == "clinician_b").first()
    data = people.GrantInput(scope="level", level=2, valid_from=D(2026, 1, 1), valid_until=D(2027, 1, 1),
                             ability="能力", training="培训", decision="管委会")
    for who in ("medaffairs_a", "clinician_a"):
        with pytest.raises(DomainError) as exc:
            await people.grant(await actor(who), clinician_b["id"], data)
        assert exc.value.status_code == 404
    with pytest.raises(DomainError) as exc:  # only technologies the institution admitted
        await people.grant(await actor("medaffairs_b"), clinician_b["id"], people.GrantInput(
            scope="technology", technology_key="S6", valid_from=D(2026, 1, 1), valid_until=D(2027, 1, 1),
            ability="能力", training="培训", decision="管委会"))
    assert [p.field for p in exc.value.problems] == ["technology_key"]


# ---------------------------------------------------------------- certificates and the archive


@pytest.mark.rule("NAT-19")
@pytest.mark.rule("JL-12")
async def test_nat19_medical_affairs_keeps_certificates_and_the_qualifications_follow(deployment, login_as):
    client = await login_as("medaffairs_b")
    b_doc = await User.select(User.id, User.qualifications).where(User.username == "clinician_b").first().output(
        load_json=True)
    assert "医师执业证" not in b_doc["qualifications"]
    answer = await client.post(f"/people/{b_doc['id']}/certificates", data={
        "kind": "practice", "name": "", "number": "110220000123456", "issued_on": "2018-07-01",
        "expires_on": "2026-12-31"})
    assert answer.status_code == 303
    after = await User.select(User.qualifications).where(User.id == b_doc["id"]).first().output(load_json=True)
    assert "医师执业证" in after["qualifications"]
    page = await client.get(f"/people/{b_doc['id']}")
    assert "110220000123456" in page.text
    # The day after it expires the daily job takes it out of the qualifications.
    assert await people.expire_certificates(D(2027, 1, 1)) >= 1
    after = await User.select(User.qualifications).where(User.id == b_doc["id"]).first().output(load_json=True)
    assert "医师执业证" not in after["qualifications"]
    bad = await client.post(f"/people/{b_doc['id']}/certificates", data={
        "kind": "practice", "issued_on": "2020-01-01", "expires_on": "2019-01-01"})
    assert bad.status_code == 422 and "有效期至不能早于发证日期" in bad.text


@pytest.mark.rule("NAT-19")
@pytest.mark.rule("JL-20")
async def test_jl20_the_archive_page_and_pdf_show_authorisations_cases_and_incidents(world, login_as):
    clinician_a = await User.select(User.id).where(User.username == "clinician_a").first()
    client = await login_as("medaffairs_a")
    page = await client.get(f"/people/{clinician_a['id']}")
    assert page.status_code == 200
    for text in ("S6", "四级及以下手术", "技术开展情况", "培训及考核", "省级培训基地培训6个月", "结业考核合格",
                 "（NAT-19、JL-20）"):  # Jilin's 第二十条 restates NAT-19
        assert text in page.text, text
    pdf = await client.get(f"/people/{clinician_a['id']}/archive.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    own = await login_as("clinician_a")
    assert (await own.get(f"/people/{clinician_a['id']}")).status_code == 200  # one's own archive
    assert "grant-form" not in (await own.get(f"/people/{clinician_a['id']}")).text


@pytest.mark.rule("NAT-19")
async def test_nat19_tenancy_people_of_another_institution_are_not_found(deployment, login_as):
    a_doc = await User.select(User.id).where(User.username == "clinician_a").first()
    b_doc = await User.select(User.id).where(User.username == "clinician_b").first()
    other = await login_as("medaffairs_b")
    assert (await other.get(f"/people/{a_doc['id']}")).status_code == 404
    assert (await other.get(f"/people/institution/{deployment['hospital_a']}")).status_code == 404
    peer = await login_as("clinician_a")
    assert (await peer.get(f"/people/{b_doc['id']}")).status_code == 404
    regulator = await login_as("regulator_city1")
    assert (await regulator.get(f"/people/{a_doc['id']}")).status_code == 200
    assert (await regulator.get(f"/people/{b_doc['id']}")).status_code == 404
    answer = await other.post(f"/people/{a_doc['id']}/authorisations", data={
        "scope": "level", "level": "4", "valid_from": "2026-01-01", "valid_until": "2027-01-01",
        "ability": "x越权", "training": "x越权", "decision": "越权"})
    assert answer.status_code == 404


async def test_operator_findings_are_shown_on_the_case(world, login_as):
    row = await OperatorFinding.select(OperatorFinding.record).first()
    client = await login_as("medaffairs_a")
    page = await client.get(f"/cases/{row['record']}")
    assert 'data-finding="NAT-20"' in page.text
    assert await CaseRecord.exists().where(CaseRecord.id == row["record"])


@pytest.mark.rule("JL-12")
@pytest.mark.rule("NAT-19")
async def test_jl12_a_filing_blocked_by_a_missing_certificate_links_to_the_physicians_archive(deployment, login_as):
    from core.filing import service as filing
    from core.filing.tables import Filing
    from tests.filing_helpers import admitted_project

    hooks = deployment["host"].view()
    newcomer = await _physician("people_newcomer", "新来医生")
    project_id = await admitted_project(hooks)
    medical = await actor("medaffairs_a")
    filing_id = await filing.on_first_case(medical, hooks, project_id=project_id, case_date=D(2026, 3, 9),
                                           today=D(2026, 3, 9))
    row = await Filing.select(Filing.version).where(Filing.id == filing_id).first()
    await filing.save_details(medical, hooks, filing_id, filing.FilingDetails(
        version=row["version"], self_assessment="对照管理规范逐项自评，符合要求。",
        physicians=[{"user_id": newcomer, "name": "新来医生"}]))
    page = await (await login_as("medaffairs_a")).get(f"/filings/{filing_id}")
    assert "医师新来医生缺少证书" in page.text
    assert f'href="/people/{newcomer}#certificates"' in page.text


@pytest.mark.rule("JL-21")
async def test_jl21_in_jilin_a_grant_rests_on_examination_results_too(deployment):
    from core.plugins import PluginHost

    newcomer = await _physician("people_newcomer", "新来医生")
    data = people.GrantInput(scope="level", level=2, valid_from=D(2026, 1, 5), valid_until=D(2027, 1, 4),
                             ability="独立完成二级手术30例", training="院内培训", decision="管委会会议")
    with pytest.raises(DomainError) as exc:
        await people.grant(await actor("medaffairs_a"), newcomer, data, hooks=deployment["host"].view())
    assert [(p.field, p.rule) for p in exc.value.problems] == [("exam", "JL-21")]
    # Nationally (NAT-20: ability and training) the same grant stands.
    assert await people.grant(await actor("medaffairs_a"), newcomer, data, hooks=PluginHost(("henan",)).view())


@pytest.mark.rule("NAT-20")
async def test_nat20_the_api_and_the_spreadsheet_refuse_an_unauthorised_operator_unless_declared(world, anon):
    """The hospital's other entry paths decide as the page does: refused naming NAT-20;
    declared as really performed, recorded (and warned)."""
    from core.cases.rules import OUTCOMES
    from tests.case_helpers import case, token_for

    await _physician("people_newcomer", "新来医生")
    _, token = await token_for(world["a"])
    bearer = {"Authorization": f"Bearer {token}"}
    item = case(world["project"], operation_code="43.41", operators=["people_newcomer"], assistants=[])
    refused = await anon.post("/api/v1/cases", json={"cases": [item]}, headers=bearer)
    assert refused.status_code == 422
    assert [(p["field"], p["rule"]) for p in refused.json()["problems"]] == [("cases[0].operators", "NAT-20")]
    declared = await anon.post("/api/v1/cases", json={"cases": [item], "declare_unauthorised": True}, headers=bearer)
    assert declared.status_code == 200 and declared.json()["created"] == 1
    assert await OperatorFinding.exists().where(OperatorFinding.record == declared.json()["results"][0]["id"])
    clinician = await actor("clinician_a")
    values = {"医院病例号": "XLSX-UNAUTH", "患者匿名编号": "PK-XLSX-UNAUTH", "入院日期": "2026-03-09",
              "手术日期": "2026-03-10", "出院日期": "2026-03-16", "术者工号": "people_newcomer", "助手工号": "",
              "适应症": "胃早癌", "转归": OUTCOMES["improved"], "有无并发症": "否", "并发症情况": "",
              "有无不良事件": "否", "不良事件情况": "", "随访情况": "术后30天随访无异常", "已签署知情同意书": "是",
              "质控:并发症发生率": "否", "手术编码": "43.41"}
    code = f"P{world['project']}"
    job = await cases.start_import(clinician, code, "unauthorised.xlsx", [{"row": 2, "values": values}])
    failed = await cases.run_import(clinician, world["hooks"], job, today=REPORTED)
    assert failed["status"] == "failed" and {p["rule"] for p in failed["problems"]} == {"NAT-20"}
    assert failed["problems"][0]["message"].startswith("第 2 行：")
    job = await cases.start_import(clinician, code, "unauthorised.xlsx", [{"row": 2, "values": values}],
                                   declare_unauthorised=True)
    done = await cases.run_import(clinician, world["hooks"], job, today=REPORTED)
    assert done["status"] == "done" and done["imported"] == 1
