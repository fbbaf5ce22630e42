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
from core.training.schemas import ReviewStatus
from core.training.tables import Trainee, TrainingCourse, TrainingReview

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


async def enrol(actor: Actor, course_id: int, name: str, home_institution: str, practice_no: str = "") -> int:
    """A trainee enrols (NAT-26) with their 医师执业证书编码: how the province's database
    of trained physicians finds them at their own institution."""
    row = await _course(actor, course_id, manage=True)
    if len(name.strip()) < 2:
        raise DomainError(Problem("请填写参培医师姓名", "name", "NAT-26"))
    if len(practice_no.strip()) > 40:
        raise DomainError(Problem("医师执业证书编码不超过40个字符", "practice_no", "NAT-26"))
    count = await Trainee.count().where(Trainee.course == course_id)
    if count >= row["places"]:
        raise DomainError(Problem(f"已达培训名额（{row['places']} 名）", "name", "NAT-29"))
    async with write_transaction():
        rows = await Trainee.insert(Trainee(course=course_id, name=name.strip()[:60],
                                            home_institution=home_institution.strip()[:200],
                                            practice_no=practice_no.strip())).returning(Trainee.id)
        await audit.record(actor, "training.enrol", "training_course", course_id, after={
            "trainee": rows[0]["id"], "name": name.strip(), "home_institution": home_institution.strip(),
            "practice_no": practice_no.strip()},
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
    """The database of trained physicians (the province's training rule): trainees who passed the final exam of a
    course whose results were reported, of the bases in the actor's scope (the QC centre:
    its province), and physicians whose review counts as training (transfer reviews
    passed), of the institutions in the actor's scope."""
    from core.tenancy.service import visible_institution_ids

    ids = await visible_institution_ids(actor)
    query = Trainee.select(Trainee.name, Trainee.home_institution, Trainee.practice_no,
                           Trainee.course.technology_key, Trainee.course.technology_name, Trainee.course.exam_on,
                           Trainee.course.institution.name).where(
        (Trainee.final_result == "pass") & Trainee.course.results_reported_on.is_not_null())
    if ids is not None:
        query = query.where(Trainee.course.institution.is_in(ids or [-1]))
    rows = [r | {"basis": "结业考核合格"} for r in await query.order_by(Trainee.course.exam_on, ascending=False)]
    reviews = TrainingReview.select(
        TrainingReview.user.display_name, TrainingReview.institution.name, TrainingReview.technology_key,
        TrainingReview.technology_name, TrainingReview.reviewed_on, TrainingReview.listed_on, TrainingReview.rule,
        TrainingReview.kind).where(TrainingReview.status.is_in([ReviewStatus.passed, ReviewStatus.listed]))
    if ids is not None:
        reviews = reviews.where(TrainingReview.institution.is_in(ids or [-1]))
    for r in await reviews.order_by(TrainingReview.reviewed_on, ascending=False):
        rows.append({"name": r["user.display_name"], "home_institution": r["institution.name"], "practice_no": "",
                     "course.technology_key": r["technology_key"], "course.technology_name": r["technology_name"],
                     "course.exam_on": r["reviewed_on"] if r["kind"] == "transfer" else r["listed_on"],
                     "course.institution.name": "省医疗机构质量监测评价中心" if r["kind"] == "transfer"
                     else "本机构评议、卫生健康行政部门公示",
                     "basis": f"外省调入医师评议合格，视同规范化培训合格（{r['rule']}）" if r["kind"] == "transfer"
                     else f"过渡期已具备条件的医师，名单已报省质控中心（{r['rule']}）"})
    return rows


async def _province_path(institution_id: int) -> str:
    """The path of the institution's province in the region tree ("/1/")."""
    from core.tenancy.tables import Institution

    row = await Institution.select(Institution.region.path).where(Institution.id == institution_id).first()
    parts = [p for p in ((row or {}).get("region.path") or "/").split("/") if p]
    return f"/{parts[0]}/" if parts else "/"


async def records_of(user_id: int, institution_id: int, technology_key: str | None = None) -> list[dict]:
    """The province's database entries of one physician, what a grant reads: final
    exams passed at a base of the physician's province whose results were reported (matched by
    the number of a practice certificate medical affairs recorded for them, or by account), and
    reviews passed that count as training. ``{"kind", "on", "technology_key", "text"}``."""
    from core.people.tables import Certificate

    province = await _province_path(institution_id)
    numbers = [r["number"] for r in await Certificate.select(Certificate.number).where(
        (Certificate.user == user_id) & (Certificate.kind == "practice") & (Certificate.removed == 0)
        & (Certificate.number != ""))]
    match = Trainee.user == user_id
    if numbers:
        match = match | Trainee.practice_no.is_in(numbers)
    query = Trainee.select(Trainee.name, Trainee.process_result, Trainee.course.technology_key,
                           Trainee.course.technology_name, Trainee.course.title, Trainee.course.exam_on,
                           Trainee.course.results_reported_on, Trainee.course.institution.name).where(
        match & (Trainee.final_result == "pass") & Trainee.course.results_reported_on.is_not_null()
        & Trainee.course.institution.region.path.like(f"{province}%"))
    if technology_key:
        query = query.where(Trainee.course.technology_key == technology_key)
    out = [{"kind": "course", "on": r["course.exam_on"], "technology_key": r["course.technology_key"],
            "text": f"{r['course.institution.name']}「{r['course.title']}」过程考核{RESULTS[r['process_result']]}、"
                    f"结业考核合格（{r['course.exam_on']}），考核结果已于 {r['course.results_reported_on']} "
                    f"报省医疗机构质量监测评价中心"} for r in await query]
    reviews = TrainingReview.select().where((TrainingReview.user == user_id) & (TrainingReview.kind == "transfer")
                                            & (TrainingReview.status == ReviewStatus.passed))
    if technology_key:
        reviews = reviews.where(TrainingReview.technology_key == technology_key)
    for r in await reviews:
        out.append({"kind": "review", "on": r["reviewed_on"], "technology_key": r["technology_key"],
                    "text": f"外省调入医师经省医疗机构质量监测评价中心评议合格（{r['reviewed_on']}），视同规范化培训合格"
                            f"（{r['rule']}）：{r['opinion']}"})
    listed = TrainingReview.select().where((TrainingReview.user == user_id) & (TrainingReview.status == ReviewStatus.listed))
    if technology_key:
        listed = listed.where(TrainingReview.technology_key == technology_key)
    for r in await listed:
        out.append({"kind": "listed", "on": r["listed_on"], "technology_key": r["technology_key"],
                    "text": f"过渡期已具备条件的医师：本机构评议通过（{r['reviewed_on']}），经卫生健康行政部门公示无异议，"
                            f"于 {r['listed_on']} 报省医疗机构质量监测评价中心（{r['rule']}）"})
    return sorted(out, key=lambda r: r["on"] or dt.date.min)


# ---------------------------------------------------------------- reviews that count as training (authorisation.transfer_rule, transitional_rule)


def transfer_rule(hooks: Any) -> tuple[str, str]:
    """The province's rule for physicians moving in from another province (its id and
    text), ("", "") when the enabled plugins have none."""
    from core.policy import policy

    p = policy(hooks).authorisation
    return p.transfer_rule, p.transfer_text


class ReviewInput(msgspec.Struct, kw_only=True):
    technology_key: str
    origin: str = ""
    materials: str = ""


async def submit_review(actor: Actor, hooks: Any, user_id: int, data: ReviewInput,
                        today: dt.date | None = None) -> int:
    """The receiving institution's medical affairs, having checked the physician's record,
    applies to the provincial QC centre for the review (the province's ``transfer_rule``)."""
    from core.people import service as people

    rule, _ = transfer_rule(hooks)
    person = await people.physician(actor, user_id)
    if not rule or not people.may_manage(actor, person["institution"]):
        raise NotFound("未找到")
    names = {t["key"]: t["name"] for t in await people.technologies(person["institution"])}
    key = data.technology_key.strip().upper()
    problems = []
    if key not in names:
        problems.append(Problem("请选择本机构已准入的限制类技术", "technology_key", rule))
    if len(data.origin.strip()) < 2:
        problems.append(Problem("请填写调入前的执业机构及所在省份", "origin", rule))
    if len(data.materials.strip()) < 10:
        problems.append(Problem("请填写本机构审核的情况（培训经历、开展该技术的情况等，至少10个字）", "materials", rule))
    if await TrainingReview.exists().where((TrainingReview.user == user_id) & (TrainingReview.technology_key == key)
                                           & (TrainingReview.kind == "transfer")
                                           & TrainingReview.status.is_in([ReviewStatus.submitted, ReviewStatus.passed])):
        problems.append(Problem("该医师该技术已有待评议或评议合格的申请", "technology_key", rule))
    if problems:
        raise DomainError(problems)
    day = today or clock.today()
    async with write_transaction():
        rows = await TrainingReview.insert(TrainingReview(
            institution=person["institution"], user=user_id, kind="transfer", technology_key=key,
            technology_name=names[key][:200], rule=rule, origin=data.origin.strip()[:200], materials=data.materials.strip(), submitted_on=day,
            submitted_by=actor.display_name[:100])).returning(TrainingReview.id)
        await audit.record(actor, "training.review_submit", "physician", user_id, after={
            "review": rows[0]["id"], "technology_key": key, "origin": data.origin.strip(), "rule": rule},
            institution_id=person["institution"])
    return rows[0]["id"]


async def _may_review(actor: Actor, institution_id: int) -> bool:
    """The QC centre of the institution's province (or the admin) decides a review."""
    if actor.is_admin:
        return True
    if not actor.has("qc_center") or not actor.region_path:
        return False
    from core.tenancy.service import require_institution

    try:
        await require_institution(actor, institution_id)
    except NotFound:
        return False
    return True


async def reviews(actor: Actor, *, user_id: int | None = None) -> list[dict]:
    """Reviews in the actor's scope (the QC centre: its province's; an institution: its own)."""
    from core.tenancy.service import visible_institution_ids

    ids = await visible_institution_ids(actor)
    query = TrainingReview.select(*TrainingReview.all_columns(), TrainingReview.user.display_name,
                                  TrainingReview.institution.name).order_by(TrainingReview.id, ascending=False)
    if ids is not None:
        query = query.where(TrainingReview.institution.is_in(ids or [-1]))
    if user_id is not None:
        query = query.where(TrainingReview.user == user_id)
    rows = await query
    from core.people.service import may_manage

    for r in rows:
        r["kind_label"] = REVIEW_KINDS[r["kind"]]
        r["status_label"] = ReviewStatus(r["status"]).label_for(r["kind"])
        r["may_decide"] = (r["kind"] == "transfer" and r["status"] == ReviewStatus.submitted
                           and await _may_review(actor, r["institution"]))
        r["may_review"] = r["kind"] == "transitional" and r["status"] == ReviewStatus.submitted and may_manage(
            actor, r["institution"])
        r["may_list"] = (r["kind"] == "transitional" and r["status"] == ReviewStatus.reviewed
                         and await _licensing(actor, r["institution"]))
    return rows


REVIEW_KINDS = {"transfer": "外省调入医师评议", "transitional": "过渡期医师申请"}


async def may_act_on(actor: Actor, review_id: int, kind: str) -> None:
    """NotFound unless the actor may decide (a transfer review: the QC centre of its province)
    or list (a transitional one: the licence-issuing department) the review."""
    row = await TrainingReview.select(TrainingReview.institution).where(
        (TrainingReview.id == review_id) & (TrainingReview.kind == kind)).first()
    allowed = row is not None and (await _may_review(actor, row["institution"]) if kind == "transfer"
                                   else await _licensing(actor, row["institution"]))
    if not allowed:
        raise NotFound("未找到该评议申请")


async def decide_review(actor: Actor, review_id: int, passed: bool, opinion: str, on: dt.date | None) -> None:
    """The provincial QC centre's review: passing counts as standardised training."""
    row = await TrainingReview.select().where(
        (TrainingReview.id == review_id) & (TrainingReview.kind == "transfer")).first()
    if row is None or not await _may_review(actor, row["institution"]):
        raise NotFound("未找到该评议申请")
    problems = []
    if row["status"] != ReviewStatus.submitted:
        problems.append(Problem(f"该申请已评议（{ReviewStatus(row['status']).label_for('transfer')}）", "status",
                                row["rule"]))
    if len(opinion.strip()) < 2:
        problems.append(Problem("请填写评议意见", "opinion", row["rule"]))
    if on is None:
        problems.append(Problem("请填写评议日期", "on", row["rule"]))
    elif on > clock.today() or on < row["submitted_on"]:
        problems.append(Problem("评议日期应在申请之后、今天或之前", "on", row["rule"]))
    if problems:
        raise DomainError(problems)
    async with write_transaction():
        done = await TrainingReview.update({
            TrainingReview.status: ReviewStatus.passed if passed else ReviewStatus.failed, TrainingReview.reviewed_on: on,
            TrainingReview.reviewer: actor.display_name[:100], TrainingReview.opinion: opinion.strip()}).where(
            (TrainingReview.id == review_id) & (TrainingReview.status == ReviewStatus.submitted)).returning(TrainingReview.id)
        if not done:
            raise DomainError(Problem("该申请已被他人评议，请刷新", "status", row["rule"]))
        await audit.record(actor, "training.review_decide", "physician", row["user"], after={
            "review": review_id, "passed": passed, "on": on, "opinion": opinion.strip(), "rule": row["rule"]},
            institution_id=row["institution"])



# ---------------------------------------------------------------- physicians already qualified when rules take effect


def transitional_rule(hooks: Any) -> tuple[str, str]:
    """The province's transitional rule for physicians already qualified (its id and text),
    ("", "") when the enabled plugins have none."""
    from core.policy import policy

    p = policy(hooks).authorisation
    return p.transitional_rule, p.transitional_text


async def _licensing(actor: Actor, institution_id: int) -> bool:
    """The department that issued the institution's licence (a regulator of that region),
    or the admin."""
    from core.tenancy.tables import Institution

    if actor.is_admin:
        return True
    if not actor.has("regulator") or actor.region_id is None:
        return False
    return bool(await Institution.exists().where(
        (Institution.id == institution_id) & (Institution.licence_region == actor.region_id)))


async def apply_transitional(actor: Actor, hooks: Any, technology_key: str, conditions: str,
                             today: dt.date | None = None) -> int:
    """A physician already qualified applies to their own institution (the province's
    ``transitional_rule``): fulfils the rule's ``physician_application`` obligation of the
    institution's projects of that technology (opened when the rules took effect)."""
    from core.admission.tables import Project
    from core.lifecycle.rules import technology_key as key_of
    from core.people import service as people

    rule, _ = transitional_rule(hooks)
    if not rule or actor.institution_id is None or not actor.has(*people.PHYSICIAN_ROLES):
        raise NotFound("未找到")
    institution_id = actor.institution_id
    names = {t["key"]: t["name"] for t in await people.technologies(institution_id)}
    key = technology_key.strip().upper()
    problems = []
    if key not in names:
        problems.append(Problem("请选择本机构已准入的限制类技术", "technology_key", rule))
    if len(conditions.strip()) < 10:
        problems.append(Problem("请填写已具备的条件（培训经历、开展该技术的病例数等，至少10个字）", "conditions", rule))
    if await TrainingReview.exists().where(
            (TrainingReview.user == actor.id) & (TrainingReview.technology_key == key)
            & (TrainingReview.kind == "transitional") & TrainingReview.status.is_in(
                [ReviewStatus.submitted, ReviewStatus.reviewed, ReviewStatus.listed])):
        problems.append(Problem("已就该技术提出申请", "technology_key", rule))
    if problems:
        raise DomainError(problems)
    day = today or clock.today()
    projects = [p["id"] for p in await Project.select(Project.id, Project.technology_code).where(
        (Project.institution == institution_id) & (Project.status == "admitted"))
        if key_of(p["technology_code"], p["id"]) == key]
    async with write_transaction():
        rows = await TrainingReview.insert(TrainingReview(
            institution=institution_id, user=actor.id, kind="transitional", technology_key=key,
            technology_name=names[key][:200], rule=rule, materials=conditions.strip(), submitted_on=day,
            submitted_by=actor.display_name[:100])).returning(TrainingReview.id)
        closed = []
        for project_id in projects:
            closed += await obligations.fulfil(actor, hooks, subject_type="project", subject_id=project_id,
                                               kind="physician_application", done_on=day)
        await audit.record(actor, "training.transitional_apply", "physician", actor.id, after={
            "review": rows[0]["id"], "technology_key": key, "rule": rule, "obligations": closed},
            institution_id=institution_id)
    return rows[0]["id"]


async def review_transitional(actor: Actor, review_id: int, passed: bool, opinion: str, on: dt.date | None) -> None:
    """The institution reviews (组织评议) an application; passing puts the physician on the list
    it reports to the licence-issuing department."""
    from core.people.service import may_manage

    row = await TrainingReview.select().where(
        (TrainingReview.id == review_id) & (TrainingReview.kind == "transitional")).first()
    if row is None or not may_manage(actor, row["institution"]):
        raise NotFound("未找到该申请")
    problems = _decision_problems(row, ReviewStatus.submitted, opinion, on, row["submitted_on"])
    if problems:
        raise DomainError(problems)
    await _set(actor, row, ReviewStatus.submitted,
               {TrainingReview.status: ReviewStatus.reviewed if passed else ReviewStatus.failed,
                TrainingReview.reviewed_on: on, TrainingReview.reviewer: actor.display_name[:100],
                TrainingReview.opinion: opinion.strip()}, "training.transitional_review",
               {"passed": passed, "on": on, "opinion": opinion.strip()})


async def list_transitional(actor: Actor, review_id: int, on: dt.date | None) -> None:
    """The licence-issuing department publicised the list without objection and reported it to
    the provincial QC centre: the physician joins its database."""
    row = await TrainingReview.select().where(
        (TrainingReview.id == review_id) & (TrainingReview.kind == "transitional")).first()
    if row is None or not await _licensing(actor, row["institution"]):
        raise NotFound("未找到该申请")
    problems = _decision_problems(row, ReviewStatus.reviewed, "公示", on, row["reviewed_on"])
    if problems:
        raise DomainError(problems)
    await _set(actor, row, ReviewStatus.reviewed, {TrainingReview.status: ReviewStatus.listed, TrainingReview.listed_on: on,
                                                   TrainingReview.lister: actor.display_name[:100]},
               "training.transitional_list",
               {"on": on})


def _decision_problems(row: dict, expected: str, opinion: str, on: dt.date | None, after: dt.date | None
                       ) -> list[Problem]:
    problems = []
    if row["status"] != expected:
        problems.append(Problem(f"该申请当前状态为「{ReviewStatus(row['status']).label_for('transitional')}」，不能办理", "status", row["rule"]))
    if len(opinion.strip()) < 2:
        problems.append(Problem("请填写评议意见", "opinion", row["rule"]))
    if on is None:
        problems.append(Problem("请填写日期", "on", row["rule"]))
    elif on > clock.today() or (after is not None and on < after):
        problems.append(Problem("日期应在上一步之后、今天或之前", "on", row["rule"]))
    return problems


async def _set(actor: Actor, row: dict, expected: str, values: dict, action: str, after: dict) -> None:
    async with write_transaction():
        done = await TrainingReview.update(values).where(
            (TrainingReview.id == row["id"]) & (TrainingReview.status == expected)).returning(TrainingReview.id)
        if not done:
            raise DomainError(Problem("该申请已被他人办理，请刷新", "status", row["rule"]))
        await audit.record(actor, action, "physician", row["user"], after={"review": row["id"], **after,
                                                                            "rule": row["rule"]},
                           institution_id=row["institution"])
