"""Regulator evaluations (seed 003, EVAL-5…EVAL-12) at service level, on both databases.

"Today" is passed explicitly: 2026-05-11 (a Monday)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core.audit.tables import AuditEvent
from core.catalog import service as catalog
from core.errors import DomainError, NotFound
from core.evaluation import rules
from core.evaluation import service as evaluation
from core.evaluation.tables import Evaluation, Sitting
from core.inbox.tables import InboxMessage
from core.obligations.tables import Obligation
from core.outbox.tables import Delivery
from tests.admission_helpers import actor
from tests.case_helpers import admitted

TODAY = dt.date(2026, 5, 11)
EFFECTIVE = dt.date(2026, 6, 1)
FIELDS = ["clinical", "clinical", "clinical", "management", "management", "ethics", "ethics"]


@pytest.fixture
def hooks(deployment):
    return deployment["host"].view()


def rules_of(exc: DomainError) -> set[str]:
    return {p.rule for p in exc.problems if p.rule}


def start_input(name: str = "经皮测试消融技术", **overrides) -> evaluation.StartInput:
    values = {"trigger": 2, "situation": "多家医疗机构报告非操作因素导致的严重并发症", "domain": "medical",
              "technology_code": "", "technology_name": name} | overrides
    return evaluation.StartInput(**values)


async def started(hooks, name: str = "经皮测试消融技术") -> int:
    return await evaluation.start(await actor("regulator_province"), hooks, start_input(name), TODAY)


async def seated(hooks, evaluation_id: int, fields=FIELDS) -> list[int]:
    regulator = await actor("regulator_province")
    row = await Evaluation.select().where(Evaluation.id == evaluation_id).first()
    experts = [evaluation.ExpertInput(name=f"专家{i + 1}", field=f, affiliation="省医学会") for i, f in enumerate(fields)]
    await evaluation.seat_panel(regulator, evaluation_id, row["version"], experts)
    view = await evaluation.view(regulator, evaluation_id)
    return [x["id"] for x in view.experts]


def sitting(experts: list[int], agree: int, recuse: int = 0, outcome: str = "restricted",
            **overrides) -> evaluation.SittingInput:
    votes = {}
    for i, expert in enumerate(experts):
        if i < agree:
            votes[expert] = ("agree", "同意列入限制类")
        elif i < agree + recuse:
            votes[expert] = ("recuse", "本人所在机构为该技术主要开展单位")
        else:
            votes[expert] = ("disagree", "证据尚不充分")
    values = {"held_on": TODAY, "outcome": outcome, "effective_on": EFFECTIVE, "votes": votes,
              "recommendation": "技术难度大、风险高，列入省级限制类技术目录，严格备案管理"} | overrides
    return evaluation.SittingInput(**values)


async def version(evaluation_id: int) -> int:
    return (await Evaluation.select(Evaluation.version).where(Evaluation.id == evaluation_id).first())["version"]


# ---------------------------------------------------------------- starting


@pytest.mark.rule("EVAL-5")
async def test_eval5_an_evaluation_starts_on_one_of_the_triggers_with_the_situation(deployment, hooks):
    regulator = await actor("regulator_province")
    with pytest.raises(DomainError) as exc:
        await evaluation.start(regulator, hooks, start_input(trigger=None, situation="短"), TODAY)
    assert rules_of(exc.value) == {"EVAL-5"} and {p.field for p in exc.value.problems} == {"trigger", "situation"}
    with pytest.raises(DomainError):
        await evaluation.start(regulator, hooks, start_input(trigger=9), TODAY)
    evaluation_id = await evaluation.start(regulator, hooks, start_input(trigger=7), TODAY)
    row = await Evaluation.select().where(Evaluation.id == evaluation_id).first()
    assert (row["trigger"], row["status"], row["region"]) == (7, "investigating", deployment["province"])
    assert await AuditEvent.exists().where((AuditEvent.record_type == "evaluation")
                                           & (AuditEvent.record_id == evaluation_id)
                                           & (AuditEvent.action == "evaluation.start"))
    assert set(rules.TRIGGERS) == set(range(1, 9))


@pytest.mark.rule("EVAL-12")
async def test_eval12_excluded_domains_are_refused_with_the_rule(deployment, hooks):
    regulator = await actor("regulator_province")
    for domain in ("organ_transplant", "assisted_reproduction", "maternal_infant", "tcm", "drug", "device"):
        with pytest.raises(DomainError) as exc:
            await evaluation.start(regulator, hooks, start_input(domain=domain), TODAY)
        assert rules_of(exc.value) == {"EVAL-12"}, domain
        assert "不适用本规程" in str(exc.value)
    with pytest.raises(DomainError) as exc:  # declared general, named as assisted reproduction
        await evaluation.start(regulator, hooks, start_input("卵胞浆内单精子显微注射（辅助生殖）"), TODAY)
    assert rules_of(exc.value) == {"EVAL-12"}


@pytest.mark.rule("EVAL-10")
async def test_eval10_a_provincial_department_evaluates_others_cannot(deployment, hooks):
    with pytest.raises(DomainError) as exc:
        await evaluation.start(await actor("regulator_city1"), hooks, start_input(), TODAY)
    assert rules_of(exc.value) == {"EVAL-10"}
    for username in ("medaffairs_a", "qccenter", "clinician_a"):
        with pytest.raises(NotFound):
            await evaluation.start(await actor(username), hooks, start_input(), TODAY)


async def test_an_evaluation_is_read_in_its_region_only(deployment, hooks):
    evaluation_id = await started(hooks, "区域可见性测试技术")
    assert (await evaluation.view(await actor("qccenter"), evaluation_id)).can_write is False
    assert (await evaluation.view(await actor("regulator_province"), evaluation_id)).can_write is True
    for username in ("regulator_city1", "regulator_city2", "medaffairs_a", "clinician_a"):
        with pytest.raises(NotFound):
            await evaluation.view(await actor(username), evaluation_id)
        assert evaluation_id not in [e["id"] for e in await evaluation.list_evaluations(await actor(username))]


# ---------------------------------------------------------------- evidence and data (EVAL-6)


@pytest.mark.rule("EVAL-6")
async def test_eval6_literature_and_a_data_request_answered_by_the_institution_through_the_portal(deployment, hooks):
    from tests.admission_helpers import PDF

    regulator = await actor("regulator_province")
    evaluation_id = await started(hooks, "资料调取测试技术")
    file_id = await evaluation.add_file(regulator, evaluation_id, kind="guideline", title="中国专家共识2025",
                                        filename="共识.pdf", data=PDF)
    row, path = await evaluation.file_path(await actor("qccenter"), evaluation_id, file_id)
    assert row["kind"] == "guideline" and path.read_bytes() == PDF
    with pytest.raises(DomainError) as exc:
        await evaluation.add_file(regulator, evaluation_id, kind="literature", title="", filename="x.pdf",
                                  data=b"MZ not a pdf")
    assert {p.field for p in exc.value.problems} >= {"title", "file"}

    a, b = deployment["hospital_a"], deployment["hospital_b"]
    [request_a, request_b] = await evaluation.request_data(regulator, hooks, evaluation_id, [a, b],
                                                           "请报送2025年以来该技术全部病例的并发症资料", TODAY)
    obligation = await Obligation.select().where((Obligation.subject_type == "evaluation_request")
                                                 & (Obligation.subject_id == request_a)).first()
    assert (obligation["rule_id"], obligation["kind"], obligation["institution"]) == ("EVAL-6", "evaluation_data", a)
    assert obligation["due_on"] == dt.date(2026, 5, 25)  # 10 working days after Monday 05-11
    ma_a, ma_b = await actor("medaffairs_a"), await actor("medaffairs_b")
    assert await InboxMessage.exists().where((InboxMessage.user == ma_a.id)
                                             & (InboxMessage.link == f"/evaluations/requests/{request_a}"))
    # Tenancy: each institution sees only the request addressed to it.
    assert [r["id"] for r in await evaluation.requests_for(ma_a) if r["evaluation"] == evaluation_id] == [request_a]
    with pytest.raises(NotFound):
        await evaluation.request_view(ma_b, request_a)
    with pytest.raises(NotFound):
        await evaluation.request_view(await actor("regulator_city1"), request_a)
    with pytest.raises(NotFound):
        await evaluation.answer_request(ma_b, hooks, request_a, "越权报送的临床资料说明内容", [], TODAY)
    with pytest.raises(DomainError) as exc:
        await evaluation.answer_request(ma_a, hooks, request_a, "短", [], TODAY)
    assert rules_of(exc.value) == {"EVAL-6"}
    await evaluation.answer_request(ma_a, hooks, request_a, "共12例，并发症3例，详见附件病例汇总",
                                    [("汇总.pdf", PDF)], dt.date(2026, 5, 15))
    page = await evaluation.request_view(regulator, request_a)
    assert page.request["status"] == "answered" and [f.filename for f in page.files] == ["汇总.pdf"]
    obligation = await Obligation.select().where(Obligation.id == obligation["id"]).first()
    assert (obligation["status"], obligation["done_late"]) == ("done", False)
    with pytest.raises(DomainError):
        await evaluation.answer_request(ma_a, hooks, request_a, "第二次报送的临床资料说明", [], TODAY)
    assert (await evaluation.request_view(ma_b, request_b)).can_answer


# ---------------------------------------------------------------- the panel and its sittings (EVAL-7, EVAL-8)


@pytest.mark.rule("EVAL-7")
async def test_eval7_the_panel_is_odd_at_least_seven_and_covers_the_three_fields(deployment, hooks):
    regulator = await actor("regulator_province")
    evaluation_id = await started(hooks, "专家组组成测试技术")

    async def seat(fields):
        experts = [evaluation.ExpertInput(name=f"专家{i}", field=f) for i, f in enumerate(fields)]
        await evaluation.seat_panel(regulator, evaluation_id, await version(evaluation_id), experts)

    for fields, message in ((FIELDS[:6], "不少于7名"), (FIELDS + ["clinical"], "奇数"),
                            (["clinical"] * 5 + ["management"] * 2, "医学伦理")):
        with pytest.raises(DomainError) as exc:
            await seat(fields)
        assert rules_of(exc.value) == {"EVAL-7"} and message in str(exc.value)
    await seat(FIELDS + ["clinical", "ethics"])  # 9 is fine
    assert (await Evaluation.select().where(Evaluation.id == evaluation_id).first())["status"] == "panel"


@pytest.mark.rule("EVAL-7")
async def test_eval7_four_of_seven_is_no_conclusion_and_the_panel_sits_again(deployment, hooks):
    regulator = await actor("regulator_province")
    evaluation_id = await started(hooks, "四比三测试技术")
    experts = await seated(hooks, evaluation_id)
    valid = await evaluation.record_sitting(regulator, hooks, evaluation_id, await version(evaluation_id),
                                            sitting(experts, agree=4), TODAY)
    assert valid is False
    row = await Evaluation.select().where(Evaluation.id == evaluation_id).first()
    assert (row["status"], row["outcome"], row["edition_uid"]) == ("panel", "", "")
    first = await Sitting.select().where(Sitting.evaluation == evaluation_id).first()
    assert (first["agree"], first["disagree"], first["valid"], first["panel_size"]) == (4, 3, False, 7)
    assert not [e for e in await catalog.editions(hooks, on=EFFECTIVE) if e.key == f"evaluation-{evaluation_id}"]
    # Once the panel has sat it cannot be re-seated; it sits again.
    with pytest.raises(DomainError):
        await seated(hooks, evaluation_id)
    assert await evaluation.record_sitting(regulator, hooks, evaluation_id, await version(evaluation_id),
                                           sitting(experts, agree=5), TODAY) is True


@pytest.mark.rule("EVAL-7")
async def test_eval7_a_recused_expert_needs_a_reason_and_every_vote_is_recorded(deployment, hooks):
    regulator = await actor("regulator_province")
    evaluation_id = await started(hooks, "回避事由测试技术")
    experts = await seated(hooks, evaluation_id)
    data = sitting(experts, agree=5, recuse=1)
    data.votes[experts[5]] = ("recuse", "")
    del data.votes[experts[6]]
    with pytest.raises(DomainError) as exc:
        await evaluation.record_sitting(regulator, hooks, evaluation_id, await version(evaluation_id), data, TODAY)
    assert {p.field for p in exc.value.problems} == {f"opinion_{experts[5]}", f"vote_{experts[6]}"}
    assert rules_of(exc.value) == {"EVAL-7"}
    assert not await Sitting.exists().where(Sitting.evaluation == evaluation_id)


@pytest.mark.rule("EVAL-8")
@pytest.mark.rule("EVAL-9")
@pytest.mark.rule("EVAL-10")
async def test_eval8_a_valid_restricted_conclusion_enters_the_catalogue_from_its_date_obliges_and_reports(
        deployment, hooks):
    regulator = await actor("regulator_province")
    name = "经皮测试限制技术"
    project_id = await admitted(hooks, tech_class="routine", title=name, today=dt.date(2026, 3, 2))
    evaluation_id = await evaluation.start(regulator, hooks, start_input(name, technology_code="PX01"), TODAY)
    experts = await seated(hooks, evaluation_id)
    # 7 experts, one recused: 5 agree — more than two thirds of the 7 (EVAL-7).
    assert await evaluation.record_sitting(regulator, hooks, evaluation_id, await version(evaluation_id),
                                           sitting(experts, agree=5, recuse=1), TODAY) is True
    row = await Evaluation.select().where(Evaluation.id == evaluation_id).first()
    assert (row["status"], row["outcome"], row["effective_on"]) == ("concluded", "restricted", EFFECTIVE)
    # The catalogue shows the new entry from its date of effect, not before.
    before = await catalog.search(hooks, catalog.CatalogQuery(q="PX01"), on=EFFECTIVE - dt.timedelta(days=1))
    after = await catalog.search(hooks, catalog.CatalogQuery(q="PX01"), on=EFFECTIVE)
    assert before == [] and [(t.code, t.name, t.tech_class) for t in after] == [("PX01", name, "restricted")]
    edition = next(e for e in await catalog.editions(hooks, on=EFFECTIVE) if e.uid == row["edition_uid"])
    assert edition.scope == "provincial" and edition.effective_on == EFFECTIVE and edition.origin == "evaluation"
    # EVAL-9: the institution that admitted it must comply.
    from core.admission.tables import Project

    institution = (await Project.select(Project.institution).where(Project.id == project_id).first())["institution"]
    obligation = await Obligation.select().where((Obligation.subject_type == "evaluation")
                                                 & (Obligation.subject_id == evaluation_id)).first()
    assert (obligation["rule_id"], obligation["kind"], obligation["institution"]) == (
        "EVAL-9", "evaluation_compliance", institution)
    assert obligation["due_on"] == dt.date(2026, 6, 30)  # 20 working days after 06-01 (Dragon Boat 06-19 off)
    # EVAL-10: reported to the national commission through its channel.
    delivery = await Delivery.select().where((Delivery.subject_type == "evaluation")
                                             & (Delivery.subject_id == evaluation_id)).first().output(load_json=True)
    assert (delivery["channel"], delivery["kind"]) == ("national_commission", "evaluation")
    assert delivery["payload"]["outcome"] == "restricted" and delivery["payload"]["catalogue_edition"] == row["edition_uid"]
    # Without an endpoint it becomes a package the department itself uploads and confirms.
    from core.outbox import service as outbox

    await outbox.deliver_due(hooks, delivery_ids=[delivery["id"]])
    name, package = await outbox.package_for(regulator, hooks, delivery["id"])
    assert package[:2] == b"PK"
    for username in ("regulator_city1", "medaffairs_a"):
        with pytest.raises(NotFound):
            await outbox.package_for(await actor(username), hooks, delivery["id"])
    await outbox.confirm_manual(regulator, delivery["id"], "GW-2026-001", hooks=hooks)
    assert (await Delivery.select(Delivery.status).where(Delivery.id == delivery["id"]).first())["status"] == "accepted"
    # Audited, and no further sitting once concluded.
    actions = {a["action"] for a in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.record_type.is_in(["evaluation", "catalog_edition"]))}
    assert {"evaluation.sitting", "evaluation.panel_seated", "catalog.measure", "evaluation.start"} <= actions
    with pytest.raises(DomainError):
        await evaluation.record_sitting(regulator, hooks, evaluation_id, await version(evaluation_id),
                                        sitting(experts, agree=7), TODAY)


@pytest.mark.rule("EVAL-8")
async def test_eval8_strengthened_management_names_the_revised_specification_or_qc(deployment, hooks):
    regulator = await actor("regulator_province")
    evaluation_id = await started(hooks, "强化管理测试技术")
    experts = await seated(hooks, evaluation_id)
    with pytest.raises(DomainError) as exc:
        await evaluation.record_sitting(regulator, hooks, evaluation_id, await version(evaluation_id),
                                        sitting(experts, agree=7, outcome="strengthened"), TODAY)
    assert rules_of(exc.value) == {"EVAL-8"}
    await evaluation.record_sitting(regulator, hooks, evaluation_id, await version(evaluation_id), sitting(
        experts, agree=6, outcome="strengthened", qc_indicators="术后30天并发症发生率\n术后30天死亡率",
        specification="术者须具备5年以上相关专业经验"), TODAY)
    [entry] = await catalog.search(hooks, catalog.CatalogQuery(q="强化管理测试技术"), on=EFFECTIVE)
    assert entry.tech_class == "routine" and entry.specification == "术者须具备5年以上相关专业经验"
    assert [q.name for q in entry.qc_indicators] == ["术后30天并发症发生率", "术后30天死亡率"]


@pytest.mark.rule("EVAL-8")
@pytest.mark.rule("NAT-25")
@pytest.mark.rule("NAT-9")
async def test_eval8_prohibited_stops_every_institution_using_it_from_the_date_of_effect(deployment, hooks):
    """EVAL-8 (一): a valid "prohibited" conclusion stops the technology in every
    institution of the province that uses it, through core.lifecycle, with the conclusion
    as the document; each institution and its licence department are told; from the date
    of effect every way in refuses its cases, and it never resumes."""
    from core.accounts.tables import User
    from core.lifecycle import service as lifecycle
    from core.lifecycle.tables import UseEvent
    from tests.case_helpers import _admitted_b

    regulator = await actor("regulator_province")
    name = "经皮测试禁止技术"
    project_a = await admitted(hooks, tech_class="routine", title=name, today=dt.date(2026, 3, 2))
    project_b = await _admitted_b(hooks, title=name)
    evaluation_id = await evaluation.start(regulator, hooks, start_input(name), TODAY)
    experts = await seated(hooks, evaluation_id)
    assert await evaluation.record_sitting(regulator, hooks, evaluation_id, await version(evaluation_id),
                                           sitting(experts, agree=6, outcome="prohibited"), TODAY) is True
    institutions = {deployment["hospital_a"]: f"P{project_a}", deployment["hospital_b"]: f"P{project_b}"}
    for institution_id, key in institutions.items():
        assert await lifecycle.use_refusal(institution_id, key, EFFECTIVE - dt.timedelta(days=1), hooks=hooks) is None
        refusal = await lifecycle.use_refusal(institution_id, key, EFFECTIVE, hooks=hooks)
        assert refusal.rule == "EVAL-8" and "禁止类" in refusal.message and "NAT-9" in refusal.message
        state = await lifecycle.state(institution_id, key)
        assert (state.status, state.by, state.since) == ("stopped", "region", EFFECTIVE)
        event = await UseEvent.select().where((UseEvent.institution == institution_id)
                                              & (UseEvent.technology_key == key)).first()
        assert (event["action"], event["trigger"], event["rule"]) == ("stop", "prohibited", "EVAL-8")
        assert f"评估{evaluation_id}号" in event["document"]
        assert await AuditEvent.exists().where((AuditEvent.action == "technology_use.stop")
                                               & (AuditEvent.institution_id == institution_id))
    # Each institution's medical affairs and its licence department are told, with a link to the page.
    for username, institution_id in (("medaffairs_a", deployment["hospital_a"]),
                                     ("medaffairs_b", deployment["hospital_b"]), ("regulator_city1", None)):
        user = await User.select(User.id).where(User.username == username).first()
        link = f"/lifecycle/institutions/{institution_id or deployment['hospital_a']}/"
        assert await InboxMessage.exists().where((InboxMessage.user == user["id"]) & InboxMessage.title.like(
            "%禁止类技术%") & InboxMessage.link.like(f"{link}%")), username
    # Never resumed (NAT-9).
    with pytest.raises(DomainError) as exc:
        await lifecycle.resume(await actor("medaffairs_a"), hooks, technology_key=institutions[deployment["hospital_a"]],
                               basis="re_evaluation", reason="重新评估", committee="管理委员会",
                               meeting_on=dt.date(2026, 12, 1))
    assert "NAT-9" in rules_of(exc.value)


@pytest.mark.rule("EVAL-9")
async def test_eval9_strengthened_management_obliges_each_institution_using_it(deployment, hooks):
    from tests.case_helpers import _admitted_b

    regulator = await actor("regulator_province")
    name = "经皮测试强化技术"
    await admitted(hooks, tech_class="routine", title=name, today=dt.date(2026, 3, 2))
    await _admitted_b(hooks, title=name)
    evaluation_id = await evaluation.start(regulator, hooks, start_input(name), TODAY)
    experts = await seated(hooks, evaluation_id)
    await evaluation.record_sitting(regulator, hooks, evaluation_id, await version(evaluation_id), sitting(
        experts, agree=7, outcome="strengthened", qc_indicators="术后30天并发症发生率"), TODAY)
    found = await Obligation.select(Obligation.institution, Obligation.rule_id, Obligation.kind).where(
        (Obligation.subject_type == "evaluation") & (Obligation.subject_id == evaluation_id))
    assert sorted((o["institution"], o["rule_id"], o["kind"]) for o in found) == [
        (deployment["hospital_a"], "EVAL-9", "evaluation_compliance"),
        (deployment["hospital_b"], "EVAL-9", "evaluation_compliance")]
    # Strengthened management stops nothing.
    from core.lifecycle.tables import UseEvent

    assert not await UseEvent.exists().where(UseEvent.technology_name == name)


@pytest.mark.rule("EVAL-8")
@pytest.mark.rule("NAT-9")
async def test_eval8_before_the_prohibition_takes_effect_the_institution_may_stop_at_once(deployment, hooks):
    """A prohibition decided for a later date leaves the institution free to stop now (its
    own decision recorded); the use stays marked prohibited, so it never resumes."""
    from core.lifecycle import service as lifecycle

    regulator = await actor("regulator_province")
    name = "经皮测试提前停止技术"
    project_id = await admitted(hooks, tech_class="routine", title=name, today=dt.date(2026, 3, 2))
    evaluation_id = await evaluation.start(regulator, hooks, start_input(name), TODAY)
    experts = await seated(hooks, evaluation_id)
    await evaluation.record_sitting(regulator, hooks, evaluation_id, await version(evaluation_id),
                                    sitting(experts, agree=7, outcome="prohibited"), TODAY)
    ma = await actor("medaffairs_a")
    key = f"P{project_id}"
    await lifecycle.stop(ma, hooks, technology_key=key, trigger="efficacy", reason="评估结论已公布，提前停止开展",
                         committee="医疗技术临床应用管理委员会", meeting_on=TODAY, on=TODAY, today=TODAY)
    refusal = await lifecycle.use_refusal(deployment["hospital_a"], key, TODAY + dt.timedelta(days=1), hooks=hooks)
    assert refusal is not None and refusal.status == "stopped"
    with pytest.raises(DomainError) as exc:
        await lifecycle.resume(ma, hooks, technology_key=key, basis="re_evaluation", reason="重新评估",
                               committee="管理委员会", meeting_on=TODAY, today=TODAY)
    assert "NAT-9" in rules_of(exc.value)


@pytest.mark.rule("EVAL-8")
@pytest.mark.rule("NAT-11")
async def test_eval8_restricted_from_the_date_of_effect_the_first_case_opens_the_filing(deployment, hooks, login_as):
    """EVAL-8 (二) acts on the institutions already using the technology: a routine project
    concluded restricted from D counts as restricted from D — a case before D is routine and
    opens nothing, the first case on or after D opens the filing with NAT-11's deadline (and
    later ones count in it); the project and the technology's page say so; audited."""
    from core.admission.tables import Project, StepDecision
    from core.cases import service as cases
    from core.cases.tables import CaseRecord
    from core.filing import service as filing
    from core.filing.tables import Filing
    from tests.case_helpers import case_input

    regulator = await actor("regulator_province")
    name = "经皮测试升级限制技术"
    project_id = await admitted(hooks, tech_class="routine", title=name, today=dt.date(2026, 3, 2))
    evaluation_id = await evaluation.start(regulator, hooks, start_input(name), TODAY)
    experts = await seated(hooks, evaluation_id)
    assert await evaluation.record_sitting(regulator, hooks, evaluation_id, await version(evaluation_id),
                                           sitting(experts, agree=6), TODAY) is True
    project = await Project.select().where(Project.id == project_id).first()
    assert (project["tech_class"], project["restricted_from"], project["awaiting_first_case"]) == (
        "routine", EFFECTIVE, True)
    assert await AuditEvent.exists().where((AuditEvent.action == "admission.restricted_from")
                                           & (AuditEvent.record_id == project_id))
    assert await StepDecision.exists().where((StepDecision.project == project_id)
                                             & (StepDecision.decision == "restricted_from"))
    # The project's and the technology's pages say from when.
    client = await login_as("medaffairs_a")
    for url in (f"/admission/projects/{project_id}", f"/lifecycle/institutions/{deployment['hospital_a']}/P{project_id}"):
        page = await client.get(url)
        assert page.status_code == 200
        shown = re.search(r'id="restricted-from">([^<]*)<', page.text)
        assert shown and EFFECTIVE.isoformat() in shown.group(1) and "EVAL-8" in shown.group(1), url
    clinician, later = await actor("clinician_a"), dt.date(2026, 6, 12)

    def dated(day: dt.date):
        return case_input(project_id, admitted_on=(day - dt.timedelta(days=1)).isoformat(), operated_on=day.isoformat(),
                          discharged_on=(day + dt.timedelta(days=3)).isoformat())

    # Before D: routine, no filing.
    [before] = await cases.record_cases(clinician, hooks, [dated(EFFECTIVE - dt.timedelta(days=1))], today=later)
    assert (await CaseRecord.select(CaseRecord.tech_class).where(CaseRecord.id == before.id).first())[
        "tech_class"] == "routine"
    assert not await Filing.exists().where(Filing.project == project_id)
    # Medical affairs cannot open the filing with a case before D either.
    with pytest.raises(DomainError) as exc:
        await filing.on_first_case(await actor("medaffairs_a"), hooks, project_id=project_id,
                                   case_date=EFFECTIVE - dt.timedelta(days=2), today=later)
    assert rules_of(exc.value) == {"EVAL-8"}
    # On D: restricted, the first case opens the filing with its deadline (NAT-11).
    [first] = await cases.record_cases(clinician, hooks, [dated(EFFECTIVE)], today=later)
    assert (await CaseRecord.select(CaseRecord.tech_class).where(CaseRecord.id == first.id).first())[
        "tech_class"] == "restricted"
    row = await Filing.select().where(Filing.project == project_id).first()
    assert (row["first_case_on"], row["case_count"]) == (EFFECTIVE, 1)
    # The usual deadline: the deployment's rule for NAT-11 (this deployment's province restates it).
    obligation = await Obligation.select().where(Obligation.id == row["obligation_id"]).first()
    assert (obligation["kind"], obligation["rule_id"], obligation["due_on"]) == ("filing", row["due_rule"], row["due_on"])
    assert row["due_rule"] in ("NAT-11", "JL-12") and row["due_on"] > EFFECTIVE
    assert not (await Project.select(Project.awaiting_first_case).where(Project.id == project_id).first())[
        "awaiting_first_case"]
    # A later case counts in that filing; a case before D recorded afterwards still does not.
    await cases.record_cases(clinician, hooks, [dated(EFFECTIVE + dt.timedelta(days=3)),
                                                dated(EFFECTIVE - dt.timedelta(days=5))], today=later)
    assert (await Filing.select(Filing.case_count).where(Filing.id == row["id"]).first())["case_count"] == 2
    assert await Filing.count().where(Filing.project == project_id) == 1
