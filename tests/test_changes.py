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
