"""Issue 13 "Done means": ``clintech demo`` (its steps in the CLI's order) includes a
management committee, a grading catalogue, authorised and unauthorised physicians, a
training base with a course and exam results — and a case of the unauthorised physician is
refused at entry while the authorised one's is accepted."""

from __future__ import annotations

import datetime as dt

import pytest

from core import clock
from core.accounts.tables import User
from core.body.tables import Body
from core.cases import service as cases
from core.errors import DomainError
from core.grading.tables import GradingEdition
from core.people import service as people
from core.people.tables import Authorisation
from core.training import service as training
from core.training.tables import Trainee, TrainingCourse, TrainingReview
from tests.admission_helpers import actor
from tests.case_helpers import case_input


@pytest.fixture(scope="module")
async def built(deployment):
    from core import demo_states
    from core.lifecycle import demo as lifecycle_demo
    from core.training import demo as training_demo

    hooks = deployment["host"].view()
    await lifecycle_demo.load(hooks)
    await demo_states.load(hooks)
    lines = await training_demo.load(hooks)
    yield {"hooks": hooks, "lines": lines, "a": deployment["hospital_a"]}


async def _user(username: str) -> int:
    return (await User.select(User.id).where(User.username == username).first())["id"]


@pytest.mark.rule("NAT-15")
@pytest.mark.rule("NAT-16")
async def test_the_demo_has_a_committee_and_a_grading_catalogue(built):
    assert await Body.exists().where(Body.institution == built["a"])
    assert await GradingEdition.exists().where(GradingEdition.institution == built["a"])


@pytest.mark.rule("NAT-26")
@pytest.mark.rule("NAT-33")
@pytest.mark.rule("JL-27")
@pytest.mark.rule("JL-43")
async def test_the_demo_has_a_training_base_exam_results_authorised_and_unauthorised_physicians(built):
    from core.training import demo as training_demo

    course = await TrainingCourse.select().where(TrainingCourse.title == training_demo.TITLE).first()
    assert course["base_filed_on"] and course["exam_on"] and course["results_reported_on"]
    finals = sorted(t["final_result"] for t in await Trainee.select(Trainee.final_result).where(
        Trainee.course == course["id"]))
    assert finals == ["fail", "pass", "pass"]
    head, doctor, other = await _user("depthead_a"), await _user("clinician_a"), await _user("clinician_b")
    # 李主任: in the QC centre's database, authorised for the technology on that record.
    records = await training.records_of(head, built["a"], course["technology_key"])
    assert [r["kind"] for r in records] == ["course"]
    rows = await people.authorisations(head, built["a"])
    granted = next(r for r in rows if r["scope"] == "technology")
    assert granted["technology_key"] == course["technology_key"] and granted["state"] == "active"
    assert granted["events"][0]["evidence"][0]["kind"] == "course"
    # 张医生 (level 2 only) and 吴医生 (none) are not authorised for it.
    assert not await Authorisation.exists().where((Authorisation.user == doctor) & (Authorisation.scope == "technology"))
    assert not await Authorisation.exists().where(Authorisation.user == other)
    # Jilin: 张医生's review as a physician from another province awaits the QC centre.
    assert await TrainingReview.exists().where((TrainingReview.user == doctor) & (TrainingReview.status == "submitted"))
    assert any("JL-43" in line for line in built["lines"])
    assert await training_demo.load(built["hooks"]) == built["lines"]  # idempotent


@pytest.mark.rule("NAT-20")
async def test_in_the_demo_the_unauthorised_physicians_case_is_refused_the_authorised_ones_accepted(built):
    from core.admission.tables import Project
    from core.training import demo as training_demo

    course = await TrainingCourse.select().where(TrainingCourse.title == training_demo.TITLE).first()
    project = await Project.select(Project.id).where(
        (Project.institution == built["a"]) & (Project.status == "admitted")
        & (Project.technology_code == course["technology_key"])).first()
    hooks, recorder = built["hooks"], await actor("medaffairs_a")
    today = clock.today()
    day = today - dt.timedelta(days=3)
    dates = {"admitted_on": (day - dt.timedelta(days=1)).isoformat(), "operated_on": day.isoformat(),
             "discharged_on": (day + dt.timedelta(days=1)).isoformat(), "operation_code": "43.41"}
    with pytest.raises(DomainError) as exc:
        await cases.record_cases(recorder, hooks, [case_input(project["id"], operators=["clinician_a"], assistants=[],
                                                              **dates)], today=today)
    assert {p.rule for p in exc.value.problems} == {"NAT-20"} and "无该技术授权" in str(exc.value)
    [ok] = await cases.record_cases(recorder, hooks, [case_input(project["id"], operators=["depthead_a"],
                                                                 assistants=[], **dates)], today=today)
    assert ok.status == "created"
