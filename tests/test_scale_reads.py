"""The regulator's pages at scale read summaries and narrow indexes (issues 14, 15); each new
read path equals the aggregation of the case rows it replaced, on generated data, after
voids, follow-up deaths and corrections written as any writer would (SQLite and PostgreSQL):

* the funnel plot (NAT-41's QC analytics, issue 14 §5): technologies and per-institution
  cases and complications from ``case_summary``, deaths from the partial index
  ``case_record_deaths``, control limits computed at once for all institutions;
* the CUSUM's acceptable rate (other institutions' cases and complications) from
  ``case_summary``;
* the credit score's disclosure item (NAT-39, NAT-24): an institution's first restricted
  case through ``case_record_restricted_first``.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from core.accounts.schemas import SYSTEM
from core.supervision import credit, cusum, funnel
from tests.admission_helpers import actor
from tests.filing_helpers import region_actor

CODES = ("SCALE-T1", "SCALE-T2")
READERS = ("regulator_province", "regulator_city1", "regulator_city2", "qccenter")


@pytest.fixture(scope="module")
async def generated(deployment):
    """Six institutions (four in city 1, two in city 2) with random cases of two technologies
    over two years: complications, deaths at discharge, restricted and routine; then some
    voided, some dying at follow-up, some corrected — rows written directly, as an import
    or a repair would (the triggers keep the summaries)."""
    from core.cases.tables import CaseRecord
    from core.tenancy import service as tenancy
    from core.tenancy.schemas import InstitutionInput

    rng = random.Random(1415)
    ids = []
    for i in range(6):
        ids.append(await tenancy.create_institution(SYSTEM, InstitutionInput(
            name=f"规模读取测试医院{i + 1}", licence_no=f"SCALE-READ-{i + 1}", grade="三级甲等",
            region=deployment["city1"] if i < 4 else deployment["city2"], registered_subjects=["外科"])))
    rows = []
    for k in range(900):
        inst = ids[rng.randrange(len(ids))]
        day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(700))
        code = rng.choice(CODES)
        rows.append(CaseRecord(
            institution=inst, external_id=f"SR{k}", dedupe_key=f"{inst}:SR{k}", content_hash="x",
            technology_code=code, technology_name="规模读取技术" + code[-1], patient_key=f"p{k}",
            tech_class="restricted" if rng.random() < 0.7 else "routine",
            admitted_on=day, operated_on=day, discharged_on=day, complication=rng.random() < 0.1 + 0.1 * (inst == ids[2]),
            outcome="death" if rng.random() < 0.05 else "improved", source="demo"))
    for start in range(0, len(rows), 100):  # PostgreSQL takes at most 32,767 parameters a query
        await CaseRecord.insert(*rows[start:start + 100])
    case_ids = [r["id"] for r in await CaseRecord.select(CaseRecord.id).where(
        CaseRecord.external_id.like("SR%")).order_by(CaseRecord.id)]
    # Voids (some of them deaths and the first restricted cases), deaths at follow-up,
    # complications corrected both ways.
    await CaseRecord.update({CaseRecord.voided: True}).where(CaseRecord.id.is_in(case_ids[:40:2] + case_ids[-30:]))
    await CaseRecord.update({CaseRecord.followup_died: True}).where(CaseRecord.id.is_in(case_ids[100:160:3]))
    await CaseRecord.update({CaseRecord.followup_died: False}).where(CaseRecord.id.is_in(case_ids[160:200:3]))
    await CaseRecord.update({CaseRecord.complication: True}).where(CaseRecord.id.is_in(case_ids[200:260:2]))
    await CaseRecord.update({CaseRecord.complication: False}).where(CaseRecord.id.is_in(case_ids[260:320:2]))
    # Every case of one institution's second technology voided: it has no point any more.
    await CaseRecord.update({CaseRecord.voided: True}).where(
        (CaseRecord.institution == ids[5]) & (CaseRecord.technology_code == CODES[1]))
    return {"ids": ids}


def test_limits_at_once_equal_the_limits_one_by_one():
    for p in (0.0, 0.01, 0.0786, 0.25, 0.5, 1.0):
        ns = [1, 2, 7, 30, 199, 200, 1000, 12345]
        assert funnel.limits_many(ns, p) == [funnel.limits(n, p) for n in ns], p
    assert funnel.limits_many([], 0.1) == []


async def test_nat41_funnel_from_the_summary_equals_the_case_rows(generated):
    readers = [await region_actor(u) for u in READERS] + [await actor("admin")]
    for who in readers:
        assert await funnel.technologies(who) == await funnel.technologies(who, from_cases=True), who.username
        for code in (*CODES, "NO-SUCH"):
            for measure in funnel.MEASURES:
                summary = await funnel.funnel(who, code, measure)
                rows = await funnel.funnel(who, code, measure, from_cases=True)
                assert summary == rows, (who.username, code, measure)
    province = await funnel.funnel(await region_actor("regulator_province"), CODES[0], "mortality")
    assert province.total_events > 0 and len(province.points) >= 6
    assert generated["ids"][5] not in {p.institution_id for p in (
        await funnel.funnel(readers[0], CODES[1])).points}


async def test_cusum_rates_from_the_summary_equal_the_case_rows(generated):
    for codes in ([*CODES], [CODES[1]], ["NO-SUCH"]):
        assert await cusum._rates(codes) == await cusum._rates(codes, from_cases=True), codes
    assert await cusum._rates([*CODES])


async def test_nat39_first_restricted_case_by_the_index_equals_the_case_rows(generated, deployment):
    from core.tenancy.tables import Institution

    every = [r["id"] for r in await Institution.select(Institution.id)]
    for ids in (every, generated["ids"], [generated["ids"][0]], [], [-5]):
        for day in (dt.date(2024, 12, 31), dt.date(2025, 1, 15), dt.date(2025, 6, 30), dt.date(2026, 12, 31)):
            assert await credit._restricted_since(ids, day) == await credit._restricted_since(
                ids, day, from_cases=True), (ids, day)
    assert len(await credit._restricted_since(generated["ids"], dt.date(2026, 12, 31))) == 6


def _by_key(rows: list[dict], key: str) -> list[dict]:
    return sorted(rows, key=lambda r: str(r[key]))


async def test_qc_figures_in_one_scan_equal_the_four_grouped_queries(generated):
    """The QC page's figures on PostgreSQL: one GROUPING SETS statement instead of four
    grouped queries over ``case_summary`` — the same totals, months, technologies,
    departments (with their names) and institutions with the same ranks (on SQLite both
    take the four queries)."""
    from core.qc import service as qc

    readers = [await region_actor(u) for u in READERS] + [await actor("admin"), await actor("medaffairs_a")]
    filters = (qc.Filter(), qc.Filter(since=dt.date(2025, 3, 1)),
               qc.Filter(technology_code=CODES[0], since=dt.date(2025, 1, 1), until=dt.date(2025, 12, 31)),
               qc.Filter(technology_code=CODES[1]), qc.Filter(technology_code="NO-SUCH"))
    seen = 0
    for who in readers:
        for flt in filters:
            new = await qc.figures(who, flt)
            old = await qc.figures(who, flt, one_scan=False)
            assert new["total"] == old["total"] and new["months"] == old["months"], (who.username, flt)
            assert _by_key(new["technologies"], "code") == _by_key(old["technologies"], "code")
            assert _by_key(new["departments"], "department") == _by_key(old["departments"], "department")
            assert _by_key(new["institutions"], "institution") == _by_key(old["institutions"], "institution")
            assert [r["cases"] for r in new["departments"]] == sorted((r["cases"] for r in new["departments"]),
                                                                       reverse=True)
            seen += len(new["institutions"])
    assert seen > 0


async def test_use_states_read_by_inlined_ids_equal_the_bound_lists(generated, deployment):
    """``lifecycle.states_many`` reads the region paths and the institutions' own states with
    the ids written into the statement (``core.db.ids_clause``), not bound one by one: the
    same rows as piccolo's ``is_in`` over the ids and the uids."""
    from core.lifecycle import service as lifecycle
    from core.lifecycle.tables import TechnologyUse
    from core.tenancy.tables import Institution

    every = [r["id"] for r in await Institution.select(Institution.id)]
    await TechnologyUse.insert(*(TechnologyUse(uid=f"{i}:{CODES[n % 2]}", institution=i, technology_key=CODES[n % 2],
                                               status="suspended" if n % 3 else "stopped", since=dt.date(2025, 5, 1))
                                 for n, i in enumerate(generated["ids"][:4])))
    uses = await TechnologyUse.select(TechnologyUse.institution, TechnologyUse.technology_key)
    pairs = [(r["institution"], r["technology_key"]) for r in uses] + [(i, c) for i in every for c in CODES]
    pairs += [(-5, "NO-SUCH"), (every[0], "NO-SUCH")]
    for wanted in (pairs, pairs[:3], [], [(-5, "X")]):
        paths = {r["id"]: r["region.path"] or "/" for r in await Institution.select(
            Institution.id, Institution.region.path).where(Institution.id.is_in(sorted({i for i, _ in wanted}) or [-1]))}
        assert await lifecycle._region_paths(i for i, _ in wanted) == paths
        own = {(r["institution"], r["technology_key"]): r for r in await TechnologyUse.select().where(
            TechnologyUse.uid.is_in(sorted({f"{i}:{k}" for i, k in wanted}) or ["-"]))}
        assert await lifecycle._own_rows(wanted) == own
    assert uses, "the deployment has technologies with a state of use"


async def test_hn43_consistency_reads_its_candidates_and_lists_what_the_whole_desk_did(generated, deployment):
    """The consistency page (HN-4.3, NAT-11) decorates only the filings that can be listed —
    a closed one whose annotation differs, one under way with a first case — instead of
    every filing of the region: the same two lists as the rules applied to the whole desk."""
    from core.admission.tables import Project
    from core.filing import service as filing
    from core.filing.tables import Filing
    from tests.case_helpers import admitted

    await admitted(deployment["host"].view())
    project = (await Project.select(Project.id).first())["id"]
    ids, made = generated["ids"], []
    cases = [("completed", "甲", "甲"), ("completed", "甲", ""), ("completed", "甲", "乙"), ("withdrawn", "", "丙"),
             ("cancelled", "丁", "丁"), ("open", "", ""), ("submitted", "", ""), ("returned", "", ""),
             ("withdrawal_requested", "戊", ""), ("open", "", "")]
    for n, (status, expected, recorded) in enumerate(cases):
        made.append(Filing(institution=ids[n % len(ids)], project=project, technology_code=CODES[n % 2],
                           technology_name="规模读取技术", first_case_on=dt.date(2025, 3, 1 + n), status=status,
                           annotation_expected=expected, annotation_recorded=recorded,
                           due_on=dt.date(2025, 4, 1)))
    await Filing.insert(*made)
    hooks = deployment["host"].view()
    closed = ("completed", "withdrawn", "cancelled")
    for username in READERS:
        who = await region_actor(username)
        found = await filing.consistency(who, hooks, dt.date(2025, 6, 1))
        mismatched, unfiled = [], []
        for r in await filing.desk(who, hooks, dt.date(2025, 6, 1)):  # every filing, as the page read them
            if r["status"] in closed and r["annotation_expected"] != r["annotation_recorded"]:
                r["problem"] = "副本未备注" if not r["annotation_recorded"] else "副本备注与备案不一致"
                mismatched.append(r)
            elif r["status"] in ("open", "submitted", "returned") and r["first_case_on"] is not None:
                r["problem"] = "已开展病例但未完成备案" + ("（已逾期未提交）" if r["overdue_open"] else "")
                unfiled.append(r)
        assert found == {"mismatched": mismatched, "unfiled": unfiled}, username
    province = await filing.consistency(await region_actor("regulator_province"), hooks, dt.date(2025, 6, 1))
    assert {r["annotation_recorded"] for r in province["mismatched"]} >= {"", "乙", "丙"}
    assert len([r for r in province["unfiled"] if r["technology_name"] == "规模读取技术"]) == 4
