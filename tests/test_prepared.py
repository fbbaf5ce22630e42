"""Issue 15 (speed): the reads a batch of cases makes are built once (``core.db.Prepared``,
now with list values for ``is_in``), and a connection goes back to the pool without
asyncpg's session reset. Compared with piccolo's own query and probed, never timed.

* A prepared query with list values reads what piccolo's query built with those values
  reads, for lists of every length asked, in any order of asking (each length compiled
  once, the compiled shapes bounded).
* A value that does not reach the SQL is refused when the query is built.
* The reads of a batch of cases that were moved to prepared queries read what they read
  before (lifecycle, obligations, grading, cases).
* PostgreSQL: a connection released inside an open transaction comes back out of it
  (asyncpg's own rollback still runs); no code of the portal sets session state (advisory
  session locks, ``LISTEN``, ``SET`` outside a transaction, held cursors) that the skipped
  reset would have cleared.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from core.accounts.tables import User
from core.db import Prepared, engine, is_sqlite
from core.tenancy.tables import Institution

ROOT = Path(__file__).resolve().parent.parent


def _built(ids: list[int], names: list[str]):
    return User.select(User.id, User.username, User.institution.name).where(
        User.id.is_in(ids) & User.username.not_in(names)).order_by(User.id)


async def test_a_prepared_query_with_lists_reads_what_piccolos_query_reads(deployment):
    users = await User.select(User.id, User.username).order_by(User.id)
    every = [r["id"] for r in users]
    assert len(every) >= 3
    prepared = Prepared(_built, 2, lists=(0, 1))
    asked = [(every[:1], ["-"]), (every[:3], ["-"]), (every[:2], ["-", "x"]), (every[:1], ["-"]),
             (every[1:3] + [-5], ["-"]), (every[:3], [users[1]["username"]])]
    for ids, names in asked:
        ours = await prepared.run(ids, names)
        assert ours == await _built(ids, names), (ids, names)
    assert ours and every[1] not in [r["id"] for r in ours]  # the excluded name did reach the SQL
    # One compiled shape per combination of lengths: (1, 1), (3, 1), (2, 2).
    assert sorted(lengths for _, lengths in prepared._compiled) == [(1, 1), (2, 2), (3, 1)]


async def test_the_compiled_shapes_are_bounded(deployment):
    prepared = Prepared(lambda ids: Institution.select(Institution.id).where(Institution.id.is_in(ids)), 1,
                        lists=(0,))
    for n in range(1, Prepared.SHAPES + 6):
        assert await prepared.run(list(range(-n, 0))) == []
    assert 0 < len(prepared._compiled) <= Prepared.SHAPES


async def test_a_value_that_does_not_reach_the_sql_is_refused(deployment):
    prepared = Prepared(lambda ids: Institution.select(Institution.id).where(Institution.id.is_in([1])), 1,
                        lists=(0,))
    with pytest.raises(ValueError, match="do not reach the SQL"):
        await prepared.run([1, 2])


@pytest.fixture(scope="module")
async def recorded(deployment):
    """An admitted restricted technology with a recorded case (its filing, obligations)."""
    from core.cases import service as cases
    from tests.admission_helpers import actor
    from tests.case_helpers import admitted, case_input, release_obligations

    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=31)
    await cases.record_cases(await actor("clinician_a"), hooks, [case_input(project_id)], today=dt.date(2026, 5, 20))
    yield project_id
    await release_obligations()


async def test_the_batch_reads_moved_to_prepared_queries_read_what_they_read_before(recorded):
    """Each read of a batch of cases that is now prepared, run prepared and as the piccolo
    query its ``build`` makes with the same values, on the demo deployment's institutions,
    projects, technologies and obligations."""
    from core.admission.tables import Project
    from core.cases import service as cases
    from core.grading import service as grading
    from core.lifecycle import service as lifecycle
    from core.obligations import service as obligations
    from core.obligations.tables import Obligation
    from core.people import service as people

    institutions = [r["id"] for r in await Institution.select(Institution.id).order_by(Institution.id)]
    projects = await Project.select(Project.id, Project.technology_code).where(Project.status == "admitted")
    codes = sorted({p["technology_code"] for p in projects if p["technology_code"]})
    keys = [r["dedupe_key"] for r in await Obligation.select(Obligation.dedupe_key).limit(5)]
    assert institutions and projects and codes and keys
    asked = [(q, (i,)) for i in institutions for q in (cases._ADMITTED, cases._PHYSICIANS, grading._EDITIONS,
                                                        people._ANY_KEPT)]
    asked += [(lifecycle._REGION_PATHS, (institutions,)), (lifecycle._OWN_ROWS, (institutions,)),
              (lifecycle._OWN_ROWS, (institutions[:1],)), (lifecycle._SUSPENSIONS, (codes,)),
              (lifecycle._PAST_EVENTS, (institutions, codes)),
              (lifecycle._PROJECTS, (institutions, codes, [p["id"] for p in projects])),
              (obligations._EXISTING, (keys,)), (obligations._EXISTING, (keys[:1] + ["no-such-key"],)),
              (obligations._BARS, (dt.date(2100, 1, 1), institutions, codes, ["NAT-11", "JL-12"])),
              (cases._EXISTING, (institutions[0], [f"{institutions[0]}:no-such-case"])),
              (cases._AWAITING, ([p["id"] for p in projects],)), (cases._COUNTING, ([p["id"] for p in projects],)),
              (grading._LEVELS, ([1, 2, 3],))]
    for prepared, values in asked:
        assert await prepared.run(*values) == await prepared.build(*values), (prepared.build, values)
    assert await lifecycle._OWN_ROWS.run(institutions) or await lifecycle._PROJECTS.run(
        institutions, codes, [p["id"] for p in projects])  # not only empty answers compared


async def test_a_connection_released_in_a_transaction_comes_back_out_of_it(deployment):
    if is_sqlite():
        pytest.skip("PostgreSQL's pool")
    from core.db import _keep_session

    db = engine()
    started = not db.pool
    if started:
        await db.start_connection_pool(max_size=1, min_size=1, reset=_keep_session)
    try:
        for _ in range(3):
            async with db.pool.acquire() as connection:
                await connection.execute("BEGIN")
                await connection.execute("CREATE TEMP TABLE IF NOT EXISTS left_open (x int)")
                assert connection.is_in_transaction()
            async with db.pool.acquire() as connection:
                assert not connection.is_in_transaction()
    finally:
        if started:
            await db.close_connection_pool()


# Session-level state the skipped reset (``RESET ALL``, ``UNLISTEN *``, ``CLOSE ALL``,
# ``pg_advisory_unlock_all()``) would have cleared; ``SET LOCAL`` and transaction-scoped
# advisory locks end with their transaction.
SESSION_STATE = re.compile(
    r"pg_advisory_lock\(|pg_try_advisory_lock\(|\bLISTEN\s|\bWITH\s+HOLD\b|set_config\([^)]*,\s*false\)",
    re.IGNORECASE)
# A statement that begins with SET (a string opening with it), other than SET LOCAL /
# TRANSACTION / CONSTRAINTS (which end with their transaction).
SESSION_SET = re.compile(r"(?:^|[(\s=,f])[\"']SET\s+(?!LOCAL\b|TRANSACTION\b|CONSTRAINTS\b)")


def _sets_session_state(line: str) -> bool:
    return bool(SESSION_STATE.search(line) or SESSION_SET.search(line))


def test_no_code_sets_session_state_that_a_released_connection_would_keep():
    found = []
    for folder in ("core", "web", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            if "piccolo_migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _sets_session_state(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, found


def test_the_guard_finds_session_state():
    for line in ('await con.execute("SET search_path TO x")', "SELECT pg_advisory_lock(1)",
                 "await con.execute('LISTEN changes')", "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
                 "await con.execute(f'SET statement_timeout = {ms}')"):
        assert _sets_session_state(line), line
    for line in ('await con.execute("SET LOCAL statement_timeout = 1000")', "SELECT pg_advisory_xact_lock(1)",
                 'UPDATE "filing" SET "case_count" = 1', '"""Set up the body."""',
                 """f'ALTER DATABASE "{name}" SET synchronous_commit TO off'"""):
        assert not _sets_session_state(line), line


def test_the_content_hash_is_the_one_stored_cases_carry():
    """The case's idempotency hash (NAT-37: the same case id with other content is refused)
    is compared with the hashes of cases stored before: its text is still
    ``json.dumps(…, sort_keys=True, ensure_ascii=False)`` with a prebuilt encoder."""
    import hashlib
    import json

    import msgspec

    from core.cases.rules import CaseInput, content_hash

    case = msgspec.convert({
        "case_id": " C-1 ", "technology_code": "P12", "patient_key": "PK-1", "admitted_on": "2026-11-01",
        "operated_on": "2026-11-02", "discharged_on": "2026-11-04", "operators": ["b", " a "], "indication": "基准测试",
        "outcome": "improved", "qc_values": {"并发症发生率": "否", "手术时间": " 90 ", "空": " "}, "consent": True}, CaseInput)
    data = msgspec.to_builtins(case) | {"case_id": "C-1", "operators": ["a", "b"], "assistants": [],
                                        "qc_values": {"并发症发生率": "否", "手术时间": "90"}}
    data.pop("operation_code")
    assert content_hash(case) == hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


async def test_a_long_list_of_institutions_reads_as_a_short_one(recorded):
    """``states_many`` of a region's list asks for hundreds of institutions: past
    ``FEW_IDS`` the ids are written into the statement (``ids_clause``), not compiled as a
    prepared shape per length — the same rows either way."""
    from core.admission.tables import Project
    from core.lifecycle import service as lifecycle

    institutions = [r["id"] for r in await Institution.select(Institution.id).order_by(Institution.id)]
    codes = sorted({p["technology_code"] for p in await Project.select(Project.technology_code) if p["technology_code"]})
    padding = list(range(-lifecycle.FEW_IDS - 5, 0))  # no such institutions
    assert len(institutions + padding) > lifecycle.FEW_IDS
    assert await lifecycle._region_paths(institutions + padding) == await lifecycle._region_paths(institutions)
    pairs = [(i, c) for i in institutions for c in codes]
    assert await lifecycle._own_rows(pairs + [(i, codes[0]) for i in padding]) == await lifecycle._own_rows(pairs)
    assert await lifecycle._region_paths(institutions)  # not only empty answers compared
