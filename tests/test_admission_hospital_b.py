"""Another hospital's rules come from its own plugin: hospital B has no publicity step and
a two-level grade scale, hospital A keeps the default — with no change to core."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from core.admission import service
from core.admission.tables import Project
from core.errors import DomainError
from core.plugins import PluginHost
from tests.admission_helpers import actor, valid_form
from tests.fixtures import DEMO_PASSWORD, PortalClient
from tests.plugins import hospital_b_policy

TODAY = dt.date(2034, 3, 6)


@pytest.fixture
def b_host(deployment, monkeypatch):
    monkeypatch.setattr(hospital_b_policy, "INSTITUTIONS", {deployment["hospital_b"]})
    return PluginHost(("jilin", "hospital_default", "hospital_b_policy"),
                      extra={"hospital_b_policy": hospital_b_policy})


B_FORM = {"grade": "重点", "subject": "内科", "summary": "经导管介入治疗，适用于药物治疗无效者。",
          "evidence": [{"source": "某省人民医院", "summary": "已开展三年"}]}


async def start(hooks, username: str, form: dict) -> int:
    clinician = await actor(username)
    project_id = await service.create_project(clinician, hooks, service.NewProject(
        title=f"{username} 插件流程", path="temporary", outside_lists=True), TODAY)
    await service.save_draft(clinician, hooks, project_id, form, today=TODAY)
    await service.submit(clinician, hooks, project_id, today=TODAY)
    return project_id


@pytest.mark.rule("HOSP-1")
async def test_hook_grades_and_steps_of_hospital_b_differ_while_hospital_a_keeps_the_default(deployment, b_host):
    hooks = b_host.view()
    b_project = await start(hooks, "clinician_b", B_FORM)
    a_project = await start(hooks, "clinician_a", valid_form())
    b_row = await Project.select().where(Project.id == b_project).first().output(load_json=True)
    a_row = await Project.select().where(Project.id == a_project).first().output(load_json=True)
    assert [s["key"] for s in b_row["steps"]] == ["formal", "ethics", "argue", "approval", "university"]
    assert not any(s["kind"] == "publicity" for s in b_row["steps"])
    assert b_row["current_step"] == "formal" and a_row["current_step"] == "department"
    assert [s["kind"] for s in a_row["steps"]][2] == "panel"  # A: the default temporary path
    b_view = await service.project_view(await actor("medaffairs_b"), hooks, b_project)
    a_view = await service.project_view(await actor("medaffairs_a"), hooks, a_project)
    assert b_view.spec.title == "医院B新技术准入申请表" and a_view.spec.title == "临床新技术立项准入申请表"
    assert [g for g, _ in b_view.grades] == ["重点", "一般"]
    assert [g for g, _ in a_view.grades] == ["一级", "二级", "三级"]
    # B's medical affairs acts on B's first step; the default grade is no grade in B.
    await service.decide(await actor("medaffairs_b"), hooks, b_project, service.Decision(
        version=b_row["version"], decision="approve", reason="材料齐全"), TODAY)
    assert (await Project.select().where(Project.id == b_project).first())["current_step"] == "ethics"
    clinician = await actor("clinician_b")
    draft = await service.create_project(clinician, hooks, service.NewProject(
        title="B 三级", path="temporary", outside_lists=True), TODAY)
    await service.save_draft(clinician, hooks, draft, B_FORM | {"grade": "三级"}, today=TODAY)
    with pytest.raises(DomainError) as exc:
        await service.submit(clinician, hooks, draft, today=TODAY)
    assert "HOSP-1" in {p.rule for p in exc.value.problems}


async def test_hospital_b_form_page_shows_its_own_fields(deployment, b_host):
    from web.app import create_app

    app = create_app(b_host)
    hooks = b_host.view()
    b_project = await start(hooks, "clinician_b", B_FORM)
    async with PortalClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        await client.get("/login")
        assert (await client.post("/login", data={"username": "clinician_b", "password": DEMO_PASSWORD})
                ).status_code == 303
        page = (await client.get(f"/admission/projects/{b_project}")).text
        assert "医院B新技术准入申请表" in page and "技术简介与适应症" in page
        assert "院内公示一周" not in page and "分管院长审批" in page
