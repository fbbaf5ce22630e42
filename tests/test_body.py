"""The institution's technology-management body and systems (NAT-15, NAT-16, NAT-41, JL-16,
HN-1): a committee for grade 2+ hospitals with the posts the province names, meetings with
attendance and decisions, the systems page, and the regulator's flag when it is missing."""

from __future__ import annotations

import datetime as dt

import pytest

from core.audit.tables import AuditEvent
from core.body import rules
from core.body import service as body
from core.errors import Conflict, DomainError
from core.plugins import PluginHost
from core.policy import policy
from core.supervision.detectors import Scope, registered
from tests.admission_helpers import actor

D = dt.date


@pytest.mark.rule("NAT-15")
def test_nat15_a_grade_two_or_above_hospital_has_a_committee():
    assert rules.kind_problems("committee", "三级甲等") == []
    assert [p.rule for p in rules.kind_problems("working_group", "二级乙等")] == ["NAT-15"]
    assert rules.kind_problems("working_group", "一级甲等") == []
    assert rules.kind_problems("designated", "未定级") == []


@pytest.mark.rule("JL-16")
@pytest.mark.rule("HN-1")
def test_jl16_hn1_the_province_names_the_members_posts():
    jilin = policy(PluginHost(("jilin", "hospital_default")).view()).body
    henan = policy(PluginHost(("henan",)).view()).body
    assert jilin.rule == "JL-16" and {"head", "pharmacy", "ethics"} <= set(jilin.posts)
    assert henan.rule == "HN-1" and "head" not in henan.posts and "infection" in henan.posts
    members = [{"post": "head"}, {"post": "medical_affairs"}, {"post": "pharmacy", "left_on": D(2026, 1, 1)}]
    assert "pharmacy" in rules.composition_gaps(members, jilin.posts)


@pytest.mark.rule("NAT-15")
@pytest.mark.rule("NAT-41")
async def test_nat41_without_a_body_the_regulator_is_warned_and_setting_one_up_clears_it(deployment):
    b = deployment["hospital_b"]
    detect = registered()["no_management_body"].find
    assert [f.detail for f in await detect(Scope((b,), D(2026, 5, 20)))]  # the demo's hospital B has none
    medical = await actor("medaffairs_b")
    with pytest.raises(DomainError) as exc:  # 三级乙等: a working group is not enough
        await body.save_body(medical, b, body.BodyInput(kind="working_group", name="工作小组",
                                                        established_on=D(2026, 2, 1)))
    assert [p.rule for p in exc.value.problems] == ["NAT-15"]
    await body.save_body(medical, b, body.BodyInput(kind="committee", name="医疗技术临床应用管理委员会",
                                                    established_on=D(2026, 2, 1), document="院发〔2026〕3号"))
    assert await detect(Scope((b,), D(2026, 5, 20))) == []


@pytest.mark.rule("NAT-15")
@pytest.mark.rule("NAT-16")
async def test_nat15_meetings_record_attendance_and_decisions_and_the_systems_page_shows_them(deployment, login_as):
    a = deployment["hospital_a"]
    client = await login_as("medaffairs_a")
    page = await client.get(f"/body/{a}")
    assert page.status_code == 200 and "周院长" in page.text and "审定本院手术分级管理目录" in page.text
    hooks = deployment["host"].view()
    view = await body.overview(await actor("medaffairs_a"), hooks, a)
    member_ids = [m["id"] for m in view["members"]]
    refused = await client.post(f"/body/{a}/meetings", data={"held_on": "2026-04-01", "topic": "季度会议"})
    assert refused.status_code == 422 and "请勾选出席的委员" in refused.text and "请至少登记一项会议决定" in refused.text
    answer = await client.post(f"/body/{a}/meetings", data={
        "held_on": "2026-04-01", "topic": "2026年第2次会议", "attendees": [str(i) for i in member_ids[:5]],
        "system_0": "evaluation", "decision_0": "对在用限制类技术开展年度评估", "system_1": "qc",
        "decision_1": "修订质控指标"})
    assert answer.status_code == 303
    page = await client.get(f"/body/{a}")
    assert "对在用限制类技术开展年度评估" in page.text and "（5 人）" in page.text
    systems = await client.get(f"/body/{a}/systems")
    assert systems.status_code == 200
    for text in ("目录管理", "手术分级", "医师授权", "质量控制", "档案管理", "动态评估", "第 1 版",
                 "对在用限制类技术开展年度评估"):
        assert text in systems.text, text
    # A clinician reads but does not record; another institution's people do not see it.
    reader = await login_as("clinician_a")
    assert "meeting-form" not in (await reader.get(f"/body/{a}")).text
    assert (await reader.post(f"/body/{a}/members", data={"name": "某人", "post": "member"})).status_code == 404
    assert (await (await login_as("medaffairs_b")).get(f"/body/{a}")).status_code == 404


@pytest.mark.rule("NAT-16")
@pytest.mark.rule("JL-17")
@pytest.mark.rule("HN-1")
async def test_jl17_hn1_the_systems_page_names_the_provinces_restatement_of_nat16(deployment, login_as):
    """JL-17 (Jilin 第十七条) and HN-1 (Henan 一（一）) restate NAT-16's six systems; the
    systems page names the deployment's beside NAT-16, nationally NAT-16 alone."""
    assert policy(PluginHost(("jilin",)).view()).body.systems_rule == "JL-17"
    assert policy(PluginHost(("henan",)).view()).body.systems_rule == "HN-1"
    assert policy(PluginHost(()).view()).body.systems_rule == ""
    page = await (await login_as("medaffairs_a")).get(f"/body/{deployment['hospital_a']}/systems")
    assert page.status_code == 200 and "（NAT-16、JL-17）" in page.text


@pytest.mark.rule("NAT-15")
async def test_nat15_the_body_changes_at_the_version_read_and_each_change_is_audited(deployment):
    """core.changes: set up (audited with no "before"), changed at the version the page read
    (before and after audited), and a stale version is a conflict that changes nothing."""
    b, hooks = deployment["hospital_b"], deployment["host"].view()
    medical = await actor("medaffairs_b")
    if (await body.overview(medical, hooks, b))["body"] is None:  # the demo's hospital B has none
        await body.save_body(medical, b, body.BodyInput(kind="committee", name="技术管理委员会",
                                                        established_on=D(2026, 2, 1)))
    before = (await body.overview(medical, hooks, b))["body"]
    events = await AuditEvent.select().where((AuditEvent.action == "body.save")
                                             & (AuditEvent.record_id == before["id"])).order_by(
        AuditEvent.id).output(load_json=True)
    assert events[0]["before"] is None and events[0]["institution_id"] == b
    assert set(events[0]["after"]) == {"kind", "name", "established_on", "document"}
    assert await body.save_body(medical, b, body.BodyInput(
        kind="committee", name="医疗技术临床应用管理委员会（换届）", established_on=D(2026, 2, 1),
        document="院发〔2026〕9号", version=before["version"])) == before["id"]
    with pytest.raises(Conflict) as exc:  # the page read the version before
        await body.save_body(medical, b, body.BodyInput(kind="committee", name="另一个名称",
                                                        established_on=D(2026, 2, 1), version=before["version"]))
    assert exc.value.problems[0].message == "该组织信息已被他人修改，请刷新后重试"
    after = (await body.overview(medical, hooks, b))["body"]
    assert after["name"] == "医疗技术临床应用管理委员会（换届）" and after["version"] == before["version"] + 1
    event = await AuditEvent.select().where((AuditEvent.action == "body.save")
                                            & (AuditEvent.record_id == before["id"])).order_by(
        AuditEvent.id, ascending=False).first().output(load_json=True)
    assert event["before"] == {"kind": before["kind"], "name": before["name"],
                               "established_on": before["established_on"].isoformat(), "document": before["document"]}
    assert event["after"] == {"kind": "committee", "name": "医疗技术临床应用管理委员会（换届）",
                              "established_on": "2026-02-01", "document": "院发〔2026〕9号"}
    assert event["institution_id"] == b
