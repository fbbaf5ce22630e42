"""NAT-41's violations the portal detects (the seed's eight: (1) no management body, (2) no
rules, (3) 管理混乱, (4) not filing, (5) not reporting or false reports, (6) not reporting
to the platforms, (7) not disclosing, (8) the training item), region-wide suspensions in
the stopped-technology warning (NAT-25 (4), JL-26), and the credit score's disclosure item
(NAT-39, JL-40, NAT-24 / JL-25) — in the Jilin deployment, on an institution made for it."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest

from core.accounts.schemas import SYSTEM
from core.cases.tables import CaseRecord
from core.supervision import credit
from core.supervision import service as supervision
from core.supervision.tables import RiskWarning
from tests.filing_helpers import region_actor
from tests.supervision_helpers import TODAY


@pytest.fixture(scope="module")
async def world(deployment):
    return {"hooks": deployment["host"].view()}


async def _institution(deployment, name: str) -> int:
    from core.tenancy import service as tenancy
    from core.tenancy.schemas import InstitutionInput

    return await tenancy.create_institution(SYSTEM, InstitutionInput(
        name=f"{name}{secrets.token_hex(2)}", licence_no=f"NAT41-{secrets.token_hex(4)}", grade="二级甲等",
        region=deployment["city1"], registered_subjects=["外科"]))


async def _case(institution: int, code: str, day: dt.date, operators: list[int] | None = None) -> int:
    """A restricted case as a hospital's information system delivered it (generated data)."""
    key = secrets.token_hex(4)
    rows = await CaseRecord.insert(CaseRecord(
        institution=institution, external_id=f"N41-{key}", dedupe_key=f"{institution}:N41-{key}", content_hash="x",
        technology_code=code, technology_name="测试技术", tech_class="restricted", patient_key="p",
        admitted_on=day, operated_on=day, discharged_on=day, operators=operators or [], source="demo")
    ).returning(CaseRecord.id)
    return rows[0]["id"]


async def _warnings(rule_key: str, institution: int) -> list[dict]:
    return await RiskWarning.select().where((RiskWarning.rule_key == rule_key)
                                            & (RiskWarning.institution == institution)).output(load_json=True)


async def _restricted_code(hooks, index: int) -> str:
    from core.catalog import service as catalog

    await catalog.ensure_synced(hooks.host)
    found = await catalog.choices(hooks, classes=("restricted",), on=TODAY)
    return found[index % len(found)].code


@pytest.mark.rule("NAT-41")
@pytest.mark.rule("NAT-15")
async def test_nat41_2_an_institution_without_recorded_management_rules_is_a_warning(deployment, world):
    """(2): the management rules are the body's decision on 制定管理制度; an institution with
    none on record is found, one whose body decided them is not."""
    from core.body import service as body

    bare = await _institution(deployment, "无制度医院")
    ruled = await _institution(deployment, "有制度医院")
    await body.save_body(SYSTEM, ruled, body.BodyInput(kind="committee", name="医疗技术临床应用管理委员会",
                                                       established_on=dt.date(2026, 1, 5), document="院发〔2026〕1号"))
    member = await body.add_member(SYSTEM, ruled, body.MemberInput(name="周院长", post="head", title="主任医师",
                                                                   joined_on=dt.date(2026, 1, 5)))
    await body.record_meeting(SYSTEM, ruled, body.MeetingInput(
        held_on=dt.date(2026, 1, 6), topic="管理委员会第1次会议", attendees=[member],
        decisions=[("rules", "审议通过《医疗技术临床应用管理制度》")]))
    await supervision.evaluate(world["hooks"], TODAY, institution_ids=[bare, ruled])
    [w] = await _warnings("no_management_rules", bare)
    assert (w["rule_id"], w["fingerprint"]) == ("NAT-41", "rules")
    assert w["records"][0]["href"] == f"/body/{bare}/systems"
    assert await _warnings("no_management_rules", ruled) == []


@pytest.mark.rule("NAT-41")
@pytest.mark.rule("JL-25")
@pytest.mark.rule("NAT-24")
@pytest.mark.rule("NAT-39")
@pytest.mark.rule("JL-40")
async def test_nat41_7_jl25_disclosure_without_a_grading_catalogue_is_a_warning_and_loses_credit(
        deployment, world, anon):
    """(7): an institution performing a restricted technology whose 院务公开 has no surgery-
    grading catalogue: the Jilin rule (JL-25) raises it; its credit score's disclosure item
    loses its 10 points, linked to the public page and the catalogue; a catalogue that came
    into force after the year's restricted work began loses half; the region's list agrees."""
    from core.grading.tables import GradingEdition

    hooks = world["hooks"]
    inst = await _institution(deployment, "未公开目录医院")
    quiet = await _institution(deployment, "未开展限制类医院")
    await _case(inst, await _restricted_code(hooks, 25), dt.date(2026, 3, 2))
    await supervision.evaluate(hooks, TODAY, institution_ids=[inst, quiet])
    [w] = await _warnings("disclosure_incomplete", inst)
    assert (w["rule_id"], w["fingerprint"]) == ("JL-25", "grading") and "2026-03-02" in w["detail"]
    assert [r["href"] for r in w["records"]] == [f"/public/institutions/{inst}", f"/grading/{inst}"]
    assert await _warnings("disclosure_incomplete", quiet) == []
    assert 'id="grading-missing"' in (await anon.get(f"/public/institutions/{inst}")).text

    regulator = await region_actor("regulator_city1")
    items = {i.key: i for i in credit.items_in_force(hooks)}
    assert items["disclosure"].rule == "JL-25"
    score = await credit.score(regulator, hooks, inst, 2026, today=TODAY)
    disclosure = next(i for i in score.items if i.key == "disclosure")
    assert (disclosure.points, disclosure.earned) == (10, 0.0)
    [loss] = disclosure.losses
    assert loss.points == 10 and loss.href == f"/public/institutions/{inst}" and "JL-25" in loss.text
    assert loss.also == (("手术分级管理目录", f"/grading/{inst}"),)
    assert next(i for i in (await credit.score(regulator, hooks, quiet, 2026, today=TODAY)).items
                if i.key == "disclosure").earned == 10

    await GradingEdition.insert(GradingEdition(uid=f"{inst}:1", institution=inst, number=1,
                                               effective_on=dt.date(2026, 4, 1), basis="管理委员会审定"))
    late = next(i for i in (await credit.score(regulator, hooks, inst, 2026, today=TODAY)).items
                if i.key == "disclosure")
    assert late.earned == 5.0 and "逾期公开" in late.losses[0].text
    assert next(i for i in (await credit.score(regulator, hooks, inst, 2027, today=dt.date(2027, 2, 1))).items
                if i.key == "disclosure").earned == 10  # in force from the start of 2027's work
    await supervision.evaluate(hooks, TODAY, institution_ids=[inst])
    assert not (await _warnings("disclosure_incomplete", inst))[0]["still_detected"]
    page = (await anon.get(f"/public/institutions/{inst}")).text
    assert f'href="/public/grading/{inst}"' in page and 'id="grading-missing"' not in page
    for listed in await credit.region_scores(regulator, hooks, 2026):  # grouped counts agree with the breakdown
        if listed.institution_id in (inst, quiet):
            detail = await credit.score(regulator, hooks, listed.institution_id, 2026)
            assert [i.earned for i in listed.items] == [i.earned for i in detail.items]


@pytest.mark.rule("NAT-41")
@pytest.mark.rule("JL-27")
@pytest.mark.rule("NAT-26")
async def test_nat41_8_jl27_operators_without_standardised_training_are_a_warning(deployment, world):
    """(8): the operators of restricted cases with no training record; a training
    certificate in the physician's archive clears it."""
    from core.accounts import service as accounts
    from core.accounts.schemas import UserInput
    from core.people.tables import Certificate

    inst = await _institution(deployment, "培训核查医院")
    uid = await accounts.create_user(SYSTEM, UserInput(
        username=f"n41_{secrets.token_hex(3)}", display_name="未培训医师", roles=["clinician"], institution=inst,
        password="demo-pass-2026"))
    code = await _restricted_code(world["hooks"], 26)
    for day in (dt.date(2026, 3, 2), dt.date(2026, 3, 3)):
        await _case(inst, code, day, operators=[uid])
    await supervision.evaluate(world["hooks"], TODAY, institution_ids=[inst])
    [w] = await _warnings("untrained_operators", inst)
    assert (w["rule_id"], w["count"]) == ("JL-27", 1) and "共 2 例" in w["detail"]
    assert w["records"] == [{"type": "person", "id": uid, "label": "未培训医师（2 例限制类技术病例）",
                             "href": f"/people/{uid}"}]
    await Certificate.insert(Certificate(institution=inst, user=uid, kind="training", name="规范化培训合格证明",
                                         issued_on=dt.date(2025, 6, 1)))
    await supervision.evaluate(world["hooks"], TODAY, institution_ids=[inst])
    assert not (await _warnings("untrained_operators", inst))[0]["still_detected"]


@pytest.mark.rule("NAT-25")
@pytest.mark.rule("JL-26")
async def test_jl26_cases_during_a_province_wide_suspension_raise_stopped_technology(deployment, world):
    """The province suspends a technology in its whole region from 2026-04-01 and lifts it
    on 2026-04-20: an institution's case of 04-10 is found — even after the lifting, and for
    an institution that never had its own stop — while those of 03-20 and 04-25 are not."""
    from core.lifecycle import service as lifecycle

    hooks = world["hooks"]
    inst = await _institution(deployment, "辖区暂停医院")
    code = await _restricted_code(hooks, 27)
    for day in (dt.date(2026, 3, 20), dt.date(2026, 4, 10), dt.date(2026, 4, 25)):
        await _case(inst, code, day)
    province = await region_actor("regulator_province")
    suspension = await lifecycle.suspend_region(province, hooks, technology_key=code, reason="接报疗效不确切，核查中",
                                                on=dt.date(2026, 4, 1), today=TODAY)
    await lifecycle.lift_region(province, hooks, suspension, reason="核查完毕，恢复临床应用",
                                on=dt.date(2026, 4, 20), today=TODAY)
    await supervision.evaluate(hooks, TODAY, institution_ids=[inst])
    [w] = await _warnings("stopped_technology", inst)
    assert (w["rule_id"], w["count"], w["fingerprint"]) == ("NAT-25", 1, f"use:{code}")
    assert "2026-04-01 起辖区暂停" in w["detail"]
    assert [r["label"].endswith("（2026-04-10）") for r in w["records"]] == [True]


def test_every_credit_item_the_issue_names_is_in_force_with_its_measure():
    """Issue 14 §2: reporting timeliness, filing completeness and timeliness, open warnings
    and how they were closed, disclosure, stops and suspensions, QC report on time — each
    an item of the national plugin and of Jilin's deployment, 100 points in all."""
    from core.plugins import PluginHost

    for plugins in (("hospital_default",), ("jilin", "hospital_default")):
        items = {i.key: i for i in credit.items_in_force(PluginHost(plugins).view())}
        assert {k: (i.measure, i.kinds) for k, i in items.items()} == {
            "case_reporting": ("obligations_on_time", ("case_report",)),
            "filing": ("obligations_on_time", ("filing",)),
            "qc_report": ("obligations_on_time", ("qc_annual_report",)),
            "warnings": ("warnings", ()), "stops": ("stops", ()), "disclosure": ("disclosure", ())}
        assert sum(i.points for i in items.values()) == 100


@pytest.mark.rule("HN-2.3")
@pytest.mark.rule("JL-25")
@pytest.mark.rule("JL-27")
@pytest.mark.rule("NAT-41")
def test_hook_each_province_words_the_new_nat41_warnings_with_its_own_rule():
    """The detectors name no province; each deployment's rules cite its own ids."""
    from core.plugins import PluginHost

    def cited(*plugins: str) -> dict[str, str]:
        rules = {r.key: r.rule for r in supervision.rules_in_force(PluginHost(plugins).view())}
        return {k: rules[k] for k in ("no_management_rules", "disclosure_incomplete", "untrained_operators")}

    assert cited("hospital_default") == {"no_management_rules": "NAT-41", "disclosure_incomplete": "NAT-41",
                                         "untrained_operators": "NAT-41"}
    assert cited("jilin", "hospital_default") == {"no_management_rules": "NAT-41", "disclosure_incomplete": "JL-25",
                                                  "untrained_operators": "JL-27"}
    assert cited("henan", "hospital_default") == {"no_management_rules": "NAT-41", "disclosure_incomplete": "HN-2.3",
                                                  "untrained_operators": "NAT-41"}


@pytest.mark.rule("NAT-39")
@pytest.mark.rule("JL-40")
async def test_nat39_each_item_the_issue_names_explains_its_losses_with_links(deployment, world):
    """Reporting (a case report done late), filing (one overdue), the QC report (late), a
    stop, a warning and disclosure: each loses points in its own item, each loss linked to
    the record behind it (the obligation and its case, filing or project; the warning; the
    technology's page; the public page)."""
    from core.lifecycle.tables import UseEvent
    from core.obligations.tables import Obligation

    hooks = world["hooks"]
    inst = await _institution(deployment, "评分明细医院")
    case_id = await _case(inst, await _restricted_code(hooks, 28), dt.date(2026, 3, 2))
    made = {}
    for kind, subject, done in (("case_report", "case", dt.date(2026, 4, 10)), ("filing", "filing", None),
                                ("qc_annual_report", "project", dt.date(2026, 2, 10))):
        sid = case_id if subject == "case" else 4242
        rows = await Obligation.insert(Obligation(
            dedupe_key=f"credit-test:{inst}:{kind}", rule_id="NAT-37", kind=kind, title=f"测试{kind}",
            institution=inst, subject_type=subject, subject_id=sid, subject_label="测试", event_kind="test",
            event_on=dt.date(2026, 1, 5), due_on=dt.date(2026, 1, 31), status="done" if done else "open",
            done_on=done, done_late=bool(done))).returning(Obligation.id)
        made[kind] = (rows[0]["id"], subject, sid)
    await UseEvent.insert(UseEvent(institution=inst, technology_key="X9", technology_name="测试技术", action="stop",
                                   event_on=dt.date(2026, 3, 5), rule="NAT-25", reason="测试停止"))
    await supervision.evaluate(hooks, TODAY, institution_ids=[inst])
    score = await credit.score(await region_actor("regulator_city1"), hooks, inst, 2026, today=TODAY)
    items = {i.key: i for i in score.items}
    bases = {"case": "/cases/", "filing": "/filings/", "project": "/admission/projects/"}
    for key, kind in (("case_reporting", "case_report"), ("filing", "filing"), ("qc_report", "qc_annual_report")):
        obligation_id, subject, sid = made[kind]
        [loss] = items[key].losses
        assert items[key].earned == 0 and loss.href == f"/obligations/{obligation_id}"
        assert loss.also[0][1] == f"{bases[subject]}{sid}"
    assert [loss.href for loss in items["stops"].losses] == [f"/lifecycle/institutions/{inst}/X9"]
    assert all(loss.href.startswith("/warnings/") for loss in items["warnings"].losses) and items["warnings"].losses
    assert [loss.href for loss in items["disclosure"].losses] == [f"/public/institutions/{inst}"]
    assert score.total == round(sum(i.earned for i in score.items), 1)


@pytest.mark.rule("NAT-41")
async def test_nat41_the_rules_page_maps_each_of_the_eight_violations_to_its_warnings(deployment, login_as):
    """Every one of the eight items is listed; each detectable one names the warnings in
    force that find it (Jilin's ids where Jilin words them); the ones records cannot prove
    say why."""
    import re

    from core.supervision import rules

    assert len(rules.NAT41_ITEMS) == 8
    page = (await (await login_as("regulator_city1")).get("/warnings/rules")).text
    rows = dict(re.findall(r'<tr data-item="(\d)">(.*?)</tr>', re.search(
        r'id="nat41-coverage".*?</table>', page, re.S).group(0), re.S))
    assert sorted(rows) == [str(n) for n in range(1, 9)]
    assert "JL-25" in rows["7"] and "JL-27" in rows["8"] and "NAT-41" in rows["2"] and "JL-38" in rows["6"]
    assert "无法由数据检出" not in "".join(rows.values())
    assert "综合判断" in rows["3"] and "不实信息" in rows["5"]
