"""Issue 11 point 10: the 工作台 is a to-do list for the person looking at it — each step,
vote and panel review waiting on them, with due dates where a rule sets one — and a task
clears when it is done; the audit feed has its own page (操作记录)."""

from __future__ import annotations

import re

import pytest

from core import clock
from core.accounts.schemas import SYSTEM
from core.admission import service
from core.admission.tables import Project
from core.dashboard import todo
from core.obligations import service as obligations
from core.obligations.service import DomainEvent
from core.obligations.tables import Obligation
from tests.admission_helpers import actor, valid_form, walk


def todo_rows(html: str) -> dict[str, str]:
    """data-task key → the row's text, from the dashboard's to-do table."""
    section = html.split('id="todo"', 1)[1].split("</section>", 1)[0]
    return {key: re.sub(r"<[^>]+>", " ", row) for key, row in
            re.findall(r'<tr data-task="([^"]+)"[^>]*>(.*?)</tr>', section, flags=re.S)}


async def submitted(hooks, title: str) -> int:
    clinician = await actor("clinician_a")
    project_id = await service.create_project(clinician, hooks, service.NewProject(
        title=title, path="temporary", outside_lists=True))
    await service.submit(clinician, hooks, project_id, valid_form())
    return project_id


@pytest.mark.rule("HOSP-4")
@pytest.mark.rule("HOSP-21")
async def test_each_step_shows_on_the_to_do_of_whoever_acts_and_clears_when_done(deployment, login_as):
    hooks = deployment["host"].view()
    project_id = await submitted(hooks, "待办测试项目甲")
    key = f"project-{project_id}"
    # The department head argues it first; nobody else has it on their list.
    assert key in todo_rows((await (await login_as("depthead_a")).get("/")).text)
    for other in ("ethics_a", "medaffairs_a", "expert_a", "clinician_b"):
        assert key not in todo_rows((await (await login_as(other)).get("/")).text), other
    assert "待办测试项目甲" in todo_rows((await (await login_as("depthead_a")).get("/")).text)[key]
    # Done: it leaves the department head's list and reaches the ethics committee.
    await walk(hooks, project_id, "ethics", clock.today())
    assert key not in todo_rows((await (await login_as("depthead_a")).get("/")).text)
    ethics = todo_rows((await (await login_as("ethics_a")).get("/")).text)
    assert key in ethics and "伦理审查表决" in ethics[key]
    # The vote cast, the ethics member has nothing left on this project.
    await service.vote(await actor("ethics_a"), hooks, project_id, service.Ballot(vote="approve"), clock.today())
    assert key not in todo_rows((await (await login_as("ethics_a")).get("/")).text)


@pytest.mark.rule("HOSP-9")
async def test_a_panel_review_waits_on_medical_affairs_then_on_the_experts(deployment, login_as):
    hooks = deployment["host"].view()
    today = clock.today()
    project_id = await submitted(hooks, "待办测试项目乙")
    row = await walk(hooks, project_id, "expert", today)  # the temporary path's panel step
    key = f"project-{project_id}"
    ma = todo_rows((await (await login_as("medaffairs_a")).get("/")).text)
    assert "组建专家组" in ma[key]
    expert = await actor("expert_a")
    await service.assemble_panel(await actor("medaffairs_a"), hooks, project_id, row["version"], [expert.id])
    assert "专家评分与表决" in todo_rows((await (await login_as("expert_a")).get("/")).text)[key]
    assert key not in todo_rows((await (await login_as("medaffairs_a")).get("/")).text)
    await Project.update({Project.status: "withdrawn"}).where(Project.id == project_id)


@pytest.mark.rule("JL-38")
async def test_an_obligation_is_on_the_to_do_with_its_due_date_until_it_is_done(deployment, login_as):
    hooks = deployment["host"].view()
    today = clock.today()
    [ob_id] = (await obligations.on_event(SYSTEM, hooks, DomainEvent(
        kind="discharge", occurred_on=today, institution_id=deployment["hospital_a"], subject_type="todo-test",
        subject_id=424242, technology_class="restricted", technology_code="G03", subject_label="待办测试病例")))[:1]
    ob = await Obligation.select().where(Obligation.id == ob_id).first()
    rows = todo_rows((await (await login_as("medaffairs_a")).get("/")).text)
    assert f"obligation-{ob_id}" in rows
    assert ob["due_on"].isoformat() in rows[f"obligation-{ob_id}"] and "JL-38" in rows[f"obligation-{ob_id}"]
    await obligations.waive(SYSTEM, ob_id, "测试完成")
    assert f"obligation-{ob_id}" not in todo_rows((await (await login_as("medaffairs_a")).get("/")).text)
    await Obligation.delete().where(Obligation.subject_type == "todo-test")


async def test_the_audit_feed_has_its_own_page_off_the_dashboard(deployment, login_as):
    ma = await login_as("medaffairs_a")
    home = (await ma.get("/")).text
    assert "最近操作" not in home and 'href="/activity"' in home
    page = await ma.get("/activity")
    assert page.status_code == 200 and 'id="activity"' in page.text
    for other in ("clinician_a", "regulator_city1"):
        assert (await (await login_as(other)).get("/activity")).status_code == 404


async def test_the_to_do_reads_the_institutions_work_in_one_query(deployment, monkeypatch):
    """The admission steps, votes, panels, QC reports and summaries of an institution come
    from one UNION query (the dashboard's query budget, issue 15)."""
    from core.db import engine

    seen: list[str] = []
    engine_class = type(engine())
    real = engine_class.run_querystring

    async def counting(self, querystring, *args, **kwargs):
        seen.append(str(querystring))
        return await real(self, querystring, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counting)
    try:
        await todo.institution_rows(deployment["hospital_a"])
    finally:
        monkeypatch.undo()
    assert len(seen) == 1 and seen[0].count("UNION ALL") == 4
