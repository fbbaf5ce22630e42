"""core.changes: one helper for a state change — the optimistic lock, the write, the
audit event and the notices commit together, or nothing does."""

from __future__ import annotations

import pytest

from core.admission import service
from core.admission.schemas import ProjectStatus
from core.admission.tables import Project
from core.audit.tables import AuditEvent
from core.errors import Conflict
from core.inbox.tables import InboxMessage
from tests.admission_helpers import actor
from tests.test_admission_service import new_project


@pytest.fixture
def hooks(deployment):
    return deployment["host"].view()


async def test_a_change_at_the_read_version_writes_audits_and_notifies_together(hooks):
    project_id = await new_project(hooks, title="状态变更助手")
    lead = await actor("clinician_a")
    row = await service.get_project(lead, project_id)
    audits = await AuditEvent.count().where(AuditEvent.record_id == project_id)
    async with service.PROJECT.change(lead, row, row["version"], "withdraw") as change:
        change.values[Project.status] = ProjectStatus.withdrawn
        change.notify([row["lead"]], "已撤回")
    after = await Project.select(Project.status, Project.version).where(Project.id == project_id).first()
    assert after == {"status": "withdrawn", "version": row["version"] + 1}
    event = await AuditEvent.select().where(AuditEvent.record_id == project_id).order_by(
        AuditEvent.id, ascending=False).first().output(load_json=True)
    assert await AuditEvent.count().where(AuditEvent.record_id == project_id) == audits + 1
    assert event["action"] == "admission.withdraw" and event["after"]["status"] == "withdrawn"
    message = await InboxMessage.select().where(InboxMessage.link == f"/admission/projects/{project_id}").order_by(
        InboxMessage.id, ascending=False).first()
    assert message["title"] == "【新技术准入】状态变更助手：已撤回" and message["user"] == row["lead"]


async def test_a_change_at_a_stale_version_is_a_conflict_and_changes_nothing(hooks):
    project_id = await new_project(hooks, title="过期版本")
    lead = await actor("clinician_a")
    row = await service.get_project(lead, project_id)
    audits = await AuditEvent.count().where(AuditEvent.record_id == project_id)
    with pytest.raises(Conflict) as exc:
        async with service.PROJECT.change(lead, row, row["version"] - 1, "withdraw") as change:
            change.values[Project.status] = ProjectStatus.withdrawn
    assert "刷新" in exc.value.problems[0].message
    assert (await Project.select(Project.status).where(Project.id == project_id).first())["status"] == "draft"
    assert await AuditEvent.count().where(AuditEvent.record_id == project_id) == audits


async def test_a_failure_inside_the_change_rolls_back_the_lock_and_the_notices(hooks):
    project_id = await new_project(hooks, title="中途失败")
    lead = await actor("clinician_a")
    row = await service.get_project(lead, project_id)
    with pytest.raises(RuntimeError):
        async with service.PROJECT.change(lead, row, row["version"], "withdraw") as change:
            change.notify([row["lead"]], "不应送达")
            raise RuntimeError("boom")
    assert (await Project.select(Project.version).where(Project.id == project_id).first())["version"] == row["version"]
    assert not await InboxMessage.exists().where(InboxMessage.title.like("%不应送达%"))


async def test_creating_a_project_inserts_and_audits_through_the_helper(hooks):
    """Admission's create goes through ``Versioned.create``: the audit event has no "before"."""
    project_id = await new_project(hooks, title="新建经助手")
    event = await AuditEvent.select().where((AuditEvent.record_id == project_id)
                                            & (AuditEvent.action == "admission.create")).first().output(load_json=True)
    assert event["before"] is None and event["after"]["title"] == "新建经助手"
    assert event["after"]["status"] == "draft" and event["institution_id"] is not None


async def test_a_failure_inside_create_leaves_no_record(hooks):
    lead = await actor("clinician_a")
    before = await Project.count()
    with pytest.raises(RuntimeError):
        async with service.PROJECT.create(lead, {"institution": lead.institution_id, "department": lead.department_id,
                                                 "lead": lead.id, "title": "不应留下", "path": "round"}, "create"):
            raise RuntimeError("boom")
    assert await Project.count() == before
    assert not await Project.exists().where(Project.title == "不应留下")


async def test_saving_a_draft_moves_its_version_so_a_stale_reader_conflicts(hooks):
    project_id = await new_project(hooks, title="草稿版本")
    lead = await actor("clinician_a")
    row = await service.get_project(lead, project_id)
    await service.save_draft(lead, hooks, project_id, dict(row["form"]), title="草稿版本（改）")
    event = await AuditEvent.select().where(AuditEvent.record_id == project_id).order_by(
        AuditEvent.id, ascending=False).first().output(load_json=True)
    assert event["action"] == "admission.save_draft" and set(event["after"]) == {"form", "path"}
    with pytest.raises(Conflict):
        await service.withdraw(lead, project_id, row["version"])


async def test_submitting_is_taken_only_while_still_editable(hooks):
    """submit's lock carries ``status in (draft, returned)``: a project someone moved on in
    between (here: withdrawn behind the submitter's back) is a conflict, not a second move."""
    project_id = await new_project(hooks, title="并发提交")
    lead = await actor("clinician_a")
    row = await service.get_project(lead, project_id)
    await Project.update({Project.status: ProjectStatus.withdrawn}).where(Project.id == project_id)
    audits = await AuditEvent.count().where(AuditEvent.record_id == project_id)
    with pytest.raises(Conflict):
        async with service.PROJECT.change(lead, row, None, None,
                                          where=Project.status.is_in(list(service.EDITABLE_STATUSES))) as change:
            change.action = "submit"
    assert await AuditEvent.count().where(AuditEvent.record_id == project_id) == audits
