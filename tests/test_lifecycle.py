"""A technology's life after admission (issue 10 §1–2) at service level, Jilin deployment:
the state of use consulted by every way in, the ethics gate, stop, suspension by the
institution, its licence department and the province, lifting and resumption."""

from __future__ import annotations

import datetime as dt

import pytest

from core.admission.tables import Project
from core.audit.tables import AuditEvent
from core.cases import service as cases
from core.contract import Labelled, LifecyclePolicy
from core.errors import Conflict, DomainError, Forbidden, NotFound
from core.filing import service as filing
from core.lifecycle import rules
from core.lifecycle import service as lifecycle
from core.lifecycle.schemas import UseStatus
from core.lifecycle.tables import UseEvent
from core.outbox.tables import Delivery
from tests.case_helpers import OPERATED, admitted, case_input
from tests.filing_helpers import actor, region_actor

TODAY = dt.date(2026, 3, 20)
MEETING = dt.date(2026, 3, 18)


@pytest.fixture
def hooks(deployment):
    return deployment["host"].view()


async def key_of(project_id: int) -> str:
    row = await Project.select(Project.technology_code).where(Project.id == project_id).first()
    return lifecycle.technology_key(row["technology_code"], project_id)


def rules_of(exc: DomainError) -> set[str]:
    return {p.rule for p in exc.problems if p.rule}


# ---------------------------------------------------------------- pure rules


@pytest.mark.rule("NAT-13")
def test_nat13_ethics_gate_names_the_province_rule_and_the_deferred_path():
    policy = LifecyclePolicy(ethics=Labelled(rule="JL-14"))
    assert rules.ethics_refusal("restricted", "approved", "X", policy) is None
    assert rules.ethics_refusal("routine", "deferred", "X", policy) is None
    refusal = rules.ethics_refusal("restricted", "deferred", "X", policy)
    assert refusal.rule == "NAT-13" and refusal.also == ("JL-14",)
    assert "NAT-13、JL-14" in refusal.message and "HOSP-7" in refusal.message


@pytest.mark.rule("NAT-25")
def test_nat25_stop_outranks_a_region_suspension_which_outranks_the_institutions_own():
    day = dt.date(2026, 3, 10)
    suspension = {"id": 1, "status": "active", "started_on": day, "lifted_on": None, "rule": "JL-26",
                  "reason": "核查中", "document": "吉卫发〔2026〕1号", "region.name": "吉林省"}
    own = {"status": "suspended", "by": "institution", "since": day, "rule": "NAT-22", "reason": "设备检修",
           "document": ""}
    assert rules.effective_state(1, "G01", own, [suspension]).by == "region"
    assert rules.effective_state(1, "G01", own | {"status": "stopped"}, [suspension]).status == "stopped"
    # A case performed before the restriction began is not refused by it.
    assert rules.effective_state(1, "G01", own, [suspension], day - dt.timedelta(days=1)).status == "in_use"
    lifted = suspension | {"status": "lifted", "lifted_on": day + dt.timedelta(days=5)}
    assert rules.effective_state(1, "G01", None, [lifted], day + dt.timedelta(days=2)).status == "suspended"
    assert rules.effective_state(1, "G01", None, [lifted], day + dt.timedelta(days=5)).status == "in_use"


@pytest.mark.rule("HOSP-20")
def test_hosp20_stop_needs_trigger_committee_meeting_date_and_reason():
    problems = rules.check_stop(status="in_use", trigger="", reason="", committee="", meeting_on=None, today=TODAY)
    assert {p.field for p in problems} == {"trigger", "reason", "committee", "meeting_on"}
    assert not rules.check_stop(status="in_use", trigger="safety", reason="严重不良事件", committee="医疗技术临床应用管理委员会",
                                meeting_on=MEETING, today=TODAY)
    assert rules.stop_reports("restricted", "conditions") == (True, False)
    assert rules.stop_reports("restricted", "efficacy") == (True, True)
    assert rules.stop_reports("routine", "safety") == (True, False)


@pytest.mark.rule("NAT-9")
def test_nat9_a_technology_stopped_as_prohibited_never_resumes():
    problems = rules.check_resume(status="stopped", trigger="prohibited", basis="re_evaluation", reason="重新评估",
                                  committee="管委会", meeting_on=MEETING, today=TODAY)
    assert "NAT-9" in {p.rule for p in problems}
    problems = rules.check_resume(status="cancelled", trigger="conditions", basis="re_evaluation", reason="重新评估",
                                  committee="管委会", meeting_on=MEETING, today=TODAY)
    assert "NAT-11" in {p.rule for p in problems}


# ---------------------------------------------------------------- the province suspends (JL-26)


@pytest.mark.rule("JL-26")
async def test_jl26_province_suspends_every_institution_and_lifts_it(deployment, hooks):
    project_id = await admitted(hooks, tech_index=5)
    key = await key_of(project_id)
    ma = await actor("medaffairs_a")
    assert await lifecycle.use_refusal(deployment["hospital_a"], key, OPERATED, hooks=hooks) is None

    with pytest.raises(NotFound):  # a hospital cannot suspend a region
        await lifecycle.suspend_region(ma, hooks, technology_key=key, reason="理由")
    province = await region_actor("regulator_province")
    with pytest.raises(DomainError) as exc:
        await lifecycle.suspend_region(province, hooks, technology_key="NOPE", reason="核查")
    assert "technology_key" in {p.field for p in exc.value.problems}
    suspension_id = await lifecycle.suspend_region(
        province, hooks, technology_key=key, reason="接报疗效不确切，核查中", document="吉卫医发〔2026〕7号",
        on=OPERATED, today=TODAY)
    with pytest.raises(DomainError):  # already suspended there
        await lifecycle.suspend_region(province, hooks, technology_key=key, reason="再次", today=TODAY)

    refusal = await lifecycle.use_refusal(deployment["hospital_a"], key, TODAY, hooks=hooks)
    assert refusal.rule == "JL-26" and "JL-26" in refusal.message and "暂停" in refusal.message
    # A case performed before the suspension is still reported.
    assert await lifecycle.use_refusal(deployment["hospital_a"], key, OPERATED - dt.timedelta(days=1)) is None
    with pytest.raises(DomainError) as exc:
        await cases.record_cases(ma, hooks, [case_input(project_id, operated_on=OPERATED.isoformat())],
                                 today=TODAY)
    assert "JL-26" in rules_of(exc.value)
    state = await lifecycle.state(deployment["hospital_a"], key)
    assert state.status == UseStatus.suspended and state.by == "region"
    event = await UseEvent.select().where((UseEvent.institution == deployment["hospital_a"])
                                          & (UseEvent.technology_key == key)).first()
    assert event["action"] == "region_suspend" and event["suspension"] == suspension_id
    assert await AuditEvent.exists().where((AuditEvent.action == "technology_use.region_suspend")
                                           & (AuditEvent.institution_id == deployment["hospital_a"]))
    from core.inbox.tables import InboxMessage

    assert await InboxMessage.exists().where((InboxMessage.user == ma.id) & InboxMessage.title.like("%暂停%"))

    city = await region_actor("regulator_city1")
    with pytest.raises(Forbidden):  # only the region that suspended lifts it
        await lifecycle.lift_region(city, hooks, suspension_id, reason="解除", today=TODAY)
    await lifecycle.lift_region(province, hooks, suspension_id, reason="核查完毕，技术本身无问题", today=TODAY)
    assert await lifecycle.use_refusal(deployment["hospital_a"], key, TODAY, hooks=hooks) is None
    # ... but a case performed while it was suspended stays refused.
    assert (await lifecycle.use_refusal(deployment["hospital_a"], key, OPERATED, hooks=hooks)).rule == "JL-26"
    await cases.record_cases(ma, hooks, [case_input(project_id, operated_on=TODAY.isoformat(),
                                                    admitted_on=TODAY.isoformat(),
                                                    discharged_on=TODAY.isoformat())], today=TODAY)


# ---------------------------------------------------------------- the hospital stops (NAT-25, HOSP-20)


@pytest.mark.rule("NAT-25")
@pytest.mark.rule("HOSP-20")
async def test_nat25_stop_reports_to_the_licence_department_which_cancels_the_filing(deployment, hooks):
    project_id = await admitted(hooks, tech_index=6)
    key = await key_of(project_id)
    ma = await actor("medaffairs_a")
    first = dt.date(2026, 3, 9)
    filing_id = await filing.on_first_case(ma, hooks, project_id=project_id, case_date=first, today=first)
    with pytest.raises(DomainError) as exc:
        await lifecycle.stop(ma, hooks, technology_key=key, trigger="conditions", reason="", committee="",
                             meeting_on=None, today=TODAY)
    assert {"reason", "committee", "meeting_on"} <= {p.field for p in exc.value.problems}
    with pytest.raises(NotFound):  # a clinician cannot stop it
        await lifecycle.stop(await actor("clinician_a"), hooks, technology_key=key, trigger="conditions",
                             reason="人员调离", committee="管委会", meeting_on=MEETING, today=TODAY)
    event_id = await lifecycle.stop(ma, hooks, technology_key=key, trigger="conditions",
                                    reason="技术负责人调离，人员条件不再满足规范", committee="医疗技术临床应用管理委员会（周院长等7人）",
                                    meeting_on=MEETING, document="院医发〔2026〕3号", today=TODAY)
    event = await UseEvent.select().where(UseEvent.id == event_id).first()
    assert event["rule"] == "JL-26" and event["committee"].startswith("医疗技术临床应用管理委员会")
    assert event["meeting_on"] == MEETING and event["delivery_id"]
    delivery = await Delivery.select().where(Delivery.id == event["delivery_id"]).first().output(load_json=True)
    assert delivery["kind"] == "report" and delivery["payload"]["purpose"] == "stop_report"
    assert delivery["payload"]["ground"] == "conditions"
    refusal = await lifecycle.use_refusal(deployment["hospital_a"], key, TODAY, hooks=hooks)
    assert refusal.rule == "JL-26" and refusal.status == "stopped"
    with pytest.raises(DomainError):  # stopped already
        await lifecycle.stop(ma, hooks, technology_key=key, trigger="safety", reason="再次", committee="管委会",
                             meeting_on=MEETING, today=TODAY)

    # The licence department cancels the (completed) filing: the use becomes 注销备案.
    from core.filing.tables import Filing

    await Filing.update({Filing.status: "completed", Filing.completed_on: first}).where(Filing.id == filing_id)
    city = await region_actor("regulator_city1")
    await filing.cancel(city, hooks, filing_id, "conditions", "接医院停止报告，注销备案", today=TODAY)
    state = await lifecycle.state(deployment["hospital_a"], key)
    assert state.status == UseStatus.cancelled and state.label == "注销备案"

    # Resumption only by filing again: the project waits for its next first case.
    with pytest.raises(DomainError) as exc:
        await lifecycle.resume(ma, hooks, technology_key=key, basis="re_evaluation", reason="重新评估合格",
                               committee="管委会", meeting_on=TODAY, today=TODAY)
    assert "NAT-11" in rules_of(exc.value)
    await lifecycle.resume(ma, hooks, technology_key=key, basis="re_filing", reason="新技术负责人已到岗，重新备案",
                           committee="医疗技术临床应用管理委员会", meeting_on=TODAY, today=TODAY)
    assert (await Project.select(Project.awaiting_first_case).where(Project.id == project_id).first())[
        "awaiting_first_case"]
    assert await lifecycle.use_refusal(deployment["hospital_a"], key, TODAY, hooks=hooks) is None
    history = await lifecycle.history(deployment["hospital_a"], key)
    assert [h["action"] for h in history] == ["resume", "cancel", "stop"]
    # The next case is the new first case: it opens a new filing (NAT-11).
    await cases.record_cases(ma, hooks, [case_input(project_id, admitted_on=TODAY.isoformat(),
                                                    operated_on=TODAY.isoformat(), discharged_on=TODAY.isoformat())],
                             today=TODAY)
    filings = await Filing.select(Filing.status, Filing.first_case_on).where(Filing.project == project_id).order_by(
        Filing.id)
    assert [(f["status"], f["first_case_on"]) for f in filings] == [("cancelled", first), ("open", TODAY)]


# ---------------------------------------------------------------- suspension by the institution or its department


@pytest.mark.rule("NAT-41")
async def test_nat41_licence_department_suspends_one_institution_and_only_it_lifts(deployment, hooks):
    project_id = await admitted(hooks, tech_index=7)
    key = await key_of(project_id)
    ma, city1, city2 = await actor("medaffairs_a"), await region_actor("regulator_city1"), await region_actor(
        "regulator_city2")
    with pytest.raises(NotFound):  # another city's regulator does not see hospital A
        await lifecycle.suspend(city2, hooks, technology_key=key, reason="责令整改", institution_id=deployment["hospital_a"])
    await lifecycle.suspend(city1, hooks, technology_key=key, reason="逾期未改正，暂停该技术",
                            institution_id=deployment["hospital_a"], today=TODAY)
    refusal = await lifecycle.use_refusal(deployment["hospital_a"], key, TODAY, hooks=hooks)
    assert refusal.rule == "NAT-41"
    with pytest.raises(DomainError):  # the institution cannot lift the department's suspension
        await lifecycle.lift(ma, hooks, technology_key=key, reason="已整改", today=TODAY)
    await lifecycle.lift(city1, hooks, technology_key=key, reason="整改到位", institution_id=deployment["hospital_a"],
                         today=TODAY)
    assert await lifecycle.use_refusal(deployment["hospital_a"], key, TODAY) is None


# ---------------------------------------------------------------- the ethics gate (NAT-13)


@pytest.mark.rule("NAT-13")
@pytest.mark.rule("JL-14")
@pytest.mark.rule("HOSP-7")
async def test_nat13_deferred_ethics_admits_but_refuses_cases_and_the_first_case(deployment, hooks):
    project_id = await admitted(hooks, tech_index=8)
    await Project.update({Project.ethics_status: "deferred"}).where(Project.id == project_id)
    ma = await actor("medaffairs_a")
    with pytest.raises(DomainError) as exc:
        await cases.record_cases(ma, hooks, [case_input(project_id)], today=TODAY)
    assert "NAT-13" in rules_of(exc.value)
    assert "JL-14" in exc.value.problems[0].message
    with pytest.raises(DomainError) as exc:
        await filing.on_first_case(ma, hooks, project_id=project_id, case_date=OPERATED, today=TODAY)
    assert "NAT-13" in rules_of(exc.value)
    found = await lifecycle.use_refusals([(deployment["hospital_a"], f"P{project_id}", TODAY, project_id),
                                          (deployment["hospital_b"], "G01", TODAY)], hooks)
    assert [r.rule for r in found.values()] == ["NAT-13"]
    # The approval arrives (HOSP-7): the technology may be applied from then on.
    from core.admission import service as admission
    from tests.filing_helpers import PDF

    await admission.submit_ethics_proof(ma, hooks, project_id, "伦理审查批件.pdf", PDF)
    await cases.record_cases(ma, hooks, [case_input(project_id)], today=TODAY)


# ---------------------------------------------------------------- HOSP-19: the summary's "stop" takes the same path


@pytest.mark.rule("HOSP-19")
async def test_hosp19_summary_decision_stop_stops_the_technology_with_the_committee(deployment, hooks):
    from core.qc import service as qc
    from core.qc.tables import QcSummary

    project_id = await admitted(hooks, tech_index=11)
    key = await key_of(project_id)
    await qc.submit_summary(await actor("clinician_a"), hooks, project_id,
                            {k: "总结内容足够长" for k, _ in qc.SUMMARY_FIELDS})
    ma = await actor("medaffairs_a")
    with pytest.raises(DomainError) as exc:  # a stop needs the committee's decision
        await qc.decide_summary(ma, hooks, project_id, "stop", "疗效不及预期", today=TODAY)
    assert {"committee", "meeting_on"} <= {p.field for p in exc.value.problems}
    assert (await QcSummary.select(QcSummary.status).where(QcSummary.project == project_id).first())[
        "status"] == "submitted"  # nothing decided
    await qc.decide_summary(ma, hooks, project_id, "stop", "疗效不及预期", today=TODAY,
                            committee="医疗技术临床应用管理委员会", meeting_on=MEETING)
    state = await lifecycle.state(deployment["hospital_a"], key)
    assert state.status == "stopped" and state.rule == "HOSP-19"
    refusal = await lifecycle.use_refusal(deployment["hospital_a"], key, TODAY, hooks=hooks)
    assert refusal is not None and refusal.status == "stopped"


# ---------------------------------------------------------------- Henan: HN-4.2 re-file or stop


@pytest.mark.rule("HN-4.2")
async def test_hn42_henan_institution_suspends_while_it_refiles_citing_hn42(deployment):
    from tests.filing_helpers import HENAN_USERS, henan_world

    world = await henan_world()
    hooks = world["host"].view()
    project_id = await admitted(hooks, HENAN_USERS, tech_index=2)
    key = await key_of(project_id)
    ma = await actor(HENAN_USERS["medical_affairs"])
    await lifecycle.suspend(ma, hooks, technology_key=key, reason="关键设备更换，按程序重新备案", today=TODAY)
    state = await lifecycle.state(ma.institution_id, key)
    assert state.status == "suspended" and state.rule == "HN-4.2" and state.by == "institution"
    refusal = await lifecycle.use_refusal(ma.institution_id, key, TODAY, hooks=hooks)
    assert refusal.rule == "HN-4.2"
    await lifecycle.lift(ma, hooks, technology_key=key, reason="设备验收合格", today=TODAY)
    assert await lifecycle.use_refusal(ma.institution_id, key, TODAY, hooks=hooks) is None


@pytest.mark.rule("NAT-25")
@pytest.mark.rule("HOSP-17")
async def test_nat25_annual_report_says_the_state_and_none_is_owed_after_a_stop_before_the_year(deployment, hooks):
    from core.qc import service as qc

    project_id = await admitted(hooks, tech_index=12)
    key = await key_of(project_id)
    ma = await actor("medaffairs_a")
    await lifecycle.stop(ma, hooks, technology_key=key, trigger="conditions", reason="关键设备故障停用",
                         committee="医疗技术临床应用管理委员会", meeting_on=MEETING, today=TODAY)
    report_id = await qc.open_report(ma, hooks, project_id, 2027)  # reports 2026, stopped during it
    assert "停止" in (await qc.get_report(ma, report_id))["prefill"]["use"]
    with pytest.raises(DomainError) as exc:  # 2027 began after the stop: nothing to report
        await qc.open_report(ma, hooks, project_id, 2028)
    assert "JL-26" in rules_of(exc.value) and "无需填报" in exc.value.problems[0].message


@pytest.mark.rule("NAT-25")
async def test_two_people_stopping_at_once_make_one_stop(deployment, hooks):
    import asyncio

    project_id = await admitted(hooks, tech_index=13)
    key = await key_of(project_id)
    ma = await actor("medaffairs_a")

    async def stop(reason: str):
        return await lifecycle.stop(ma, hooks, technology_key=key, trigger="safety", reason=reason,
                                    committee="医疗技术临床应用管理委员会", meeting_on=MEETING, today=TODAY)

    results = await asyncio.gather(stop("第一次停止"), stop("第二次停止"), return_exceptions=True)
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert all(isinstance(r, (int, DomainError)) for r in results), results
    events = await UseEvent.select().where((UseEvent.institution == deployment["hospital_a"])
                                           & (UseEvent.technology_key == key) & (UseEvent.action == "stop"))
    assert len(events) == 1


@pytest.mark.rule("JL-26")
async def test_jl26_a_province_suspension_and_its_lifting_are_reported_to_the_national_commission(deployment, hooks):
    project_id = await admitted(hooks, tech_index=15)
    key = await key_of(project_id)
    province, city = await region_actor("regulator_province"), await region_actor("regulator_city1")
    suspension_id = await lifecycle.suspend_region(province, hooks, technology_key=key, reason="核查确属技术本身问题",
                                                   today=TODAY)
    deliveries = await Delivery.select().where((Delivery.subject_type == "region_suspension")
                                               & (Delivery.subject_id == suspension_id)).output(load_json=True)
    assert [(d["channel"], d["payload"]["event"]) for d in deliveries] == [("national_commission", "suspend")]
    await lifecycle.lift_region(province, hooks, suspension_id, reason="核查完毕", today=TODAY)
    assert await Delivery.count().where((Delivery.subject_type == "region_suspension")
                                        & (Delivery.subject_id == suspension_id)) == 2
    # A city's own suspension is not the province's report to the national commission.
    city_id = await lifecycle.suspend_region(city, hooks, technology_key=key, reason="市级核查期间暂停", today=TODAY)
    assert not await Delivery.exists().where((Delivery.subject_type == "region_suspension")
                                             & (Delivery.subject_id == city_id))


@pytest.mark.rule("JL-26")
async def test_jl26_lifting_at_a_stale_version_is_a_conflict_and_changes_nothing(deployment, hooks):
    """The lift goes through core.changes' lock: the version the page read, and only while active."""
    from core.lifecycle.tables import RegionSuspension

    project_id = await admitted(hooks, tech_index=9)
    key = await key_of(project_id)
    province = await region_actor("regulator_province")
    suspension_id = await lifecycle.suspend_region(province, hooks, technology_key=key, reason="核查确属技术本身问题",
                                                   today=TODAY)
    audits = await AuditEvent.count().where(AuditEvent.action == "region_suspension.lift")
    with pytest.raises(Conflict) as exc:
        await lifecycle.lift_region(province, hooks, suspension_id, reason="核查完毕", version=2, today=TODAY)
    assert exc.value.status_code == 409 and exc.value.problems[0].message == lifecycle.MOVED_ON
    row = await RegionSuspension.select().where(RegionSuspension.id == suspension_id).first()
    assert (row["status"], row["version"], row["lifted_on"]) == ("active", 1, None)
    assert await AuditEvent.count().where(AuditEvent.action == "region_suspension.lift") == audits
    await lifecycle.lift_region(province, hooks, suspension_id, reason="核查完毕", version=1, today=TODAY)
    row = await RegionSuspension.select().where(RegionSuspension.id == suspension_id).first()
    assert (row["status"], row["version"], row["lifted_on"]) == ("lifted", 2, TODAY)
    event = await AuditEvent.select().where(AuditEvent.action == "region_suspension.lift").order_by(
        AuditEvent.id, ascending=False).first().output(load_json=True)
    assert event["record_id"] == suspension_id and event["before"] == {"status": "active"}
    assert event["after"]["status"] == "lifted" and event["after"]["reason"] == "核查完毕"


async def _henan_completed_filing(hooks, project_id: int, ma, regulator) -> int:
    from core.filing.tables import Filing
    from tests.filing_helpers import PDF

    filing_id = await filing.on_first_case(ma, hooks, project_id=project_id, case_date=dt.date(2026, 3, 9),
                                           info="首例：手术顺利", today=dt.date(2026, 3, 9))
    row = await Filing.select().where(Filing.id == filing_id).first().output(load_json=True)
    await filing.save_details(ma, hooks, filing_id, filing.FilingDetails(
        version=row["version"], self_assessment="对照管理规范逐项自评：人员、设备、设施均符合要求。",
        assessment_basis="consensus", assessment_reference="相关专业专家共识（2025版）",
        form={"phone": "0371-88888888"}, physicians=row["physicians"]))
    for m in (await filing.filing_view(ma, hooks, filing_id)).materials:
        await filing.upload_material(ma, hooks, filing_id, m.key, f"{m.key}.pdf", PDF + m.key.encode())
    await filing.submit(ma, hooks, filing_id, today=dt.date(2026, 3, 20))
    await filing.complete(regulator, hooks, filing_id, completed_on=dt.date(2026, 3, 20), today=dt.date(2026, 3, 20))
    return filing_id


@pytest.mark.rule("HN-4.2")
async def test_hn42_henan_staff_change_refiles_suspended_until_the_department_completes_it(deployment):
    """HN-4.2 end to end through the Henan plugin's policy: key staff changed → the
    institution files again; its use is suspended (HN-4.2) while the new filing is
    prepared; it cannot lift that by hand; the licence department's completion of the new
    filing resumes it and retires the old filing from the licence copy and public list."""
    from core.filing.tables import Filing
    from tests.filing_helpers import HENAN_USERS, PDF, henan_world

    world = await henan_world()
    hooks = world["host"].view()
    project_id = await admitted(hooks, HENAN_USERS, tech_index=4)
    key = await key_of(project_id)
    ma = await actor(HENAN_USERS["medical_affairs"])
    department = await region_actor(HENAN_USERS["regulator"])
    old_id = await _henan_completed_filing(hooks, project_id, ma, department)
    old = await Filing.select().where(Filing.id == old_id).first()

    event_id, new_id = await lifecycle.refile(ma, hooks, technology_key=key, reason="技术负责人调离，由副主任医师接任")
    state = await lifecycle.state(ma.institution_id, key)
    assert (state.status, state.rule, state.by) == ("suspended", "HN-4.2", "institution")
    from core import clock

    refusal = await lifecycle.use_refusal(ma.institution_id, key, clock.today(), hooks=hooks)
    assert refusal.rule == "HN-4.2"
    new = await Filing.select().where(Filing.id == new_id).first()
    assert (new["status"], new["first_case_on"], new["case_count"]) == ("open", old["first_case_on"], old["case_count"])
    assert "HN-4.2" in new["first_case_info"]
    assert await AuditEvent.exists().where((AuditEvent.action == "filing.refile") & (AuditEvent.record_id == new_id))
    assert await AuditEvent.exists().where(AuditEvent.action == "technology_use.refile")
    with pytest.raises(DomainError) as exc:  # never lifted by hand: re-file or stop
        await lifecycle.lift(ma, hooks, technology_key=key, reason="已有人接任")
    assert "HN-4.2" in rules_of(exc.value)
    with pytest.raises(DomainError):  # one re-filing at a time
        await lifecycle.refile(ma, hooks, technology_key=key, reason="又有变化")

    row = await Filing.select().where(Filing.id == new_id).first().output(load_json=True)
    await filing.save_details(ma, hooks, new_id, filing.FilingDetails(
        version=row["version"], self_assessment="新任技术负责人资质符合要求，设备设施未变。",
        assessment_basis="consensus", assessment_reference="相关专业专家共识（2025版）",
        form={"phone": "0371-88888888"}, physicians=row["physicians"]))
    for m in (await filing.filing_view(ma, hooks, new_id)).materials:
        await filing.upload_material(ma, hooks, new_id, m.key, f"new-{m.key}.pdf", PDF + b"new" + m.key.encode())
    await filing.submit(ma, hooks, new_id)
    await filing.complete(department, hooks, new_id)
    assert (await lifecycle.state(ma.institution_id, key)).status == "in_use"
    statuses = {r["id"]: r["status"] for r in await Filing.select(Filing.id, Filing.status).where(
        Filing.project == project_id)}
    assert statuses == {old_id: "withdrawn", new_id: "completed"}
    public = [r for r in await filing.public_all() if r["project"] == project_id]
    assert [r["id"] for r in public] == [new_id]
    last = await UseEvent.select().where((UseEvent.institution == ma.institution_id) & (
        UseEvent.technology_key == key)).order_by(UseEvent.id, ascending=False).first()
    assert last["action"] == "lift" and f"备案{new_id}号" in last["reason"]
    assert event_id


@pytest.mark.rule("HN-4.2")
async def test_hn42_henan_institution_that_cannot_refile_stops_and_the_draft_closes(deployment):
    from core.filing.tables import Filing
    from tests.filing_helpers import HENAN_USERS, henan_world

    world = await henan_world()
    hooks = world["host"].view()
    project_id = await admitted(hooks, HENAN_USERS, tech_index=6)
    key = await key_of(project_id)
    ma = await actor(HENAN_USERS["medical_affairs"])
    department = await region_actor(HENAN_USERS["regulator"])
    await _henan_completed_filing(hooks, project_id, ma, department)
    _, new_id = await lifecycle.refile(ma, hooks, technology_key=key, reason="关键设备报废，暂无替代设备")
    await lifecycle.stop(ma, hooks, technology_key=key, trigger="conditions", reason="设备无法更新，停止开展",
                         committee="医疗技术临床应用管理委员会", meeting_on=MEETING)
    assert (await lifecycle.state(ma.institution_id, key)).status == "stopped"
    assert (await Filing.select(Filing.status).where(Filing.id == new_id).first())["status"] == "withdrawn"


@pytest.mark.rule("NAT-25")
async def test_nat25_a_province_without_a_refiling_rule_stops_instead(deployment, hooks):
    project_id = await admitted(hooks, tech_index=20)
    with pytest.raises(DomainError) as exc:
        await lifecycle.refile(await actor("medaffairs_a"), hooks, technology_key=await key_of(project_id),
                               reason="人员变化")
    assert "NAT-25" in rules_of(exc.value)


async def annual_reports(project_id: int) -> dict[str, str]:
    from core.obligations.tables import Obligation

    rows = await Obligation.select(Obligation.occurrence, Obligation.status).where(
        (Obligation.subject_type == "project") & (Obligation.subject_id == project_id)
        & (Obligation.kind == "qc_annual_report"))
    return {r["occurrence"]: r["status"] for r in rows}


@pytest.mark.rule("HOSP-17")
@pytest.mark.rule("NAT-25")
async def test_hosp17_no_annual_report_owed_for_years_after_a_stop_and_owed_again_after_resumption(deployment, hooks):
    """A technology stopped in 2026 still reports 2026 (the report filed in January 2027);
    the report of 2027 (January 2028) is no longer owed — closed with the stop's rule, audited.
    Resumed in 2027, it is used in 2027 again: that report is owed again."""
    from core.obligations.tables import Obligation

    project_id = await admitted(hooks, tech_index=14)
    key = await key_of(project_id)
    assert await annual_reports(project_id) == {"2027": "open", "2028": "open"}
    ma = await actor("medaffairs_a")
    await lifecycle.stop(ma, hooks, technology_key=key, trigger="conditions", reason="关键设备故障停用",
                         committee="医疗技术临床应用管理委员会", meeting_on=MEETING, today=TODAY)
    assert await annual_reports(project_id) == {"2027": "open", "2028": "waived"}
    closed = await Obligation.select().where((Obligation.subject_id == project_id) & (Obligation.occurrence == "2028")
                                             & (Obligation.kind == "qc_annual_report")).first()
    assert "JL-26" in closed["waived_reason"] and TODAY.isoformat() in closed["waived_reason"]
    assert await AuditEvent.exists().where((AuditEvent.action == "obligation.waive")
                                           & (AuditEvent.record_id == closed["id"]))
    later = dt.date(2027, 2, 1)
    await lifecycle.resume(ma, hooks, technology_key=key, basis="re_evaluation", reason="设备更换后重新评估合格",
                           committee="医疗技术临床应用管理委员会", meeting_on=later, on=later, today=later)
    assert await annual_reports(project_id) == {"2027": "open", "2028": "open"}
    assert await AuditEvent.exists().where((AuditEvent.action == "obligation.reopen")
                                           & (AuditEvent.record_id == closed["id"]))


@pytest.mark.rule("HOSP-17")
@pytest.mark.rule("NAT-25")
async def test_hosp17_no_annual_report_owed_for_years_after_the_filing_is_cancelled(deployment, hooks):
    """注销: the licence department cancels the filing in 2026 — 2026 still reports, 2027 does not."""
    from core.filing.tables import Filing

    project_id = await admitted(hooks, tech_index=15)
    ma = await actor("medaffairs_a")
    first = dt.date(2026, 3, 9)
    filing_id = await filing.on_first_case(ma, hooks, project_id=project_id, case_date=first, today=first)
    await Filing.update({Filing.status: "completed", Filing.completed_on: first}).where(Filing.id == filing_id)
    await filing.cancel(await region_actor("regulator_city1"), hooks, filing_id, "conditions",
                        "核查发现人员条件不再满足规范，注销备案", today=TODAY)
    assert await annual_reports(project_id) == {"2027": "open", "2028": "waived"}
