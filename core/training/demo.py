"""The demo's training base (``clintech demo``, after ``core.demo_states``): hospital A trains
physicians in one of its restricted technologies in use — a course filed with the province,
its plan published, two trainees examined (one passed), the results reported, so the QC
centre's database of trained physicians has an entry. Made-up data, idempotent."""

from __future__ import annotations

import datetime as dt

from core import clock
from core.accounts.schemas import SYSTEM
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
    if existing is not None:  # the same line every run (the CLI's output is idempotent)
        return [f"培训基地：{existing['technology_key']} {TITLE}（2 名参培医师，1 名结业考核合格）"]
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
    await training.record_exam(SYSTEM, hooks, course_id, today - dt.timedelta(days=30),
                               {passed: ("pass", "pass"), failed: ("pass", "fail")})
    await training.report_results(SYSTEM, hooks, course_id, today - dt.timedelta(days=20))
    return [f"培训基地：{offered[0]['key']} {TITLE}（2 名参培医师，1 名结业考核合格）"]
