"""A hospital's own plugin: its admission workflow replaces the default for its
institutions only (``tryfirst=True``) and answers ``None`` for every other one."""

from core import hookimpl

# The institutions this hospital plugin speaks for; a real one would read its settings.
INSTITUTIONS: set[int] = set()

STEPS = [
    {"key": "department", "title": "科室论证", "kind": "review", "role": "dept_head", "rule": "HOSP-4"},
    {"key": "committee", "title": "院学术委员会审议", "kind": "panel", "role": "expert", "rule": "HOSP-9",
     "min_experts": 3},
    {"key": "approval", "title": "院长审批", "kind": "approval", "role": "hospital_head", "rule": "HOSP-10",
     "admits": True},
]


@hookimpl(tryfirst=True)
def admission_steps(project):
    if project.institution_id not in INSTITUTIONS:
        return None
    return [dict(step) for step in STEPS]
