"""The demo's training base (``clintech demo``, after ``core.demo_states``): hospital A trains
physicians in one of its restricted technologies in use — a course filed with the province,
its plan published, three trainees examined (two passed, one of them its own 李主任), the
results reported, so the QC centre's database of trained physicians has entries; 李主任 is
then authorised for the technology on that record (the province's training rule), 张医生 is
not, and where the province reviews physicians moving in from another province, 张医生's
review awaits the QC centre.
Made-up data, idempotent."""

from __future__ import annotations

import datetime as dt

from core import clock
from core.accounts.schemas import SYSTEM
from core.people.demo import PRACTICE_NUMBERS
from core.plugins import HookView
from core.training import service as training
from core.training.tables import TrainingCourse

TITLE = "演示：限制类技术规范化培训2026年第1期"


async def load(hooks: HookView) -> list[str]:
    from core.lifecycle import service as lifecycle
    from core.people.service import technologies
    from core.tenancy.tables import Institution

    a = await Institution.select(Institution.id).where(Institution.licence_no == "DEMO-A-0001").first()
    existing = await TrainingCourse.select(TrainingCourse.technology_key).where(TrainingCourse.title == TITLE).first()
    if existing is not None:  # the same lines every run (the CLI's output is idempotent)
        lines = [f"培训基地：{existing['technology_key']} {TITLE}（3 名参培医师，2 名结业考核合格）",
                 f"医师授权：李主任 {existing['technology_key']}（依据培训数据库记录）；张医生未获该技术授权"]
        rule, _ = training.transfer_rule(hooks)
        return lines + ([f"外省调入医师评议（{rule}）：张医生 {existing['technology_key']} 待省质控中心评议"]
                        if rule else [])
    if a is None:
        return []
    uses = await lifecycle.states(a["id"], [t["key"] for t in await technologies(a["id"])])
    offered = [t for t in await technologies(a["id"]) if uses[t["key"]].in_use]
    if not offered:
        return []
    today = clock.today()
    course_id = await training.create_course(SYSTEM, hooks, a["id"], training.CourseInput(
        technology_key=offered[0]["key"], title=TITLE, places=10,
        plan="演示数据：理论授课40学时、临床操作带教；导师5名；过程考核与结业考核",
        enrolment_notice_on=today - dt.timedelta(days=120), starts_on=today - dt.timedelta(days=80)))
    await training.file_base(SYSTEM, hooks, course_id, today - dt.timedelta(days=124))
    await training.publish_plan(SYSTEM, hooks, course_id, today - dt.timedelta(days=118))
    passed = await training.enrol(SYSTEM, course_id, "王参培", "示范县人民医院")
    failed = await training.enrol(SYSTEM, course_id, "刘参培", "示范市中心医院")
    own = await training.enrol(SYSTEM, course_id, "李主任", "示范医院A", PRACTICE_NUMBERS["depthead_a"])
    await training.record_exam(SYSTEM, hooks, course_id, today - dt.timedelta(days=30),
                               {passed: ("pass", "pass"), failed: ("pass", "fail"), own: ("pass", "pass")})
    await training.report_results(SYSTEM, hooks, course_id, today - dt.timedelta(days=20))
    lines = [f"培训基地：{offered[0]['key']} {TITLE}（3 名参培医师，2 名结业考核合格）"]
    lines += await _authorised(hooks, a["id"], offered[0]["key"], today)
    return lines


async def _authorised(hooks: HookView, institution_id: int, key: str, today: dt.date) -> list[str]:
    """李主任, trained at the base (in the QC centre's database), is authorised for the
    technology; 张医生 is not (a case of his for it is refused at entry, NAT-20). Where the
    province reviews physicians moving in from another province (transfer_rule), 张医生's review
    awaits the QC centre."""
    from core.accounts.tables import User
    from core.people import service as people

    head = await User.select(User.id).where(User.username == "depthead_a").first()
    doctor = await User.select(User.id).where(User.username == "clinician_a").first()
    if head is None or doctor is None:
        return []
    await people.grant(SYSTEM, head["id"], people.GrantInput(
        scope="technology", technology_key=key, valid_from=today - dt.timedelta(days=10),
        valid_until=today + dt.timedelta(days=730), ability="演示数据：独立完成该技术相关三、四级手术",
        training="演示数据：本院培训基地规范化培训", exam="演示数据：过程考核、结业考核合格",
        decision="演示数据：医疗技术临床应用管理委员会会议"), hooks=hooks)
    lines = [f"医师授权：李主任 {key}（依据培训数据库记录）；张医生未获该技术授权"]
    rule, _ = training.transfer_rule(hooks)
    if rule:
        await training.submit_review(SYSTEM, hooks, doctor["id"], training.ReviewInput(
            technology_key=key, origin="演示数据：外省某三级医院",
            materials="演示数据：已核对其外省规范化培训证书及近三年开展该技术的病例"))
        lines.append(f"外省调入医师评议（{rule}）：张医生 {key} 待省质控中心评议")
    return lines
