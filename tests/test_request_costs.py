"""Issue 15 (speed): what a request and a case batch cost in queries — counted, never timed.

* A batch of cases writes each table once: recording 12 cases runs as many queries as
  recording 2 (the rules, their messages and every check are those of ``test_cases``).
* The session query also reads the plugin switches, the holiday notices' signature and
  the unread count: a switch reaches the next request of every other session at once.
* An htmx partial of a page builds no navigation: fewer queries than the full page.
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.cases import service as cases
from core.cases.tables import CaseRecord
from core.db import count_queries
from core.obligations.tables import Obligation
from core.outbox.tables import Delivery
from tests.admission_helpers import actor
from tests.case_helpers import admitted, case_input, release_obligations

TODAY = dt.date(2026, 5, 20)


@pytest.fixture(scope="module")
async def project(deployment):
    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=31)
    yield hooks, project_id
    await release_obligations()


async def _record(hooks, project_id: int, n: int) -> tuple[int, list]:
    clinician = await actor("clinician_a")
    with count_queries() as counted:
        results = await cases.record_cases(clinician, hooks, [case_input(project_id) for _ in range(n)], today=TODAY)
    return counted[0], results


@pytest.mark.rule("NAT-37")
async def test_nat37_a_batch_writes_each_table_once_whatever_its_size(project):
    hooks, project_id = project
    await _record(hooks, project_id, 1)  # the first case opens the filing (NAT-11); later ones add to it
    small, _ = await _record(hooks, project_id, 2)
    large, results = await _record(hooks, project_id, 12)
    assert large == small, (small, large)
    # … and every case is stored with its reporting obligation and its delivery, as one by one.
    assert [r.status for r in results] == ["created"] * 12
    assert all(r.report_rule for r in results)
    for r in results:
        row = await CaseRecord.select(CaseRecord.report_rule, CaseRecord.report_due_on, CaseRecord.delivery_id).where(
            CaseRecord.id == r.id).first()
        assert (row["report_rule"], row["report_due_on"], row["delivery_id"]) == (
            r.report_rule, r.report_due_on, r.delivery_id)
        assert await Obligation.count().where((Obligation.subject_type == "case") & (Obligation.subject_id == r.id)
                                              & (Obligation.kind == "case_report")) == 1
        assert r.delivery_ids and await Delivery.count().where(
            (Delivery.subject_type == "case") & (Delivery.subject_id == r.id)) == len(r.delivery_ids)


async def test_a_plugin_switch_reaches_every_session_at_its_next_request(login_as):
    admin = await login_as("admin")
    regulator = await login_as("regulator_province")
    assert (await regulator.get("/")).status_code == 200  # the regulator's process state is warm
    try:
        assert (await admin.post("/admin/plugins/jilin", data={"enabled": "0"})).status_code in (200, 303)
        page = (await admin.get("/admin/plugins")).text
        assert "jilin" in page
        from core.system import service as system

        assert "jilin" in (await system.deployment_state()).disabled
        from core.accounts import service as accounts

        token = regulator.cookies.get("clintech_session")
        _, read = await accounts.session_with_state(token)
        assert read is not None and "jilin" in read.deployment.disabled
    finally:
        await admin.post("/admin/plugins/jilin", data={"enabled": "1"})
    _, read = await accounts.session_with_state(token)
    assert "jilin" not in read.deployment.disabled


async def test_an_htmx_partial_builds_no_navigation(login_as):
    client = await login_as("medaffairs_a")
    with count_queries() as full:
        page = await client.get("/obligations")
    with count_queries() as partial:
        swapped = await client.get("/obligations", headers={"hx-request": "true"})
    assert page.status_code == swapped.status_code == 200
    assert 'class="side"' in page.text and 'class="side"' not in swapped.text
    assert partial[0] < full[0], (partial[0], full[0])
    # A history restore swaps the whole page: it gets the navigation.
    restored = await client.get("/obligations", headers={"hx-request": "true", "hx-history-restore-request": "true"})
    assert 'class="side"' in restored.text
