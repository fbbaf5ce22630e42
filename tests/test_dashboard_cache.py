"""Issue 15: a hospital's dashboard figures are kept in the process while the institution's
change counter (``institution_change``, raised by database triggers in the transaction of
every write to what the dashboard reads) stands — and never outlive a write, whichever code
writes: a row written straight to the database shows on the next request."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest

from core import clock
from core.admission import service
from core.dashboard import todo
from core.dashboard.tables import InstitutionChange
from core.db import engine, is_sqlite
from core.obligations.tables import Obligation
from tests.admission_helpers import actor, walk
from tests.test_dashboard_todo import submitted, todo_rows

MIGRATION = importlib.import_module("core.piccolo_migrations.clintech_2026_12_05t23_20_25_288744")


async def counter(institution: int) -> int:
    row = await InstitutionChange.select(InstitutionChange.version).where(
        InstitutionChange.institution == institution).first()
    return row["version"] if row else 0


async def test_every_watched_table_has_its_three_triggers(deployment):
    if is_sqlite():
        rows = await InstitutionChange.raw("SELECT tbl_name AS t, name AS n FROM sqlite_master "
                                           "WHERE type = 'trigger' AND name LIKE 'institution_change_%'")
    else:
        rows = await InstitutionChange.raw("SELECT event_object_table AS t, trigger_name AS n FROM "
                                           "information_schema.triggers WHERE trigger_name LIKE 'institution_change_%'")
    found = {(r["t"], r["n"]) for r in rows}
    for table in MIGRATION.WATCHED:
        for event in ("insert", "update", "delete"):
            assert (table, f"institution_change_{table}_{event}") in found


async def test_writes_raise_their_institutions_counter_and_no_other(deployment):
    hooks = deployment["host"].view()
    a, b = deployment["hospital_a"], deployment["hospital_b"]
    before_a, before_b = await counter(a), await counter(b)
    project_id = await submitted(hooks, "计数器测试项目")  # a project of hospital A
    assert await counter(a) > before_a and await counter(b) == before_b
    # A vote names no institution: its project's moves.
    await walk(hooks, project_id, "ethics", clock.today())
    moved = await counter(a)
    await service.vote(await actor("ethics_a"), hooks, project_id, service.Ballot(vote="approve"), clock.today())
    assert await counter(a) > moved and await counter(b) == before_b
    # Written straight to the database (no service), updated, deleted: each moves it.
    for sql in ("UPDATE admission_project SET title = title WHERE id = {id}",
                "UPDATE admission_vote SET comment = comment WHERE project = {id}",
                "DELETE FROM admission_vote WHERE project = {id}"):
        moved = await counter(a)
        await engine().run_ddl(sql.format(id=project_id))
        assert await counter(a) > moved, sql
    # Several rows of one institution in one statement (PostgreSQL: one trigger call).
    moved = await counter(a)
    today = clock.today()
    await Obligation.insert(*(Obligation(
        dedupe_key=f"kept:many:{n}", rule_id="TEST-KEPT", kind="test_kept", title="批量写入", institution=a,
        subject_type="institution", subject_id=a, event_kind="test", event_on=today, due_on=today) for n in range(3)))
    assert await counter(a) > moved
    # A user moved from A to B moves both.
    user = (await actor("clinician_a")).id
    moved_a, moved_b = await counter(a), await counter(b)
    await engine().run_ddl(f"UPDATE app_user SET institution = {b} WHERE id = {user}")
    assert await counter(a) > moved_a and await counter(b) > moved_b
    await engine().run_ddl(f"UPDATE app_user SET institution = {a} WHERE id = {user}")


async def test_a_row_written_straight_to_the_database_shows_on_the_next_request(deployment, login_as):
    """The dashboard read twice (the second from what the process kept), then an obligation
    inserted and closed by plain SQL: the next page shows it, then not."""
    client = await login_as("medaffairs_a")
    first = (await client.get("/")).text
    again = (await client.get("/")).text
    assert todo_rows(again) == todo_rows(first)
    assert any(k[0] == deployment["hospital_a"] for k in todo.KEPT)  # the second read was kept
    today = clock.today()
    rows = await Obligation.insert(Obligation(
        dedupe_key="kept:test:1", rule_id="TEST-KEPT", kind="test_kept", title="直接写入的时限事项",
        role="medical_affairs", institution=deployment["hospital_a"], subject_type="institution",
        subject_id=deployment["hospital_a"], event_kind="test", event_on=today,
        due_on=today + dt.timedelta(days=3))).returning(Obligation.id)
    key = f"obligation-{rows[0]['id']}"
    shown = todo_rows((await client.get("/")).text)
    assert key in shown and "直接写入的时限事项" in shown[key]
    await engine().run_ddl(f"UPDATE obligation SET status = 'done', done_on = '{today.isoformat()}' "
                           f"WHERE id = {rows[0]['id']}")
    assert key not in todo_rows((await client.get("/")).text)


@pytest.mark.rule("HOSP-4")
async def test_what_was_kept_reads_as_a_fresh_page(deployment, login_as):
    """Every hospital role's dashboard: the page from what was kept equals the page read
    with nothing kept."""
    hooks = deployment["host"].view()
    await submitted(hooks, "计数器比较项目")
    for username in ("medaffairs_a", "depthead_a", "clinician_a", "head_a", "qc_a", "ethics_a", "expert_a"):
        client = await login_as(username)
        await client.get("/")
        kept = todo_rows((await client.get("/")).text)
        todo.KEPT.clear()
        assert todo_rows((await client.get("/")).text) == kept, username
