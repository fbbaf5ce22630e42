"""The institution's own evaluation of the technologies it uses (NAT-22, Jilin's JL-23) and
the argumentation before a technology's first use in the institution (NAT-21, JL-22,
HN-4.1): no path to admission or to clinical use skips it."""

from __future__ import annotations

import datetime as dt
import types

import pytest

from core import hookimpl
from core.admission import rules as admission_rules
from core.admission import service as admission
from core.audit.tables import AuditEvent
from core.cases import service as cases
from core.contract import ApprovalStep, ArgumentationStep, EthicsStep, PanelStep, ReviewStep
from core.errors import DomainError, NotFound
from core.evaluation import periodic
from core.evaluation.tables import PeriodicReview
from core.lifecycle import service as lifecycle
from core.plugins import PluginHost
from tests.admission_helpers import actor, valid_form
from tests.case_helpers import _admitted_b, admitted, case_input

TODAY = dt.date(2026, 5, 11)


@pytest.fixture
def hooks(deployment):
    return deployment["host"].view()


def review(key: str, result: str, **overrides) -> periodic.ReviewInput:
    values = {"technology_key": key, "reviewed_on": TODAY, "committee": "医疗技术临床应用管理委员会（周院长等9人）",
              "findings": "近一年开展32例，并发症率2.1%，术者资质与设备条件符合要求", "result": result} | overrides
    return periodic.ReviewInput(**values)


async def key_of(project_id: int) -> str:
    from core.admission.tables import Project

    row = await Project.select(Project.technology_code).where(Project.id == project_id).first()
    return lifecycle.technology_key(row["technology_code"], project_id)


# ---------------------------------------------------------------- NAT-22: periodic evaluation


@pytest.mark.rule("NAT-22")
@pytest.mark.rule("JL-23")
async def test_nat22_continue_and_adjust_keep_it_in_use_stop_stops_it_through_the_lifecycle(deployment, hooks):
    ma = await actor("medaffairs_a")
    project_id = await admitted(hooks, tech_class="routine", title="院内评估测试技术", today=dt.date(2026, 3, 2))
    key = await key_of(project_id)
    listed = {t["key"]: t for t in await periodic.technologies(ma)}
    assert listed[key]["state"].in_use and listed[key]["argued"] is not None  # argued before first use (NAT-21)

    with pytest.raises(DomainError) as exc:
        await periodic.record(ma, hooks, review(key, "adjust", findings="短", reviewed_on=TODAY + dt.timedelta(days=1)),
                              TODAY)
    assert {p.field for p in exc.value.problems} == {"findings", "reviewed_on", "adjustments", "adjustment_kinds"}
    assert {p.rule for p in exc.value.problems} == {"NAT-22"}

    await periodic.record(ma, hooks, review(key, "continue"), TODAY)
    await periodic.record(ma, hooks, review(key, "adjust", adjustments="收紧适应证；术者须具备副主任医师以上职称",
                                            adjustment_kinds=["requirements"]), TODAY)
    assert (await lifecycle.state(deployment["hospital_a"], key)).in_use
    stop_id = await periodic.record(ma, hooks, review(key, "stop", findings="发生2例非操作因素导致的严重不良事件，存在严重质量安全问题"),
                                    TODAY)
    state = await lifecycle.state(deployment["hospital_a"], key)
    assert state.status == "stopped" and "JL-23" in state.reason and "NAT-22" in state.reason
    row = await PeriodicReview.select().where(PeriodicReview.id == stop_id).first()
    assert row["use_event"] is not None
    history = await lifecycle.history(deployment["hospital_a"], key)
    assert history[0]["trigger"] == "evaluation" and history[0]["committee"].startswith("医疗技术临床应用管理委员会")
    # A stopped technology refuses its cases from then on (the lifecycle's gate).
    problems, _ = await cases.check_cases(await actor("clinician_a"), hooks, [case_input(
        project_id, operated_on=TODAY + dt.timedelta(days=1), admitted_on=TODAY, discharged_on=TODAY + dt.timedelta(days=3))],
        TODAY + dt.timedelta(days=4))
    assert any(p.field.endswith("technology_code") and "停止" in p.message for p in problems), problems
    # It is not evaluated as if in use; resumption goes through the lifecycle's re-evaluation.
    with pytest.raises(DomainError) as exc:
        await periodic.record(ma, hooks, review(key, "continue"), TODAY)
    assert "不在使用中" in str(exc.value)
    assert [r["result"] for r in await periodic.reviews(ma) if r["technology_key"] == key] == ["stop", "adjust",
                                                                                                "continue"]
    assert await AuditEvent.count().where((AuditEvent.record_type == "periodic_review")
                                          & (AuditEvent.action == "evaluation.periodic")) >= 3


async def test_only_the_institutions_medical_affairs_records_and_reads_its_own(deployment, hooks):
    project_id = await admitted(hooks, tech_class="routine", title="院内评估租户测试", today=dt.date(2026, 3, 2))
    key = await key_of(project_id)
    assert key in {t["key"] for t in await periodic.technologies(await actor("head_a"))}
    assert key not in {t["key"] for t in await periodic.technologies(await actor("medaffairs_b"))}
    with pytest.raises(NotFound):
        await periodic.record(await actor("medaffairs_b"), hooks, review(key, "stop"), TODAY)
    for username in ("head_a", "clinician_a", "regulator_province"):
        with pytest.raises(NotFound):
            await periodic.record(await actor(username), hooks, review(key, "continue"), TODAY)
    with pytest.raises(NotFound):
        await periodic.technologies(await actor("regulator_province"))


@pytest.mark.rule("NAT-22")
async def test_nat22_the_page_records_an_evaluation(deployment, hooks, login_as):
    project_id = await admitted(hooks, tech_class="routine", title="院内评估网页测试", today=dt.date(2026, 3, 2))
    key = await key_of(project_id)
    ma = await login_as("medaffairs_a")
    page = await ma.get("/evaluations/periodic")
    assert page.status_code == 200 and f'data-key="{key}"' in page.text and 'id="review-form"' in page.text
    refused = await ma.post("/evaluations/periodic", data={"technology_key": key, "reviewed_on": TODAY.isoformat(),
                                                          "committee": "管委会", "findings": "运行平稳，质控指标达标，继续开展",
                                                          "result": "adjust"})
    assert refused.status_code == 422 and "请写明调整的内容" in refused.text and "请选择调整的事项" in refused.text and "运行平稳，质控指标达标" in refused.text
    done = await ma.post("/evaluations/periodic", data={"technology_key": key, "reviewed_on": TODAY.isoformat(),
                                                       "committee": "管委会", "findings": "运行平稳，质控指标达标，继续开展",
                                                       "result": "continue"})
    assert done.status_code == 303
    assert (await (await login_as("clinician_a")).get("/evaluations/periodic")).status_code == 404
    assert (await (await login_as("head_a")).get("/evaluations/periodic")).status_code == 200
    foreign = await (await login_as("medaffairs_b")).post("/evaluations/periodic", data={
        "technology_key": key, "reviewed_on": TODAY.isoformat(), "committee": "越权", "findings": "越权记录的评估发现内容",
        "result": "stop"})
    assert foreign.status_code == 404
    assert (await lifecycle.state(deployment["hospital_a"], key)).in_use


# ---------------------------------------------------------------- NAT-21: argued before first use


@pytest.mark.rule("NAT-21")
def test_nat21_a_workflow_must_argue_before_it_admits():
    argue = ArgumentationStep(key="dept", title="科室论证", role="dept_head")
    panel = PanelStep(key="panel", title="专家论证", role="medical_affairs")
    review_ = ReviewStep(key="formal", title="形式审查", role="medical_affairs")
    ethics = EthicsStep(key="ethics", title="伦理审查", role="ethics")
    admit = ApprovalStep(key="approve", title="院长审批", role="hospital_head", admits=True)
    assert admission_rules.check_first_use_argued([argue, ethics, admit]) == []
    assert admission_rules.check_first_use_argued([review_, panel, admit]) == []
    refused = admission_rules.check_first_use_argued([review_, ethics, admit], "JL-22")
    assert refused[0].rule == "NAT-21" and "NAT-21、JL-22" in refused[0].message
    # An argumentation after the admitting step does not count.
    assert admission_rules.check_first_use_argued([review_, admit, panel])


@pytest.mark.rule("NAT-21")
@pytest.mark.rule("HOSP-12")
def test_nat21_both_default_paths_argue_before_they_admit(deployment, hooks):
    for path in ("round", "temporary"):
        for tech_class in ("routine", "restricted"):
            info = admission.project_info({"institution": deployment["hospital_a"], "path": path,
                                           "tech_class": tech_class, "grade": "三级"})
            assert admission_rules.check_first_use_argued(admission.steps_for(hooks, info)) == [], (path, tech_class)


def _skipping_plugin() -> types.ModuleType:
    """A hospital plugin whose workflow admits straight after a formal review."""
    module = types.ModuleType("skipping_hospital")

    @hookimpl(tryfirst=True)
    def admission_steps(project):
        return [ReviewStep(key="formal", title="形式审查", role="medical_affairs"),
                ApprovalStep(key="approve", title="院长审批", role="hospital_head", admits=True)]

    module.admission_steps = admission_steps
    return module


@pytest.mark.rule("NAT-21")
@pytest.mark.rule("JL-22")
async def test_nat21_a_hospital_workflow_without_argumentation_is_refused_at_submission(deployment):
    host = PluginHost((*deployment["plugins"], "skipping"), extra={"skipping": _skipping_plugin()})
    hooks = host.view()
    clinician = await actor("clinician_a")
    project_id = await admission.create_project(clinician, hooks, admission.NewProject(
        title="无论证流程测试", path="temporary", outside_lists=True), TODAY)
    await admission.save_draft(clinician, hooks, project_id, valid_form(), today=TODAY)
    with pytest.raises(DomainError) as exc:
        await admission.submit(clinician, hooks, project_id, today=TODAY)
    assert {p.rule for p in exc.value.problems} == {"NAT-21"} and "JL-22" in str(exc.value)
    from core.admission.tables import Project

    row = await Project.select(Project.status, Project.steps).where(Project.id == project_id).first()
    assert row["status"] == "draft"


@pytest.mark.rule("NAT-21")
async def test_nat21_a_technology_admitted_elsewhere_is_not_used_here_without_its_own_admission(deployment, hooks):
    """Proven elsewhere (admitted in hospital B) is no argument in hospital A: its cases are
    refused on every way in (one check serves the page, the upload and the HIS API)."""
    project_b = await _admitted_b(hooks)
    item = case_input(project_b)  # its key, P<id>: admitted in hospital B only
    own, _ = await cases.check_cases(await actor("medaffairs_b"), hooks, [item], dt.date(2026, 3, 20))
    assert not any(p.field.endswith("technology_code") for p in own), own
    problems, _ = await cases.check_cases(await actor("clinician_a"), hooks, [item], dt.date(2026, 3, 20))
    assert any(p.rule == "HOSP-3" and "须准入后方可开展" in p.message for p in problems), problems


@pytest.mark.rule("NAT-22")
@pytest.mark.rule("JL-23")
async def test_nat22_adjust_is_recorded_on_the_technologys_page_and_flags_its_authorisations(
        deployment, hooks, login_as):
    """"Adjust" (NAT-22, JL-23: 调整管理目录、管理要求和医师相关技术临床应用权限) is a recorded
    outcome: what is adjusted and how, on the technology's history and page; adjusting the
    physicians' privileges flags each active authorisation of the technology for review
    (each physician told) until the authorisation is acted on."""
    from core.accounts.tables import User
    from core.inbox.tables import InboxMessage
    from core.lifecycle.tables import UseEvent
    from core.people import service as people
    from tests.people_helpers import trained_for

    project_id = await admitted(hooks, tech_index=21, today=dt.date(2026, 3, 2))
    key = await key_of(project_id)
    ma = await actor("medaffairs_a")
    clinician = await User.select(User.id).where(User.username == "clinician_a").first()
    await trained_for(hooks, "clinician_a", key, dt.date(2026, 3, 4))  # JL-27: in the QC centre's database
    authorisation_id = await people.grant(ma, clinician["id"], people.GrantInput(
        scope="technology", technology_key=key, valid_from=dt.date(2026, 3, 5), valid_until=dt.date(2028, 3, 4),
        ability="独立完成该技术20例", training="完成规范化培训", exam="考核合格", decision="管理委员会2026-03-04会议"),
        today=dt.date(2026, 3, 5), hooks=hooks)
    review_id = await periodic.record(ma, hooks, review(
        key, "adjust", adjustment_kinds=["requirements", "privileges"],
        adjustments="适应证限于70岁以下患者；术者须具备副主任医师以上职称"), TODAY)
    row = await PeriodicReview.select().where(PeriodicReview.id == review_id).first().output(load_json=True)
    assert row["adjustment_kinds"] == ["requirements", "privileges"]
    assert [a["id"] for a in row["flagged_authorisations"]] == [authorisation_id]
    event = await UseEvent.select().where(UseEvent.id == row["use_event"]).first()
    assert (event["action"], event["status_after"]) == ("adjust", "in_use") and "70岁以下" in event["reason"]
    assert "JL-23" in event["rule"] and (await lifecycle.state(deployment["hospital_a"], key)).in_use
    assert await AuditEvent.exists().where(AuditEvent.action == "technology_use.adjust")
    url = f"/lifecycle/institutions/{deployment['hospital_a']}/{key}"
    assert await InboxMessage.exists().where((InboxMessage.user == clinician["id"]) & (InboxMessage.link == url)
                                             & InboxMessage.title.like("%权限须依据评估结果复核%"))
    client = await login_as("medaffairs_a")
    page = (await client.get(url)).text
    assert 'id="adjustments"' in page and "适应证限于70岁以下患者" in page and "医师相关技术临床应用权限" in page
    assert f'data-authorisation="{authorisation_id}"' in page and 'data-pending="1"' in page
    assert f'href="/people/{clinician["id"]}"' in page
    assert (await client.get(f"/people/{clinician['id']}")).status_code == 200
    # Medical affairs acts on the authorisation: the flag shows it reviewed.
    from core.people.tables import Authorisation

    version = (await Authorisation.select(Authorisation.version).where(Authorisation.id == authorisation_id).first())[
        "version"]
    await people.act(ma, clinician["id"], authorisation_id, people.ActInput(
        action="suspend", version=version, on=TODAY, reason="依据院内评估：职称未达副主任医师", decision="管理委员会2026-05-11会议"))
    page = (await client.get(url)).text
    assert 'data-pending="1"' not in page and f"已于{TODAY}调整授权" in page


@pytest.mark.rule("HN-4.1")
@pytest.mark.rule("NAT-21")
def test_hn41_henan_first_use_is_argued_and_reviewed_by_ethics_before_admission(deployment):
    """HN-4.1 (seed 004 四（一）): in Henan a first use is argued by the institution and
    reviewed by its ethics committee before it is admitted: a workflow that argues but has
    no ethics review before its admitting step is refused naming HN-4.1; the default
    hospital workflow's paths all satisfy it; a province without the requirement does not
    ask for it."""
    argue = ArgumentationStep(key="dept", title="科室论证", role="dept_head")
    ethics = EthicsStep(key="ethics", title="伦理审查", role="ethics")
    admit = ApprovalStep(key="approve", title="院长审批", role="hospital_head", admits=True)
    henan = PluginHost(("henan", "hospital_default")).view()
    from core.policy import policy

    lifecycle_policy = policy(henan).lifecycle
    assert lifecycle_policy.first_use.rule == "HN-4.1" and lifecycle_policy.first_use_ethics
    refused = admission_rules.check_first_use_argued([argue, admit, ethics], "HN-4.1", True)
    assert [p.rule for p in refused] == ["HN-4.1"] and "医学伦理委员会审查" in refused[0].message
    assert admission_rules.check_first_use_argued([argue, ethics, admit], "HN-4.1", True) == []
    assert admission_rules.check_first_use_argued([argue, admit], "JL-22", False) == []
    for path in ("round", "temporary"):
        for tech_class in ("routine", "restricted"):
            info = admission.project_info({"institution": deployment["hospital_a"], "path": path,
                                           "tech_class": tech_class, "grade": "三级"})
            assert admission_rules.check_first_use_argued(admission.steps_for(henan, info), "HN-4.1", True) == []


@pytest.mark.rule("NAT-22")
async def test_nat22_a_flagged_authorisation_reviewed_and_kept_is_no_longer_pending(deployment, hooks, login_as):
    """A privilege review that keeps the authorisation as it is ends too: medical affairs
    records its opinion on the technology's page (a Chinese message when missing)."""
    from core.accounts.tables import User
    from core.people import service as people
    from tests.people_helpers import trained_for

    project_id = await admitted(hooks, tech_index=25, today=dt.date(2026, 3, 2))
    key = await key_of(project_id)
    ma = await actor("medaffairs_a")
    user = await User.select(User.id).where(User.username == "depthead_a").first()
    await trained_for(hooks, "depthead_a", key, dt.date(2026, 3, 4))  # JL-27: in the QC centre's database
    authorisation_id = await people.grant(ma, user["id"], people.GrantInput(
        scope="technology", technology_key=key, valid_from=dt.date(2026, 3, 5), valid_until=dt.date(2028, 3, 4),
        ability="独立完成该技术30例", training="完成规范化培训", exam="考核合格", decision="管理委员会2026-03-04会议"),
        today=dt.date(2026, 3, 5), hooks=hooks)
    review_id = await periodic.record(ma, hooks, review(key, "adjust", adjustment_kinds=["privileges"],
                                                        adjustments="术者须具备副主任医师以上职称"), TODAY)
    client = await login_as("medaffairs_a")
    url = f"/lifecycle/institutions/{deployment['hospital_a']}/{key}"
    data = {"action": "keep_authorisation", "review": str(review_id), "authorisation": str(authorisation_id)}
    r = await client.post(url, data=data | {"note": ""})
    assert r.status_code == 422 and "请写明复核意见" in r.text and 'data-pending="1"' in r.text
    assert (await (await login_as("medaffairs_b")).post(url, data=data | {"note": "越权"})).status_code == 404
    r = await client.post(url, data=data | {"note": "主任医师，符合调整后的要求"})
    assert r.status_code == 303, r.text
    page = (await client.get(url)).text
    assert 'data-pending="1"' not in page and "维持授权（" in page and "主任医师，符合调整后的要求" in page
    assert await AuditEvent.exists().where(AuditEvent.action == "evaluation.periodic_authorisation_kept")
