"""Training bases and exams (NAT-26, NAT-29, NAT-33, JL-27, JL-29, JL-30, JL-34): a course's
planned enrolment notice and start are the events the deadline rules wait for; filing the
base and publishing the plan fulfil them; exams start the results report; reported passes
form the QC centre's database of trained physicians."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import DomainError
from core.obligations.tables import Obligation
from core.plugins import PluginHost
from core.training import service as training
from tests.admission_helpers import actor
from tests.case_helpers import release_obligations
from tests.people_helpers import admitted_code

D = dt.date
NOTICE, START = D(2026, 3, 2), D(2026, 4, 6)  # Monday 2 March; training from Monday 6 April


async def _obligations(course_id: int) -> dict[str, dict]:
    rows = await Obligation.select().where(
        (Obligation.subject_type == "training_course") & (Obligation.subject_id == course_id))
    return {r["kind"]: r for r in rows}


def _course(key: str, **kw) -> training.CourseInput:
    return training.CourseInput(**{"technology_key": key, "title": "消化内镜规范化培训2026年第1期", "places": 2,
                                   "plan": "培训方案：理论40学时、操作100例；师资5名；过程考核与结业考核",
                                   "enrolment_notice_on": NOTICE, "starts_on": START} | kw)


@pytest.fixture(scope="module")
async def base(deployment):
    hooks = deployment["host"].view()
    await admitted_code(hooks, "S6")
    yield {"hooks": hooks, "a": deployment["hospital_a"]}
    await release_obligations()


@pytest.mark.rule("JL-30")
@pytest.mark.rule("JL-29")
@pytest.mark.rule("NAT-26")
async def test_jl30_jl29_a_course_opens_the_base_filing_before_the_notice_and_the_plan_a_month_before(base):
    medical = await actor("medaffairs_a")
    course_id = await training.create_course(medical, base["hooks"], base["a"], _course("S6"))
    found = await _obligations(course_id)
    # JL-30: 3 working days BEFORE the first enrolment notice (replaces NAT-29's "from"); counted
    # back over Saturday 28 February, a make-up working day after the Spring Festival (CAL-3).
    assert (found["training_base_filing"]["rule_id"], found["training_base_filing"]["due_on"]) == ("JL-30",
                                                                                                    D(2026, 2, 26))
    # JL-29: plan, places and enrolment published at least one month before training starts.
    assert (found["training_plan"]["rule_id"], found["training_plan"]["due_on"]) == ("JL-29", D(2026, 3, 6))
    await training.file_base(medical, base["hooks"], course_id, D(2026, 2, 25))
    await training.publish_plan(medical, base["hooks"], course_id, D(2026, 3, 9))
    found = await _obligations(course_id)
    assert found["training_base_filing"]["status"] == "done"
    assert found["training_plan"]["status"] == "done" and found["training_plan"]["done_late"]
    # A second course of the same technology is not a first enrolment notice: no new filing.
    second = await training.create_course(medical, base["hooks"], base["a"], _course("S6", title="第2期"))
    assert "training_base_filing" not in await _obligations(second)


@pytest.mark.rule("NAT-29")
async def test_nat29_nationally_the_base_files_within_3_working_days_from_the_notice(base):
    await admitted_code(base["hooks"], "S7")
    national = PluginHost(("henan",)).view()  # a deployment without Jilin's JL-30 (the national NAT-29 stands)
    course_id = await training.create_course(await actor("medaffairs_a"), national, base["a"], _course(
        "S7", title="普通外科内镜培训", enrolment_notice_on=D(2026, 6, 1), starts_on=D(2026, 7, 6)))
    found = await _obligations(course_id)
    assert (found["training_base_filing"]["rule_id"], found["training_base_filing"]["due_on"]) == ("NAT-29",
                                                                                                    D(2026, 6, 4))


@pytest.mark.rule("NAT-33")
@pytest.mark.rule("JL-34")
@pytest.mark.rule("JL-27")
async def test_jl34_exam_results_reported_within_15_working_days_and_passes_join_the_trained_database(
        base, login_as):
    medical = await actor("medaffairs_a")
    course_id = await training.create_course(medical, base["hooks"], base["a"], _course("S6", title="第3期"))
    passed = await training.enrol(medical, course_id, "王参培", "某县人民医院")
    failed = await training.enrol(medical, course_id, "刘参培", "某市中心医院")
    with pytest.raises(DomainError) as exc:  # the places are two
        await training.enrol(medical, course_id, "第三人", "某医院")
    assert "已达培训名额" in str(exc.value)
    with pytest.raises(DomainError) as exc:  # every trainee's process and final results (NAT-33)
        await training.record_exam(medical, base["hooks"], course_id, D(2026, 5, 8), {passed: ("pass", "pass")})
    assert [p.rule for p in exc.value.problems] == ["NAT-33"]
    await training.record_exam(medical, base["hooks"], course_id, D(2026, 5, 8),
                               {passed: ("pass", "pass"), failed: ("pass", "fail")})
    found = await _obligations(course_id)
    # 15 working days after the exam, Saturday 9 May (a make-up working day after Labour Day) counting.
    assert (found["exam_results"]["rule_id"], found["exam_results"]["due_on"]) == ("JL-34", D(2026, 5, 28))
    qc = await login_as("qccenter")
    assert "王参培" not in (await qc.get("/training")).text  # not reported yet
    await training.report_results(medical, base["hooks"], course_id, D(2026, 5, 20))
    assert (await _obligations(course_id))["exam_results"]["status"] == "done"
    page = await qc.get("/training")
    assert "王参培" in page.text and "刘参培" not in page.text  # only those who passed the final exam
    course = await (await login_as("medaffairs_a")).get(f"/training/{course_id}")
    assert "合格" in course.text and "不合格" in course.text
