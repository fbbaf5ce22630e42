"""Pure rules of the institution's technology-management body (NAT-15, NAT-16). The posts a
province requires come from its plugin (``province_policy``: ``body.posts``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from core.errors import Problem

KINDS = {"committee": "医疗技术临床应用管理委员会", "working_group": "医疗技术临床应用管理工作小组",
         "designated": "指定专（兼）职人员"}
POSTS = {
    "head": "主任委员（医疗机构主要负责人）", "medical_affairs": "医务部门负责人", "quality": "质量管理部门负责人",
    "pharmacy": "药学部门负责人", "nursing": "护理部门负责人", "infection": "院感部门负责人",
    "equipment": "设备部门负责人", "clinical": "临床专业高级职称人员", "management": "管理专业高级职称人员",
    "ethics": "伦理专业高级职称人员", "member": "其他委员",
}
# The body's duties (NAT-15) and the institution's systems (NAT-16) its decisions belong to.
SYSTEMS = {
    "rules": "制定本机构医疗技术临床应用管理制度", "catalogue": "目录管理", "grading": "手术分级",
    "authorisation": "医师授权", "qc": "质量控制", "archive": "档案管理", "evaluation": "动态评估",
    "argumentation": "首次应用技术论证", "stop": "停止临床应用", "other": "其他",
}
NAT16_SYSTEMS = ("catalogue", "grading", "authorisation", "qc", "archive", "evaluation")


def grade_two_or_above(grade: str) -> bool:
    """二级 and 三级 hospitals (NAT-15: 二级以上的医院)."""
    return (grade or "").strip().startswith(("二级", "三级"))


def kind_problems(kind: str, grade: str) -> list[Problem]:
    """NAT-15: a hospital of grade 2 or above has a committee under its quality committee."""
    if kind not in KINDS:
        return [Problem("请选择组织形式", "kind", "NAT-15")]
    if grade_two_or_above(grade) and kind != "committee":
        return [Problem(f"{grade}医院应当设立医疗技术临床应用管理委员会（专门组织），不能仅设工作小组或指定人员",
                        "kind", "NAT-15")]
    return []


def composition_gaps(members: Iterable[Mapping], required: Iterable[str]) -> list[str]:
    """The required posts no current member holds."""
    held = {m["post"] for m in members if not m.get("left_on")}
    return [p for p in required if p not in held]


def meeting_problems(held_on: dt.date | None, topic: str, attendees: list[int], members: Iterable[int],
                     decisions: list[tuple[str, str]], today: dt.date) -> list[Problem]:
    problems = []
    if held_on is None:
        problems.append(Problem("请填写会议日期", "held_on", "NAT-15"))
    elif held_on > today:
        problems.append(Problem("会议日期不能晚于今天（会议举行后登记）", "held_on", "NAT-15"))
    if len(topic.strip()) < 2:
        problems.append(Problem("请填写会议议题", "topic", "NAT-15"))
    if not attendees:
        problems.append(Problem("请勾选出席的委员", "attendees", "NAT-15"))
    if set(attendees) - set(members):
        problems.append(Problem("出席人员须为本组织的在任委员", "attendees", "NAT-15"))
    if not decisions:
        problems.append(Problem("请至少登记一项会议决定", "decisions", "NAT-15"))
    for system, text in decisions:
        if system not in SYSTEMS:
            problems.append(Problem("请选择决定所属的职责", "decisions", "NAT-15"))
        if len(text.strip()) < 2:
            problems.append(Problem("请填写决定内容", "decisions", "NAT-15"))
    return problems
