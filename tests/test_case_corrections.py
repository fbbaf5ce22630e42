"""Issue 11 point 3: medical affairs corrects and voids a reported case (reason, version
history, audit, a message through the same channel); follow-up (30-day 转归 and death)
is added after discharge by page and API."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from core.audit.tables import AuditEvent
from core.cases import service as cases
from core.cases.tables import CaseRecord, CaseVersion
from core.obligations.tables import Obligation
from core.outbox.tables import Delivery
from core.qc import service as qc
from tests.admission_helpers import actor
from tests.case_helpers import admitted, case_input, release_obligations, token_for


@pytest.fixture(scope="module")
async def project(deployment):
    yield await admitted(deployment["host"].view(), tech_index=12)
    await release_obligations()


def recent(days_ago: int = 40) -> dict:
    """A case discharged ``days_ago`` days ago (real today: the page and API use it)."""
    today = clock.today()
    return {"admitted_on": (today - dt.timedelta(days=days_ago + 6)).isoformat(),
            "operated_on": (today - dt.timedelta(days=days_ago + 5)).isoformat(),
            "discharged_on": (today - dt.timedelta(days=days_ago)).isoformat()}


async def recorded(deployment, project: int, days_ago: int = 40) -> cases.CaseResult:
    [result] = await cases.record_cases(await actor("clinician_a"), deployment["host"].view(),
                                        [case_input(project, **recent(days_ago))], source="page")
    return result


async def deliveries(case_id: int) -> list[dict]:
    return await Delivery.select().where((Delivery.subject_type == "case") & (Delivery.subject_id == case_id)
                                         ).order_by(Delivery.id).output(load_json=True)


def correction_form(row: dict, **changes) -> dict:
    form = {k: str(row[k]) for k in ("admitted_on", "operated_on", "discharged_on")}
    form |= {"indication": row["indication"], "outcome": row["outcome"], "complications": row["complications"],
             "adverse_events": row["adverse_events"], "follow_up": row["follow_up"]}
    return form | changes


@pytest.mark.rule("NAT-37")
async def test_nat37_medical_affairs_corrects_a_reported_case_with_reason_version_audit_and_message(
        deployment, project, login_as):
    result = await recorded(deployment, project)
    before = await CaseRecord.select().where(CaseRecord.id == result.id).first()
    ma = await login_as("medaffairs_a")
    page = (await ma.get(f"/cases/{result.id}")).text
    assert 'id="correct-form"' in page and 'id="void-form"' in page
    # No reason: refused, nothing changed.
    refused = await ma.post(f"/cases/{result.id}/correct", data=correction_form(before, outcome="worse"))
    assert refused.status_code == 422 and "请填写更正理由" in refused.text
    assert (await CaseRecord.select(CaseRecord.outcome).where(CaseRecord.id == result.id).first()
            )["outcome"] == before["outcome"]
    response = await ma.post(f"/cases/{result.id}/correct", data=correction_form(
        before, outcome="worse", complications="术后穿刺点血肿", complication="on", reason="出院小结转归录入错误"))
    assert response.status_code == 303, response.text
    row = await CaseRecord.select().where(CaseRecord.id == result.id).first()
    assert (row["outcome"], row["complication"], row["version"]) == ("worse", True, 2)
    [kept] = await CaseVersion.select().where(CaseVersion.record == result.id).output(load_json=True)
    assert kept["version"] == 1 and kept["content"]["outcome"] == before["outcome"]
    assert kept["reason"] == "出院小结转归录入错误" and kept["changed_by"] == "medaffairs_a"
    event = await AuditEvent.select().where((AuditEvent.action == "case.correct") & (AuditEvent.record_id == result.id)
                                            ).first().output(load_json=True)
    assert event["after"]["outcome"] == "worse" and event["before"]["outcome"] == before["outcome"]
    sent = await deliveries(result.id)
    # The report and then the correction, each to both platforms (JL-38: national and provincial).
    assert [(d["channel"], d["payload"].get("message")) for d in sent] == [
        ("jilin_platform", None), ("national_platform", None),
        ("jilin_platform", "correction"), ("national_platform", "correction")]
    for correction in sent[2:]:
        assert correction["payload"]["changes"]["outcome"] == "worse"
        assert correction["payload"]["reason"] == "出院小结转归录入错误"
    page = (await ma.get(f"/cases/{result.id}")).text
    assert "第 2 版" in page and "赵医务" in page and "出院小结转归录入错误" in page and "恶化" in page


@pytest.mark.rule("NAT-37")
async def test_nat37_a_correction_is_checked_like_a_new_case(deployment, project, login_as):
    result = await recorded(deployment, project)
    row = await CaseRecord.select().where(CaseRecord.id == result.id).first()
    ma = await login_as("medaffairs_a")
    response = await ma.post(f"/cases/{result.id}/correct", data=correction_form(
        row, discharged_on=str(row["operated_on"] - dt.timedelta(days=1)), reason="日期更正"))
    assert response.status_code == 422 and "出院日期不能早于手术" in response.text
    assert (await CaseRecord.select(CaseRecord.version).where(CaseRecord.id == result.id).first())["version"] == 1


@pytest.mark.rule("NAT-37")
async def test_nat37_only_medical_affairs_of_the_institution_corrects(deployment, project, login_as):
    result = await recorded(deployment, project)
    row = await CaseRecord.select().where(CaseRecord.id == result.id).first()
    clinician = await login_as("clinician_a")
    assert 'id="correct-form"' not in (await clinician.get(f"/cases/{result.id}")).text
    response = await clinician.post(f"/cases/{result.id}/correct", data=correction_form(row, reason="想改"))
    assert response.status_code == 403
    other = await login_as("medaffairs_b")
    assert (await other.post(f"/cases/{result.id}/void", data={"reason": "不是本院"})).status_code == 404


@pytest.mark.rule("NAT-37")
async def test_nat37_a_void_keeps_the_case_readable_out_of_qc_with_its_obligation_waived(
        deployment, project, login_as):
    result = await recorded(deployment, project, days_ago=3)
    ma = await login_as("medaffairs_a")
    flt = qc.Filter(technology_code=f"P{project}")
    counted = (await qc.figures(await actor("medaffairs_a"), flt))["total"]["cases"]
    assert (await ma.post(f"/cases/{result.id}/void", data={"reason": ""})).status_code == 422
    response = await ma.post(f"/cases/{result.id}/void", data={"reason": "重复登记（同一患者）"})
    assert response.status_code == 303
    page = (await ma.get(f"/cases/{result.id}")).text
    assert 'id="voided-banner"' in page and "重复登记（同一患者）" in page and 'id="correct-form"' not in page
    assert (await qc.figures(await actor("medaffairs_a"), flt))["total"]["cases"] == counted - 1
    ob = await Obligation.select().where((Obligation.subject_type == "case") & (Obligation.subject_id == result.id)
                                         & (Obligation.kind == "case_report")).first()
    assert ob["status"] == "waived"
    assert (await deliveries(result.id))[-1]["payload"]["message"] == "void"
    assert "已作废" in (await ma.get("/cases/")).text
    again = await ma.post(f"/cases/{result.id}/void", data={"reason": "再次作废"})
    assert again.status_code == 422


@pytest.mark.rule("HOSP-15")
async def test_hosp15_follow_up_is_added_after_discharge_on_the_page(deployment, project, login_as):
    result = await recorded(deployment, project, days_ago=40)
    discharged = clock.today() - dt.timedelta(days=40)
    clinician = await login_as("clinician_a")
    early = await clinician.post(f"/cases/{result.id}/follow-up", data={
        "outcome": "improved", "followed_on": (discharged + dt.timedelta(days=10)).isoformat()})
    assert early.status_code == 422 and "出院30天后" in early.text
    inconsistent = await clinician.post(f"/cases/{result.id}/follow-up", data={
        "outcome": "improved", "died": "on", "followed_on": (discharged + dt.timedelta(days=5)).isoformat()})
    assert inconsistent.status_code == 422 and "应为“死亡”" in inconsistent.text
    done = await clinician.post(f"/cases/{result.id}/follow-up", data={
        "outcome": "cured", "followed_on": (discharged + dt.timedelta(days=31)).isoformat(), "note": "门诊复查正常"})
    assert done.status_code == 303
    row = await CaseRecord.select().where(CaseRecord.id == result.id).first()
    assert (row["followup_outcome"], row["followup_died"], row["follow_up"]) == ("cured", False, "门诊复查正常")
    assert row["followup_on"] == discharged + dt.timedelta(days=31) and row["version"] == 2
    page = (await clinician.get(f"/cases/{result.id}")).text
    assert "30天内存活" in page and "登记随访" in page and "张医生" in page
    assert (await deliveries(result.id))[-1]["payload"]["message"] == "follow_up"


@pytest.mark.rule("HOSP-15")
async def test_hosp15_follow_up_by_the_his_api(deployment, project, anon):
    [result] = await cases.record_cases(await actor("clinician_a"), deployment["host"].view(),
                                        [case_input(project, case_id="FU-API-1", **recent(5))], source="api")
    _, token = await token_for(deployment["hospital_a"])
    headers = {"Authorization": f"Bearer {token}"}
    died_on = (clock.today() - dt.timedelta(days=2)).isoformat()
    response = await anon.post("/api/v1/cases/FU-API-1/follow-up", headers=headers, csrf=False,
                               json={"outcome": "death", "died": True, "followed_on": died_on})
    assert response.status_code == 200, response.text
    assert response.json() == {"case_id": "FU-API-1", "id": result.id, "version": 2}
    row = await CaseRecord.select().where(CaseRecord.id == result.id).first()
    assert row["followup_died"] is True and row["followup_outcome"] == "death"
    missing = await anon.post("/api/v1/cases/NO-SUCH/follow-up", headers=headers, csrf=False,
                              json={"outcome": "death", "died": True, "followed_on": died_on})
    assert missing.status_code == 404
    _, other = await token_for(deployment["hospital_b"])
    foreign = await anon.post("/api/v1/cases/FU-API-1/follow-up", headers={"Authorization": f"Bearer {other}"},
                              csrf=False, json={"outcome": "death", "died": True, "followed_on": died_on})
    assert foreign.status_code == 404
    refused = await anon.post("/api/v1/cases/FU-API-1/follow-up", headers=headers, csrf=False,
                              json={"outcome": "cured", "died": False, "followed_on": died_on})
    assert refused.status_code == 422 and refused.json()["problems"][0]["field"] == "followed_on"
    assert (await anon.post("/api/v1/cases/FU-API-1/follow-up", csrf=False,
                            json={"outcome": "death", "died": True, "followed_on": died_on})).status_code == 401
    schema = (await anon.get("/schema/openapi.json")).json()
    assert "/api/v1/cases/{case_id}/follow-up" in schema["paths"]


# ---------------------------------------------------------------- a follow-up deadline from a plugin


def _follow_up_plugin():
    import types

    from core import hookimpl

    mod = types.ModuleType("followup_rules")
    mod.deadline_rules = hookimpl(lambda: [{
        "id": "FU-1", "event": "discharge", "obligation": "case_follow_up", "title": "出院30天随访",
        "article": "测试插件：限制类技术病例出院后45日内完成30天随访。", "role": "clinician",
        "offset": {"amount": 45, "unit": "calendar_days"}, "scope": {"classes": ["restricted"]}}])
    return mod


@pytest.mark.rule("HOSP-15")
async def test_hosp15_a_plugins_follow_up_deadline_is_opened_at_discharge_and_met_by_the_follow_up(
        deployment, project):
    from core.cases import corrections
    from core.plugins import PluginHost

    host = PluginHost(("jilin", "hospital_default", "followup_rules"), extra={"followup_rules": _follow_up_plugin()})
    hooks = host.view()
    [result] = await cases.record_cases(await actor("clinician_a"), hooks, [case_input(project, **recent(35))],
                                        source="page")
    discharged = clock.today() - dt.timedelta(days=35)
    ob = await Obligation.select().where((Obligation.subject_type == "case") & (Obligation.subject_id == result.id)
                                         & (Obligation.kind == "case_follow_up")).first()
    assert ob["rule_id"] == "FU-1" and ob["due_on"] == discharged + dt.timedelta(days=45) and ob["status"] == "open"
    await corrections.add_follow_up(await actor("clinician_a"), hooks, result.id, corrections.FollowUp(
        outcome="improved", died=False, followed_on=discharged + dt.timedelta(days=31)))
    ob = await Obligation.select().where(Obligation.id == ob["id"]).first()
    assert ob["status"] == "done" and not ob["done_late"]


@pytest.mark.rule("NAT-37")
@pytest.mark.rule("NAT-24")
async def test_nat37_a_voided_case_counts_nowhere_not_in_the_filing_total_nor_the_warnings(deployment, login_as):
    """Issue 11 point 3: the void took the case out of QC but left it in its filing's
    cumulative count and in the regulator's unfiled-case warning."""
    from core.filing.tables import Filing
    from core.supervision.detectors import Scope, unfiled_cases

    hooks = deployment["host"].view()
    fresh = await admitted(hooks, tech_index=17)

    async def unfiled() -> int:
        """The unfiled-cases warning's count for this technology (the supervision detector)."""
        found = await unfiled_cases(Scope(None, clock.today(), hooks))
        return sum(f.count for f in found if f.technology_code == code)

    first = await recorded(deployment, fresh, days_ago=5)
    second = await recorded(deployment, fresh, days_ago=4)
    code = (await CaseRecord.select(CaseRecord.technology_code).where(CaseRecord.id == first.id).first()
            )["technology_code"]
    filing = await Filing.select(Filing.id, Filing.case_count).where(Filing.project == fresh).first()
    assert filing["case_count"] == 2
    assert await unfiled() == 2
    ma = await login_as("medaffairs_a")
    assert (await ma.post(f"/cases/{second.id}/void", data={"reason": "重复登记"})).status_code == 303
    assert (await Filing.select(Filing.case_count).where(Filing.id == filing["id"]).first())["case_count"] == 1
    assert await unfiled() == 1
    event = await AuditEvent.select().where((AuditEvent.action == "filing.cases")
                                            & (AuditEvent.record_id == filing["id"])).order_by(
        AuditEvent.id, ascending=False).first().output(load_json=True)
    assert event["after"]["added"] == -1
    await release_obligations()
