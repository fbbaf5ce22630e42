"""Hospital B's own admission policy, as a third party would ship it (test plugin).

No publicity step and a two-level grade scale; the application form is shorter.
It answers only for its own institutions (``INSTITUTIONS``, set by the deployment —
here by the test) and ``None`` for every other, so the default policy still answers
for them. Nothing in core knows about it.
"""

from __future__ import annotations

from core import hookimpl

INSTITUTIONS: set[int] = set()

STEPS = [
    {"key": "formal", "title": "医务科形式审查", "kind": "review", "role": "medical_affairs", "rule": "HOSP-8",
     "written_reply": True},
    {"key": "ethics", "title": "伦理委员会审查", "kind": "ethics", "role": "ethics", "rule": "HOSP-7"},
    # NAT-21: every workflow argues the technology in the institution before it admits it.
    {"key": "argue", "title": "科室论证", "kind": "argumentation", "role": "dept_head", "rule": "NAT-21"},
    {"key": "approval", "title": "分管院长审批", "kind": "approval", "role": "hospital_head", "rule": "HOSP-10",
     "admits": True},
    {"key": "university", "title": "报大学备案", "kind": "filing", "role": "medical_affairs", "rule": "HOSP-11"},
]
GRADES = [("重点", "院级重点新技术"), ("一般", "院级一般新技术")]
FORM = {
    "title": "医院B新技术准入申请表",
    "sections": [
        {"key": "basic", "title": "基本情况", "fields": [
            {"key": "grade", "label": "技术级别", "kind": "grade", "required": True, "rule": "HOSP-1"},
            {"key": "subject", "label": "诊疗科目", "kind": "subject", "required": True, "rule": "NAT-43"},
            {"key": "summary", "label": "技术简介与适应症", "kind": "textarea", "required": True, "rule": "HOSP-8"},
        ]},
        {"key": "evidence", "title": "佐证", "fields": [
            {"key": "evidence", "label": "国内外开展情况", "kind": "table", "rule": "HOSP-6",
             "columns": [["source", "单位或文献"], ["summary", "要点"]]},
        ]},
    ],
}


def _ours(project) -> bool:
    return getattr(project, "institution_id", None) in INSTITUTIONS


@hookimpl(tryfirst=True)
def admission_steps(project):
    return [dict(s) for s in STEPS] if _ours(project) else None


@hookimpl(tryfirst=True)
def application_form(project):
    return FORM if _ours(project) else None


@hookimpl(tryfirst=True)
def grades(project):
    return list(GRADES) if _ours(project) else None
