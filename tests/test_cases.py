"""Case records (病例逐例报送): one validation for page, API and upload; the reporting
obligation and the outbox delivery per case; the filing opened by the first case.

"Today" is passed explicitly (REPORTED) wherever the service takes it.
"""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from core.accounts.schemas import SYSTEM
from core.cases import rules
from core.cases import service as cases
from core.cases.tables import CaseRecord
from core.errors import DomainError
from core.obligations.tables import Obligation
from core.outbox.tables import Delivery
from tests.admission_helpers import actor
from tests.case_helpers import (
    DISCHARGED,
    JL38_DUE,
    OPERATED,
    REPORTED,
    admitted,
    case_input,
    receive,
    release_obligations,
)


@pytest.fixture(scope="module")
async def jilin(deployment):
    hooks = deployment["host"].view()
    restricted = await admitted(hooks, tech_index=4)
    routine = await admitted(hooks, tech_class="routine")
    yield {"hooks": hooks, "restricted": restricted, "routine": routine}
    await release_obligations()


def rules_of(exc: DomainError) -> set[str]:
    return {p.rule for p in exc.problems}


def fields_of(exc: DomainError) -> set[str]:
    return {p.field for p in exc.problems}


# ---------------------------------------------------------------- pure rules


@pytest.mark.rule("NAT-45")
@pytest.mark.parametrize("key", ["张三", "欧阳娜娜", "110101199003071234", "11010119900307123X", "13812345678",
                                 "住院号13812345678"])
def test_nat45_patient_key_refuses_names_id_numbers_and_phones(key):
    assert [p.rule for p in rules.patient_key_problems(key)] == ["NAT-45"]


@pytest.mark.rule("NAT-45")
def test_nat45_patient_key_accepts_pseudonyms_and_stores_an_hmac():
    assert rules.patient_key_problems("PK-2026-00017") == []
    stored = rules.pseudonym("secret", 1, "PK-2026-00017")
    assert stored != "PK-2026-00017" and len(stored) == 32
    assert stored == rules.pseudonym("secret", 1, " PK-2026-00017 ") != rules.pseudonym("secret", 2, "PK-2026-00017")


@pytest.mark.rule("HOSP-18")
@pytest.mark.rule("NAT-37")
def test_hosp18_nat37_discharge_before_operation_and_no_consent_are_refused():
    case = case_input(1, discharged_on="2026-03-09", consent=False)
    found = {(p.field, p.rule) for p in rules.case_problems(case, REPORTED)}
    assert ("discharged_on", "NAT-37") in found and ("consent", "HOSP-18") in found


def test_target_parameters_are_compared():
    from core.qc.indicators import meets

    assert meets("≤2%", 1.5) is True and meets("≤2%", 2.5) is False
    assert meets("≥95%", 96) is True and meets("<30", 31) is False and meets("按月统计", 3) is None


# ---------------------------------------------------------------- recording (Jilin)


@pytest.mark.rule("JL-38")
@pytest.mark.rule("NAT-37")
async def test_jl38_case_opens_report_due_15_working_days_after_discharge_and_queues_it(deployment, jilin):
    """JL-38: the report is due 15 working days after discharge (CAL-1); recording it
    queues it on the Jilin platform, and the platform's receipt fulfils the obligation
    (on time here)."""
    clinician = await actor("clinician_a")
    [result] = await cases.record_cases(clinician, jilin["hooks"], [case_input(jilin["restricted"])],
                                        source="page", today=REPORTED)
    assert result.status == "created" and result.report_rule == "JL-38" and result.report_due_on == JL38_DUE
    ob = await Obligation.select().where((Obligation.subject_type == "case") & (Obligation.subject_id == result.id)
                                         ).first()
    assert ob["rule_id"] == "JL-38" and ob["status"] == "open"
    assert ob["event_on"] == DISCHARGED
    delivery = await Delivery.select().where(Delivery.id == result.delivery_id).first()
    assert delivery["channel"] == "jilin_platform" and delivery["kind"] == "case"
    await receive(jilin["hooks"], result.delivery_id, REPORTED)
    ob = await Obligation.select().where(Obligation.id == ob["id"]).first()
    assert ob["status"] == "done" and not ob["done_late"]
    row = await CaseRecord.select().where(CaseRecord.id == result.id).first()
    assert row["reported_on"] == REPORTED and not row["report_late"]


@pytest.mark.rule("JL-38")
async def test_jl38_a_report_after_the_deadline_counts_late(deployment, jilin):
    clinician = await actor("clinician_a")
    [result] = await cases.record_cases(clinician, jilin["hooks"], [case_input(jilin["restricted"])],
                                        today=dt.date(2026, 4, 20))
    await receive(jilin["hooks"], result.delivery_id, dt.date(2026, 4, 20))
    row = await CaseRecord.select().where(CaseRecord.id == result.id).first()
    assert row["report_late"] is True


@pytest.mark.rule("NAT-11")
async def test_nat11_first_case_of_a_restricted_technology_opens_its_filing(deployment):
    from core.filing.tables import Filing

    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=5)
    clinician = await actor("clinician_a")
    await cases.record_cases(clinician, hooks, [case_input(project_id, operated_on="2026-03-11"),
                                                case_input(project_id)], today=REPORTED)
    filing = await Filing.select().where(Filing.project == project_id).first()
    assert filing["first_case_on"] == OPERATED and filing["case_count"] == 2
    await cases.record_cases(clinician, hooks, [case_input(project_id)], today=REPORTED)
    assert (await Filing.select(Filing.case_count).where(Filing.id == filing["id"]).first())["case_count"] == 3


async def test_routine_new_technology_case_has_no_provincial_report(deployment, jilin):
    [result] = await cases.record_cases(await actor("clinician_a"), jilin["hooks"],
                                        [case_input(jilin["routine"], qc_values={})], today=REPORTED)
    assert result.report_rule == "" and result.delivery_id is None


@pytest.mark.rule("NAT-37")
async def test_nat37_same_case_id_same_content_is_idempotent_other_content_refused(deployment, jilin):
    clinician = await actor("clinician_a")
    item = case_input(jilin["restricted"])
    [first] = await cases.record_cases(clinician, jilin["hooks"], [item], today=REPORTED)
    [again] = await cases.record_cases(clinician, jilin["hooks"], [item], today=REPORTED)
    assert again.status == "unchanged" and again.id == first.id
    changed = case_input(jilin["restricted"], case_id=item.case_id, outcome="worse")
    with pytest.raises(DomainError) as exc:
        await cases.record_cases(clinician, jilin["hooks"], [changed], today=REPORTED)
    assert ("items[0].case_id", "NAT-37") in {(p.field, p.rule) for p in exc.value.problems}
    row = await CaseRecord.select(CaseRecord.outcome).where(CaseRecord.id == first.id).first()
    assert row["outcome"] == "improved"


@pytest.mark.rule("HOSP-3")
@pytest.mark.rule("NAT-19")
@pytest.mark.rule("HOSP-14")
async def test_batch_is_all_or_nothing_with_every_problem_named(deployment, jilin):
    """HOSP-3 technology not admitted, NAT-19 operator of another institution, HOSP-14 an
    unknown indicator: the batch is refused whole; the valid first item is not stored."""
    clinician = await actor("clinician_a")
    good = case_input(jilin["restricted"])
    items = [good, case_input(jilin["restricted"], technology_code="G99"),
             case_input(jilin["restricted"], operators=["clinician_b"]),
             case_input(jilin["restricted"], qc_values={"不存在的指标": "1"})]
    before = await CaseRecord.count()
    with pytest.raises(DomainError) as exc:
        await cases.record_cases(clinician, jilin["hooks"], items, today=REPORTED)
    found = {(p.field, p.rule) for p in exc.value.problems}
    assert ("items[1].technology_code", "HOSP-3") in found
    assert ("items[2].operators", "NAT-19") in found
    assert ("items[3].qc:不存在的指标", "HOSP-14") in found
    assert await CaseRecord.count() == before
    assert not await CaseRecord.exists().where(CaseRecord.external_id == good.case_id)


async def test_project_of_another_institution_is_not_admitted_here(deployment, jilin):
    with pytest.raises(DomainError) as exc:
        await cases.record_cases(await actor("clinician_b"), jilin["hooks"], [case_input(
            jilin["restricted"], operators=["clinician_b"], assistants=[])], today=REPORTED)
    assert "HOSP-3" in rules_of(exc.value)


# ---------------------------------------------------------------- Henan


@pytest.mark.rule("HN-3")
async def test_hn3_henan_case_reported_one_by_one_on_the_henan_platform(deployment):
    """HN-3: one case, one report — the obligation counts from the operation with the
    deployment's window, and the case goes to the Henan platform."""
    from core.holidays.service import work_calendar
    from tests.filing_helpers import HENAN_USERS, henan_world

    world = await henan_world()
    hooks = world["host"].view()
    project_id = await admitted(hooks, HENAN_USERS, tech_index=2)
    clinician = await actor(HENAN_USERS["clinician"])
    item = case_input(project_id, operators=[HENAN_USERS["clinician"]], assistants=[])
    with pytest.raises(DomainError) as exc:  # Henan's validate_case: complete (HN-3)
        await cases.record_cases(clinician, hooks, [case_input(project_id, operators=[HENAN_USERS["clinician"]],
                                                               assistants=[], indication="")], today=REPORTED)
    assert ("items[0].indication", "HN-3") in {(p.field, p.rule) for p in exc.value.problems}
    [result] = await cases.record_cases(clinician, hooks, [item], today=REPORTED)
    cal = await work_calendar(hooks)
    assert result.report_rule == "HN-3"
    assert result.report_due_on == cal.add_working_days(OPERATED, 15).date
    delivery = await Delivery.select().where(Delivery.id == result.delivery_id).first()
    assert delivery["channel"] == "henan_platform"


# ---------------------------------------------------------------- tenancy of reading


async def test_cases_are_read_within_the_qc_scope(deployment, jilin):
    [result] = await cases.record_cases(await actor("clinician_a"), jilin["hooks"],
                                        [case_input(jilin["restricted"])], today=REPORTED)
    assert (await cases.get_case(await actor("medaffairs_a"), result.id))["id"] == result.id
    assert (await cases.get_case(SYSTEM, result.id))["id"] == result.id
    with pytest.raises(DomainError):
        await cases.get_case(await actor("medaffairs_b"), result.id)


@pytest.mark.rule("HOSP-15")
def test_hosp15_a_complication_or_adverse_event_is_recorded_with_its_description():
    """HOSP-15: QC data and case records are recorded truthfully — a ticked complication or
    adverse event without its description is refused, naming the field."""
    from core.cases.rules import CaseInput, case_problems

    day = dt.date(2026, 3, 2)
    case = CaseInput(case_id="HOSP15-1", technology_code="G01", patient_key="ZY-2026-0001", admitted_on=day,
                     operated_on=day, discharged_on=day, operators=["clinician_a"], consent=True,
                     complication=True, adverse_event=True)
    flagged = {(p.field, p.rule) for p in case_problems(case, day)}
    assert {("complications", "HOSP-15"), ("adverse_events", "HOSP-15")} <= flagged
    described = msgspec.structs.replace(case, complications="术后穿刺点血肿", adverse_events="造影剂过敏")
    assert not [p for p in case_problems(described, day) if p.rule == "HOSP-15"]
