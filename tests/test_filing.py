"""Restricted-technology filing (限制类技术备案) at service level, Jilin deployment (the
tests' default) and Henan deployment, every transition and rule, on both databases.

"Today" is passed explicitly; the first case is on 2026-03-09 (a Monday).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest

from core.errors import DomainError, Forbidden, NotFound
from core.filing import rules
from core.filing import service as filing
from core.filing.schemas import Material
from core.filing.tables import Filing, FilingSubmission
from core.obligations.tables import Obligation
from core.outbox import service as outbox
from core.outbox.tables import Delivery
from core.plugins import PluginHost
from core.policy import FilingCheck, FilingPolicy, PersonCheck
from core.policy import policy as policy_of
from core.tenancy import service as tenancy
from tests.filing_helpers import (
    ADMITTED,
    DUE,
    FIRST_CASE,
    HENAN_USERS,
    JILIN_USERS,
    PDF,
    PNG,
    actor,
    admitted_project,
    henan_world,
    region_actor,
)

SUBMIT_DAY = dt.date(2026, 3, 20)
HENAN_TITLES = [
    ("form", "河南省限制类医疗技术临床应用备案表"),
    ("assessment", "开展临床应用的限制类技术名称、具备的条件及有关评估材料"),
    ("argumentation", "本机构医疗技术临床应用管理委员会、伦理委员会论证材料"),
    ("lead_credentials", "技术负责人（限于在本机构注册的执业医师）的执业医师证书、医院授权证明等资质证明材料"),
    ("other", "当地卫生健康行政部门规定的其他材料"),
]

@pytest.fixture(scope="module", autouse=True)
async def _forget_obligations(deployment):
    """Filing tests open obligations due in 2026; other tests' dashboards must not see them."""
    yield
    from tests.filing_helpers import forget_filing_obligations

    await forget_filing_obligations()



@pytest.fixture
def hooks(deployment):
    return deployment["host"].view()


@pytest.fixture(scope="module")
async def henan(deployment):
    world = await henan_world()
    world["hooks"] = world["host"].view()
    return world


def rules_of(exc: DomainError) -> set[str]:
    return {p.rule for p in exc.problems if p.rule}


async def opened(hooks, users=JILIN_USERS, *, first_case=FIRST_CASE, info="首例：患者甲，手术顺利") -> int:
    project_id = await admitted_project(hooks, users)
    return await filing.on_first_case(await actor(users["medical_affairs"]), hooks, project_id=project_id,
                                      case_date=first_case, info=info, today=first_case)


async def assembled(hooks, users=JILIN_USERS, *, skip: tuple[str, ...] = (), **kw) -> int:
    """An open filing with the self-assessment, the form and every material but ``skip``."""
    filing_id = await opened(hooks, users, **kw)
    ma = await actor(users["medical_affairs"])
    row = await Filing.select().where(Filing.id == filing_id).first().output(load_json=True)
    await filing.save_details(ma, hooks, filing_id, filing.FilingDetails(
        version=row["version"], self_assessment="对照管理规范逐项自评：人员、设备、设施均符合要求。",
        assessment_basis="specification", assessment_reference=row["assessment_reference"] or "相关技术管理规范",
        form={"phone": "0431-88888888"}, physicians=row["physicians"]))
    view = await filing.filing_view(ma, hooks, filing_id)
    for m in view.materials:
        if m.key not in skip:
            await filing.upload_material(ma, hooks, filing_id, m.key, f"{m.key}.pdf", PDF + m.key.encode())
    return filing_id


async def row_of(filing_id: int) -> dict:
    return await Filing.select().where(Filing.id == filing_id).first().output(load_json=True)


# ---------------------------------------------------------------- the first case opens the filing


@pytest.mark.rule("JL-12")
async def test_jl12_first_case_opens_filing_due_15_working_days_later(deployment, hooks):
    filing_id = await opened(hooks)
    row = await row_of(filing_id)
    assert row["status"] == "open" and row["first_case_on"] == FIRST_CASE
    assert row["due_on"] == DUE and row["due_rule"] == "JL-12"  # JL-12 replaces NAT-11 in Jilin
    ob = await Obligation.select().where(Obligation.id == row["obligation_id"]).first()
    assert (ob["kind"], ob["role"], ob["status"], ob["subject_type"]) == ("filing", "medical_affairs", "open", "filing")
    from core.admission.tables import Project

    p = await Project.select().where(Project.id == row["project"]).first()
    assert not p["awaiting_first_case"]
    view = await filing.filing_view(await actor("medaffairs_a"), hooks, filing_id, today=dt.date(2026, 3, 16))
    assert view.days_left == 10


@pytest.mark.rule("NAT-11")
async def test_nat11_first_case_only_for_an_admitted_restricted_project_once(deployment, hooks):
    ma = await actor("medaffairs_a")
    project_id = await admitted_project(hooks)
    with pytest.raises(DomainError) as exc:
        await filing.on_first_case(ma, hooks, project_id=project_id, case_date=ADMITTED - dt.timedelta(days=1),
                                   today=FIRST_CASE)
    assert exc.value.problems[0].field == "case_date"
    with pytest.raises(DomainError):  # in the future
        await filing.on_first_case(ma, hooks, project_id=project_id, case_date=FIRST_CASE, today=ADMITTED)
    await filing.on_first_case(ma, hooks, project_id=project_id, case_date=FIRST_CASE, today=FIRST_CASE)
    with pytest.raises(DomainError) as exc:
        await filing.on_first_case(ma, hooks, project_id=project_id, case_date=FIRST_CASE, today=FIRST_CASE)
    assert "NAT-11" in rules_of(exc.value)
    assert rules.check_first_case(tech_class="routine", status="admitted", awaiting=True, case_date=FIRST_CASE,
                                  admitted_on=ADMITTED, today=FIRST_CASE)[0].rule == "NAT-11"
    # Another institution's medical affairs, and a clinician, cannot open it.
    with pytest.raises(NotFound):
        await filing.on_first_case(await actor("medaffairs_b"), hooks, project_id=project_id, case_date=FIRST_CASE)
    with pytest.raises(NotFound):
        await filing.on_first_case(await actor("clinician_a"), hooks, project_id=project_id, case_date=FIRST_CASE)


# ---------------------------------------------------------------- completeness before submission


@pytest.mark.rule("JL-12")
async def test_jl12_six_materials_in_order_and_each_missing_one_is_named(deployment, hooks):
    filing_id = await opened(hooks)
    ma = await actor("medaffairs_a")
    view = await filing.filing_view(ma, hooks, filing_id)
    # Word for word from 第十二条（一）–（六） (seed 001).
    assert [(m.key, m.title) for m in view.materials] == [
        ("form", "医疗机构开展限制类医疗技术临床应用备案表（见附件3）"),
        ("self_assessment", "医疗机构开展限制类技术的自我评估报告"),
        ("first_case", "首例临床应用病例信息"),
        ("argumentation", "本机构医疗技术临床应用管理专门组织和伦理委员会论证材料"),
        ("lead_credentials", "技术负责人（限于本机构为主要执业机构的注册医师）医师资格证书、医师执业证书、专业技术职称证书复印件"),
        ("physicians", "本机构开展限制类技术医师名单，每名医师的医师资格证书、医师执业证书复印件"),
    ]
    with pytest.raises(DomainError) as exc:
        await filing.submit(ma, hooks, filing_id, today=SUBMIT_DAY)
    messages = [p.message for p in exc.value.problems]
    for m in view.materials:
        assert f"缺少材料：{m.title}" in messages
    assert (await row_of(filing_id))["status"] == "open"
    assert not await Delivery.exists().where((Delivery.subject_type == "filing") & (Delivery.subject_id == filing_id))


@pytest.mark.rule("NAT-13")
@pytest.mark.rule("JL-14")
async def test_nat13_ethics_argumentation_required_before_submission(deployment, hooks):
    """NAT-13 / JL-14 (this is the Jilin deployment): no restricted technology without ethics."""
    filing_id = await assembled(hooks, skip=("argumentation",))
    with pytest.raises(DomainError) as exc:
        await filing.submit(await actor("medaffairs_a"), hooks, filing_id, today=SUBMIT_DAY)
    assert "NAT-13" in rules_of(exc.value)
    assert [p.field for p in exc.value.problems if p.rule == "NAT-13"] == ["ethics"]
    problems = rules.completeness(
        materials=[], present={"argumentation": 1}, spec=filing.FilingFormSpec(title="t", template="t"),
        institution_id=1, lead={"institution": 1, "qualifications": ["医师资格证", "医师执业证"], "display_name": "甲"},
        physicians=[{"name": "甲", "user_id": 5}], physician_users={5: {"institution": 1, "qualifications": [
            "医师资格证", "医师执业证"]}}, ethics_status="deferred", self_assessment="足够长的自我评估内容说明",
        policy=FilingPolicy(), form={})
    assert [p.rule for p in problems] == ["NAT-13"]


def _check(**kw) -> FilingCheck:
    base = dict(institution_id=1, technology_code="G01", technology_name="x", has_specification=True,
                self_assessment="足够长的自我评估内容说明", assessment_basis="specification", assessment_reference="规范",
                lead=PersonCheck(name="甲", user_id=5, of_institution=True), physicians=(PersonCheck(name="甲"),))
    return FilingCheck(**(base | kw))


@pytest.mark.rule("JL-12")
async def test_jl12_lead_registered_here_and_physicians_with_certificates(deployment, hooks):
    """Core checks the lead belongs here and the certificates the policy names (Jilin's JL-12
    (五)(六)); Jilin's plugin adds a lead whose main practice is here and the physician list."""
    policy = policy_of(hooks).filing
    assert policy.physician_certificates == ("医师资格证", "医师执业证") and policy.physicians_rule == "JL-12"
    spec = filing.FilingFormSpec(title="t", template="t", rule="JL-12")
    base = dict(materials=[], present={"argumentation": 1}, spec=spec, policy=policy, institution_id=1,
                ethics_status="approved", self_assessment="足够长的自我评估内容说明", form={})
    ok_user = {"institution": 1, "qualifications": ["医师资格证", "医师执业证"], "display_name": "甲", "active": True}
    assert rules.completeness(lead=ok_user, physicians=[{"name": "甲", "user_id": 5}],
                              physician_users={5: ok_user}, **base) == []
    elsewhere = rules.completeness(lead=ok_user | {"institution": 2}, physicians=[{"name": "甲", "user_id": 5}],
                                   physician_users={5: ok_user}, **base)
    assert "不是本机构在职人员" in elsewhere[0].message
    no_cert = rules.completeness(lead=ok_user, physicians=[{"name": "乙", "user_id": 6}],
                                 physician_users={6: ok_user | {"qualifications": ["医师资格证"]}}, **base)
    assert [(p.message, p.rule) for p in no_cert] == [("医师乙缺少证书：医师执业证", "JL-12")]
    # The province's own checks, through validate_filing.
    visiting = hooks.collect_flat("validate_filing", filing=_check(
        lead=PersonCheck(name="甲", of_institution=True, visiting=True)))
    assert [(p.field, p.rule) for p in visiting] == [("lead", "JL-12")] and "进修" in visiting[0].message
    none = hooks.collect_flat("validate_filing", filing=_check(physicians=()))
    assert [(p.field, p.rule) for p in none] == [("physicians", "JL-12")]
    assert hooks.collect_flat("validate_filing", filing=_check()) == []


@pytest.mark.rule("HN-2.2a")
async def test_hn22a_self_assessment_against_specification_or_expert_consensus(deployment, henan):
    """HN-2.2a is Henan's (its plugin's validate_filing); the self-assessment itself is NAT-11's."""
    hooks = henan["hooks"]
    short = rules.completeness(materials=[], present={"argumentation": 1}, spec=filing.FilingFormSpec(title="t",
                               template="t"), policy=FilingPolicy(), institution_id=1, lead=None, physicians=[],
                               physician_users={}, ethics_status="approved", self_assessment="太短", form={})
    assert ("self_assessment", "NAT-11") in {(p.field, p.rule) for p in short}
    no_spec = hooks.collect_flat("validate_filing", filing=_check(assessment_reference="", has_specification=False))
    assert [(p.field, p.rule) for p in no_spec] == [("assessment_reference", "HN-2.2a")]
    assert "专家共识" in no_spec[0].message
    consensus = hooks.collect_flat("validate_filing", filing=_check(
        assessment_basis="consensus", assessment_reference="中国专家共识（2023）", has_specification=False))
    assert consensus == []
    named = hooks.collect_flat("validate_filing", filing=_check(assessment_basis="consensus", assessment_reference=""))
    assert [p.message for p in named] == ["请填写所依据的专家共识名称"]
    # Jilin asks for no basis: the same check passes there.
    assert policy_of(henan["hooks"]).filing.assessment_basis and not policy_of(
        PluginHost(("jilin", "hospital_default")).view()).filing.assessment_basis


async def test_wrong_file_type_and_oversized_upload_are_refused(deployment, hooks, monkeypatch):
    filing_id = await opened(hooks)
    ma = await actor("medaffairs_a")
    with pytest.raises(DomainError) as exc:
        await filing.upload_material(ma, hooks, filing_id, "form", "form.pdf", b"MZ\x90\x00 not a pdf")
    assert "PDF、JPG、PNG" in exc.value.problems[0].message
    monkeypatch.setenv("CLINTECH_MAX_UPLOAD_BYTES", "100")
    with pytest.raises(DomainError) as exc:
        await filing.upload_material(ma, hooks, filing_id, "form", "big.pdf", PDF + b"x" * 200)
    assert "文件过大" in exc.value.problems[0].message
    with pytest.raises(DomainError):
        await filing.upload_material(ma, hooks, filing_id, "nonsense", "a.png", PNG)
    assert (await filing.filing_view(ma, hooks, filing_id)).files["form"] == []


# ---------------------------------------------------------------- submission


@pytest.mark.rule("JL-12")
async def test_jl12_submission_goes_to_the_licensing_department_and_starts_the_completion_clock(deployment, hooks):
    filing_id = await assembled(hooks)
    ma = await actor("medaffairs_a")
    sub_id = await filing.submit(ma, hooks, filing_id, today=SUBMIT_DAY)
    row = await row_of(filing_id)
    assert row["status"] == "submitted" and row["submitted_on"] == SUBMIT_DAY and not row["submitted_late"]
    assert row["materials_complete_on"] == SUBMIT_DAY
    # The hospital's JL-12 obligation is done on time.
    ob = await Obligation.select().where(Obligation.id == row["obligation_id"]).first()
    assert ob["status"] == "done" and not ob["done_late"]
    # The regulator's clock: 15 working days from complete materials.
    sub = await FilingSubmission.select().where(FilingSubmission.id == sub_id).first()
    completion = await Obligation.select().where(Obligation.id == sub["completion_obligation_id"]).first()
    assert (completion["kind"], completion["role"], completion["rule_id"]) == ("filing_completion", "regulator", "JL-12")
    from core.holidays.service import work_calendar

    assert completion["due_on"] == (await work_calendar(hooks)).add_working_days(SUBMIT_DAY, 15).date
    assert row["completion_due_on"] == completion["due_on"]
    # JL-12 files with the licence-issuing department — its desk here; the provincial
    # platform (JL-37) takes cases (JL-38), not filings: nothing is delivered to it.
    assert sub["delivery_id"] is None and await outbox.delivery_status("filing", filing_id) == []
    assert len(json.loads(sub["attachments"])) == 6  # the six materials, kept with the submission


@pytest.mark.rule("NAT-11")
async def test_nat11_late_submission_is_accepted_and_marked_late(deployment, hooks):
    filing_id = await assembled(hooks)
    late_day = DUE + dt.timedelta(days=3)
    await filing.submit(await actor("medaffairs_a"), hooks, filing_id, today=late_day)
    row = await row_of(filing_id)
    assert row["status"] == "submitted" and row["submitted_late"]
    ob = await Obligation.select().where(Obligation.id == row["obligation_id"]).first()
    assert ob["status"] == "done" and ob["done_late"]
    regulator = await region_actor("regulator_city1")
    mine = [r for r in await filing.desk(regulator, hooks, late_day) if r["id"] == filing_id]
    assert mine and mine[0]["submitted_late"] and mine[0]["may_act"]


async def test_scan_is_locked_after_submission_and_versioned_after_a_return(deployment, hooks):
    filing_id = await assembled(hooks)
    ma, regulator = await actor("medaffairs_a"), await region_actor("regulator_city1")
    await filing.submit(ma, hooks, filing_id, today=SUBMIT_DAY)
    with pytest.raises(DomainError) as exc:
        await filing.upload_material(ma, hooks, filing_id, "form", "new.pdf", PDF + b"replaced")
    assert "不能替换" in exc.value.problems[0].message
    first = (await FilingSubmission.select().where(FilingSubmission.filing == filing_id).first())["attachments"]
    await filing.return_filing(regulator, hooks, filing_id, "备案表缺少法定代表人签字", today=SUBMIT_DAY)
    new_id = await filing.upload_material(ma, hooks, filing_id, "form", "signed.pdf", PDF + b"signed-again")
    view = await filing.filing_view(ma, hooks, filing_id)
    assert [f.id for f in view.files["form"]][0] == new_id and len(view.files["form"]) == 2
    subs = await FilingSubmission.select().where(FilingSubmission.filing == filing_id)
    assert subs[0]["attachments"] == first  # the submitted version is kept as it was


# ---------------------------------------------------------------- the regulator's desk


@pytest.mark.rule("JL-12")
async def test_jl12_return_stops_the_clock_and_complete_resubmission_restarts_it(deployment, hooks):
    filing_id = await assembled(hooks)
    ma, regulator = await actor("medaffairs_a"), await region_actor("regulator_city1")
    first_sub = await filing.submit(ma, hooks, filing_id, today=SUBMIT_DAY)
    with pytest.raises(DomainError):
        await filing.return_filing(regulator, hooks, filing_id, "", today=SUBMIT_DAY)
    await filing.return_filing(regulator, hooks, filing_id, "缺少医师执业证复印件", today=dt.date(2026, 3, 24))
    row = await row_of(filing_id)
    assert row["status"] == "returned" and row["return_reason"] == "缺少医师执业证复印件"
    sub = await FilingSubmission.select().where(FilingSubmission.id == first_sub).first()
    assert sub["outcome"] == "returned"
    old = await Obligation.select().where(Obligation.id == sub["completion_obligation_id"]).first()
    assert old["status"] == "waived"
    resubmitted = dt.date(2026, 4, 1)
    second = await filing.submit(ma, hooks, filing_id, today=resubmitted)
    sub2 = await FilingSubmission.select().where(FilingSubmission.id == second).first()
    new = await Obligation.select().where(Obligation.id == sub2["completion_obligation_id"]).first()
    from core.holidays.service import work_calendar

    assert new["due_on"] == (await work_calendar(hooks)).add_working_days(resubmitted, 15).date
    row = await row_of(filing_id)
    assert row["materials_complete_on"] == resubmitted and row["submitted_on"] == SUBMIT_DAY
    assert sub2["number"] == 2
    deliveries = await Delivery.select().where((Delivery.subject_type == "filing") & (Delivery.subject_id == filing_id))
    assert deliveries == []  # JL-12: the department's desk here, no platform


@pytest.mark.rule("NAT-11")
async def test_nat11_only_the_licence_issuing_department_acts(deployment, hooks):
    filing_id = await assembled(hooks)
    await filing.submit(await actor("medaffairs_a"), hooks, filing_id, today=SUBMIT_DAY)
    with pytest.raises(NotFound):  # another region's regulator: as if it did not exist
        await filing.complete(await region_actor("regulator_city2"), hooks, filing_id, today=SUBMIT_DAY)
    with pytest.raises(NotFound):
        await filing.filing_view(await region_actor("regulator_city2"), hooks, filing_id)
    with pytest.raises(NotFound):
        await filing.filing_view(await actor("medaffairs_b"), hooks, filing_id)
    with pytest.raises(NotFound):  # a clinician of the same hospital does not read filings
        await filing.filing_view(await actor("clinician_a"), hooks, filing_id)
    province = await region_actor("regulator_province")
    assert (await filing.filing_view(province, hooks, filing_id)).filing["id"] == filing_id
    with pytest.raises(Forbidden):  # reads the province, acts only where it issued the licence
        await filing.complete(province, hooks, filing_id, today=SUBMIT_DAY)
    with pytest.raises(NotFound):
        await filing.complete(await actor("medaffairs_a"), hooks, filing_id, today=SUBMIT_DAY)
    assert (await row_of(filing_id))["status"] == "submitted"


@pytest.mark.rule("JL-12")
async def test_jl12_completion_annotates_licence_and_reports_up_to_the_province(deployment, hooks):
    filing_id = await assembled(hooks)
    regulator = await region_actor("regulator_city1")
    sub_id = await filing.submit(await actor("medaffairs_a"), hooks, filing_id, today=SUBMIT_DAY)
    with pytest.raises(DomainError):  # not before the complete materials arrived
        await filing.complete(regulator, hooks, filing_id, completed_on=SUBMIT_DAY - dt.timedelta(days=1),
                              today=SUBMIT_DAY)
    done = dt.date(2026, 3, 27)
    await filing.complete(regulator, hooks, filing_id, completed_on=done, today=done)
    row = await row_of(filing_id)
    assert row["status"] == "completed" and row["completed_on"] == done and row["reported_up_on"] == done
    expected = f"{row['technology_name']}（2026年3月27日备案）"
    assert row["annotation_expected"] == expected == row["annotation_recorded"]  # JL-12: annotated directly
    sub = await FilingSubmission.select().where(FilingSubmission.id == sub_id).first()
    ob = await Obligation.select().where(Obligation.id == sub["completion_obligation_id"]).first()
    assert ob["status"] == "done" and ob["done_on"] == done
    for username in ("regulator_province", "qccenter"):
        assert filing_id in [r["id"] for r in await filing.desk(await region_actor(username), hooks, done)]
    assert filing_id not in [r["id"] for r in await filing.desk(await region_actor("regulator_city2"), hooks, done)]
    from core.audit.tables import AuditEvent

    assert await AuditEvent.exists().where((AuditEvent.action == "filing.complete")
                                           & (AuditEvent.record_id == filing_id))


@pytest.mark.rule("NAT-25")
@pytest.mark.rule("JL-26")
async def test_nat25_jl26_cancellation_after_a_stop_report_updates_the_annotation(deployment, hooks):
    filing_id = await assembled(hooks)
    regulator = await region_actor("regulator_city1")
    await filing.submit(await actor("medaffairs_a"), hooks, filing_id, today=SUBMIT_DAY)
    with pytest.raises(DomainError):  # only a completed filing is cancelled
        await filing.cancel(regulator, hooks, filing_id, "safety", "严重不良事件", today=SUBMIT_DAY)
    await filing.complete(regulator, hooks, filing_id, completed_on=SUBMIT_DAY, today=SUBMIT_DAY)
    with pytest.raises(DomainError) as exc:
        await filing.cancel(regulator, hooks, filing_id, "", "理由", today=SUBMIT_DAY)
    assert "NAT-25" in rules_of(exc.value)
    stop = dt.date(2026, 6, 1)
    await filing.cancel(regulator, hooks, filing_id, "conditions", "技术负责人调离，人员条件不再满足规范", on=stop,
                        today=stop)
    row = await row_of(filing_id)
    assert row["status"] == "cancelled" and row["close_ground"] == "conditions"
    assert row["annotation_recorded"] == row["annotation_expected"] == (
        f"{row['technology_name']}（2026年3月20日备案，2026年6月1日注销）")
    from core.audit.tables import AuditEvent

    event = await AuditEvent.select().where((AuditEvent.action == "filing.cancel")
                                            & (AuditEvent.record_id == filing_id)).first().output(load_json=True)
    assert event["after"]["ground"] == "conditions" and not event["after"]["reported_to_province"]
    assert rules.reported_to_province("efficacy")


@pytest.mark.rule("HN-2.2c")
async def test_hn22c_withdrawal_requested_by_the_institution_and_confirmed(deployment, hooks):
    filing_id = await assembled(hooks)
    ma, regulator = await actor("medaffairs_a"), await region_actor("regulator_city1")
    await filing.submit(ma, hooks, filing_id, today=SUBMIT_DAY)
    await filing.complete(regulator, hooks, filing_id, completed_on=SUBMIT_DAY, today=SUBMIT_DAY)
    with pytest.raises(DomainError):
        await filing.request_withdrawal(ma, hooks, filing_id, "")
    await filing.request_withdrawal(ma, hooks, filing_id, "设备更新期间暂停开展，申请撤销备案")
    assert (await row_of(filing_id))["status"] == "withdrawal_requested"
    with pytest.raises(NotFound):
        await filing.confirm_withdrawal(await region_actor("regulator_city2"), hooks, filing_id)
    await filing.confirm_withdrawal(regulator, hooks, filing_id, on=dt.date(2026, 5, 6))
    row = await row_of(filing_id)
    assert row["status"] == "withdrawn" and row["annotation_recorded"].endswith("2026年5月6日撤销）")
    # Withdrawn filings leave the public list.
    _, rows = await filing.public_by_region(deployment["city1"])
    assert filing_id not in [r["id"] for r in rows]


# ---------------------------------------------------------------- public lists and disclosure


@pytest.mark.rule("NAT-40")
@pytest.mark.rule("JL-41")
@pytest.mark.rule("NAT-24")
@pytest.mark.rule("JL-25")
async def test_nat40_jl41_public_list_and_nat24_disclosure_show_completed_filings(deployment, hooks):
    filing_id = await assembled(hooks)
    regulator = await region_actor("regulator_city1")
    await filing.submit(await actor("medaffairs_a"), hooks, filing_id, today=SUBMIT_DAY)
    row = await row_of(filing_id)
    _, rows = await filing.public_by_region(deployment["province"])
    assert filing_id not in [r["id"] for r in rows]  # not yet completed
    await filing.complete(regulator, hooks, filing_id, completed_on=SUBMIT_DAY, today=SUBMIT_DAY)
    # The cumulative count is the technology's case records in the institution, voided ones
    # aside (core.cases.counts): five more recorded, a sixth voided.
    from core.cases import counts
    from core.cases.tables import CaseRecord

    before = await counts.cumulative_cases(deployment["hospital_a"], row["technology_code"])
    for n in range(6):
        await CaseRecord.insert(CaseRecord(
            institution=deployment["hospital_a"], project=row["project"], external_id=f"PUB-{filing_id}-{n}",
            dedupe_key=f"{deployment['hospital_a']}:PUB-{filing_id}-{n}", content_hash="x",
            technology_code=row["technology_code"], technology_name=row["technology_name"], tech_class="restricted",
            patient_key="p", admitted_on=SUBMIT_DAY, operated_on=SUBMIT_DAY, discharged_on=SUBMIT_DAY,
            voided=n == 5, source="demo"))
    expected = before + 5
    for region in (deployment["province"], deployment["city1"]):
        _, rows = await filing.public_by_region(region)
        mine = [r for r in rows if r["id"] == filing_id]
        assert mine and mine[0]["case_count"] == expected and mine[0]["filed_on"] == SUBMIT_DAY
    _, rows = await filing.public_by_region(deployment["city2"])
    assert filing_id not in [r["id"] for r in rows]
    name, rows = await filing.public_by_technology(row["technology_code"])
    assert name == row["technology_name"] and filing_id in [r["id"] for r in rows]
    inst, rows = await filing.institution_disclosure(deployment["hospital_a"])
    assert any(r["technology_name"] == row["technology_name"] and r["case_count"] == expected for r in rows)
    fields = filing.disclosure_fields(hooks)
    assert [f["key"] for f in fields][:4] == ["institution", "technology", "filed_on", "case_count"]
    assert {f["rule"] for f in fields} >= {"JL-41", "JL-25"}  # JL-25: name, filing date, case count


# ---------------------------------------------------------------- channel outage


@pytest.mark.rule("HN-2.2b")
async def test_channel_outage_delays_the_filing_delivery_and_loses_nothing(deployment, henan, monkeypatch):
    """HN-2.2b: Henan files through its information system, which may be down."""
    from tests.receiver import Receiver

    hooks = henan["hooks"]
    receiver = Receiver()
    monkeypatch.setenv("CLINTECH_CHANNEL_HENAN_PLATFORM_URL", receiver.url)
    monkeypatch.setenv("CLINTECH_CHANNEL_HENAN_PLATFORM_TIMEOUT", "2")
    filing_id = await assembled(hooks, HENAN_USERS, skip=("other",))
    ma = await actor(HENAN_USERS["medical_affairs"])
    sub_id = await filing.submit(ma, hooks, filing_id, today=SUBMIT_DAY)
    delivery_id = (await FilingSubmission.select().where(FilingSubmission.id == sub_id).first())["delivery_id"]
    now = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    await outbox.deliver_due(hooks, now=now, delivery_ids=[delivery_id])  # receiver down: refused
    view = await filing.filing_view(ma, hooks, filing_id)
    assert view.deliveries[0].status == "failed" and "无法连接" in view.deliveries[0].last_error
    receiver.start()
    try:
        receiver.mode = "garbage"
        await outbox.deliver_due(hooks, now=now + dt.timedelta(hours=7), delivery_ids=[delivery_id])
        view = await filing.filing_view(ma, hooks, filing_id)
        assert view.deliveries[0].status == "failed" and "无法识别" in view.deliveries[0].last_error
        receiver.mode = "healthy"
        await outbox.deliver_due(hooks, now=now + dt.timedelta(hours=14), delivery_ids=[delivery_id])
        view = await filing.filing_view(ma, hooks, filing_id)
        assert view.deliveries[0].status == "accepted"
        assert sum(receiver.processed.values()) == 1
        body = next(iter(receiver.bodies.values()))
        assert [a["key"] for a in body["attachments"]][:2] == ["form", "assessment"]
        assert body["payload"]["filing_id"] == filing_id
    finally:
        receiver.stop()
    assert (await row_of(filing_id))["status"] == "submitted"  # the filing itself never depended on it


# ---------------------------------------------------------------- Henan deployment


@pytest.mark.rule("HN-2.2b")
async def test_hn22b_henan_five_materials_in_upload_order_through_the_henan_system(deployment, henan):
    hooks = henan["hooks"]
    filing_id = await opened(hooks, HENAN_USERS)
    row = await row_of(filing_id)
    assert row["due_on"] == DUE and row["due_rule"] == "HN-2.2b"
    ma = await actor(HENAN_USERS["medical_affairs"])
    view = await filing.filing_view(ma, hooks, filing_id)
    # Word for word from the notice (seed 004 二（二）2); (5) only where 郑州's department
    # specifies other materials — a setting of its region, none yet.
    assert [m.title for m in view.materials] == [t for _, t in HENAN_TITLES[:4]]
    assert view.spec.title == "河南省限制类医疗技术临床应用备案表"
    assert view.licence_region["department_name"] == "郑州市卫生健康委员会医政医管科"
    admin = await actor("admin")
    await tenancy.rename_region(admin, henan["city"], "郑州市", "郑州市卫生健康委员会医政医管科", "设备清单及维护记录")
    try:
        view = await filing.filing_view(ma, hooks, filing_id)
        assert [(m.key, m.title) for m in view.materials] == HENAN_TITLES
        assert view.materials[4].required and view.materials[4].note == "设备清单及维护记录"
        with pytest.raises(DomainError) as exc:
            await filing.submit(ma, hooks, await assembled(hooks, HENAN_USERS, skip=("other",)), today=SUBMIT_DAY)
        assert ("material_other", "HN-2.2b") in {(p.field, p.rule) for p in exc.value.problems}
    finally:
        await tenancy.rename_region(admin, henan["city"], "郑州市", "郑州市卫生健康委员会医政医管科", "")
    filing_id = await assembled(hooks, HENAN_USERS, skip=("other",))
    sub_id = await filing.submit(ma, hooks, filing_id, today=SUBMIT_DAY)
    delivery_id = (await FilingSubmission.select().where(FilingSubmission.id == sub_id).first())["delivery_id"]
    d = await Delivery.select().where(Delivery.id == delivery_id).first().output(load_json=True)
    assert d["channel"] == "henan_platform"
    # No endpoint configured: the ordered package with its manifest, for manual upload.
    await outbox.deliver_due(hooks, delivery_ids=[delivery_id])
    name, data = await outbox.package_for(ma, hooks, delivery_id)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert [m["key"] for m in manifest["materials"]] == ["form", "assessment", "argumentation", "lead_credentials"]
    assert manifest["missing_required"] == []


@pytest.mark.rule("HN-2.2c")
@pytest.mark.rule("HN-4.3")
async def test_hn22c_completion_pushes_to_the_licensing_office_and_hn43_consistency(deployment, henan):
    hooks = henan["hooks"]
    ma = await actor(HENAN_USERS["medical_affairs"])
    regulator = await region_actor(HENAN_USERS["regulator"])
    filing_id = await assembled(hooks, HENAN_USERS, skip=("other",))
    await filing.submit(ma, hooks, filing_id, today=SUBMIT_DAY)
    sub = await FilingSubmission.select().where(FilingSubmission.filing == filing_id).first()
    completion = await Obligation.select().where(Obligation.id == sub["completion_obligation_id"]).first()
    assert completion["rule_id"] == "HN-2.2c"
    with pytest.raises(NotFound):  # 洛阳's regulator: another region
        await filing.complete(await region_actor(HENAN_USERS["other_city"]), hooks, filing_id, today=SUBMIT_DAY)
    await filing.complete(regulator, hooks, filing_id, completed_on=SUBMIT_DAY, today=SUBMIT_DAY)
    row = await row_of(filing_id)
    assert row["status"] == "completed" and row["annotation_recorded"] == ""  # 审批办 annotates later
    # HN-2.2c: the push is the filing department's: queued on its desk, not in the hospital's outbox.
    pushes = await Delivery.select().where((Delivery.subject_type == filing.PUSH_SUBJECT)
                                           & (Delivery.subject_id == filing_id)).output(load_json=True)
    assert len(pushes) == 1 and pushes[0]["payload"]["purpose"] == "licence_annotation"
    assert pushes[0]["payload"]["annotation"] == row["annotation_expected"]
    assert pushes[0]["payload"]["technology"]["name"] == row["technology_name"]
    assert pushes[0]["payload"]["filed_on"] == SUBMIT_DAY.isoformat() and pushes[0]["attachments"] == []
    assert [d.id for d in await filing.pushes(regulator)][:1] == [pushes[0]["id"]]
    hospital_view, _ = await outbox.list_deliveries(ma)
    assert pushes[0]["id"] not in [d.id for d in hospital_view]
    with pytest.raises(NotFound):
        await outbox.get_delivery(ma, pushes[0]["id"])
    # Its obligation is not done by clicking 完成备案, but when the push is sent.
    assert (await Obligation.select().where(Obligation.id == completion["id"]).first())["status"] == "open"
    await outbox.deliver_due(hooks, delivery_ids=[pushes[0]["id"]])  # no endpoint: a package for manual upload
    name, data = await outbox.package_for(regulator, hooks, pushes[0]["id"])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        payload = json.loads(zf.read("payload.json"))
    assert manifest["missing_required"] == [] and manifest["materials"] == []  # it carries what it says
    assert payload["annotation"] == row["annotation_expected"] and payload["to"] == "发证部门（审批办）"
    assert (await Obligation.select().where(Obligation.id == completion["id"]).first())["status"] == "open"
    await outbox.confirm_manual(regulator, pushes[0]["id"], "SPB-2026-001")
    done = await Obligation.select().where(Obligation.id == completion["id"]).first()
    assert done["status"] == "done" and done["done_on"] is not None
    # HN-4.3: the filing shows on the consistency page until the annotation is recorded.
    found = await filing.consistency(regulator, hooks, SUBMIT_DAY)
    assert filing_id in [r["id"] for r in found["mismatched"]]
    await filing.record_annotation(regulator, hooks, filing_id, "错误的备注", today=SUBMIT_DAY)
    found = await filing.consistency(regulator, hooks, SUBMIT_DAY)
    assert [r["problem"] for r in found["mismatched"] if r["id"] == filing_id] == ["副本备注与备案不一致"]
    await filing.record_annotation(regulator, hooks, filing_id, row["annotation_expected"], today=SUBMIT_DAY)
    found = await filing.consistency(regulator, hooks, SUBMIT_DAY)
    assert filing_id not in [r["id"] for r in found["mismatched"]]
    # An open filing with a case and no completed filing is listed too.
    open_id = await opened(hooks, HENAN_USERS)
    found = await filing.consistency(await region_actor(HENAN_USERS["province"]), hooks, DUE + dt.timedelta(days=1))
    assert [r["problem"] for r in found["unfiled"] if r["id"] == open_id] == ["已开展病例但未完成备案（已逾期未提交）"]
    # Henan's public list (HN-2.3) shows the completed filing under 郑州 and the province.
    _, rows = await filing.public_by_region(henan["province"])
    assert filing_id in [r["id"] for r in rows]
    assert [f["key"] for f in filing.disclosure_fields(hooks)][1] == "region"


@pytest.mark.rule("HN-2.1")
async def test_hn21_filing_scope_is_the_restricted_lists(deployment, henan):
    """HN-2.1: only restricted technologies (national or Henan list) are filed."""
    assert rules.check_first_case(tech_class="routine", status="admitted", awaiting=True, case_date=FIRST_CASE,
                                  admitted_on=ADMITTED, today=FIRST_CASE)[0].rule == "NAT-11"
    materials = filing.materials_for(henan["hooks"], filing.TechnologyInfo(code="G01", name="x",
                                                                           tech_class="restricted"), None)
    assert all(isinstance(m, Material) and m.rule == "HN-2.2b" for m in materials)


async def test_transitions_refuse_wrong_states():
    assert rules.check_transition("open", "complete")[0].field == "status"
    assert rules.check_transition("completed", "submit")
    assert rules.check_transition("returned", "submit") == []
    assert rules.is_late(dt.date(2026, 3, 31), DUE) and not rules.is_late(DUE, DUE)


@pytest.mark.rule("NAT-11")
async def test_nat11_admission_lists_projects_awaiting_their_first_case_until_it_is_recorded(deployment, hooks):
    """core.admission.first_case: the admission side of the first case."""
    from core.admission import first_case
    from core.admission.tables import StepDecision

    ma = await actor("medaffairs_a")
    project_id = await admitted_project(hooks)
    assert project_id in [p["id"] for p in await first_case.awaiting_first_case(ma)]
    assert project_id not in [p["id"] for p in await first_case.awaiting_first_case(await actor("medaffairs_b"))]
    await filing.on_first_case(ma, hooks, project_id=project_id, case_date=FIRST_CASE, today=FIRST_CASE)
    assert project_id not in [p["id"] for p in await first_case.awaiting_first_case(ma)]
    entries = await StepDecision.select().where(StepDecision.project == project_id).output(load_json=True)
    assert entries[-1]["decision"] == "first_case" and entries[-1]["details"]["case_date"] == "2026-03-09"
    with pytest.raises(DomainError):
        await first_case.record_first_case(ma, project_id, FIRST_CASE)
