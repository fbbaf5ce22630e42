"""A hospital's own plugin: its admission workflow replaces the default for its
institutions only (``tryfirst=True``) and answers ``None`` for every other one."""

from core import hookimpl

# The institutions this hospital plugin speaks for; a real one would read its settings.
INSTITUTIONS: set[int] = set()

STEPS = [
    {"key": "department", "title": "科室论证", "role": "dept_head", "rule": "HOSP-4"},
    {"key": "committee", "title": "院学术委员会审议", "role": "expert", "rule": "HOSP-9"},
    {"key": "approval", "title": "院长审批", "role": "hospital_head", "rule": "HOSP-10"},
]


@hookimpl(tryfirst=True)
def admission_steps(project):
    if project.institution_id not in INSTITUTIONS:
        return None
    return [dict(step) for step in STEPS]
