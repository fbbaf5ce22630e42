"""The default hospital policy (seed 000 and the procedure in seed 002, rules HOSP-*)."""

from __future__ import annotations

from core import hookimpl

# HOSP-4 … HOSP-11: the yearly round's steps, in order. Each names the role that acts.
STEPS = [
    {"key": "department", "title": "科室论证", "role": "dept_head", "rule": "HOSP-4"},
    {"key": "ethics", "title": "伦理审查", "role": "ethics", "rule": "HOSP-7"},
    {"key": "formal", "title": "医务处形式审查", "role": "medical_affairs", "rule": "HOSP-8"},
    {"key": "expert", "title": "专家评审", "role": "expert", "rule": "HOSP-9"},
    {"key": "publicity", "title": "院内公示一周", "role": "medical_affairs", "rule": "HOSP-10"},
    {"key": "approval", "title": "院长审批", "role": "hospital_head", "rule": "HOSP-10"},
    {"key": "university", "title": "报学校备案", "role": "medical_affairs", "rule": "HOSP-11"},
]


@hookimpl(trylast=True)
def admission_steps(project):
    """The default admission workflow (HOSP-4 … HOSP-11); a hospital's own plugin
    answers first for its institutions."""
    return [dict(step) for step in STEPS]
