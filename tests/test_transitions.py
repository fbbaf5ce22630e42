"""Transitional periods: obligations for institutions already using a technology when
rules take effect (JL-42, JL-43) or when a catalogue newly lists it (a province that
gives existing users 3 months), fired by the worker's job for real admitted projects."""

from __future__ import annotations

import datetime as dt
import types

import pytest

from core import hookimpl
from core.admission.tables import Project
from core.catalog import service as catalog
from core.filing.tables import Filing
from core.jobs import registered
from core.obligations import transitions
from core.obligations.tables import Obligation
from core.plugins import PluginHost
from tests.filing_helpers import JILIN_USERS, PDF, actor, admitted_project

D = dt.date.fromisoformat
SETTING = "CLINTECH_JILIN_RULES_EFFECTIVE_ON"
EFFECTIVE = D("2026-01-05")  # a Monday; the source leaves the day blank, the deployment sets it


@pytest.fixture(autouse=True)
async def _forget(deployment):
    """Transitional obligations are this file's own; other tests must not see them."""
    yield
    await Obligation.delete().where(Obligation.event_kind.is_in(["rules_effective", "technology_listed"]))


async def _unfiled_project(hooks) -> int:
    """A restricted project admitted on EFFECTIVE whose technology code no filing of the
    shared demo uses (other tests file the demo's technologies), so it counts as unfiled."""
    project_id = await admitted_project(hooks, today=EFFECTIVE)
    await Project.update({Project.technology_code: f"T{project_id}"}).where(Project.id == project_id)
    return project_id


async def _of(project_id: int) -> dict[tuple[str, str], dict]:
    rows = await Obligation.select().where((Obligation.subject_type == "project")
                                           & (Obligation.subject_id == project_id)
                                           & Obligation.event_kind.is_in(["rules_effective", "technology_listed"]))
    return {(r["rule_id"], r["kind"]): r for r in rows}


async def test_hook_rules_in_force_and_the_job_is_registered(deployment):
    """The worker runs the job; Jilin declares its rules with the day as a setting."""
    assert "core.obligations.jobs.fire_transition_events" in registered()
    from core.obligations.service import in_force_of

    (jilin,) = in_force_of(deployment["host"].view())
    assert (jilin.key, jilin.setting, jilin.effective_on) == ("jilin-2021", SETTING, None)
    assert "第四十五条" in jilin.article


@pytest.mark.rule("JL-42")
@pytest.mark.rule("JL-43")
async def test_jl42_jl43_rules_taking_effect_give_existing_users_2_months(deployment, monkeypatch):
    hooks = deployment["host"].view()
    project_id = await _unfiled_project(hooks)
    lead = (await Project.select(Project.lead).where(Project.id == project_id).first())["lead"]
    # Until the deployment sets the day, nothing fires (and nothing breaks).
    monkeypatch.delenv(SETTING, raising=False)
    assert await transitions.fire(hooks, today=D("2026-02-01")) == 0
    monkeypatch.setenv(SETTING, EFFECTIVE.isoformat())
    # Not before the day itself.
    await transitions.fire(hooks, today=EFFECTIVE - dt.timedelta(days=1))
    assert await _of(project_id) == {}
    assert await transitions.fire(hooks, today=EFFECTIVE) >= 2
    mine = await _of(project_id)
    # JL-42: not yet filed → file within 2 months of the day the rules take effect.
    filing = mine[("JL-42", "filing")]
    assert filing["due_on"] == D("2026-03-05") and filing["role"] == "medical_affairs"
    assert filing["status"] == "open" and "2个月内" in filing["article"] and filing["event_on"] == EFFECTIVE
    # JL-43: the physician (the project's lead) applies within 2 months.
    physician = mine[("JL-43", "physician_application")]
    assert physician["due_on"] == D("2026-03-05") and physician["assignee"] == lead
    # Not filed, so no re-assessment of a filing (the other half of JL-42).
    assert ("JL-42", "self_assessment") not in mine
    # The job runs every interval: it creates nothing twice.
    assert await transitions.fire(hooks, today=D("2026-01-20")) == 0
    assert len(await _of(project_id)) == 2


@pytest.mark.rule("JL-42")
async def test_jl42_an_institution_that_already_filed_reassesses_instead(deployment, monkeypatch):
    hooks = deployment["host"].view()
    project_id = await admitted_project(hooks, today=EFFECTIVE)
    project = await Project.select().where(Project.id == project_id).first()
    filing = await Filing.insert(Filing(
        institution=project["institution"], project=project_id, technology_code=project["technology_code"],
        technology_name=project["technology_name"], first_case_on=D("2025-12-01"), status="completed",
        submitted_on=D("2025-12-10"))).returning(Filing.id)
    try:
        monkeypatch.setenv(SETTING, EFFECTIVE.isoformat())
        await transitions.fire(hooks, today=EFFECTIVE)
        mine = await _of(project_id)
        assert ("JL-42", "filing") not in mine
        assessment = mine[("JL-42", "self_assessment")]
        assert assessment["due_on"] == D("2026-03-05") and "未规定完成期限" in assessment["setting_note"]
    finally:
        await Filing.delete().where(Filing.id == filing[0]["id"])


@pytest.mark.rule("JL-42")
async def test_jl42_the_filing_submitted_meets_the_transitional_obligation(deployment, monkeypatch):
    from core.filing import service as filing

    hooks = deployment["host"].view()
    project_id = await _unfiled_project(hooks)
    monkeypatch.setenv(SETTING, EFFECTIVE.isoformat())
    await transitions.fire(hooks, today=EFFECTIVE)
    assert (await _of(project_id))[("JL-42", "filing")]["status"] == "open"
    ma = await actor(JILIN_USERS["medical_affairs"])
    filing_id = await filing.on_first_case(ma, hooks, project_id=project_id, case_date=D("2026-01-12"),
                                           info="首例：患者甲", today=D("2026-01-12"))
    try:
        row = await Filing.select().where(Filing.id == filing_id).first().output(load_json=True)
        await filing.save_details(ma, hooks, filing_id, filing.FilingDetails(
            version=row["version"], self_assessment="对照管理规范逐项自评：人员、设备、设施均符合要求。",
            assessment_basis="specification", assessment_reference=row["assessment_reference"] or "相关技术管理规范",
            form={"phone": "0431-88888888"}, physicians=row["physicians"]))
        for m in (await filing.filing_view(ma, hooks, filing_id)).materials:
            await filing.upload_material(ma, hooks, filing_id, m.key, f"{m.key}.pdf", PDF + m.key.encode())
        await filing.submit(ma, hooks, filing_id, today=D("2026-01-20"))
        transitional = (await _of(project_id))[("JL-42", "filing")]
        assert transitional["status"] == "done" and transitional["done_on"] == D("2026-01-20")
        assert not transitional["done_late"]
    finally:
        from tests.filing_helpers import forget_filing_obligations

        await forget_filing_obligations()


@pytest.mark.rule("JL-42")
async def test_jl42_an_institution_that_does_not_file_in_time_may_not_use_the_technology(deployment, monkeypatch):
    """JL-42 (seed 001 第四十二条): 不按照规定备案的，不得再开展该项医疗技术临床应用. The Jilin
    rule declares the consequence (``consequence = "no_use"``); core.lifecycle refuses the
    technology's cases from the day after the due date while the obligation stays open —
    and lets them through again once it is done."""
    from core.accounts.schemas import SYSTEM
    from core.cases import service as cases
    from core.errors import DomainError
    from core.lifecycle import service as lifecycle
    from core.obligations import service as obligations
    from tests.case_helpers import case_input

    hooks = deployment["host"].view()
    project_id = await _unfiled_project(hooks)
    monkeypatch.setenv(SETTING, EFFECTIVE.isoformat())
    await transitions.fire(hooks, today=EFFECTIVE)
    due = (await _of(project_id))[("JL-42", "filing")]["due_on"]
    assert due == D("2026-03-05")
    project = await Project.select().where(Project.id == project_id).first()
    key = lifecycle.technology_key(project["technology_code"], project_id)
    # Within the two months: allowed.
    assert await lifecycle.use_refusal(project["institution"], key, due, hooks=hooks) is None
    # After them, still not filed: refused, naming JL-42 and the due date.
    refusal = await lifecycle.use_refusal(project["institution"], key, due + dt.timedelta(days=1), hooks=hooks)
    assert refusal is not None and refusal.rule == "JL-42" and refusal.status == "overdue"
    assert "2026-03-05" in refusal.message and "不得再开展" in refusal.message
    clinician = await actor(JILIN_USERS["clinician"])
    late = case_input(project_id, admitted_on="2026-03-09", operated_on="2026-03-10", discharged_on="2026-03-12")
    with pytest.raises(DomainError) as exc:
        await cases.record_cases(clinician, hooks, [late], today=D("2026-03-13"))
    assert "JL-42" in {p.rule for p in exc.value.problems}
    # A case performed before the deadline is still recorded (it was legitimately performed).
    early = case_input(project_id, admitted_on="2026-02-01", operated_on="2026-02-02", discharged_on="2026-02-04")
    [ok] = await cases.record_cases(clinician, hooks, [early], today=D("2026-03-13"))
    assert ok.status == "created"
    # Without the plugin's rule (another deployment), nothing is refused: the bar is Jilin's.
    assert await lifecycle.use_refusal(project["institution"], key, D("2026-03-10"),
                                       hooks=PluginHost(("hospital_default",)).view()) is None
    # Filed (the obligation done): the technology may be used again.
    await obligations.fulfil(SYSTEM, hooks, subject_type="project", subject_id=project_id, kind="filing",
                             done_on=D("2026-03-20"))
    assert await lifecycle.use_refusal(project["institution"], key, D("2026-03-21"), hooks=hooks) is None


@pytest.mark.rule("JL-42")
async def test_jl42_the_obligation_page_shows_the_consequence_and_when_it_applies(deployment, monkeypatch, login_as):
    """The page of an obligation whose rule declares ``consequence = "no_use"`` says what
    happens when it is overdue (逾期后果, before the due date too), and once it is overdue
    says that the technology may no longer be used, naming the rule — on the detail page,
    in the hospital's list and on the regulator's list of overdue obligations. Obligations
    of a rule without a consequence show none."""
    from core import clock

    hooks = deployment["host"].view()
    project_id = await _unfiled_project(hooks)
    monkeypatch.setenv(SETTING, EFFECTIVE.isoformat())
    await transitions.fire(hooks, today=EFFECTIVE)
    mine = await _of(project_id)
    filing, assessment = mine[("JL-42", "filing")], mine[("JL-43", "physician_application")]
    assert filing["due_on"] == D("2026-03-05")
    ma = await login_as("medaffairs_a")
    with clock.frozen(filing["due_on"]):  # due today: not overdue yet, the consequence stated
        before = (await ma.get(f"/obligations/{filing['id']}")).text
    assert 'id="consequence"' in before and "不得再开展该项技术的临床应用" in before
    assert 'id="consequence-applies"' not in before
    with clock.frozen(filing["due_on"] + dt.timedelta(days=1)):  # the day after: overdue, the bar applies
        after = (await ma.get(f"/obligations/{filing['id']}")).text
        listed = (await ma.get("/obligations")).text
        desk = (await (await login_as("regulator_city1")).get("/obligations")).text
        other = (await ma.get(f"/obligations/{assessment['id']}")).text
    alert = after.split('id="consequence-applies"')[1].split("</p>")[0]
    assert "JL-42" in alert and "不得再开展" in alert
    row = listed.split(f'data-obligation="{filing["id"]}"')[1].split("</tr>")[0]
    assert 'data-consequence="no_use"' in row and "不得再开展" in row
    overdue = desk.split('id="institutions-overdue"')[1].split("</section>")[0]
    assert 'data-consequence="no_use"' in overdue.split(f'data-obligation="{filing["id"]}"')[1].split("</tr>")[0]
    # JL-43 (the physicians' applications) declares no consequence: nothing is said on its page.
    assert 'id="consequence"' not in other and 'id="consequence-applies"' not in other
    # Done, the bar no longer applies (the consequence of the rule is still stated).
    from core.accounts.schemas import SYSTEM
    from core.obligations import service as obligations

    await obligations.fulfil(SYSTEM, hooks, subject_type="project", subject_id=project_id, kind="filing",
                             done_on=filing["due_on"] + dt.timedelta(days=2))
    with clock.frozen(filing["due_on"] + dt.timedelta(days=3)):
        done = (await ma.get(f"/obligations/{filing['id']}")).text
    assert 'id="consequence"' in done and 'id="consequence-applies"' not in done


@pytest.mark.rule("JL-42")
def test_an_unknown_consequence_is_refused_at_load_naming_the_plugin(deployment):
    from core.obligations import rules as deadline_rules
    from core.obligations import service as obligations

    bad = {"id": "XX-1", "event": "first_case", "obligation": "filing", "title": "t", "article": "a",
           "role": "medical_affairs", "offset": {"amount": 1, "unit": "weeks"}, "consequence": "close_hospital"}
    with pytest.raises(deadline_rules.DeadlineRuleError, match="close_hospital") as exc:
        deadline_rules.check_rules([("some_province", [bad])])
    assert "some_province" in str(exc.value)
    jilin = {r.key: r for r in obligations.rules_of(deployment["host"].view())}
    assert jilin[("JL-42", "filing")].consequence == "no_use"
    assert jilin[("JL-42", "self_assessment")].consequence == ""


# ---------------------------------------------------------------- a third province: 3 months after listing

EDITIONS = """
[edition]
key = "{key}"
scope = "provincial"
title = "示范省限制类技术目录（{year}版）"
issuer = "示范省卫生健康委员会"
effective = {effective}
{supersedes}
default_class = "restricted"

{entries}
"""
GRACE = {"id": "XP-9", "event": "technology_listed", "obligation": "filing",
         "title": "新列入限制类目录的技术：已开展的机构3个月内备案", "role": "medical_affairs",
         "article": "示范省办法第九条：技术新列入省级限制类技术目录前已开展的医疗机构，应当自目录施行之日起3个月内备案。",
         "offset": {"amount": 3, "unit": "months"}, "scope": {"classes": ["restricted"]}, "when": {"filed": False}}


def _third_province(tmp_path) -> PluginHost:
    from core.catalog.loader import load_dir

    def entries(codes):
        return "\n".join(f'[[technology]]\ncode = "{c}"\nname = "示范技术{c}"\n' for c in codes)

    (tmp_path / "old.toml").write_text(EDITIONS.format(
        key="xp-provincial-2024", year=2024, effective="2024-01-01", supersedes="", entries=entries(["XP1"])),
        encoding="utf-8")
    (tmp_path / "new.toml").write_text(EDITIONS.format(
        key="xp-provincial-2026", year=2026, effective=EFFECTIVE.isoformat(),
        supersedes='supersedes = "xp-provincial-2024"', entries=entries(["XP1", "XP2"])), encoding="utf-8")
    mod = types.ModuleType("third_province")
    mod.register_catalogs = hookimpl(lambda: load_dir(tmp_path))
    mod.deadline_rules = hookimpl(lambda: [dict(GRACE)])
    return PluginHost(("hospital_default", "third_province"), extra={"third_province": mod})


async def test_a_newly_listed_technology_gives_its_existing_users_3_months(deployment, tmp_path):
    host = _third_province(tmp_path)
    await catalog.sync(host)
    hooks = deployment["host"].view()
    listed = await admitted_project(hooks, today=EFFECTIVE)      # XP2: newly listed in 2026
    kept = await admitted_project(hooks, today=EFFECTIVE)        # XP1: listed since 2024
    later = await admitted_project(hooks, today=D("2026-02-02"))  # XP2, but began after the listing
    for project_id, code in ((listed, "XP2"), (kept, "XP1"), (later, "XP2")):
        await Project.update({Project.technology_code: code, Project.tech_class: "routine"}).where(
            Project.id == project_id)
    try:
        await transitions.fire(host.view(), today=D("2026-02-10"))
        grace = (await _of(listed))[("XP-9", "filing")]
        # 2026-04-05 is a Sunday inside the Qingming holiday: the period ends on the next working day.
        assert grace["due_on"] == D("2026-04-07") and grace["technology_class"] == "restricted"
        assert grace["event_kind"] == "technology_listed" and grace["event_on"] == EFFECTIVE
        assert await _of(kept) == {} and await _of(later) == {}
        assert await transitions.fire(host.view(), today=D("2026-02-11")) == 0
        # Without the plugin the edition is not this deployment's: nothing fires.
        await Obligation.delete().where(Obligation.event_kind == "technology_listed")
        assert await transitions.fire(host.view(frozenset({"third_province"})), today=D("2026-02-11")) == 0
    finally:
        await Project.update({Project.status: "cancelled"}).where(Project.id.is_in([listed, kept, later]))


@pytest.mark.rule("JL-43")
async def test_jl43_the_physician_records_the_application_on_the_obligation_page(deployment, monkeypatch, login_as):
    """No workflow closes JL-43's applications or JL-42's re-assessment: the person
    assigned (or medical affairs) marks them done with a note; other kinds stay with
    their workflow."""
    hooks = deployment["host"].view()
    project_id = await _unfiled_project(hooks)
    monkeypatch.setenv(SETTING, EFFECTIVE.isoformat())
    await transitions.fire(hooks, today=EFFECTIVE)
    mine = await _of(project_id)
    application, filing = mine[("JL-43", "physician_application")], mine[("JL-42", "filing")]
    lead = await login_as("clinician_a")
    page = await lead.get(f"/obligations/{application['id']}")
    assert page.status_code == 200 and 'id="complete-form"' in page.text
    empty = await lead.post(f"/obligations/{application['id']}/complete", data={"note": " "})
    assert empty.status_code == 422 and "请填写办理情况" in empty.text
    done = await lead.post(f"/obligations/{application['id']}/complete",
                           data={"note": "已向医务处提交开展申请（附资格证、执业证）"})
    assert done.status_code in (200, 303)
    row = await Obligation.select().where(Obligation.id == application["id"]).first()
    assert row["status"] == "done" and "开展申请" in row["waived_reason"]
    # Another hospital's medical affairs does not even see it; the filing is the filing workflow's.
    other = await login_as("medaffairs_b")
    assert (await other.post(f"/obligations/{application['id']}/complete", data={"note": "越权办结"})).status_code == 404
    ma = await login_as("medaffairs_a")
    refused = await ma.post(f"/obligations/{filing['id']}/complete", data={"note": "手工办结"})
    assert refused.status_code == 422 and "业务流程" in refused.text
    assert (await Obligation.select().where(Obligation.id == filing["id"]).first())["status"] == "open"


@pytest.mark.rule("JL-42")
async def test_the_admin_sees_whether_the_day_the_rules_took_effect_is_set(deployment, monkeypatch, login_as):
    admin = await login_as("admin")
    monkeypatch.delenv(SETTING, raising=False)
    page = (await admin.get("/admin/plugins")).text
    assert 'id="rules-in-force"' in page and SETTING in page and "未设置" in page
    monkeypatch.setenv(SETTING, "2021年7月1日")
    page = (await admin.get("/admin/plugins")).text
    assert "不是日期" in page and "2021年7月1日" in page
    monkeypatch.setenv(SETTING, "2021-07-01")
    page = (await admin.get("/admin/plugins")).text
    assert "2021-07-01" in page and "未设置" not in page and "不是日期" not in page


@pytest.mark.rule("JL-42")
async def test_a_large_first_round_is_spread_over_job_rounds(deployment, monkeypatch):
    """At most ``batch`` events per round; the next rounds take the rest, none twice."""
    hooks = deployment["host"].view()
    first, second = await _unfiled_project(hooks), await _unfiled_project(hooks)
    monkeypatch.setenv(SETTING, EFFECTIVE.isoformat())
    rounds = []
    for _ in range(10):
        rounds.append(await transitions.fire(hooks, today=EFFECTIVE, batch=1))
        if not rounds[-1]:
            break
    assert rounds[-1] == 0 and all(n <= 2 for n in rounds)  # one project (its JL-42 and JL-43) per round
    assert len(rounds) >= 3  # at least the two projects, one round each, then nothing left
    assert set(await _of(first)) == set(await _of(second)) == {("JL-42", "filing"), ("JL-43", "physician_application")}


@pytest.mark.rule("JL-43")
async def test_browser_the_physician_records_the_application_with_htmx(deployment, monkeypatch, page_as):
    hooks = deployment["host"].view()
    project_id = await _unfiled_project(hooks)
    monkeypatch.setenv(SETTING, EFFECTIVE.isoformat())
    await transitions.fire(hooks, today=EFFECTIVE)
    application = (await _of(project_id))[("JL-43", "physician_application")]
    page = await page_as("clinician_a")
    await page.goto(f"/obligations/{application['id']}")
    form = page.locator("#complete-form")
    await form.locator("button[type=submit]").click()  # empty: the browser's own required check
    await form.locator("textarea[name=note]").fill("已向医务处提交开展申请")
    await form.locator("button[type=submit]").click()
    await page.locator('#obligation-done-note').wait_for()
    assert "已向医务处提交开展申请" in await page.locator("#obligation-done-note").inner_text()
    assert await page.locator("#obligation-detail").get_attribute("data-state") in ("done_on_time", "done_late")
    assert await page.locator("#complete-form").count() == 0
