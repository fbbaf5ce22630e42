"""The demo's technologies after admission (``clintech demo``): in hospital A, one restricted
technology stopped by the hospital (NAT-25 (2), its stop report queued to the licence
department) and one suspended by the province for its whole region — so a newcomer sees
each state. Idempotent; everything goes through the services, audited as the demo users.

Run by the CLI after ``core.demo.load`` (not part of the test kit's template database, so
no test's technology is stopped or suspended behind its back)."""

from __future__ import annotations

import datetime as dt

from core import clock
from core.accounts.schemas import Actor
from core.accounts.tables import User
from core.admission.tables import Project
from core.errors import DomainError
from core.lifecycle import service
from core.lifecycle.tables import RegionSuspension
from core.plugins import HookView
from core.tenancy.tables import Region

STOPPED = "演示：已停止的限制类技术"
SUSPENDED = "演示：被辖区暂停的限制类技术"
TEXT = "演示数据：本段说明用于展示申请表的填写内容，实际申请时按项目情况填写。"


async def _actor(username: str) -> Actor:
    row = await User.select(User.id, User.username, User.display_name, User.roles, User.institution,
                            User.department, User.region).where(User.username == username).first().output(
        load_json=True)
    region = await Region.select().where(Region.id == row["region"]).first() if row["region"] else None
    return Actor(id=row["id"], username=row["username"], display_name=row["display_name"], roles=tuple(row["roles"]),
                 institution_id=row["institution"], department_id=row["department"],
                 region_id=region["id"] if region else None, region_path=region["path"] if region else None,
                 region_name=region["name"] if region else None)


def _form() -> dict:
    return {"grade": "三级", "subject": "内科", "planned_start": (clock.today() + dt.timedelta(days=30)).isoformat(),
            "status_home_abroad": TEXT, "significance": TEXT, "indications": TEXT, "contraindications": TEXT,
            "efficacy": TEXT, "route": TEXT, "capacity": TEXT, "risks": TEXT,
            "evidence": [{"kind": "外单位开展", "source": "省内某三甲医院", "summary": "已开展 200 例，疗效确切"}],
            "team": [{"name": "张医生", "title": "主治医师", "duty": "项目负责人", "scope": "内科"}],
            "qc_officer": "王质控", "qc_indicators": [{"name": "并发症发生率", "target": "≤2%", "method": "按月统计"}],
            "products": []}


async def _admitted(hooks: HookView, title: str, index: int, today: dt.date) -> int:
    """A restricted project of hospital A admitted through the temporary path (HOSP-12),
    every step decided by the demo user of its role."""
    from core.admission import service as admission
    from core.catalog import service as catalog

    found = await Project.select(Project.id, Project.status).where(Project.title == title).first()
    if found is not None:
        return found["id"]
    users = {"clinician": "clinician_a", "dept_head": "depthead_a", "ethics": "ethics_a", "expert": "expert_a",
             "medical_affairs": "medaffairs_a", "hospital_head": "head_a"}
    clinician = await _actor("clinician_a")
    await catalog.ensure_synced(hooks.host)
    choices = await catalog.choices(hooks, classes=("restricted",), on=today)
    project_id = await admission.create_project(clinician, hooks, admission.NewProject(
        title=title, path="temporary", technology_id=choices[index % len(choices)].id), today)
    await admission.save_draft(clinician, hooks, project_id, _form(), today=today)
    await admission.submit(clinician, hooks, project_id, today=today)
    for _ in range(12):
        row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
        if row["status"] == "admitted":
            break
        step = {s["key"]: s for s in row["steps"]}[row["current_step"]]
        who = await _actor(users[step["role"]])
        if step["kind"] == "ethics":
            await admission.vote(await _actor("ethics_a"), hooks, project_id, admission.Ballot(vote="approve"), today)
        elif step["kind"] == "panel":
            expert = await _actor("expert_a")
            await admission.assemble_panel(await _actor("medaffairs_a"), hooks, project_id, row["version"],
                                           [expert.id])
            await admission.vote(expert, hooks, project_id, admission.Ballot(
                vote="approve", score="88", scores={"qualification": "90", "plan": "85", "qc": "86"}), today)
            row = await Project.select().where(Project.id == project_id).first()
            await admission.decide(await _actor("medaffairs_a"), hooks, project_id, admission.Decision(
                version=row["version"], decision="approve", reason="同意"), today)
        else:
            await admission.decide(who, hooks, project_id, admission.Decision(
                version=row["version"], decision="approve", reason="同意"), today)
    return project_id


async def load(hooks: HookView) -> list[str]:
    """Create the stopped and the suspended technology if missing; returns what it says
    about them (one line each), or why it could not."""
    today = clock.today()
    lines = []
    try:
        stopped = await _admitted(hooks, STOPPED, 1, today)
        suspended = await _admitted(hooks, SUSPENDED, 2, today)
    except (DomainError, KeyError, IndexError) as exc:
        return [f"未能创建技术使用状态演示数据（本部署的准入流程与演示不符）：{exc}"]
    ma = await _actor("medaffairs_a")
    rows = {r["id"]: r for r in await Project.select(Project.id, Project.technology_code, Project.institution).where(
        Project.id.is_in([stopped, suspended]))}
    stop_key = service.technology_key(rows[stopped]["technology_code"], stopped)
    if (await service.state(rows[stopped]["institution"], stop_key)).in_use:
        await service.stop(ma, hooks, technology_key=stop_key, trigger="conditions",
                           reason="技术负责人调离，现有人员不能满足该技术临床应用管理规范要求",
                           committee="医疗技术临床应用管理委员会（周院长、赵医务等7人）", meeting_on=today,
                           document="示范医院医发〔2026〕1号", today=today)
    lines.append(f"已停止：{stop_key}（医院A，NAT-25（二），停止报告已报发证部门）")
    key = service.technology_key(rows[suspended]["technology_code"], suspended)
    if not await RegionSuspension.exists().where(RegionSuspension.technology_key == key):
        await service.suspend_region(await _actor("regulator_province"), hooks, technology_key=key,
                                     reason="接报该技术临床应用效果不确切，全省核查期间暂停",
                                     document="演示省卫健委医政发〔2026〕1号", today=today)
    lines.append(f"辖区暂停：{key}（省卫生健康行政部门暂停，医院A据此暂停）")
    return lines
