"""``clintech demo`` shows a stopped technology and a suspended one (issue 10 "Done means"),
created through the services, idempotently."""

from __future__ import annotations

import pytest

from core.admission.tables import Project
from core.lifecycle import demo
from core.lifecycle import service as lifecycle
from core.lifecycle.tables import RegionSuspension, UseEvent


@pytest.mark.rule("NAT-25")
@pytest.mark.rule("JL-26")
async def test_demo_contains_a_stopped_and_a_suspended_technology(deployment):
    hooks = deployment["host"].view()
    lines = await demo.load(hooks)
    assert len(lines) == 2 and lines[0].startswith("已停止") and lines[1].startswith("辖区暂停"), lines
    assert await demo.load(hooks) == lines  # idempotent
    rows = await Project.select(Project.id, Project.title, Project.technology_code, Project.institution).where(
        Project.title.is_in([demo.STOPPED, demo.SUSPENDED]))
    assert len(rows) == 2
    found = {r["title"]: await lifecycle.state(r["institution"], lifecycle.technology_key(r["technology_code"], r["id"]))
             for r in rows}
    assert found[demo.STOPPED].status == "stopped" and found[demo.SUSPENDED].status == "suspended"
    assert found[demo.SUSPENDED].by == "region"
    assert await RegionSuspension.count() == 1
    assert await UseEvent.count().where(UseEvent.action == "stop") == 1
