"""The demo's management committee (``clintech demo``): hospital A's committee with its
members and a meeting that approved the grading catalogue and the physicians'
authorisations; hospital B has none (the regulator's desk flags it, NAT-41). Made-up data."""

from __future__ import annotations

import datetime as dt

from core.accounts.schemas import SYSTEM
from core.body import service as body
from core.body.tables import Body

MEMBERS = [("周院长", "head", "主任医师"), ("赵医务", "medical_affairs", "副主任医师"), ("孙质量", "quality", "副研究员"),
           ("陈药学", "pharmacy", "主任药师"), ("林护理", "nursing", "主任护师"), ("何院感", "infection", "副主任医师"),
           ("高设备", "equipment", "高级工程师"), ("李主任", "clinical", "主任医师"), ("钱伦理", "ethics", "教授")]


async def load(institution_id: int) -> None:
    if await Body.exists().where(Body.institution == institution_id):
        return
    await body.save_body(SYSTEM, institution_id, body.BodyInput(
        kind="committee", name="医疗技术临床应用管理委员会", established_on=dt.date(2025, 12, 1),
        document="演示数据：院发〔2025〕18号"))
    ids = [await body.add_member(SYSTEM, institution_id, body.MemberInput(
        name=name, post=post, title=title, joined_on=dt.date(2025, 12, 1))) for name, post, title in MEMBERS]
    await body.record_meeting(SYSTEM, institution_id, body.MeetingInput(
        held_on=dt.date(2026, 1, 5), topic="2026年第1次医疗技术临床应用管理委员会会议", attendees=ids[:8],
        minutes="演示数据", decisions=[
            ("grading", "审定本院手术分级管理目录（第1版），自2026年1月5日起施行"),
            ("authorisation", "授予李主任四级及以下手术权限、张医生二级及以下手术权限"),
            ("rules", "修订《医疗技术临床应用管理制度》《医师手术授权与动态管理制度》")]))
