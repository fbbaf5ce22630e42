"""Issue 15: the summary tables equal the raw aggregation — on generated cases, after
receipts, corrections, voids and follow-up, on SQLite and PostgreSQL.

``case_summary``, ``case_indicator_summary`` and ``obligation_summary`` are kept by
database triggers in the transaction of every write (migration "Case and obligation
summary tables kept by triggers"). Two views of the same question, after each step:

* the stored tables equal what this file computes in Python from the rows themselves
  (``case_record``, ``obligation``) — no SQL shared with the triggers;
* every QC figure, indicator and obligation count read from the summaries equals the
  same read from the raw rows (``from_cases=True`` / ``from_rows=True``, the queries the
  pages ran before), for a hospital's roles, the region's regulators, the QC centre and the
  admin, with and without filters, on days before and after the reports fall due.
"""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from core import clock
from core.accounts.schemas import SYSTEM
from core.cases import corrections
from core.cases import service as cases
from core.cases.tables import CaseRecord
from core.db import write_transaction
from core.obligations import service as obligations
from core.obligations.tables import Obligation, ObligationSummary, ObligationYearSummary
from core.qc import service as qc
from core.qc.tables import CaseIndicatorSummary, CaseSummary
from tests.admission_helpers import actor, valid_form
from tests.case_helpers import admitted, case_input, receive, release_obligations
from tests.filing_helpers import region_actor

RECORDED_ON = dt.date(2026, 6, 30)
# Before most reports fall due, after all of them, and in between.
DAYS = (dt.date(2026, 4, 1), dt.date(2026, 5, 15), dt.date(2026, 9, 30))
INDICATORS = [{"name": "并发症发生率", "target": "≤2%", "method": "按月统计"},
              {"name": "手术时间", "target": "<180", "method": "均值"}]
HOSPITAL_USERS = ("medaffairs_a", "depthead_a", "clinician_a", "qc_a", "head_a", "medaffairs_b")
REGION_USERS = ("regulator_province", "regulator_city1", "qccenter")


def _month(day) -> str:
    return str(day)[:7]


def _iso(day) -> str:
    return str(day)[:10]


async def expected_case_tables() -> tuple[dict, dict]:
    """``case_summary`` and ``case_indicator_summary`` as they must be, from the case rows."""
    rows = await CaseRecord.select(
        CaseRecord.institution, CaseRecord.project, CaseRecord.department, CaseRecord.technology_code,
        CaseRecord.technology_name, CaseRecord.operated_on, CaseRecord.voided, CaseRecord.complication,
        CaseRecord.adverse_event, CaseRecord.report_rule, CaseRecord.reported_on, CaseRecord.report_late,
        CaseRecord.report_due_on, CaseRecord.qc_values)
    main: dict[tuple, list[float]] = {}
    indicators: dict[tuple, list[float]] = {}
    for r in rows:
        if r["voided"]:
            continue
        base = (r["institution"], r["project"], r["department"], r["technology_code"])
        month = _month(r["operated_on"])
        reported = bool(r["report_rule"]) and r["reported_on"] is not None
        sums = main.setdefault((*base, r["technology_name"], month, ""), [0] * 6)
        for k, v in enumerate((1, bool(r["complication"]), bool(r["adverse_event"]), reported,
                               reported and not r["report_late"], 0)):
            sums[k] += int(v)
        if r["report_rule"] and r["reported_on"] is None and r["report_due_on"] is not None:
            main.setdefault((*base, r["technology_name"], month, _iso(r["report_due_on"])), [0] * 6)[5] += 1
        values = r["qc_values"] if isinstance(r["qc_values"], dict) else json.loads(r["qc_values"] or "{}")
        for name, value in values.items():
            sums = indicators.setdefault((*base, month, name), [0, 0, 0.0, 0])
            if value is None:
                continue
            sums[0] += 1
            sums[1] += str(value) == "1"
            sums[2] += float(value)
            sums[3] += 1
    return main, indicators


async def stored(table, key: tuple[str, ...], measures: tuple[str, ...]) -> dict:
    """The table's rows that count something, key → measures."""
    out: dict[tuple, list] = {}
    for r in await table.select(*(getattr(table, c) for c in key + measures)):
        # A key with NULL (a case of no project) may have several rows (SQLite): they add up.
        sums = out.setdefault(tuple(r[c] for c in key), [0] * len(measures))
        for k, m in enumerate(measures):
            sums[k] += r[m]
    return {k: v for k, v in out.items() if any(v)}


async def assert_case_tables_equal_the_rows() -> None:
    main, indicators = await expected_case_tables()
    got = await stored(CaseSummary, ("institution", "project", "department", "technology_code", "technology_name",
                                     "month", "due"),
                       ("cases", "complications", "adverse_events", "reported", "on_time", "pending"))
    assert got == {k: v for k, v in main.items() if any(v)}
    got = await stored(CaseIndicatorSummary, ("institution", "project", "department", "technology_code", "month",
                                              "name"), ("recorded", "ones", "number_sum", "number_count"))
    got = {k: [v[0], v[1], round(v[2], 6), v[3]] for k, v in got.items()}
    assert got == {k: [v[0], v[1], round(v[2], 6), v[3]] for k, v in indicators.items() if any(v)}


async def assert_obligation_table_equals_the_rows() -> None:
    """``obligation_summary`` and ``obligation_year_summary`` (issue 14, the region's credit
    scores: by kind and year of the due date) equal the obligation rows."""
    expected: dict[tuple, list[int]] = {}
    by_year: dict[tuple, list[int]] = {}
    for r in await Obligation.select(Obligation.institution, Obligation.kind, Obligation.status,
                                     Obligation.done_late, Obligation.due_on):
        due = _iso(r["due_on"]) if r["status"] == "open" and r["due_on"] is not None else ""
        expected.setdefault((r["institution"] or 0, r["status"], bool(r["done_late"]), due), [0])[0] += 1
        year = _iso(r["due_on"])[:4] if r["due_on"] is not None else ""
        by_year.setdefault((r["institution"] or 0, r["kind"], year, r["status"], bool(r["done_late"]), due),
                           [0])[0] += 1
    got = await stored(ObligationSummary, ("institution", "status", "done_late", "due"), ("n",))
    assert {(k[0], k[1], bool(k[2]), k[3]): v for k, v in got.items()} == expected
    got = await stored(ObligationYearSummary, ("institution", "kind", "year", "status", "done_late", "due"), ("n",))
    assert {(*k[:4], bool(k[4]), k[5]): v for k, v in got.items()} == by_year


def _normal(data):
    """Figures compared without row order among equal sort keys."""
    if isinstance(data, dict):
        return {k: _normal(v) for k, v in data.items()}
    if isinstance(data, list):
        return sorted((_normal(v) for v in data), key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(data, float):
        return round(data, 6)
    return data


async def assert_pages_read_the_same(hooks, project_ids: list[int]) -> None:
    actors = [await actor(u) for u in HOSPITAL_USERS] + [await region_actor(u) for u in REGION_USERS]
    actors.append(await actor("admin"))
    department = (await CaseRecord.select(CaseRecord.department).where(CaseRecord.project == project_ids[0]).first()
                  )["department"]
    # … and the day a pending report falls due: due that day is not yet overdue (NAT-37).
    pending = await CaseRecord.select(CaseRecord.report_due_on).where(
        (CaseRecord.report_rule != "") & CaseRecord.reported_on.is_null() & (CaseRecord.voided == False)  # noqa: E712
        & CaseRecord.project.is_in(project_ids)).order_by(CaseRecord.report_due_on).first()
    assert pending is not None
    due = pending["report_due_on"]
    due = due if isinstance(due, dt.date) else dt.date.fromisoformat(due)
    for day in (due, *DAYS):
        with clock.frozen(day):
            filters = [qc.Filter(since=qc.window_start(p, day)) for p in ("12", "all")]
            filters += [qc.Filter(technology_code=f"P{p}") for p in project_ids]
            filters += [qc.Filter(department_id=department, since=dt.date(2026, 3, 1), until=dt.date(2026, 4, 30))]
            filters += [qc.Filter(project_id=project_ids[0], since=dt.date(2026, 4, 1))]
            # Every reader and filter on the due day; on the others, the default page of each.
            for who in actors:
                for flt in filters if day == due else filters[:1] + filters[2:3]:
                    assert qc.summary_months(flt) is not None
                    from_summary = await qc.figures(who, flt)
                    assert _normal(from_summary) == _normal(await qc.figures(who, flt, from_cases=True)), (
                        who.username, vars(flt), day)
                    if flt.technology_code:
                        assert await qc.indicator_figures(who, hooks, flt) == await qc.indicator_figures(
                            who, hooks, flt, from_cases=True), (who.username, flt.technology_code)
                counts = await obligations.status_counts(who, hooks, day)
                assert counts == await obligations.status_counts(who, hooks, day, from_rows=True), who.username


def _events(complication: bool, adverse_event: bool) -> dict:
    return {"complication": complication, "complications": "切口感染" if complication else "",
            "adverse_event": adverse_event, "adverse_events": "输血反应" if adverse_event else ""}


@pytest.fixture(scope="module")
async def generated(deployment):
    """Cases of two technologies (a restricted and a routine one) over three months, with
    random complications, adverse events and indicator values."""
    hooks = deployment["host"].view()
    form = valid_form(qc_indicators=INDICATORS)
    projects = [await admitted(hooks, tech_index=47, form=form), await admitted(hooks, tech_class="routine", form=form)]
    rng = random.Random(15)
    clinician = await actor("clinician_a")
    results = []
    for _ in range(3):
        batch = []
        for _ in range(8):
            operated = dt.date(2026, 3, 3) + dt.timedelta(days=rng.randrange(0, 80))
            values = {"并发症发生率": rng.choice(["是", "否"])}
            if rng.random() < 0.7:
                values["手术时间"] = str(rng.choice([45, 90, 120, 150.5]))
            batch.append(case_input(
                rng.choice(projects), admitted_on=(operated - dt.timedelta(days=1)).isoformat(),
                operated_on=operated.isoformat(), discharged_on=(operated + dt.timedelta(days=3)).isoformat(),
                qc_values=values, **_events(rng.random() < 0.3, rng.random() < 0.2)))
        results += await cases.record_cases(clinician, hooks, batch, today=RECORDED_ON)
    yield hooks, projects, results, rng
    await release_obligations()


async def test_nat37_summaries_equal_the_raw_aggregation_as_cases_are_recorded(generated):
    hooks, projects, _, _ = generated
    await assert_case_tables_equal_the_rows()
    await assert_obligation_table_equals_the_rows()
    await assert_pages_read_the_same(hooks, projects)


async def test_nat37_summaries_follow_receipts_corrections_voids_and_follow_up(generated):
    hooks, projects, results, rng = generated
    reported = [r for r in results if r.delivery_id]
    assert len(reported) >= 10
    # Some reports received on time, some late, some not yet (pending on their due dates).
    for r in reported[:4]:
        await receive(hooks, r.delivery_id, r.report_due_on - dt.timedelta(days=1))
    for r in reported[4:7]:
        await receive(hooks, r.delivery_id, r.report_due_on + dt.timedelta(days=5))
    await assert_case_tables_equal_the_rows()
    await assert_obligation_table_equals_the_rows()

    medical_affairs = await actor("medaffairs_a")
    # Corrections: a case moved to another month, complications and adverse events flipped.
    for r in results[:6]:
        row = await CaseRecord.select().where(CaseRecord.id == r.id).first()
        operated = row["operated_on"] if isinstance(row["operated_on"], dt.date) else dt.date.fromisoformat(
            row["operated_on"])
        moved = operated - dt.timedelta(days=rng.choice([0, 20, 35]))
        await corrections.correct(medical_affairs, hooks, r.id, corrections.Correction(
            admitted_on=moved - dt.timedelta(days=1), operated_on=moved, discharged_on=moved + dt.timedelta(days=3),
            indication=row["indication"] + "（更正）", outcome=row["outcome"],
            follow_up=row["follow_up"], **_events(not row["complication"], not row["adverse_event"])), "出院小结录入错误，按病历更正", today=RECORDED_ON)
    await assert_case_tables_equal_the_rows()
    # Voids: a received one, a pending one, a corrected one.
    for r in (reported[0], reported[8], results[1]):
        await corrections.void(medical_affairs, hooks, r.id, "重复登记（同一患者）")
    # Follow-up changes no figure; a late receipt of a voided case's other platform neither.
    await corrections.add_follow_up(await actor("clinician_a"), hooks, results[10].id, corrections.FollowUp(
        outcome="improved", died=False, followed_on=dt.date(2026, 6, 20)), today=RECORDED_ON)
    await assert_case_tables_equal_the_rows()
    await assert_obligation_table_equals_the_rows()
    await assert_pages_read_the_same(hooks, projects)


async def test_cases_of_no_project_written_directly_are_summarised_too(generated):
    """A case row written by no service (an import tool, a repair) with no project or
    department: the triggers count it, change it and take it out like any other."""
    hooks, projects, _, _ = generated
    institution = (await actor("medaffairs_a")).institution_id
    rows = await CaseRecord.insert(*(CaseRecord(
        institution=institution, project=None, department=None, external_id=f"RAW-{k}", dedupe_key=f"raw:{k}",
        technology_code="RAW", technology_name="直接写入", patient_key="PK", operated_on=dt.date(2026, 4, 2 + k),
        admitted_on=dt.date(2026, 4, 1), discharged_on=dt.date(2026, 4, 9), complication=k == 1,
        qc_values={"手术时间": str(30 * k)}, report_rule="TEST", report_due_on=dt.date(2026, 5, 1 + k))
        for k in range(3))).returning(CaseRecord.id)
    await assert_case_tables_equal_the_rows()
    await CaseRecord.update({CaseRecord.reported_on: dt.date(2026, 4, 20)}).where(CaseRecord.id == rows[0]["id"])
    await CaseRecord.update({CaseRecord.voided: True}).where(CaseRecord.id == rows[1]["id"])
    await assert_case_tables_equal_the_rows()
    await CaseRecord.delete().where(CaseRecord.id == rows[2]["id"])
    await assert_case_tables_equal_the_rows()
    await assert_pages_read_the_same(hooks, projects)


async def test_obligation_summary_follows_every_status_change(generated):
    """Open → done (on time, late) → waived and a deleted obligation: the counts per
    institution × status follow, and the regulator's dashboard reads them."""
    hooks, projects, _, _ = generated
    rows = await Obligation.select(Obligation.id, Obligation.status).where(
        (Obligation.status == "open") & (Obligation.subject_type == "project")
        & Obligation.subject_id.is_in(projects))
    assert rows
    await obligations.waive(SYSTEM, rows[0]["id"], "测试：豁免")
    await assert_obligation_table_equals_the_rows()
    async with write_transaction():  # a write no service makes, the triggers count it all the same
        await Obligation.update({Obligation.due_on: dt.date(2026, 5, 1)}).where(
            Obligation.status == "open").where(Obligation.subject_id.is_in(projects))
    await assert_obligation_table_equals_the_rows()
    extra = await Obligation.insert(Obligation(
        dedupe_key="test:summary", rule_id="TEST", kind="filing", title="测试", role="medical_affairs",
        institution=(await actor("medaffairs_a")).institution_id, subject_type="project", subject_id=projects[0],
        due_on=dt.date(2026, 5, 2))).returning(Obligation.id)
    await assert_obligation_table_equals_the_rows()
    await Obligation.delete().where(Obligation.id == extra[0]["id"])
    await assert_obligation_table_equals_the_rows()
    await assert_pages_read_the_same(hooks, projects)


async def test_a_mid_month_period_reads_the_case_rows(generated):
    """Explicit dates that are not whole months cannot come from monthly summaries: the
    page reads the case rows (same figures as before the summaries existed)."""
    flt = qc.Filter(since=dt.date(2026, 3, 15), until=dt.date(2026, 4, 10))
    assert qc.summary_months(flt) is None
    who = await actor("medaffairs_a")
    assert _normal(await qc.figures(who, flt)) == _normal(await qc.figures(who, flt, from_cases=True))


async def test_cumulative_cases_from_the_summary_equal_the_case_rows(generated):
    """``core.cases.counts`` (the one definition of cumulative cases) reads the summary:
    the same numbers as counting the case rows, for the whole history and up to a day —
    a month's end or mid-month — after the corrections and voids above."""
    from core.cases import counts

    _, projects, _, _ = generated
    rows = await CaseRecord.select(CaseRecord.institution, CaseRecord.technology_code, CaseRecord.project)
    pairs = sorted({(r["institution"], counts.technology_key(r["technology_code"], r["project"])) for r in rows
                    if r["institution"] is not None})
    pairs += [(pairs[0][0], f"P{projects[1]}"), (pairs[0][0], "NO-SUCH")]
    for until in (None, dt.date(2026, 3, 31), dt.date(2026, 4, 17), dt.date(2026, 5, 1)):
        wanted = sorted({(int(i), k.strip().upper()) for i, k in pairs})
        match, args = counts._match(wanted)
        expected = {pair: 0 for pair in wanted}
        institutions = ", ".join(str(i) for i in sorted({i for i, _ in wanted}))
        between = (dt.date(2000, 1, 1), until) if until else None
        for r in await counts._from_rows(institutions, match, args, between):
            pair = (r["institution"], counts.technology_key(r["code"], r["project"]))
            if pair in expected:
                expected[pair] += int(r["n"])
        assert await counts.cumulative_cases_many(pairs, until) == expected, until
        assert any(expected.values())
