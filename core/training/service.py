"""Training bases and exams (规范化培训): the use cases, the only writer of
``training_course`` and ``training_trainee``.

NAT-26: restricted technologies are trained per the national and provincial requirements.
An institution acting as training base registers a course for one of its restricted
technologies with the planned first enrolment notice and start; those dates are the
events the deadline rules wait for — ``enrolment_notice`` (the base's filing with the
provincial commission: NAT-29 within 3 working days from it, a province may move it
before) and ``training_start`` (a province's plan publication, e.g. one month before).
Filing the base and publishing the plan fulfil them. Trainees enrol; the process and final
exams (NAT-33) are recorded — the ``exam`` event starts the obligation to report the
results where a province requires it — and reporting fulfils it. Trainees who passed the
final exam of a reported course form the province's database of trained physicians, read
by the provincial QC centre and by the trainees' institutions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from core import clock
from core.accounts.schemas import Actor
from core.audit import service as audit
from core.db import write_transaction
from core.errors import DomainError, NotFound, Problem
from core.obligations import service as obligations
from core.training.tables import Trainee, TrainingCourse

RESULTS = {"pass": "合格", "fail": "不合格", "": "未考核"}


class CourseInput(msgspec.Struct, kw_only=True):
    technology_key: str
    title: str
    places: int = 0
    plan: str = ""
    enrolment_notice_on: dt.date | None = None
    starts_on: dt.date | None = None


def may_manage(actor: Actor, institution_id: int) -> bool:
    return actor.is_admin or (actor.has("medical_affairs") and actor.institution_id == institution_id)


async def _course(actor: Actor, course_id: int, *, manage: bool = False) -> dict:
    """A course in the actor's view: its institution's people; regulators and the QC centre of
    its region; the admin. ``manage``: its medical affairs (or the admin) only."""
    from core.tenancy.service import require_institution

    row = await TrainingCourse.select().where(TrainingCourse.id == course_id).first()
    if row is None:
        raise NotFound("未找到该培训项目")
    await require_institution(actor, row["institution"])
    if manage and not may_manage(actor, row["institution"]):
        raise NotFound("未找到该培训项目")
    return row


def _event(row: dict, kind: str, on: dt.date, occurrence: str | None = None) -> obligations.DomainEvent:
    return obligations.DomainEvent(
        kind=kind, occurred_on=on, institution_id=row["institution"], subject_type="training_course",
        subject_id=row["id"], subject_label=f"{row['technology_name']} 培训：{row['title']}",
        technology_class="restricted", technology_code=row["technology_key"],
        **({"occurrence": occurrence} if occurrence else {}))


async def create_course(actor: Actor, hooks: Any, institution_id: int, data: CourseInput) -> int:
    """Register a course (NAT-26); its first enrolment notice and start are reported to the
    deadline engine (NAT-29 and the province's rules) in the same transaction."""
    from core.people.service import technologies

    if not may_manage(actor, institution_id):
        raise NotFound("未找到")
    names = {t["key"]: t["name"] for t in await technologies(institution_id)}
    problems = []
    if data.technology_key not in names:
        problems.append(Problem("培训基地只能就本机构已准入的限制类技术开展培训", "technology_key", "NAT-29"))
    if len(data.title.strip()) < 2:
        problems.append(Problem("请填写培训项目名称", "title", "NAT-26"))
    if data.places < 1:
        problems.append(Problem("请填写培训名额", "places", "NAT-29"))
    if len(data.plan.strip()) < 10:
        problems.append(Problem("请填写培训方案、培训师资、课程设置、考核方案（至少10个字）", "plan", "NAT-29"))
    if data.enrolment_notice_on is None:
        problems.append(Problem("请填写首次发布招生公告的日期", "enrolment_notice_on", "NAT-29"))
    if data.starts_on is None:
        problems.append(Problem("请填写培训开始日期", "starts_on", "NAT-26"))
    if data.enrolment_notice_on and data.starts_on and data.starts_on < data.enrolment_notice_on:
        problems.append(Problem("培训开始日期不能早于招生公告日期", "starts_on", "NAT-26"))
    if problems:
        raise DomainError(problems)
    assert data.enrolment_notice_on is not None and data.starts_on is not None
    async with write_transaction():
        first = not await TrainingCourse.exists().where(
            (TrainingCourse.institution == institution_id) & (TrainingCourse.technology_key == data.technology_key))
        rows = await TrainingCourse.insert(TrainingCourse(
            institution=institution_id, technology_key=data.technology_key, technology_name=names[data.technology_key],
            title=data.title.strip()[:200], places=data.places, plan=data.plan.strip(),
            enrolment_notice_on=data.enrolment_notice_on, starts_on=data.starts_on,
            created_by=actor.display_name[:100])).returning(TrainingCourse.id)
        row = await TrainingCourse.select().where(TrainingCourse.id == rows[0]["id"]).first()
        events = [_event(row, "training_start", data.starts_on)]
        if first:  # the base files on its FIRST enrolment notice (NAT-29)
            events.append(_event(row, "enrolment_notice", data.enrolment_notice_on))
        await obligations.on_events(actor, hooks, events)
        await audit.record(actor, "training.create", "training_course", row["id"], after={
            "technology_key": data.technology_key, "title": data.title.strip(), "places": data.places,
            "enrolment_notice_on": data.enrolment_notice_on, "starts_on": data.starts_on, "first": first},
            institution_id=institution_id)
    return row["id"]


async def _mark(actor: Actor, hooks: Any, course_id: int, column: Any, on: dt.date | None, kind: str,
                action: str, what: str) -> None:
    row = await _course(actor, course_id, manage=True)
    if on is None:
        raise DomainError(Problem(f"请填写{what}日期", "on"))
    if on > clock.today():
        raise DomainError(Problem(f"{what}日期不能晚于今天", "on"))
    if row[column._meta.name] is not None:
        raise DomainError(Problem(f"已于 {row[column._meta.name]} 登记{what}", "on"))
    async with write_transaction():
        await TrainingCourse.update({column: on}).where(TrainingCourse.id == course_id)
        await obligations.fulfil(actor, hooks, subject_type="training_course", subject_id=course_id, kind=kind,
                                 done_on=on)
        await audit.record(actor, f"training.{action}", "training_course", course_id, after={"on": on},
                           institution_id=row["institution"])


async def file_base(actor: Actor, hooks: Any, course_id: int, on: dt.date | None) -> None:
    """The base filed with the provincial commission (NAT-29): fulfils its filing obligation."""
    await _mark(actor, hooks, course_id, TrainingCourse.base_filed_on, on, "training_base_filing", "file",
                "向省级卫生健康行政部门备案")


async def publish_plan(actor: Actor, hooks: Any, course_id: int, on: dt.date | None) -> None:
    """Plan, places and enrolment published (a province's rule, e.g. one month before start)."""
    await _mark(actor, hooks, course_id, TrainingCourse.plan_published_on, on, "training_plan", "publish",
                "向社会公布培训计划")


async def enrol(actor: Actor, course_id: int, name: str, home_institution: str) -> int:
    row = await _course(actor, course_id, manage=True)
    if len(name.strip()) < 2:
        raise DomainError(Problem("请填写参培医师姓名", "name", "NAT-26"))
    count = await Trainee.count().where(Trainee.course == course_id)
    if count >= row["places"]:
        raise DomainError(Problem(f"已达培训名额（{row['places']} 名）", "name", "NAT-29"))
    async with write_transaction():
        rows = await Trainee.insert(Trainee(course=course_id, name=name.strip()[:60],
                                            home_institution=home_institution.strip()[:200])).returning(Trainee.id)
        await audit.record(actor, "training.enrol", "training_course", course_id, after={
            "trainee": rows[0]["id"], "name": name.strip(), "home_institution": home_institution.strip()},
            institution_id=row["institution"])
    return rows[0]["id"]


async def record_exam(actor: Actor, hooks: Any, course_id: int, held_on: dt.date | None,
                      results: dict[int, tuple[str, str]]) -> None:
    """The process and final exams of every trainee (NAT-33); the exam's end starts the
    obligation to report the results where the province requires it."""
    row = await _course(actor, course_id, manage=True)
    trainees = {t["id"] for t in await Trainee.select(Trainee.id).where(Trainee.course == course_id)}
    problems = []
    if held_on is None:
        problems.append(Problem("请填写考核日期", "held_on", "NAT-33"))
    elif held_on > clock.today() or held_on < row["starts_on"]:
        problems.append(Problem("考核日期应在培训开始之后、今天或之前", "held_on", "NAT-33"))
    if not trainees:
        problems.append(Problem("尚无参培医师", "results", "NAT-33"))
    if set(results) != trainees or any(p not in ("pass", "fail") or f not in ("pass", "fail")
                                       for p, f in results.values()):
        problems.append(Problem("请为每名参培医师填写过程考核和结业考核结果", "results", "NAT-33"))
    if row["exam_on"] is not None:
        problems.append(Problem(f"已于 {row['exam_on']} 登记考核", "held_on", "NAT-33"))
    if problems:
        raise DomainError(problems)
    assert held_on is not None
    async with write_transaction():
        for trainee_id, (process, final) in results.items():
            await Trainee.update({Trainee.process_result: process, Trainee.final_result: final}).where(
                Trainee.id == trainee_id)
        await TrainingCourse.update({TrainingCourse.exam_on: held_on}).where(TrainingCourse.id == course_id)
        await obligations.on_events(actor, hooks, [_event(row, "exam", held_on)])
        await audit.record(actor, "training.exam", "training_course", course_id, after={
            "held_on": held_on, "passed": sum(1 for _, f in results.values() if f == "pass"),
            "trainees": len(results)}, institution_id=row["institution"])


async def report_results(actor: Actor, hooks: Any, course_id: int, on: dt.date | None) -> None:
    """The results reported to the provincial QC centre: fulfils the reporting obligation;
    the trainees who passed join the province's database of trained physicians."""
    row = await _course(actor, course_id, manage=True)
    if row["exam_on"] is None:
        raise DomainError(Problem("请先登记考核结果", "on", "NAT-33"))
    if on is not None and on < row["exam_on"]:
        raise DomainError(Problem("报送日期不能早于考核日期", "on"))
    await _mark(actor, hooks, course_id, TrainingCourse.results_reported_on, on, "exam_results", "report",
                "报送考核结果")


async def courses(actor: Actor, institution_id: int) -> list[dict]:
    from core.tenancy.service import require_institution

    await require_institution(actor, institution_id)
    rows = await TrainingCourse.select().where(TrainingCourse.institution == institution_id).order_by(
        TrainingCourse.starts_on, ascending=False)
    for r in rows:
        r["trainees"] = await Trainee.select().where(Trainee.course == r["id"]).order_by(Trainee.id)
    return rows


async def course(actor: Actor, course_id: int) -> dict:
    row = await _course(actor, course_id)
    row["trainees"] = await Trainee.select().where(Trainee.course == course_id).order_by(Trainee.id)
    for t in row["trainees"]:
        t["process_label"], t["final_label"] = RESULTS[t["process_result"]], RESULTS[t["final_result"]]
    row["may_manage"] = may_manage(actor, row["institution"])
    return row


async def trained(actor: Actor) -> list[dict]:
    """The database of trained physicians: trainees who passed the final exam of a course whose
    results were reported, of the bases in the actor's scope (the QC centre: its province)."""
    from core.tenancy.service import visible_institution_ids

    ids = await visible_institution_ids(actor)
    query = Trainee.select(Trainee.name, Trainee.home_institution, Trainee.course.technology_key,
                           Trainee.course.technology_name, Trainee.course.exam_on,
                           Trainee.course.institution.name).where(
        (Trainee.final_result == "pass") & Trainee.course.results_reported_on.is_not_null())
    if ids is not None:
        query = query.where(Trainee.course.institution.is_in(ids or [-1]))
    return await query.order_by(Trainee.course.exam_on, ascending=False)
