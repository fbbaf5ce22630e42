"""Helpers for the admission tests: actors, a valid application, walking the steps."""

from __future__ import annotations

import datetime as dt

from core.accounts.schemas import Actor
from core.accounts.tables import User
from tests.fixtures import per_database

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def actor(username: str) -> Actor:
    row = await User.select(User.id, User.username, User.display_name, User.roles, User.institution,
                            User.department, User.region, User.region.path, User.region.name).where(
        User.username == username).first().output(load_json=True)
    return Actor(id=row["id"], username=row["username"], display_name=row["display_name"],
                 roles=tuple(row["roles"]), institution_id=row["institution"], department_id=row["department"],
                 region_id=row["region"], region_path=row["region.path"], region_name=row["region.name"])


def valid_form(**overrides) -> dict:
    text = "这是一段足够长的说明文字，用于测试申请表。"
    form = {
        "grade": "三级", "subject": "内科", "planned_start": "2031-05-01",
        "status_home_abroad": text, "significance": text, "indications": text, "contraindications": text,
        "efficacy": text, "route": text, "capacity": text, "risks": text,
        "evidence": [{"kind": "外单位开展", "source": "某大学附属医院", "summary": "已开展 200 例，疗效确切"}],
        "team": [{"name": "张医生", "title": "主治医师", "duty": "项目负责人", "scope": "内科"}],
        "qc_officer": "王质控",
        "qc_indicators": [{"name": "并发症发生率", "target": "≤2%", "method": "按月统计"}],
        "products": [{"name": "射频消融导管", "kind": "器械", "approval_no": "国械注准20203010001",
                      "certificates": "齐全", "approved": "是"}],
    }
    form.update(overrides)
    return form


async def technology_id(hooks, tech_class: str, on: dt.date | None = None) -> int:
    """A catalogue technology of ``tech_class`` current on ``on``."""
    from core.catalog import service as catalog

    await catalog.ensure_synced(hooks.host)
    found = await catalog.choices(hooks, classes=(tech_class,), on=on)
    return found[0].id


async def walk(hooks, project_id: int, until: str, today: dt.date) -> dict:
    """Drive a submitted project through the default steps until the step ``until`` is current."""
    from core.admission import service
    from core.admission.tables import Project

    considerations = {"planned": "已梳理", "cultivate": "拟培育", "equipment": "无需新购", "fees": "无新增收费"}
    for _ in range(12):
        row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
        step = row["current_step"]
        if step == until or step is None:
            return row
        steps = {s["key"]: s for s in row["steps"]}
        kind = steps[step]["kind"]
        v = row["version"]
        if kind == "argumentation":
            await service.decide(await actor("depthead_a"), hooks, project_id,
                                 service.Decision(version=v, decision="approve", reason="同意",
                                                  considerations=considerations), today)
        elif kind == "review" and steps[step]["role"] == "dept_head":
            await service.decide(await actor("depthead_a"), hooks, project_id,
                                 service.Decision(version=v, decision="approve", reason="同意"), today)
        elif kind == "ethics":
            await service.vote(await actor("ethics_a"), hooks, project_id, service.Ballot(vote="approve"), today)
        elif kind == "review":
            await service.decide(await actor("medaffairs_a"), hooks, project_id,
                                 service.Decision(version=v, decision="approve", reason="材料齐全，同意"), today)
        elif kind == "panel":
            expert = await actor("expert_a")
            await service.assemble_panel(await actor("medaffairs_a"), hooks, project_id, v, [expert.id])
            await service.vote(expert, hooks, project_id, service.Ballot(
                vote="approve", score="88", scores={"qualification": "90", "plan": "85", "qc": "86"}), today)
            row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
            await service.decide(await actor("medaffairs_a"), hooks, project_id,
                                 service.Decision(version=row["version"], decision="approve", reason="专家组同意"), today)
        elif kind == "publicity":
            await service.close_publicity(await actor("medaffairs_a"), hooks, project_id, v,
                                          row["step_started_on"] + dt.timedelta(days=10))
        elif kind == "approval":
            role = steps[step]["role"]
            who = "head_a" if role == "hospital_head" else "medaffairs_a"
            await service.decide(await actor(who), hooks, project_id,
                                 service.Decision(version=v, decision="approve", reason="同意"), today)
        elif kind == "document":
            await service.issue_document(await actor("medaffairs_a"), hooks, project_id, v,
                                         f"院准字〔2031〕{project_id}号", today)
        elif kind == "filing":
            await service.file_with_university(await actor("medaffairs_a"), hooks, project_id, v, today)
    raise AssertionError("walk did not reach the step")


async def admit_temporary(hooks, project_id: int, users: dict[str, str], today: dt.date) -> int:
    """Approve a submitted temporary-path project (HOSP-12) at every step, as ``users``
    (role → username) would, until it is admitted."""
    from core.admission import service
    from core.admission.tables import Project

    for _ in range(12):
        row = await Project.select().where(Project.id == project_id).first().output(load_json=True)
        if row["status"] == "admitted":
            return project_id
        steps = {s["key"]: s for s in row["steps"]}
        step = steps[row["current_step"]]
        v = row["version"]
        who = await actor(users[step["role"]])
        if step["kind"] in ("review", "approval", "argumentation"):
            await service.decide(who, hooks, project_id, service.Decision(version=v, decision="approve",
                                                                          reason="同意"), today)
        elif step["kind"] == "ethics":
            await service.vote(await actor(users["ethics"]), hooks, project_id, service.Ballot(vote="approve"), today)
        elif step["kind"] == "panel":
            expert = await actor(users["expert"])
            await service.assemble_panel(await actor(users["medical_affairs"]), hooks, project_id, v, [expert.id])
            await service.vote(expert, hooks, project_id, service.Ballot(
                vote="approve", score="88", scores={"qualification": "90", "plan": "85", "qc": "86"}), today)
            row = await Project.select().where(Project.id == project_id).first()
            await service.decide(await actor(users["medical_affairs"]), hooks, project_id,
                                 service.Decision(version=row["version"], decision="approve", reason="同意"), today)
        else:
            raise AssertionError(f"unexpected step {step}")
    raise AssertionError("project was not admitted")


# ---------------------------------------------------------------- tenancy matrix factories

_records: dict[tuple[str, int], dict] = per_database({})


async def _project_of(dep: dict, institution_id: int) -> int:
    """A submitted temporary-path project of the institution, made once per module (each has its own database)."""
    key = ("project", institution_id)
    if key not in _records:
        from core.admission import service

        username = "clinician_a" if institution_id == dep["hospital_a"] else "clinician_b"
        hooks = dep["host"].view()
        clinician = await actor(username)
        project_id = await service.create_project(
            clinician, hooks, service.NewProject(title=f"租户隔离测试项目{institution_id}", path="temporary",
                                                 outside_lists=True))
        attachment = await service.attach(clinician, project_id, "佐证.png", PNG, "evidence")
        await service.submit(clinician, hooks, project_id, valid_form())
        _records[key] = {"project_id": project_id, "attachment_id": attachment}
    return _records[key]


async def project_route(dep: dict, institution_id: int) -> dict:
    return {"project_id": (await _project_of(dep, institution_id))["project_id"]}


async def project_pdf_route(dep: dict, institution_id: int) -> dict:
    return {"project_id": (await _project_of(dep, institution_id))["project_id"], "document": "form"}


async def attachment_route(dep: dict, institution_id: int) -> dict:
    return {"attachment_id": (await _project_of(dep, institution_id))["attachment_id"]}


async def round_route(dep: dict, institution_id: int) -> dict:
    """An open yearly round of the institution in a far year (nobody else uses it)."""
    key = ("round", institution_id)
    if key not in _records:
        from core.admission import service

        username = "medaffairs_a" if institution_id == dep["hospital_a"] else "medaffairs_b"
        year = 2090 + institution_id % 9
        existing = [r for r in await service.list_rounds(await actor(username)) if r["year"] == year
                    and r["status"] == "open"]
        round_id = existing[0]["id"] if existing else await service.open_round(await actor(username), year)
        _records[key] = {"round_id": round_id}
    return _records[key]
