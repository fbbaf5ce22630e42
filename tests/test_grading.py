"""The institution's surgery-grading catalogue (手术分级, NAT-16, NAT-15, NAT-24) and Jilin's
JL-11: S1–S17 are restricted only for grade 3–4 operations, so filing, case reporting and
the regulator's unfiled warnings follow the case's operation level."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from core.cases import service as cases
from core.cases.tables import CaseRecord
from core.contract import CaseTechnology
from core.errors import DomainError
from core.filing.tables import Filing
from core.grading import rules
from core.grading import service as grading
from core.grading.tables import GradingEdition
from core.obligations.tables import Obligation
from core.supervision.detectors import Scope, unfiled_cases
from tests.admission_helpers import actor
from tests.case_helpers import REPORTED, case_input, release_obligations
from tests.people_helpers import GRADED_FROM, admitted_code, graded, xlsx

BASIS = "2026年第2次医疗技术临床应用管理委员会会议审定"


# ---------------------------------------------------------------- pure rules


@pytest.mark.rule("NAT-16")
@pytest.mark.parametrize(("text", "level"), [("3", 3), ("三级", 3), ("四级手术", 4), ("1.0", 1), ("2级", 2),
                                             ("五级", None), ("", None), ("0", None)])
def test_nat16_levels_are_one_to_four(text, level):
    assert rules.parse_level(text) == level


@pytest.mark.rule("NAT-16")
def test_nat16_an_import_names_every_wrong_row_and_keeps_none():
    ops, problems = rules.rows_to_operations([
        (2, {"code": "51.23", "name": "腹腔镜胆囊切除术", "level": "3"}),
        (3, {"code": "胆囊", "name": "错误编码", "level": "2"}),
        (4, {"code": "51.23", "name": "重复", "level": "2"}),
        (5, {"code": "45.42", "name": "", "level": "六"}),
    ])
    messages = [p.message for p in problems]
    assert any(m.startswith("第 3 行：") and "ICD-9-CM-3" in m for m in messages)
    assert any(m.startswith("第 4 行：") and "与第 2 行重复" in m for m in messages)
    assert any(m.startswith("第 5 行：") and "手术名称" in m for m in messages)
    assert any(m.startswith("第 5 行：") and "一至四级" in m for m in messages)
    assert {p.rule for p in problems} == {"NAT-16"}


@pytest.mark.rule("JL-11")
def test_hook_restricted_scope_jilin_s1_s17_only_for_grade_3_and_4(deployment):
    hooks = deployment["host"].view()

    def scope(level):
        return hooks.call("restricted_scope", technology=CaseTechnology(
            code="S6", name="消化内镜诊疗技术", tech_class="restricted", surgery_levels=(3, 4), surgery_level=level))

    assert scope(2).restricted is False and scope(2).rule == "JL-11"
    assert scope(4).restricted is True and scope(3).restricted is True
    assert scope(None).restricted is True and "未登记手术" in scope(None).reason  # nothing leaves supervision
    # A technology without levels (G-list, S18–S21) keeps its class: no answer.
    assert hooks.call("restricted_scope", technology=CaseTechnology(
        code="G10", name="肿瘤消融治疗技术", tech_class="restricted", surgery_level=2)) is None


# ---------------------------------------------------------------- the catalogue and its editions


@pytest.mark.rule("NAT-16")
@pytest.mark.rule("NAT-15")
async def test_nat16_import_all_or_nothing_and_edits_keep_editions(deployment):
    a = deployment["hospital_a"]
    medical = await actor("medaffairs_a")
    before = await GradingEdition.count().where(GradingEdition.institution == a)  # the demo's own
    with pytest.raises(DomainError) as exc:
        await grading.import_catalogue(medical, a, [(2, {"code": "51.23", "name": "腹腔镜胆囊切除术", "level": "3"}),
                                                    (3, {"code": "x", "name": "坏行", "level": "3"})],
                                       filename="bad.xlsx", effective_on=GRADED_FROM, basis=BASIS)
    assert any(p.message.startswith("第 3 行：") for p in exc.value.problems)
    assert await GradingEdition.count().where(GradingEdition.institution == a) == before
    first = await graded(a)
    second = await grading.edit_operation(medical, a, code="45.42", name="内镜下结肠息肉切除术", level="3",
                                          effective_on=dt.date(2026, 6, 1), basis=BASIS)
    assert second != first
    old = await grading.catalogue(medical, a, edition_id=first)
    new = await grading.catalogue(medical, a, edition_id=second)
    level = {r["code"]: r["level"] for r in old["operations"]}
    assert level["45.42"] == 2 and {r["code"]: r["level"] for r in new["operations"]}["45.42"] == 3
    # The edition in force follows the date: a case operated in March is graded by the first.
    rows = await grading.editions(a)
    assert grading.in_force(rows, dt.date(2026, 3, 10))["id"] == first
    assert grading.in_force(rows, dt.date(2026, 6, 2))["id"] == second
    with pytest.raises(DomainError) as exc:  # no edition may rewrite the past
        await grading.edit_operation(medical, a, code="45.23", name="结肠镜检查", level="2",
                                     effective_on=dt.date(2026, 2, 1), basis=BASIS)
    assert [p.field for p in exc.value.problems] == ["effective_on"]
    with pytest.raises(DomainError):  # a clinician does not edit it
        await grading.edit_operation(await actor("clinician_a"), a, code="45.23", name="结肠镜检查", level="2",
                                     effective_on=dt.date(2026, 7, 1), basis=BASIS)


@pytest.mark.rule("NAT-16")
@pytest.mark.rule("NAT-24")
async def test_nat16_the_page_imports_a_file_refuses_bad_rows_and_discloses_publicly(deployment, login_as, anon):
    b = deployment["hospital_b"]
    client = await login_as("medaffairs_b")
    page = await client.get(f"/grading/{b}")
    assert page.status_code == 200 and "尚无生效的手术分级目录" in page.text
    bad = xlsx([("51.23", "腹腔镜胆囊切除术", "三级"), ("51.2", "", "七级")])
    answer = await client.post(f"/grading/{b}/import", data={"effective_on": "2026-01-05", "basis": BASIS},
                               files={"file": ("分级.xlsx", bad)})
    assert answer.status_code == 422 and "第 3 行" in answer.text and "一至四级" in answer.text
    assert not await GradingEdition.exists().where(GradingEdition.institution == b)
    good = xlsx([("51.23", "腹腔镜胆囊切除术", "三级"), ("81.54", "全膝关节置换术", "4")])
    answer = await client.post(f"/grading/{b}/import", data={"effective_on": "2026-01-05", "basis": BASIS},
                               files={"file": ("分级.xlsx", good)})
    assert answer.status_code == 303
    page = await client.get(f"/grading/{b}")
    assert "全膝关节置换术" in page.text and "第 1 版" in page.text
    export = await client.get(f"/grading/{b}/export.xlsx")
    assert export.status_code == 200 and export.content.startswith(b"PK")
    public = await anon.get(f"/public/grading/{b}")
    assert public.status_code == 200 and "全膝关节置换术" in public.text and "四级" in public.text


@pytest.mark.rule("NAT-16")
async def test_nat16_tenancy_other_institution_404_and_readers_cannot_edit(deployment, login_as):
    a, b = deployment["hospital_a"], deployment["hospital_b"]
    other = await login_as("medaffairs_b")
    assert (await other.get(f"/grading/{a}")).status_code == 404
    answer = await other.post(f"/grading/{a}/operations", data={
        "code": "45.23", "name": "结肠镜检查", "level": "1", "effective_on": "2026-07-01", "basis": BASIS})
    assert answer.status_code == 404
    clinician = await login_as("clinician_b")
    assert (await clinician.get(f"/grading/{b}")).status_code == 200
    answer = await clinician.post(f"/grading/{b}/operations", data={
        "code": "45.23", "name": "结肠镜检查", "level": "1", "effective_on": "2026-07-01", "basis": BASIS})
    assert answer.status_code == 404
    regulator = await login_as("regulator_city1")
    assert (await regulator.get(f"/grading/{a}")).status_code == 200
    assert (await regulator.get(f"/grading/{b}")).status_code == 404  # hospital B lies in city 2
    no_csrf = await (await login_as("medaffairs_b")).post(f"/grading/{b}/operations", csrf=False, data={
        "code": "45.23", "name": "结肠镜检查", "level": "1", "effective_on": "2026-07-01", "basis": BASIS})
    assert no_csrf.status_code == 403
    assert "grading-import" not in (await clinician.get(f"/grading/{b}")).text  # readers get no edit form


# ---------------------------------------------------------------- JL-11: cases follow the level


@pytest.fixture(scope="module")
async def endoscopy(deployment):
    hooks = deployment["host"].view()
    a = deployment["hospital_a"]
    # The demo's catalogue (in force from 2026-01-05) grades 45.42 at 2 and 43.41 at 4.
    project = await admitted_code(hooks, "S6")
    yield {"hooks": hooks, "project": project, "institution": a}
    await release_obligations()


@pytest.mark.rule("JL-11")
@pytest.mark.rule("NAT-16")
async def test_jl11_grade_2_endoscopy_opens_no_filing_grade_4_does(endoscopy):
    hooks, project = endoscopy["hooks"], endoscopy["project"]
    clinician = await actor("clinician_a")
    [two] = await cases.record_cases(clinician, hooks, [case_input(project, operation_code="45.42")], today=REPORTED)
    row = await CaseRecord.select().where(CaseRecord.id == two.id).first()
    assert (row["surgery_level"], row["tech_class"], row["scope_rule"]) == (2, "routine", "JL-11")
    assert two.report_rule == "" and two.delivery_id is None  # no case-report obligation, nothing sent
    assert not await Filing.exists().where(Filing.project == project)
    assert not await Obligation.exists().where((Obligation.kind == "filing") & (Obligation.subject_type == "project")
                                               & (Obligation.subject_id == project))
    a = endoscopy["institution"]
    assert not [f for f in await unfiled_cases(Scope((a,), REPORTED)) if f.technology_code == "S6"]
    [four] = await cases.record_cases(clinician, hooks, [case_input(project, operation_code="43.41")], today=REPORTED)
    row = await CaseRecord.select().where(CaseRecord.id == four.id).first()
    assert (row["surgery_level"], row["tech_class"]) == (4, "restricted")
    assert four.report_rule == "JL-38"
    filing = await Filing.select().where(Filing.project == project).first()
    assert filing is not None and filing["case_count"] == 1  # the grade-2 case does not count
    unfiled = [f for f in await unfiled_cases(Scope((a,), REPORTED)) if f.technology_code == "S6"]
    assert [f.count for f in unfiled] == [1]  # the regulator's unfiled warning counts the grade-4 case only


@pytest.mark.rule("NAT-16")
async def test_nat16_a_case_names_an_operation_of_the_catalogue_in_force(endoscopy):
    hooks, project = endoscopy["hooks"], endoscopy["project"]
    clinician = await actor("clinician_a")
    with pytest.raises(DomainError) as exc:
        await cases.record_cases(clinician, hooks, [case_input(project, operation_code="99.99")], today=REPORTED)
    assert [(p.field, p.rule) for p in exc.value.problems] == [("items[0].operation_code", "NAT-16")]
    # Before the first edition no level can be known: the case is refused, naming the date.
    found, _ = await grading.grade_cases(hooks, endoscopy["institution"], [
        (msgspec.structs.replace(case_input(project, operation_code="45.42"), operated_on=dt.date(2026, 1, 4)),
         None)])
    assert found[0].surgery_level is None
    _, problems = await grading.grade_cases(hooks, endoscopy["institution"], [
        (msgspec.structs.replace(case_input(project, operation_code="45.42"), operated_on=dt.date(2026, 1, 4)),
         None)])
    assert [p.rule for p in problems[0]] == ["NAT-16"] and "尚无生效的手术分级目录" in problems[0][0].message
