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
