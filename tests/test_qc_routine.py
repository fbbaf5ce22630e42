"""HOSP-19: medical affairs' decision that a technology becomes routine updates the
hospital's own catalogue (院级常规技术目录), per institution, tenant-scoped and audited."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest

from core.audit.tables import AuditEvent
from core.catalog import service as catalog
from core.errors import Forbidden, NotFound
from core.qc import service as qc
from tests.admission_helpers import actor
from tests.case_helpers import admitted, release_obligations

DECIDED = dt.date(2027, 3, 10)


@pytest.fixture(scope="module")
async def routine_project(deployment):
    """A routine (outside every list) project of hospital A, admitted and summarised."""
    hooks = deployment["host"].view()
    title = f"常规转归测试{secrets.token_hex(3)}"
    project_id = await admitted(hooks, tech_class="routine", title=title)
    await qc.submit_summary(await actor("clinician_a"), hooks, project_id,
                            {k: "情况良好" for k, _ in qc.SUMMARY_FIELDS})
    yield {"hooks": hooks, "project": project_id, "title": title}
    await release_obligations()


@pytest.mark.rule("HOSP-19")
async def test_hosp19_routine_decision_enters_the_hospital_catalogue(deployment, routine_project, login_as):
    """HOSP-19: "routine" enters the technology in hospital A's catalogue (audited); the
    decision records the entry; hospital A's users see it on /catalog, hospital B's and
    regulators never do."""
    hooks, project_id, title = routine_project["hooks"], routine_project["project"], routine_project["title"]
    ma = await actor("medaffairs_a")
    await qc.decide_summary(ma, hooks, project_id, "routine", "安全有效，转为常规", today=DECIDED)
    summary = await qc.get_summary(ma, project_id)
    entries = {e["id"]: e for e in await catalog.hospital_routine(ma)}
    entry = entries[int(summary["catalog_entry"])]
    assert (entry["code"], entry["name"], entry["decided_on"], entry["project"]) == (
        f"P{project_id}", title, DECIDED, project_id)
    events = await AuditEvent.select(AuditEvent.action, AuditEvent.institution_id).where(
        (AuditEvent.record_type == "catalog_hospital_routine") & (AuditEvent.record_id == entry["id"]))
    assert [e["action"] for e in events] == ["catalog.hospital_routine"]
    assert events[0]["institution_id"] == deployment["hospital_a"]
    assert entry["id"] not in {e["id"] for e in await catalog.hospital_routine(await actor("medaffairs_b"))}
    assert await catalog.hospital_routine(await actor("regulator_province")) == []

    own = await (await login_as("clinician_a")).get("/catalog")
    assert own.status_code == 200 and "本院常规技术目录" in own.text and title in own.text
    for other in ("clinician_b", "regulator_city1"):
        page = await (await login_as(other)).get("/catalog")
        assert page.status_code == 200 and title not in page.text


@pytest.mark.rule("HOSP-19")
async def test_hosp19_add_hospital_routine_is_tenant_scoped_idempotent_and_medical_affairs_only(deployment):
    """HOSP-19: only medical affairs of the institution enters a routine technology; a
    foreign institution answers 404 as a missing one; the same code again keeps its
    first entry."""
    code = f"TR{secrets.token_hex(3).upper()}"
    a = deployment["hospital_a"]
    with pytest.raises(NotFound):
        await catalog.add_hospital_routine(await actor("medaffairs_b"), a, code=code, name="外院", decided_on=DECIDED)
    with pytest.raises(NotFound):
        await catalog.add_hospital_routine(await actor("medaffairs_a"), 987654321, code=code, name="无",
                                           decided_on=DECIDED)
    with pytest.raises(Forbidden):
        await catalog.add_hospital_routine(await actor("clinician_a"), a, code=code, name="医师", decided_on=DECIDED)
    ma = await actor("medaffairs_a")
    first = await catalog.add_hospital_routine(ma, a, code=code.lower(), name="测试常规技术", decided_on=DECIDED)
    again = await catalog.add_hospital_routine(ma, a, code=code, name="另一个名称", decided_on=DECIDED + dt.timedelta(1))
    assert first == again
    rows = [e for e in await catalog.hospital_routine(ma) if e["code"] == code]
    assert [(e["name"], e["decided_on"]) for e in rows] == [("测试常规技术", DECIDED)]
    assert not [e for e in await catalog.hospital_routine(await actor("medaffairs_b")) if e["code"] == code]
