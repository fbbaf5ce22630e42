"""The regulator's dashboard queries rewritten for scale (issue 6) answer exactly what
the previous queries answered on known data: obligation counts per institution and
state, and the case warnings' detectors (late reports, restricted cases without a
completed filing — HN-3 / HN-4.3 in a Henan deployment) per institution × technology.

The previous queries are kept here as the reference (voided cases excluded, as the
detectors exclude them: a voided case is not a finding).
"""

from __future__ import annotations

import datetime as dt

import pytest

from core.cases import service as cases
from core.cases.tables import CaseRecord
from core.db import is_sqlite
from core.obligations import rules as obligation_rules
from core.obligations import service as obligations
from core.obligations.tables import Obligation
from tests.admission_helpers import actor
from tests.case_helpers import admitted, case_input, receive, release_obligations
from tests.filing_helpers import region_actor

TODAY = dt.date(2026, 5, 20)
REGULATORS = ("regulator_city1", "regulator_city2", "regulator_province", "qccenter")


@pytest.fixture(scope="module")
async def known_cases(deployment):
    """A late case of a restricted technology whose filing is not completed: both warnings."""
    hooks = deployment["host"].view()
    restricted = await admitted(hooks, tech_index=5)
    [late] = await cases.record_cases(await actor("clinician_a"), hooks, [case_input(restricted)], today=TODAY)
    await receive(hooks, late.delivery_id, TODAY)  # late only once the platform's receipt says so
    yield hooks
    await release_obligations()


async def previous_warnings(actor, limit: int = 50) -> list[dict]:
    from core.filing.tables import Filing

    ids = await cases.institution_ids_in_scope(actor)
    if not ids:
        return []
    where = f"AND c.institution IN ({', '.join(str(int(i)) for i in ids)})"
    late_sql = f"""
        SELECT c.institution AS institution, i.name AS name, c.technology_code AS code,
               MAX(c.technology_name) AS technology, COUNT(*) AS n, MAX(c.reported_on) AS last_on
        FROM case_record c JOIN institution i ON i.id = c.institution
        WHERE c.report_late = {{}} AND NOT c.voided {where}
        GROUP BY c.institution, i.name, c.technology_code ORDER BY n DESC LIMIT {int(limit)}
    """
    unfiled_sql = f"""
        SELECT c.institution AS institution, i.name AS name, c.technology_code AS code,
               MAX(c.technology_name) AS technology, COUNT(*) AS n, MAX(c.operated_on) AS last_on
        FROM case_record c JOIN institution i ON i.id = c.institution
        WHERE c.tech_class = 'restricted' AND NOT c.voided {where}
          AND NOT EXISTS (SELECT 1 FROM {Filing._meta.tablename} f WHERE f.project = c.project
                          AND f.status = 'completed')
        GROUP BY c.institution, i.name, c.technology_code ORDER BY n DESC LIMIT {int(limit)}
    """
    out = [row | {"kind": "late"} for row in await CaseRecord.raw(late_sql, True)]
    return out + [row | {"kind": "unfiled"} for row in await CaseRecord.raw(unfiled_sql)]


async def previous_counts(actor, hooks) -> list[dict]:
    cal, today, soon = await obligations.read_context(hooks, TODAY)
    args = [today.isoformat(), soon.isoformat()] if is_sqlite() else [today, soon]
    sql = """
        SELECT o.institution AS institution, i.name AS name,
               CASE WHEN o.status = 'open' AND o.due_on < {} THEN 'overdue'
                    WHEN o.status = 'open' AND o.due_on <= {} THEN 'due_soon'
                    WHEN o.status = 'open' THEN 'open'
                    WHEN o.status = 'done' AND o.done_late THEN 'done_late'
                    WHEN o.status = 'done' THEN 'done_on_time'
                    ELSE 'waived' END AS state,
               COUNT(*) AS n
        FROM obligation o
        JOIN institution i ON i.id = o.institution
        JOIN region r ON r.id = i.region
        {where}
        GROUP BY o.institution, i.name, state
    """
    if actor.is_admin:
        where = ""
    elif actor.institution_id is not None:
        where, args = "WHERE o.institution = {}", [*args, actor.institution_id]
    else:
        where, args = "WHERE r.path LIKE {}", [*args, f"{actor.region_path}%"]
    out: dict[int, dict] = {}
    for row in await Obligation.raw(sql.replace("{where}", where), *args):
        entry = out.setdefault(row["institution"], {"institution": row["institution"], "name": row["name"],
                                                    "counts": {s: 0 for s in obligation_rules.STATUSES}, "total": 0})
        entry["counts"][row["state"]] += row["n"]
        entry["total"] += row["n"]
    return sorted(out.values(), key=lambda e: e["name"])


def keyed(rows: list[dict]) -> list[tuple]:
    return sorted((w["kind"], w["institution"], w["code"], w["technology"], w["n"], str(w["last_on"]))
                  for w in rows)


async def current_warnings(actor) -> list[dict]:
    """What the warning detectors find in the actor's scope, in the reference's shape."""
    from core.supervision import detectors

    ids = await cases.institution_ids_in_scope(actor)
    scope = detectors.Scope(tuple(ids) if ids is not None else None, TODAY)
    out = []
    for kind, find in (("late", detectors.late_reports), ("unfiled", detectors.unfiled_cases)):
        out += [{"kind": kind, "institution": f.institution_id, "code": f.technology_code,
                 "technology": f.technology_name, "n": f.count, "last_on": f.fact_on} for f in await find(scope)]
    return out if ids != [] else []


@pytest.mark.rule("HN-3")
@pytest.mark.rule("HN-4.3")
@pytest.mark.parametrize("username", REGULATORS)
async def test_hn3_hn43_case_warnings_are_the_same_as_before(known_cases, deployment, username):
    regulator = await region_actor(username)
    now = await current_warnings(regulator)
    assert keyed(now) == keyed(await previous_warnings(regulator))
    if username in ("regulator_city1", "regulator_province"):
        assert {"late", "unfiled"} <= {w["kind"] for w in now}
        assert deployment["hospital_a"] in {w["institution"] for w in now}


@pytest.mark.parametrize("username", (*REGULATORS, "medaffairs_a", "admin"))
async def test_obligation_counts_per_institution_are_the_same_as_before(known_cases, username):
    regulator = await region_actor(username)
    now = await obligations.status_counts(regulator, known_cases, TODAY)
    assert now == await previous_counts(regulator, known_cases)
    assert sum(e["total"] for e in now) > 0 or username == "regulator_city2"
