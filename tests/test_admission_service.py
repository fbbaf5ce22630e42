"""Admission (新技术新项目准入) at service level: every rule and transition, on both databases.

"Today" is always passed explicitly; the yearly round of these tests lies in 2031.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.admission import rules, service
from core.admission.tables import Objection, Project, ProjectVersion, StepDecision, Vote
from core.audit.tables import AuditEvent
from core.errors import Conflict, DomainError, NotFound
from tests.admission_helpers import PDF, actor, technology_id, valid_form, walk

TODAY = dt.date(2031, 3, 3)
YEAR = 2031


@pytest.fixture(scope="module")
async def round_2031(deployment):
    """The 2031 yearly round of hospital A, closed again afterwards."""
    ma = await actor("medaffairs_a")
    existing = await service.current_round(deployment["hospital_a"], TODAY)
    round_id = existing["id"] if existing else await service.open_round(ma, YEAR)
    yield round_id
    if not existing:
        await service.close_round(ma, round_id)


@pytest.fixture
def hooks(deployment):
    return deployment["host"].view()


async def new_project(hooks, *, title="测试新技术", path="round", tech_class=None, form=None, user="clinician_a",
                      today=TODAY) -> int:
    clinician = await actor(user)
    data = service.NewProject(title=title, path=path, outside_lists=tech_class is None,
                              technology_id=await technology_id(hooks, tech_class, today) if tech_class else None)
    project_id = await service.create_project(clinician, hooks, data, today)
    await service.save_draft(clinician, hooks, project_id, form or valid_form(), today=today)
    return project_id


async def submitted(hooks, **kwargs) -> int:
    project_id = await new_project(hooks, **kwargs)
    await service.submit(await actor(kwargs.get("user", "clinician_a")), hooks, project_id, today=TODAY)
    return project_id


def rules_of(exc: DomainError) -> set[str]:
    return {p.rule for p in exc.problems if p.rule}


# ---------------------------------------------------------------- refusals at submission


@pytest.mark.rule("NAT-12")
async def test_nat12_a_technology_outside_every_list_is_managed_as_routine(deployment, hooks, round_2031):
    """NAT-12: the institution manages a technology outside both lists itself, as routine."""
    project_id = await new_project(hooks, title="目录外新技术")
    row = await Project.select().where(Project.id == project_id).first()
    assert row["outside_lists"] and row["tech_class"] == "routine" and row["technology_id"] is None


@pytest.mark.rule("NAT-9")
async def test_nat9_prohibited_technology_is_refused_outright(deployment, hooks):
    with pytest.raises(DomainError) as exc:
        await new_project(hooks, tech_class="prohibited")
    assert "NAT-9" in rules_of(exc.value)
    assert rules.check_not_prohibited("prohibited")[0].rule == "NAT-9"


@pytest.mark.rule("NAT-43")
async def test_nat43_subject_outside_registered_departments_is_refused(deployment, hooks, round_2031):
    project_id = await new_project(hooks, form=valid_form(subject="儿科"))
    with pytest.raises(DomainError) as exc:
        await service.submit(await actor("clinician_a"), hooks, project_id, today=TODAY)
    assert "NAT-43" in rules_of(exc.value)
    assert [p.field for p in exc.value.problems if p.rule == "NAT-43"] == ["subject"]
    # The draft keeps what was typed.
    row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
    assert row["status"] == "draft" and row["form"]["subject"] == "儿科"


@pytest.mark.rule("NAT-9b")
async def test_nat9b_unapproved_product_or_missing_certificate_is_refused(deployment, hooks, round_2031):
    bad = [{"name": "试验导管", "kind": "器械", "approval_no": "", "certificates": "", "approved": "否"}]
    project_id = await new_project(hooks, form=valid_form(products=bad))
    with pytest.raises(DomainError) as exc:
        await service.submit(await actor("clinician_a"), hooks, project_id, today=TODAY)
    assert [p.rule for p in exc.value.problems].count("NAT-9b") == 2


@pytest.mark.rule("HOSP-6")
async def test_hosp6_no_evidence_no_submission_but_an_evidence_file_counts(deployment, hooks, round_2031):
    clinician = await actor("clinician_a")
    project_id = await new_project(hooks, form=valid_form(evidence=[]))
    with pytest.raises(DomainError) as exc:
        await service.submit(clinician, hooks, project_id, today=TODAY)
    assert "HOSP-6" in rules_of(exc.value)
    await service.attach(clinician, project_id, "文献.pdf", PDF, kind="evidence")
    await service.submit(clinician, hooks, project_id, today=TODAY)
    assert (await Project.select().where(Project.id == project_id).first().output(load_json=True))["status"] == "in_review"


@pytest.fixture
async def junior(deployment):
    """A clinician of hospital A with 2 years as resident; deactivated afterwards."""
    from core.accounts import person
    from core.accounts import service as accounts
    from core.accounts.schemas import SYSTEM, UserInput

    name = f"junior_{dt.datetime.now().strftime('%H%M%S%f')}"
    user_id = await accounts.create_user(SYSTEM, UserInput(
        username=name, display_name="低年资医生", roles=["clinician"], institution=deployment["hospital_a"],
        department=deployment["departments_a"][0], password="junior-pass-2026"))
    await person.set_person(SYSTEM, user_id, resident_since=dt.date(2029, 9, 1))
    yield name, user_id
    row = await accounts.get_user(user_id)
    await accounts.update_user(SYSTEM, user_id, UserInput(
        username=row.username, display_name=row.display_name, roles=row.roles, institution=row.institution,
        department=row.department, active=False))


@pytest.mark.rule("HOSP-5")
async def test_hosp5_routine_lead_needs_3_years_as_resident_and_no_visiting(deployment, hooks, round_2031, junior):
    from core.accounts import person
    from core.accounts.schemas import SYSTEM

    name, user_id = junior
    project_id = await new_project(hooks, user=name)
    with pytest.raises(DomainError) as exc:
        await service.submit(await actor(name), hooks, project_id, today=TODAY)
    assert "HOSP-5" in rules_of(exc.value) and "3年" in str(exc.value)
    await person.set_person(SYSTEM, user_id, resident_since=dt.date(2020, 1, 1), visiting=True)
    with pytest.raises(DomainError) as exc:
        await service.submit(await actor(name), hooks, project_id, today=TODAY)
    assert "进修医师" in str(exc.value) and "HOSP-5" in rules_of(exc.value)
    await person.set_person(SYSTEM, user_id, resident_since=dt.date(2020, 1, 1), visiting=False)
    await service.submit(await actor(name), hooks, project_id, today=TODAY)


@pytest.mark.rule("HOSP-13")
@pytest.mark.rule("HOSP-14")
async def test_hosp13_hosp14_qc_officer_and_indicators_with_targets_are_required(deployment, hooks, round_2031):
    """HOSP-13: the project QC group names its QC officer; HOSP-14: each indicator has its parameter."""
    project_id = await new_project(hooks, form=valid_form(
        qc_officer="", qc_indicators=[{"name": "术后感染率", "target": "", "method": "按季度统计"}]))
    with pytest.raises(DomainError) as exc:
        await service.submit(await actor("clinician_a"), hooks, project_id, today=TODAY)
    assert {"HOSP-13", "HOSP-14"} <= rules_of(exc.value)


@pytest.mark.rule("HOSP-1")
async def test_hosp1_grade_must_be_one_of_the_hospitals_grades(deployment, hooks, round_2031):
    project_id = await new_project(hooks, form=valid_form(grade="四级"))
    with pytest.raises(DomainError) as exc:
        await service.submit(await actor("clinician_a"), hooks, project_id, today=TODAY)
    assert "HOSP-1" in rules_of(exc.value)


@pytest.mark.rule("HOSP-8")
async def test_hosp8_every_application_item_is_required_and_checked_per_field(deployment, hooks, round_2031):
    clinician = await actor("clinician_a")
    project_id = await new_project(hooks, form=valid_form(risks="", significance="太短"))
    problems = await service.check_field(clinician, hooks, project_id, "significance", "太短")
    assert problems and problems[0].field == "significance" and problems[0].rule == "HOSP-8"
    assert await service.check_field(clinician, hooks, project_id, "subject", "儿科")
    assert not await service.check_field(clinician, hooks, project_id, "subject", "内科")
    with pytest.raises(DomainError) as exc:
        await service.submit(clinician, hooks, project_id, today=TODAY)
    assert {"risks", "significance"} <= {p.field for p in exc.value.problems}


@pytest.mark.rule("HOSP-4")
@pytest.mark.rule("HOSP-12")
async def test_hosp4_round_path_needs_an_open_round_and_hosp12_temporary_path_does_not(deployment, hooks):
    clinician = await actor("clinician_a")
    outside = dt.date(2032, 9, 1)
    project_id = await new_project(hooks, today=outside)
    with pytest.raises(DomainError) as exc:
        await service.submit(clinician, hooks, project_id, today=outside)
    assert "HOSP-4" in rules_of(exc.value)
    temporary = await new_project(hooks, path="temporary", today=outside)
    await service.submit(clinician, hooks, temporary, today=outside)
    row = await Project.select().where(Project.id == temporary).first().output(load_json=True)
    assert [s["key"] for s in row["steps"]] == ["department", "ethics", "expert", "office", "head", "university"]
    assert rules.default_round_dates(2032) == (dt.date(2032, 1, 1), dt.date(2032, 6, 30))


@pytest.mark.rule("HOSP-4")
async def test_hosp4_medical_affairs_opens_and_closes_the_round(deployment):
    ma = await actor("medaffairs_a")
    round_id = await service.open_round(ma, 2033)
    assert (await service.current_round(deployment["hospital_a"], dt.date(2033, 3, 1)))["id"] == round_id
    assert await service.current_round(deployment["hospital_a"], dt.date(2033, 7, 1)) is None
    with pytest.raises(DomainError):
        await service.open_round(ma, 2033)
    with pytest.raises(NotFound):
        await service.open_round(await actor("clinician_a"), 2033)
    await service.close_round(ma, round_id)
    assert await service.current_round(deployment["hospital_a"], dt.date(2033, 3, 1)) is None


# ---------------------------------------------------------------- the procedure


@pytest.mark.rule("HOSP-11")
async def test_routine_project_from_draft_to_university_filing(deployment, hooks, round_2031):
    """HOSP-4 → HOSP-7 → HOSP-8 → HOSP-9 → HOSP-10 → approval → document → HOSP-11; HOSP-17 1 year."""
    from core.outbox.tables import Delivery

    project_id = await submitted(hooks, title="常规新技术全流程")
    row = await walk(hooks, project_id, "university", TODAY)
    assert row["status"] == "admitted" and row["admitted_on"] == TODAY
    assert row["monitoring_until"] == dt.date(2032, 3, 3) and not row["awaiting_first_case"]
    await walk(hooks, project_id, "__end__", TODAY)
    row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
    assert row["current_step"] is None and row["university_filed_on"] == TODAY
    deliveries = await Delivery.select().where((Delivery.subject_type == "project") & (Delivery.subject_id == project_id))
    assert [d["channel"] for d in deliveries] == ["university"] and deliveries[0]["kind"] == "admission"
    decisions = [e["decision"] for e in await StepDecision.select().where(StepDecision.project == project_id)]
    assert decisions[:2] == ["create", "submit"] and decisions[-1] == "filing"
    assert await AuditEvent.exists().where((AuditEvent.action == "admission.filing")
                                           & (AuditEvent.record_id == project_id))


@pytest.mark.rule("HOSP-17")
async def test_hosp17_restricted_project_monitored_2_years_and_waits_for_first_case(deployment, hooks, round_2031):
    project_id = await submitted(hooks, title="限制类新技术", tech_class="restricted")
    row = await walk(hooks, project_id, "document", TODAY)
    assert row["status"] == "admitted" and row["tech_class"] == "restricted"
    assert row["monitoring_until"] == dt.date(2033, 3, 3) and row["awaiting_first_case"]


@pytest.mark.rule("HOSP-9")
async def test_hosp9_experts_score_restricted_projects_on_qualification_plan_and_qc(deployment, hooks, round_2031):
    project_id = await submitted(hooks, title="限制类专家评审", tech_class="restricted")
    row = await walk(hooks, project_id, "expert", TODAY)
    ma, expert = await actor("medaffairs_a"), await actor("expert_a")
    with pytest.raises(DomainError):  # no panel yet: nobody may conclude
        await service.decide(ma, hooks, project_id, service.Decision(version=row["version"], decision="approve",
                                                                     reason="同意"), TODAY)
    await service.assemble_panel(ma, hooks, project_id, row["version"], [expert.id])
    with pytest.raises(DomainError) as exc:
        await service.vote(expert, hooks, project_id, service.Ballot(vote="approve", score="90"), TODAY)
    assert {p.field for p in exc.value.problems} == {"s_qualification", "s_plan", "s_qc"}
    with pytest.raises(DomainError):  # the clinician is not on the panel
        await service.vote(await actor("medaffairs_a"), hooks, project_id, service.Ballot(vote="approve", score="9"))
    await service.vote(expert, hooks, project_id, service.Ballot(
        vote="approve", score="90", scores={"qualification": "90", "plan": "80", "qc": "85"}), TODAY)
    vote = await Vote.select().where((Vote.project == project_id) & (Vote.voter == expert.id)).first().output(
        load_json=True)
    assert vote["score"] == 90 and vote["scores"] == {"qualification": 90, "plan": 80, "qc": 85}


@pytest.mark.rule("HOSP-4")
async def test_hosp4_department_argumentation_covers_its_four_considerations(deployment, hooks, round_2031):
    project_id = await submitted(hooks, title="科室论证")
    row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
    with pytest.raises(DomainError) as exc:
        await service.decide(await actor("depthead_a"), hooks, project_id, service.Decision(
            version=row["version"], decision="approve", considerations={"planned": "有"}), TODAY)
    assert {p.field for p in exc.value.problems} == {"c_cultivate", "c_equipment", "c_fees"}


@pytest.mark.rule("HOSP-8")
async def test_hosp8_formal_review_replies_in_writing_either_way(deployment, hooks, round_2031):
    project_id = await submitted(hooks, title="形式审查")
    row = await walk(hooks, project_id, "formal", TODAY)
    with pytest.raises(DomainError) as exc:
        await service.decide(await actor("medaffairs_a"), hooks, project_id,
                             service.Decision(version=row["version"], decision="approve", reason=""), TODAY)
    assert rules_of(exc.value) == {"HOSP-8"}


@pytest.mark.rule("HOSP-10")
async def test_hosp10_publicity_lasts_a_week_and_objections_are_answered_before_approval(deployment, hooks,
                                                                                         round_2031):
    project_id = await submitted(hooks, title="公示异议")
    row = await walk(hooks, project_id, "publicity", TODAY)
    ma = await actor("medaffairs_a")
    assert [p["id"] for p in await service.publicity_list(await actor("qc_a"))].count(project_id) == 1
    with pytest.raises(DomainError) as exc:
        await service.close_publicity(ma, hooks, project_id, row["version"], TODAY + dt.timedelta(days=3))
    assert rules_of(exc.value) == {"HOSP-10"}
    objection = await service.lodge_objection(await actor("qc_a"), project_id, "该技术的质控指标不够具体")
    row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
    later = TODAY + dt.timedelta(days=10)
    with pytest.raises(DomainError) as exc:
        await service.close_publicity(ma, hooks, project_id, row["version"], later)
    assert "异议尚未全部答复" in str(exc.value)
    assert await service.close_due_publicity(hooks, later) == []
    await service.answer_objection(ma, objection, "已补充质控指标参数")
    assert (await Objection.select().where(Objection.id == objection).first())["answer"] == "已补充质控指标参数"
    assert project_id in await service.close_due_publicity(hooks, later)
    row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
    assert row["current_step"] == "approval"


@pytest.mark.rule("HOSP-21")
async def test_hosp21_ethics_decision_needs_two_thirds_of_members_a_recused_member_still_counts(deployment, hooks, round_2031):
    from core.accounts import service as accounts
    from core.accounts.schemas import SYSTEM, UserInput

    assert rules.ethics_threshold(3) == 2 and rules.ethics_threshold(4) == 3
    assert rules.ethics_outcome(3, 1, 0, 0) is None and rules.ethics_outcome(3, 2, 0, 0) == "approve"
    assert rules.ethics_outcome(3, 1, 0, 1) is None and rules.ethics_outcome(4, 2, 0, 1) is None
    assert rules.ethics_outcome(3, 0, 2, 0) == "reject"
    suffix = dt.datetime.now().strftime("%H%M%S%f")
    extra = []
    for i in (1, 2):
        extra.append(await accounts.create_user(SYSTEM, UserInput(
            username=f"ethics_x{i}_{suffix}", display_name=f"伦理委员{i}", roles=["ethics"],
            institution=deployment["hospital_a"], password="ethics-pass-2026")))
    try:
        project_id = await submitted(hooks, title="伦理三分之二")
        await walk(hooks, project_id, "ethics", TODAY)
        await service.vote(await actor(f"ethics_x1_{suffix}"), hooks, project_id,
                           service.Ballot(vote="recuse", comment="本人为项目组成员亲属"), TODAY)
        assert await service.vote(await actor("ethics_a"), hooks, project_id,
                                  service.Ballot(vote="approve"), TODAY) is None  # 1 of 2 voting members
        with pytest.raises(DomainError):
            await service.vote(await actor("ethics_a"), hooks, project_id, service.Ballot(vote="approve"), TODAY)
        assert await service.vote(await actor(f"ethics_x2_{suffix}"), hooks, project_id,
                                  service.Ballot(vote="approve"), TODAY) == "approve"
        row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
        assert row["ethics_status"] == "approved" and row["current_step"] == "formal"
    finally:
        for user_id in extra:
            user = await accounts.get_user(user_id)
            await accounts.update_user(SYSTEM, user_id, UserInput(
                username=user.username, display_name=user.display_name, roles=user.roles,
                institution=user.institution, active=False))


@pytest.mark.rule("HOSP-21")
async def test_hosp21_a_split_committee_ends_not_passed_back_to_the_lead_and_medical_affairs_cannot_bypass_it(
        deployment, hooks, round_2031):
    """The stuck case of issue 10: 1 for, 1 against on a two-member committee."""
    from core.accounts import service as accounts
    from core.accounts.schemas import SYSTEM, UserInput
    from core.inbox.tables import InboxMessage

    suffix = dt.datetime.now().strftime("%H%M%S%f")
    second = await accounts.create_user(SYSTEM, UserInput(
        username=f"ethics_y_{suffix}", display_name="伦理委员乙", roles=["ethics"],
        institution=deployment["hospital_a"], password="ethics-pass-2026"))
    try:
        project_id = await submitted(hooks, title="伦理一比一")
        await walk(hooks, project_id, "ethics", TODAY)
        ma = await actor("medaffairs_a")
        assert await service.vote(await actor("ethics_a"), hooks, project_id,
                                  service.Ballot(vote="approve"), TODAY) is None
        row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
        page = await service.project_view(ma, hooks, project_id, TODAY)
        assert not page.can.proceed  # the committee has voted: no bypass
        with pytest.raises(DomainError) as exc:
            await service.proceed_without_ethics(ma, hooks, project_id, row["version"], "来不及", TODAY)
        assert rules_of(exc.value) == {"HOSP-21"}
        assert await service.vote(await actor(f"ethics_y_{suffix}"), hooks, project_id,
                                  service.Ballot(vote="reject", comment="风险评估不充分"), TODAY) == "not_passed"
        row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
        assert row["status"] == "returned" and row["current_step"] == "ethics" and row["ethics_status"] == "pending"
        assert "同意 1、不同意 1、回避 0" in row["outcome_reason"] and "HOSP-21" in row["outcome_reason"]
        entry = await StepDecision.select().where((StepDecision.project == project_id)
                                                  & (StepDecision.decision == "not_passed")).first().output(load_json=True)
        assert entry["details"]["members"] == 2 and entry["details"]["needed"] == 2
        told = {m["user"] for m in await InboxMessage.select(InboxMessage.user).where(
            (InboxMessage.source == f"admission:{project_id}") & InboxMessage.title.like("%伦理审查未通过%"))}
        lead, ethics_a = await actor("clinician_a"), await actor("ethics_a")
        assert {lead.id, ethics_a.id, second, ma.id} <= told
        assert await AuditEvent.exists().where((AuditEvent.record_type == "admission_project")
                                               & (AuditEvent.record_id == project_id)
                                               & (AuditEvent.action == "admission.step.vote"))
        # The lead's choice: revise and resubmit — the committee votes afresh on revision 2.
        await service.submit(lead, hooks, project_id, today=TODAY)
        row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
        assert (row["status"], row["current_step"], row["revision"]) == ("in_review", "ethics", 2)
        assert (await service.project_view(ma, hooks, project_id, TODAY)).can.proceed
        await service.vote(ethics_a, hooks, project_id, service.Ballot(vote="approve"), TODAY)
        assert await service.vote(await actor(f"ethics_y_{suffix}"), hooks, project_id,
                                  service.Ballot(vote="approve"), TODAY) == "approve"
        row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
        assert row["ethics_status"] == "approved" and row["current_step"] == "formal"
    finally:
        user = await accounts.get_user(second)
        await accounts.update_user(SYSTEM, second, UserInput(
            username=user.username, display_name=user.display_name, roles=user.roles,
            institution=user.institution, active=False))


@pytest.mark.rule("HOSP-21")
async def test_hosp21_after_not_passed_the_lead_may_end_the_project(deployment, hooks, round_2031):
    from core.accounts import service as accounts
    from core.accounts.schemas import SYSTEM, UserInput

    suffix = dt.datetime.now().strftime("%H%M%S%f")
    second = await accounts.create_user(SYSTEM, UserInput(
        username=f"ethics_z_{suffix}", display_name="伦理委员丙", roles=["ethics"],
        institution=deployment["hospital_a"], password="ethics-pass-2026"))
    try:
        project_id = await submitted(hooks, title="伦理未通过后撤回")
        await walk(hooks, project_id, "ethics", TODAY)
        await service.vote(await actor("ethics_a"), hooks, project_id, service.Ballot(vote="recuse", comment="亲属"),
                           TODAY)
        assert await service.vote(await actor(f"ethics_z_{suffix}"), hooks, project_id,
                                  service.Ballot(vote="approve"), TODAY) == "not_passed"  # 1 of the 2 needed
        row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
        await service.withdraw(await actor("clinician_a"), project_id, row["version"], "不再开展")
        row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
        assert row["status"] == "withdrawn"
    finally:
        user = await accounts.get_user(second)
        await accounts.update_user(SYSTEM, second, UserInput(
            username=user.username, display_name=user.display_name, roles=user.roles,
            institution=user.institution, active=False))


@pytest.mark.rule("HOSP-7")
async def test_hosp7_proceed_without_ethics_then_lapse_cancels_the_admission(deployment, hooks, round_2031):
    from core.obligations.tables import Obligation

    project_id = await submitted(hooks, title="伦理后补逾期")
    row = await walk(hooks, project_id, "ethics", TODAY)
    ma = await actor("medaffairs_a")
    with pytest.raises(DomainError):
        await service.proceed_without_ethics(ma, hooks, project_id, row["version"], "", TODAY)
    await service.proceed_without_ethics(ma, hooks, project_id, row["version"], "伦理委员会本月未开会", TODAY)
    row = await walk(hooks, project_id, "document", TODAY)
    assert row["status"] == "admitted" and row["ethics_status"] == "deferred"
    assert row["ethics_due"] == dt.date(2031, 6, 3)
    obligations = await Obligation.select().where((Obligation.subject_type == "project")
                                                  & (Obligation.subject_id == project_id))
    assert "HOSP-7" in {o["rule_id"] for o in obligations}
    assert project_id not in await service.cancel_lapsed(hooks, dt.date(2031, 6, 3))
    from core.admission import jobs

    assert await jobs.cancel_lapsed_admissions(hooks, dt.date(2031, 6, 4)) >= 1
    row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
    assert row["status"] == "cancelled" and "HOSP-7" in row["outcome_reason"]
    obligations = await Obligation.select().where((Obligation.subject_type == "project")
                                                  & (Obligation.subject_id == project_id))
    assert "open" not in {o["status"] for o in obligations}
    assert {o["rule_id"]: o["status"] for o in obligations}["HOSP-7"] == "waived"
    assert {o["rule_id"]: o["status"] for o in obligations}["HOSP-10"] == "done"  # publicity ended in time
    assert await AuditEvent.exists().where((AuditEvent.action == "admission.cancel")
                                           & (AuditEvent.record_id == project_id))
    from core.inbox.tables import InboxMessage

    told = {m["user"] for m in await InboxMessage.select().where(InboxMessage.source == f"admission:{project_id}")
            if "取消" in m["title"]}
    assert (await actor("clinician_a")).id in told and (await actor("head_a")).id in told


@pytest.mark.rule("HOSP-7")
async def test_hosp7_ethics_proof_in_time_keeps_the_admission(deployment, hooks, round_2031):
    project_id = await submitted(hooks, title="伦理后补按时")
    row = await walk(hooks, project_id, "ethics", TODAY)
    await service.proceed_without_ethics(await actor("medaffairs_a"), hooks, project_id, row["version"], "来不及",
                                         TODAY)
    await walk(hooks, project_id, "document", TODAY)
    await service.submit_ethics_proof(await actor("clinician_a"), hooks, project_id, "伦理批件.pdf", PDF,
                                      dt.date(2031, 5, 1))
    assert project_id not in await service.cancel_lapsed(hooks, dt.date(2031, 7, 1))
    row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
    assert row["status"] == "admitted" and row["ethics_status"] == "approved"


async def test_return_for_revision_keeps_each_version_and_resumes_at_the_returning_step(deployment, hooks,
                                                                                        round_2031):
    clinician = await actor("clinician_a")
    project_id = await submitted(hooks, title="退回修改")
    row = await walk(hooks, project_id, "formal", TODAY)
    with pytest.raises(DomainError):
        await service.decide(await actor("medaffairs_a"), hooks, project_id,
                             service.Decision(version=row["version"], decision="return", reason=""), TODAY)
    await service.decide(await actor("medaffairs_a"), hooks, project_id,
                         service.Decision(version=row["version"], decision="return", reason="风险预案不完整"), TODAY)
    assert [i.action for i in await service.inbox(clinician) if i.project_id == project_id]
    await service.submit(clinician, hooks, project_id, valid_form(risks="补充后的风险评估与应急预案，内容完整。"),
                         today=TODAY)
    row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
    assert row["status"] == "in_review" and row["current_step"] == "formal" and row["revision"] == 2
    versions = await ProjectVersion.select().where(ProjectVersion.project == project_id).order_by(
        ProjectVersion.revision).output(load_json=True)
    assert [v["revision"] for v in versions] == [1, 2]
    assert versions[0]["snapshot"]["form"]["risks"] != versions[1]["snapshot"]["form"]["risks"]


async def test_reject_with_reason_and_withdraw(deployment, hooks, round_2031):
    clinician = await actor("clinician_a")
    rejected = await submitted(hooks, title="不通过")
    row = await Project.select().where(Project.id == rejected).first()
    await service.decide(await actor("depthead_a"), hooks, rejected,
                         service.Decision(version=row["version"], decision="reject", reason="科室条件不具备"), TODAY)
    row = await Project.select().where(Project.id == rejected).first()
    assert row["status"] == "rejected" and row["outcome_reason"] == "科室条件不具备"
    withdrawn = await submitted(hooks, title="撤回")
    row = await Project.select().where(Project.id == withdrawn).first()
    await service.withdraw(clinician, withdrawn, row["version"], "暂缓开展")
    assert (await Project.select().where(Project.id == withdrawn).first())["status"] == "withdrawn"


async def test_roles_applicant_and_other_departments_cannot_act(deployment, hooks, round_2031):
    project_id = await submitted(hooks, title="角色检查")
    row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
    decision = service.Decision(version=row["version"], decision="approve", reason="x",
                                considerations={"planned": "a", "cultivate": "b", "equipment": "c", "fees": "d"})
    for username in ("clinician_a", "medaffairs_a", "ethics_a"):
        with pytest.raises(DomainError) as exc:
            await service.decide(await actor(username), hooks, project_id, decision, TODAY)
        assert exc.value.status_code == 403
    with pytest.raises(NotFound):  # hospital B cannot even see it
        await service.decide(await actor("medaffairs_b"), hooks, project_id, decision, TODAY)
    with pytest.raises(NotFound):
        await service.project_view(await actor("clinician_b"), hooks, project_id)


async def test_two_reviewers_on_the_same_step_cannot_both_win(deployment, hooks, round_2031):
    project_id = await submitted(hooks, title="并发")
    row = await walk(hooks, project_id, "formal", TODAY)
    ma = await actor("medaffairs_a")
    await service.decide(ma, hooks, project_id, service.Decision(version=row["version"], decision="approve",
                                                                 reason="同意"), TODAY)
    with pytest.raises(Conflict) as exc:
        await service.decide(ma, hooks, project_id, service.Decision(version=row["version"], decision="reject",
                                                                     reason="不同意"), TODAY)
    assert "流程已推进" in str(exc.value)


async def test_every_hand_over_notifies_the_next_people(deployment, hooks, round_2031):
    from core.inbox.tables import InboxMessage

    project_id = await submitted(hooks, title="交接通知")
    messages = await InboxMessage.select().where(InboxMessage.source == f"admission:{project_id}")
    assert (await actor("depthead_a")).id in {m["user"] for m in messages}
    await walk(hooks, project_id, "formal", TODAY)
    messages = await InboxMessage.select().where(InboxMessage.source == f"admission:{project_id}")
    told = {(m["user"], m["title"]) for m in messages}
    ethics, ma, lead = (await actor("ethics_a")).id, (await actor("medaffairs_a")).id, (await actor("clinician_a")).id
    assert any(u == ethics and "伦理" in t for u, t in told)
    assert any(u == ma and "形式审查" in t for u, t in told)
    assert any(u == lead and "已通过" in t for u, t in told)


async def test_drafts_are_visible_to_their_lead_only(deployment, hooks):
    project_id = await new_project(hooks, title="草稿")
    with pytest.raises(NotFound):
        await service.project_view(await actor("medaffairs_a"), hooks, project_id)
    view = await service.project_view(await actor("clinician_a"), hooks, project_id)
    assert view.can.edit and [s.key for s in view.steps][0] == "department"


async def test_inbox_lists_what_waits_for_each_role(deployment, hooks, round_2031):
    project_id = await submitted(hooks, title="待办")
    assert project_id in [i.project_id for i in await service.inbox(await actor("depthead_a"))]
    assert project_id not in [i.project_id for i in await service.inbox(await actor("head_a"))]
    await walk(hooks, project_id, "ethics", TODAY)
    assert project_id in [i.project_id for i in await service.inbox(await actor("ethics_a"))]
    assert project_id not in [i.project_id for i in await service.inbox(await actor("depthead_a"))]
