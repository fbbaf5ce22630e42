"""Risk warnings (风险预警) as rules: plugins supply the definitions, core evaluates them on
live data and keeps each warning's life (raised → seen → explained/corrected → closed or
escalated), tenancy-scoped, notified, exported (NAT-41 and each province's own ids)."""

from __future__ import annotations

import datetime as dt

import pytest

from core.contract import ContractError
from core.errors import DomainError, NotFound
from core.filing import service as filing
from core.inbox.tables import InboxMessage
from core.plugins import PluginConfigError, PluginHost
from core.supervision import service as supervision
from core.supervision.tables import RiskWarning
from tests.admission_helpers import PDF, actor
from tests.case_helpers import admitted, receive, release_obligations
from tests.filing_helpers import region_actor
from tests.supervision_helpers import TODAY, cases_record, completed_filing


@pytest.fixture(scope="module")
async def world(deployment):
    hooks = deployment["host"].view()
    yield {"hooks": hooks}
    await release_obligations()
    from tests.filing_helpers import forget_filing_obligations

    await forget_filing_obligations()


async def _warnings(**where) -> list[dict]:
    query = RiskWarning.select().order_by(RiskWarning.id)
    for key, value in where.items():
        query = query.where(getattr(RiskWarning, key) == value)
    return await query.output(load_json=True)


# ---------------------------------------------------------------- the rules are plugin data


def test_hook_warning_rules_first_answer_per_key_each_province_cites_its_own():
    jilin = {r.key: r for r in supervision.rules_in_force(PluginHost(("jilin", "hospital_default")).view())}
    henan = {r.key: r for r in supervision.rules_in_force(PluginHost(("henan", "hospital_default")).view())}
    national = {r.key: r for r in supervision.rules_in_force(PluginHost(("hospital_default",)).view())}
    assert (jilin["late_report"].rule, jilin["late_report"].plugin) == ("JL-38", "jilin")
    assert (jilin["unfiled_cases"].rule, jilin["unfiled_cases"].plugin) == ("NAT-41", "national")
    assert jilin["unauthorised_operator"].rule == "JL-12"
    assert (henan["late_report"].rule, henan["unfiled_cases"].rule, henan["filing_annotation"].rule) == (
        "HN-3", "HN-4.3", "HN-4.3")
    assert {r.rule for r in national.values()} <= {"NAT-41", "NAT-9", "NAT-25", "NAT-20", "NAT-11", "NAT-22"}
    assert set(national) == set(jilin) == set(henan) | {"stopped_technology", "learning_curve"}


def test_hook_warning_rules_an_unknown_detector_names_the_plugin_and_the_key():
    import types

    from core import hookimpl

    plugin = types.ModuleType("bad_rules")
    plugin.warning_rules = hookimpl(lambda: [{"key": "odd", "detector": "no_such_thing", "rule": "X-1", "title": "怪"}])
    hooks = PluginHost(("bad_rules",), extra={"bad_rules": plugin}).view()
    with pytest.raises(ContractError) as exc:
        supervision.rules_in_force(hooks)
    assert "bad_rules" in str(exc.value) and "odd.detector" in str(exc.value) and "no_such_thing" in str(exc.value)


def test_hook_warning_rules_a_bad_severity_or_audience_is_refused_at_load():
    import types

    from core import hookimpl

    plugin = types.ModuleType("bad_severity")
    plugin.warning_rules = hookimpl(lambda: [{"key": "x_rule", "detector": "late_report", "rule": "X-1",
                                              "title": "怪", "severity": "catastrophic"}])
    with pytest.raises(PluginConfigError) as exc:
        PluginHost(("bad_severity",), extra={"bad_severity": plugin})
    assert "bad_severity" in str(exc.value) and "severity" in str(exc.value)


# ---------------------------------------------------------------- evaluated on live data


@pytest.mark.rule("JL-38")
@pytest.mark.rule("HN-3")
@pytest.mark.rule("HN-4.3")
@pytest.mark.rule("NAT-41")
async def test_nat41_late_and_unfiled_cases_raise_warnings_citing_the_deployments_rules(deployment, world):
    """A late case of a restricted technology without a completed filing: in this Jilin
    deployment JL-38 (late) and NAT-41 (not filed); the same data under Henan's rules cites
    HN-3 and HN-4.3. Medical affairs of the institution is notified; city 2 sees nothing."""
    hooks = world["hooks"]
    project = await admitted(hooks, tech_index=6)
    [late] = await cases_record(hooks, project)
    await receive(hooks, late.delivery_id, TODAY)  # late once the platform's receipt says so
    counts = await supervision.evaluate(hooks, TODAY)
    assert counts["raised"] >= 2
    mine = [w for w in await _warnings(institution=deployment["hospital_a"]) if w["status"] != "closed"]
    assert {("late_report", "JL-38"), ("unfiled_cases", "NAT-41")} <= {(w["rule_key"], w["rule_id"]) for w in mine}
    unfiled = next(w for w in mine if w["rule_key"] == "unfiled_cases" and w["records"]
                   and any(r["id"] == late.id for r in w["records"]))
    assert unfiled["records"][0]["href"] == f"/cases/{late.id}"
    ma = (await actor("medaffairs_a")).id
    assert await InboxMessage.exists().where((InboxMessage.user == ma)
                                             & (InboxMessage.source == f"warning:{unfiled['id']}"))
    assert not [w for w in await supervision.listing(await region_actor("regulator_city2"))
                if w["institution"] == deployment["hospital_a"]]
    assert unfiled["id"] in {w["id"] for w in await supervision.listing(await region_actor("regulator_city1"))}
    # Evaluated again with nothing new: no second warning.
    again = await supervision.evaluate(hooks, TODAY)
    assert len([w for w in await _warnings(institution=deployment["hospital_a"], fingerprint=unfiled["fingerprint"],
                                           rule_key="unfiled_cases")]) == 1
    assert again["raised"] == 0
    # Henan's rules over the same data cite HN-3 / HN-4.3 (a separate evaluation run is not
    # needed to read them: the rules are data).
    henan = {r.key: r.rule for r in supervision.rules_in_force(PluginHost(("henan",)).view())}
    assert (henan["late_report"], henan["unfiled_cases"]) == ("HN-3", "HN-4.3")


@pytest.mark.rule("JL-38")
@pytest.mark.rule("NAT-41")
async def test_jl38_a_case_past_its_deadline_with_no_receipt_is_unreported_until_received(deployment, world):
    """Discharged 2026-03-16, due 2026-04-07 (JL-38), never received by 2026-05-20: the
    unreported warning (JL-38); once the platform's receipt is recorded it is no longer
    found (and the case counts as reported late instead)."""
    hooks = world["hooks"]
    project = await admitted(hooks, tech_index=12)
    [case] = await cases_record(hooks, project)
    await supervision.evaluate(hooks, TODAY)
    [w] = [w for w in await _warnings(rule_key="unreported_cases", institution=deployment["hospital_a"])
           if any(r["id"] == case.id for r in w["records"])]
    assert (w["rule_id"], w["severity"]) == ("JL-38", "serious") and "2026-04-07" in w["detail"]
    await receive(hooks, case.delivery_id, TODAY)
    await supervision.evaluate(hooks, TODAY)
    after = await _warnings(id=w["id"])
    assert not after[0]["still_detected"] or after[0]["count"] < w["count"]


@pytest.mark.rule("JL-12")
@pytest.mark.rule("NAT-41")
async def test_jl12_operator_outside_the_filed_physicians_warning_life(deployment, world):
    """A case of a filed technology operated by a physician not on the filing's list: the
    Jilin warning (JL-12) is raised; medical affairs opens it (seen), explains it with a PDF
    (the regulators are notified), the regulator of another city cannot see it, the
    regulator of its city closes it; a closed warning is not raised again for the same case."""
    hooks = world["hooks"]
    project = await admitted(hooks, tech_index=7)
    await completed_filing(hooks, project)
    [case] = await cases_record(hooks, project, operators=["depthead_a"], assistants=[])
    await supervision.evaluate(hooks, TODAY)
    [w] = await _warnings(rule_key="unauthorised_operator", fingerprint=f"case:{case.id}")
    assert (w["rule_id"], w["status"], w["severity"]) == ("JL-12", "raised", "serious")
    assert "不在该技术备案的医师名单内" in w["detail"] and w["records"][0]["href"] == f"/cases/{case.id}"

    ma = await actor("medaffairs_a")
    seen = await supervision.get(ma, w["id"], mark_seen=True)
    assert seen["status"] == "seen" and seen["may_answer"]
    with pytest.raises(NotFound):
        await supervision.get(await actor("medaffairs_b"), w["id"])
    with pytest.raises(NotFound):
        await supervision.get(await region_actor("regulator_city2"), w["id"])
    with pytest.raises(DomainError) as exc:  # an answer needs a kind and a text, and files by content
        await supervision.answer(ma, w["id"], "", "短", [("x.exe", b"MZ")], version=seen["version"])
    assert {p.field for p in exc.value.problems} == {"kind", "answer", "files"}
    await supervision.answer(ma, w["id"], "explained", "该医师已完成培训，授权材料补报中", [("授权.pdf", PDF)],
                             version=seen["version"])
    regulator = await region_actor("regulator_city1")
    after = await supervision.get(regulator, w["id"])
    assert after["status"] == "explained" and [f.filename for e in after["history"] for f in e["files"]] == ["授权.pdf"]
    assert await InboxMessage.exists().where((InboxMessage.user == regulator.id)
                                             & (InboxMessage.source == f"warning:{w['id']}"))
    with pytest.raises(DomainError):  # a stale page
        await supervision.close(regulator, w["id"], "已核实，同意关闭", version=seen["version"])
    await supervision.close(regulator, w["id"], "已核实授权材料，同意关闭", version=after["version"])
    closed = await supervision.get(ma, w["id"])
    assert closed["status"] == "closed" and [e["action"] for e in closed["history"]] == [
        "raised", "seen", "explained", "closed"]
    await supervision.evaluate(hooks, TODAY)
    assert len(await _warnings(rule_key="unauthorised_operator", fingerprint=f"case:{case.id}")) == 1


@pytest.mark.rule("NAT-41")
async def test_nat41_escalated_warning_is_decided_above(deployment, world):
    hooks = world["hooks"]
    project = await admitted(hooks, tech_index=8)
    await cases_record(hooks, project)
    await supervision.evaluate(hooks, TODAY)
    w = next(w for w in await _warnings(institution=deployment["hospital_a"], rule_key="unfiled_cases")
             if w["status"] == "raised")
    city, province = await region_actor("regulator_city1"), await region_actor("regulator_province")
    with pytest.raises(DomainError) as exc:
        await supervision.escalate(province, w["id"], "省级无上级可报", version=w["version"])
    assert "无上级" in exc.value.problems[0].message
    await supervision.escalate(city, w["id"], "涉及多家机构，请省级统一处理", version=w["version"])
    row = await supervision.get(city, w["id"])
    assert row["status"] == "escalated" and not row["may_decide"]
    with pytest.raises(DomainError):
        await supervision.close(city, w["id"], "本级关闭试试", version=row["version"])
    top = await supervision.get(province, w["id"])
    assert top["may_decide"]
    await supervision.close(province, w["id"], "省级已统一处理，责令限期整改", version=top["version"])
    assert (await supervision.get(city, w["id"]))["status"] == "closed"


@pytest.mark.rule("NAT-25")
async def test_nat25_cases_on_or_after_the_day_use_stopped_raise_stopped_technology(deployment, world):
    """A case performed on 2026-05-05 was recorded; the filing is then cancelled with effect
    from 2026-04-01 (the stop entered late): the case is a finding; one before is not."""
    hooks = world["hooks"]
    project = await admitted(hooks, tech_index=9)
    filing_id = await completed_filing(hooks, project)
    await cases_record(hooks, project)  # operated 2026-03-10: before the stop
    await cases_record(hooks, project, admitted_on="2026-05-04", operated_on="2026-05-05", discharged_on="2026-05-08")
    await supervision.evaluate(hooks, TODAY)
    assert not [w for w in await _warnings(rule_key="stopped_technology") if w["institution"] == deployment[
        "hospital_a"] and str(project) in w["detail"]]
    stop = dt.date(2026, 4, 1)
    await filing.cancel(await region_actor("regulator_city1"), hooks, filing_id, "conditions",
                        "技术负责人调离，人员条件不再满足规范", on=stop, today=TODAY)
    await supervision.evaluate(hooks, TODAY)
    found = [w for w in await _warnings(rule_key="stopped_technology", institution=deployment["hospital_a"])
             if "2026-04-01 起注销备案" in w["detail"]]
    assert len(found) == 1 and (found[0]["rule_id"], found[0]["count"]) == ("NAT-25", 1)
    assert found[0]["records"][0]["label"].endswith("（2026-05-05）")


async def test_export_lists_what_the_reader_sees(deployment, world):
    from openpyxl import load_workbook

    from core.exports import table_xlsx
    from core.tenancy.tables import Institution

    name_a = (await Institution.select(Institution.name).where(Institution.id == deployment["hospital_a"]).first())[
        "name"]
    rows = await supervision.export_rows(await region_actor("regulator_city1"))
    assert rows and {r[1] for r in rows} == {name_a}
    assert name_a not in {r[1] for r in await supervision.export_rows(await region_actor("regulator_city2"))}

    book = load_workbook(__import__("io").BytesIO(table_xlsx("风险预警", supervision.EXPORT_COLUMNS, rows)))
    assert [c.value for c in book.active[1]][:4] == ["编号", "医疗机构", "预警", "依据"]


# ---------------------------------------------------------------- the pages, and the guard


async def test_guard_core_and_web_warnings_name_no_province(deployment, world, login_as):
    """The province guard reads the supervision code and templates; a Jilin regulator's
    pages cite Jilin's and the national ids only (the ids come from the plugins' rules)."""
    import re

    from tests.test_provinces import _core_and_web_files

    files = {p.as_posix() for p in _core_and_web_files()}
    for own in ("core/supervision/detectors.py", "core/supervision/service.py", "web/supervision/controllers.py",
                "web/templates/supervision/detail.html"):
        assert any(f.endswith(own) for f in files), own
    client = await login_as("regulator_city1")
    for url in ("/warnings/rules", "/warnings?status=", "/"):
        page = await client.get(url)
        assert page.status_code == 200, url
        assert not re.findall(r"\bHN-\d|河南", page.text), url
    rules_page = (await client.get("/warnings/rules")).text
    assert "JL-38" in rules_page and "JL-12" in rules_page and "NAT-41" in rules_page
    # The to-do list (工作台) names the open warnings the regulator may close.
    assert 'data-task="warning-' in (await client.get("/")).text
    export = await client.get("/warnings/export.xlsx")
    assert export.status_code == 200 and export.content[:2] == b"PK"
    # An institution user outside every rule's audience (a clinician) sees no warnings.
    clinician = await login_as("clinician_a")
    assert 'data-warning=' not in (await clinician.get("/warnings?status=")).text


# ---------------------------------------------------------------- credit scores (NAT-39)


def test_hook_credit_items_first_answer_per_key_weights_are_plugin_data():
    from core.supervision import credit

    jilin = {i.key: i for i in credit.items_in_force(PluginHost(("jilin", "hospital_default")).view())}
    national = {i.key: i for i in credit.items_in_force(PluginHost(("hospital_default",)).view())}
    assert (jilin["case_reporting"].rule, national["case_reporting"].rule) == ("JL-38", "NAT-37")
    assert set(jilin) == set(national) and sum(i.points for i in national.values()) == 100


@pytest.mark.rule("NAT-39")
@pytest.mark.rule("NAT-41")
async def test_nat39_every_point_lost_links_to_its_record_and_the_institution_answers(deployment, world):
    """The warnings of the year each lose points (a serious one answered and closed: 5 × 2 ×
    ½), each loss linked to the warning and to the case behind it; the score is the sum of
    the items; another tenant's score is 404; the institution's answer is kept."""
    from core.supervision import credit

    hooks = world["hooks"]
    ma = await actor("medaffairs_a")
    score = await credit.score(ma, hooks, deployment["hospital_a"], 2026, today=TODAY)
    assert score.total == round(sum(i.earned for i in score.items), 1) and score.maximum == 100
    warnings_item = next(i for i in score.items if i.key == "warnings")
    closed = next(w for w in await _warnings(rule_key="unauthorised_operator", status="closed")
                  if w["institution"] == deployment["hospital_a"])
    loss = next(loss for loss in warnings_item.losses if loss.href == f"/warnings/{closed['id']}")
    assert loss.points == 5.0 and "答复后已关闭" in loss.text
    assert loss.also[0][1] == closed["records"][0]["href"] and loss.also[0][1].startswith("/cases/")
    assert warnings_item.earned == max(0.0, 30 - sum(x.points for x in warnings_item.losses))
    with pytest.raises(NotFound):
        await credit.score(await actor("medaffairs_b"), hooks, deployment["hospital_a"], 2026)
    with pytest.raises(NotFound):
        await credit.score(await region_actor("regulator_city2"), hooks, deployment["hospital_a"], 2026)
    with pytest.raises(DomainError):
        await credit.answer(ma, hooks, deployment["hospital_a"], 2026, "warnings", "短")
    with pytest.raises(NotFound):  # the regulator reads answers, it does not write them
        await credit.answer(await region_actor("regulator_city1"), hooks, deployment["hospital_a"], 2026, "",
                            "监管部门代为说明内容")
    await credit.answer(ma, hooks, deployment["hospital_a"], 2026, "warnings", "该预警所涉医师已补充备案")
    assert [a["text"] for a in await credit.answers(await region_actor("regulator_city1"),
                                                    deployment["hospital_a"], 2026)] == ["该预警所涉医师已补充备案"]
    region = await credit.region_scores(await region_actor("regulator_city1"), hooks, 2026)
    assert deployment["hospital_a"] in {s.institution_id for s in region}
    assert deployment["hospital_b"] not in {s.institution_id for s in region}
    for listed in region:  # the region's grouped counts agree with each breakdown, item by item
        detail = await credit.score(await region_actor("regulator_city1"), hooks, listed.institution_id, 2026)
        assert [i.earned for i in listed.items] == [i.earned for i in detail.items] and listed.total == detail.total
    history = await credit.history(ma, hooks, deployment["hospital_a"], 2026)
    assert [s.year for s in history] == [2026, 2025, 2024]
    rows = credit.export_rows(history)
    assert any(r[9] == f"/warnings/{closed['id']}" for r in rows)


@pytest.mark.rule("JL-12")
@pytest.mark.rule("HN-4.3")
async def test_jl12_hn43_a_licence_annotation_that_disagrees_with_the_filing_is_a_warning(deployment, world):
    """The department records a 备注三 that differs from the completed filing: the Jilin
    rule (JL-12) raises it for the regulator only; correcting the annotation clears it."""
    hooks = world["hooks"]
    project = await admitted(hooks, tech_index=14)
    filing_id = await completed_filing(hooks, project)
    regulator = await region_actor("regulator_city1")
    await filing.record_annotation(regulator, hooks, filing_id, "某技术（误写）", today=TODAY)
    await supervision.evaluate(hooks, TODAY)
    [w] = await _warnings(rule_key="filing_annotation", fingerprint=f"filing:{filing_id}")
    assert (w["rule_id"], w["severity"]) == ("JL-12", "notice") and "副本备注与备案不一致" in w["detail"]
    assert w["records"][0]["href"] == f"/filings/{filing_id}"
    assert w["id"] in {x["id"] for x in await supervision.listing(regulator)}
    assert w["id"] not in {x["id"] for x in await supervision.listing(await actor("medaffairs_a"))}  # audience
    from core.filing.tables import Filing

    expected = (await Filing.select(Filing.annotation_expected).where(Filing.id == filing_id).first())[
        "annotation_expected"]
    await filing.record_annotation(regulator, hooks, filing_id, expected, today=TODAY)
    await supervision.evaluate(hooks, TODAY)
    assert not (await _warnings(id=w["id"]))[0]["still_detected"]


@pytest.mark.rule("NAT-9")
async def test_nat9_cases_of_a_technology_the_catalogue_in_force_prohibits_are_a_serious_warning(deployment, world):
    """A generated case of J03 (基因治疗技术, prohibited by the national list in force) recorded
    at hospital A as a restricted technology: the NAT-9 warning names it."""
    from core.cases.tables import CaseRecord

    day = dt.date(2026, 3, 2)
    await CaseRecord.insert(CaseRecord(
        institution=deployment["hospital_a"], external_id="NAT9-1", dedupe_key=f"{deployment['hospital_a']}:NAT9-1",
        content_hash="x", technology_code="J03", technology_name="基因治疗技术", tech_class="restricted",
        patient_key="p", admitted_on=day, operated_on=day, discharged_on=day, source="demo"))
    await supervision.evaluate(world["hooks"], TODAY)
    [w] = await _warnings(rule_key="prohibited_technology", fingerprint="code:J03",
                          institution=deployment["hospital_a"])
    assert (w["rule_id"], w["severity"], w["count"]) == ("NAT-9", "serious", 1)
    assert "禁止类" in w["detail"] and w["records"][0]["label"].startswith("病例 NAT9-1")
