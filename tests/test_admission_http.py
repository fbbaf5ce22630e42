"""Admission over HTTP: pages per role, per-field validation, refusals next to their field,
role checks, two reviewers at once, attachments, PDFs."""

from __future__ import annotations

import asyncio
import re

import pytest

from core.admission import service
from core.admission.tables import Project
from tests.admission_helpers import PDF, PNG, actor, valid_form


def form_data(answers: dict, **extra) -> dict:
    data = {}
    for key, value in answers.items():
        if isinstance(value, list):
            for i, row in enumerate(value):
                for col, cell in row.items():
                    data[f"{key}__{i}__{col}"] = cell
        else:
            data[key] = value
    data.update(extra)
    return data


async def create(client, title: str, path: str = "temporary") -> int:
    response = await client.post("/admission/projects", data={"title": title, "technology_id": "outside",
                                                              "path": path})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def submitted_project(login_as, title: str) -> int:
    clinician = await login_as("clinician_a")
    project_id = await create(clinician, title)
    response = await clinician.post(f"/admission/projects/{project_id}",
                                    data=form_data(valid_form(), action="submit", title=title))
    assert response.status_code == 303, response.text
    return project_id


async def version_of(project_id: int) -> int:
    return (await Project.select(Project.version).where(Project.id == project_id).first())["version"]


async def test_pages_and_navigation_per_role(deployment, login_as):
    for username in ("clinician_a", "depthead_a", "medaffairs_a", "ethics_a", "expert_a", "head_a", "qc_a"):
        client = await login_as(username)
        page = await client.get("/admission")
        assert page.status_code == 200 and "新技术新项目准入" in page.text
        assert "新技术准入" in page.text and "院内公示" in page.text
        assert (await client.get("/admission/inbox")).status_code == 200
        assert (await client.get("/admission/publicity")).status_code == 200
    ma = await login_as("medaffairs_a")
    assert "开放年度准入申报" in (await ma.get("/admission/rounds")).text
    assert (await (await login_as("clinician_a")).get("/admission/rounds")).status_code == 404
    assert (await (await login_as("regulator_city1")).get("/admission")).status_code == 404


async def test_inbox_count_in_navigation_follows_the_hand_over(deployment, login_as):
    project_id = await submitted_project(login_as, "导航待办计数")
    depthead = await login_as("depthead_a")
    page = (await depthead.get("/")).text
    count = int(re.search(r'href="/admission"[^>]*>新技术准入 <span class="badge">(\d+)</span>', page).group(1))
    assert count >= 1
    inbox = (await depthead.get("/admission/inbox")).text
    assert f'data-project="{project_id}"' in inbox


async def test_draft_keeps_what_was_typed_and_htmx_validates_a_field_on_blur(deployment, login_as):
    clinician = await login_as("clinician_a")
    project_id = await create(clinician, "逐项校验")
    response = await clinician.post(f"/admission/projects/{project_id}/validate?field=significance",
                                    data={"significance": "太短"}, headers={"hx-request": "true"})
    assert response.status_code == 200
    assert 'id="err-significance"' in response.text and "至少 10 字" in response.text and "HOSP-8" in response.text
    response = await clinician.post(f"/admission/projects/{project_id}/validate?field=subject",
                                    data={"subject": "儿科"}, headers={"hx-request": "true"})
    assert "NAT-43" in response.text and "<html" not in response.text
    saved = await clinician.post(f"/admission/projects/{project_id}",
                                 data=form_data(valid_form(planned_start="明年"), action="save"))
    assert saved.status_code == 422 and "须为日期" in saved.text and 'value="明年"' in saved.text


@pytest.mark.rule("NAT-43")
async def test_failed_submission_shows_rule_next_to_field_and_loses_nothing(deployment, login_as):
    clinician = await login_as("clinician_a")
    project_id = await create(clinician, "提交失败保留内容")
    answers = valid_form(subject="儿科", indications="适应症：原发性高血压患者，药物控制不佳者。")
    response = await clinician.post(f"/admission/projects/{project_id}", data=form_data(answers, action="submit"))
    assert response.status_code == 422
    assert re.search(r'data-field="subject">[^<]*（NAT-43）', response.text)
    assert "适应症：原发性高血压患者，药物控制不佳者。" in response.text
    row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
    assert row["status"] == "draft" and row["form"]["indications"].startswith("适应症")


async def test_returned_application_is_edited_and_each_version_is_shown(deployment, login_as):
    project_id = await submitted_project(login_as, "退回修改HTTP")
    depthead = await login_as("depthead_a")
    returned = await depthead.post(f"/admission/projects/{project_id}/step", data={
        "action": "decide", "decision": "return", "reason": "请补充风险预案", "version": str(await version_of(project_id))})
    assert returned.status_code == 303
    clinician = await login_as("clinician_a")
    page = (await clinician.get(f"/admission/projects/{project_id}")).text
    assert "修改后重新提交" in page and "请补充风险预案" in page
    again = await clinician.post(f"/admission/projects/{project_id}", data=form_data(
        valid_form(risks="补充：术中出血的应急预案与转诊流程。"), action="submit"))
    assert again.status_code == 303
    page = (await depthead.get(f"/admission/projects/{project_id}")).text
    assert 'data-revision="1"' in page and 'data-revision="2"' in page and "补充：术中出血" in page


async def test_applicant_and_other_roles_cannot_act_and_other_hospitals_get_404(deployment, login_as):
    project_id = await submitted_project(login_as, "角色检查HTTP")
    data = {"action": "decide", "decision": "approve", "reason": "同意", "version": str(await version_of(project_id))}
    own = await (await login_as("clinician_a")).post(f"/admission/projects/{project_id}/step", data=data)
    assert own.status_code == 403 and "申请人不能审核自己的项目" in own.text
    head = await (await login_as("head_a")).post(f"/admission/projects/{project_id}/step", data=data)
    assert head.status_code == 403 and "不由您的角色办理" in head.text
    foreign = await (await login_as("medaffairs_b")).post(f"/admission/projects/{project_id}/step", data=data)
    assert foreign.status_code == 404
    assert (await (await login_as("clinician_b")).get(f"/admission/projects/{project_id}")).status_code == 404
    assert (await Project.select(Project.current_step).where(Project.id == project_id).first())["current_step"] \
        == "department"


async def test_two_reviewers_at_once_one_wins_the_other_sees_the_step_moved_on(deployment, login_as):
    project_id = await submitted_project(login_as, "并发HTTP")
    first, second = await login_as("depthead_a"), await login_as("depthead_a")
    version = str(await version_of(project_id))
    answers = await asyncio.gather(
        first.post(f"/admission/projects/{project_id}/step",
                   data={"action": "decide", "decision": "approve", "reason": "同意", "version": version}),
        second.post(f"/admission/projects/{project_id}/step",
                    data={"action": "decide", "decision": "reject", "reason": "不同意", "version": version}),
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [303, 409], codes
    loser = next(a for a in answers if a.status_code == 409)
    assert "流程已推进" in loser.text
    row = await Project.select().where(Project.id == project_id).first()
    assert (row["status"], row["current_step"]) in (("in_review", "ethics"), ("rejected", None))


async def test_attachments_checked_by_content_stored_by_hash_served_in_tenant_only(deployment, login_as, monkeypatch):
    from core.settings import get_settings
    from core.storage.tables import Attachment

    clinician = await login_as("clinician_a")
    project_id = await create(clinician, "附件")
    fake = await clinician.post(f"/admission/projects/{project_id}/attachments",
                                data={"kind": "evidence"}, files={"file": ("论文.pdf", b"MZ not a pdf", "application/pdf")})
    assert fake.status_code == 422 and "按文件内容识别" in fake.text
    ok = await clinician.post(f"/admission/projects/{project_id}/attachments",
                              data={"kind": "evidence"}, files={"file": ("截图.pdf", PNG, "application/pdf")})
    assert ok.status_code == 303
    row = await Attachment.select().where(Attachment.owner_id == project_id).first()
    assert row["content_type"] == "image/png"
    path = get_settings().storage_dir / row["sha256"][:2] / row["sha256"]
    assert path.read_bytes() == PNG and "static" not in str(path)
    monkeypatch.setenv("CLINTECH_MAX_UPLOAD_BYTES", "100")
    big = await clinician.post(f"/admission/projects/{project_id}/attachments",
                               data={"kind": "evidence"}, files={"file": ("大.pdf", PDF + b" " * 200, "application/pdf")})
    assert big.status_code == 422 and "文件过大" in big.text
    got = await clinician.get(f"/files/{row['id']}")
    assert got.status_code == 200 and got.content == PNG and got.headers["x-content-type-options"] == "nosniff"
    assert (await (await login_as("medaffairs_b")).get(f"/files/{row['id']}")).status_code == 404
    # A draft's files are its lead's only, like the draft.
    assert (await (await login_as("medaffairs_a")).get(f"/files/{row['id']}")).status_code == 404


async def test_application_form_prints_as_pdf(deployment, login_as):
    project_id = await submitted_project(login_as, "打印申请表")
    response = await (await login_as("medaffairs_a")).get(f"/admission/projects/{project_id}/pdf/form")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response.headers["content-type"] == "application/pdf"
    missing = await (await login_as("medaffairs_a")).get(f"/admission/projects/{project_id}/pdf/approval")
    assert missing.status_code == 404


async def test_medical_affairs_opens_and_closes_a_round_over_http(deployment, login_as):
    ma = await login_as("medaffairs_a")
    bad = await ma.post("/admission/rounds", data={"year": "2041", "opens_on": "2041-06-01", "closes_on": "2041-01-01"})
    assert bad.status_code == 422 and "HOSP-4" in bad.text
    assert (await ma.post("/admission/rounds", data={"year": "2041"})).status_code == 303
    round_row = next(r for r in await service.list_rounds(await actor("medaffairs_a")) if r["year"] == 2041)
    assert (round_row["opens_on"].isoformat(), round_row["closes_on"].isoformat()) == ("2041-01-01", "2041-06-30")
    assert (await ma.post(f"/admission/rounds/{round_row['id']}/close")).status_code == 303


@pytest.mark.rule("HOSP-21")
async def test_hosp21_a_split_committee_vote_ends_on_the_page_and_medical_affairs_has_no_bypass(deployment, login_as):
    """1 for, 1 against on a two-member committee: 未通过 with the tally, back to the lead,
    who may resubmit or withdraw; medical affairs' proceed is gone once a member voted."""
    import datetime as dt

    from core.accounts import service as accounts
    from core.accounts.schemas import SYSTEM, UserInput
    from core.testing import DEMO_PASSWORD

    suffix = dt.datetime.now().strftime("%H%M%S%f")
    second = await accounts.create_user(SYSTEM, UserInput(
        username=f"ethics_h_{suffix}", display_name="伦理委员丁", roles=["ethics"],
        institution=deployment["hospital_a"], password=DEMO_PASSWORD))
    try:
        project_id = await submitted_project(login_as, "伦理一比一HTTP")
        depthead = await login_as("depthead_a")
        response = await depthead.post(f"/admission/projects/{project_id}/step", data={
            "action": "decide", "decision": "approve", "reason": "同意", "version": str(await version_of(project_id))})
        assert response.status_code == 303
        ma = await login_as("medaffairs_a")
        assert 'id="proceed-form"' in (await ma.get(f"/admission/projects/{project_id}")).text
        first = await (await login_as("ethics_a")).post(f"/admission/projects/{project_id}/step",
                                                        data={"action": "vote", "vote": "approve"})
        assert first.status_code == 303
        assert 'id="proceed-form"' not in (await ma.get(f"/admission/projects/{project_id}")).text
        bypass = await ma.post(f"/admission/projects/{project_id}/step", data={
            "action": "proceed", "reason": "来不及", "version": str(await version_of(project_id))})
        assert bypass.status_code == 422 and "HOSP-21" in bypass.text
        last = await (await login_as(f"ethics_h_{suffix}")).post(f"/admission/projects/{project_id}/step", data={
            "action": "vote", "vote": "reject", "comment": "风险评估不充分"})
        assert last.status_code == 303
        page = (await (await login_as("clinician_a")).get(f"/admission/projects/{project_id}")).text
        outcome = re.search(r'id="outcome">(.*?)</p>', page, re.S).group(1)
        assert "同意 1、不同意 1、回避 0" in outcome and "HOSP-21" in outcome
        assert 'id="withdraw-form"' in page and "修改后重新提交" in page
        assert 'data-status="returned"' in page
    finally:
        user = await accounts.get_user(second)
        await accounts.update_user(SYSTEM, second, UserInput(
            username=user.username, display_name=user.display_name, roles=user.roles,
            institution=user.institution, active=False))
