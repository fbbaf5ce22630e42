"""Helpers for the case and QC tests: admitted projects of a chosen technology, a valid
case, API tokens."""

from __future__ import annotations

import datetime as dt
import secrets

from core.accounts.schemas import SYSTEM
from core.plugins import HookView
from tests.admission_helpers import actor, admit_temporary, valid_form
from tests.filing_helpers import JILIN_USERS
from tests.fixtures import per_database

# Admitted on a Monday; the case is performed a week later and the patient discharged on
# Monday 2026-03-16: JL-38 puts the report due 15 working days later, 2026-04-07
# (Qingming 04-04…04-06 skipped, CAL-1).
ADMITTED = dt.date(2026, 3, 2)
OPERATED = dt.date(2026, 3, 10)
DISCHARGED = dt.date(2026, 3, 16)
JL38_DUE = dt.date(2026, 4, 7)
REPORTED = dt.date(2026, 3, 20)


CREATED: list[int] = per_database([])


async def release_obligations() -> None:
    """Waive the yearly HOSP-17 obligations the test projects opened, so other tests'
    dashboards (soonest first, top 20) are not crowded by them."""
    from core.obligations import service as obligations
    from core.obligations.tables import Obligation

    rows = await Obligation.select(Obligation.id).where(
        (Obligation.subject_type == "project") & Obligation.subject_id.is_in(CREATED or [-1])
        & (Obligation.status == "open"))
    for row in rows:
        await obligations.waive(SYSTEM, row["id"], "测试数据，豁免")
    CREATED.clear()


async def admitted(hooks: HookView, users: dict[str, str] = JILIN_USERS, *, tech_class: str = "restricted",
                   tech_index: int = 3, today: dt.date = ADMITTED, form: dict | None = None,
                   title: str | None = None) -> int:
    """A project admitted on ``today`` through the temporary path: a restricted catalogue
    technology (the ``tech_index``-th, so tests of different areas do not share one) or,
    for ``tech_class="routine"``, a technology outside every list."""
    from core.admission import service
    from core.catalog import service as catalog

    clinician = await actor(users["clinician"])
    if tech_class == "restricted":
        await catalog.ensure_synced(hooks.host)
        found = await catalog.choices(hooks, classes=("restricted",), on=today)
        data = service.NewProject(title=title or f"病例测试{secrets.token_hex(3)}", path="temporary",
                                  technology_id=found[tech_index % len(found)].id)
    else:
        data = service.NewProject(title=title or f"常规病例测试{secrets.token_hex(3)}", path="temporary",
                                  outside_lists=True)
    project_id = await service.create_project(clinician, hooks, data, today)
    await service.save_draft(clinician, hooks, project_id, form or valid_form(), today=today)
    await service.submit(clinician, hooks, project_id, today=today)
    await admit_temporary(hooks, project_id, users, today)
    CREATED.append(project_id)
    return project_id


def case(project_id: int, **overrides) -> dict:
    """A valid case of project ``project_id`` as the API takes it."""
    data = {
        "case_id": f"ZY{secrets.token_hex(5)}", "technology_code": f"P{project_id}",
        "patient_key": f"PK-{secrets.token_hex(4)}", "admitted_on": "2026-03-09", "operated_on": OPERATED.isoformat(),
        "discharged_on": DISCHARGED.isoformat(), "operators": ["clinician_a"], "assistants": ["depthead_a"],
        "indication": "冠心病三支病变", "outcome": "improved", "complication": False, "adverse_event": False,
        "follow_up": "术后30天随访无异常", "qc_values": {"并发症发生率": "否"}, "consent": True,
    }
    data.update(overrides)
    return data


def case_input(project_id: int, **overrides):
    import msgspec

    from core.cases.rules import CaseInput

    return msgspec.convert(case(project_id, **overrides), CaseInput)


async def token_for(institution_id: int) -> tuple[int, str]:
    from core.apitokens import service as tokens

    return await tokens.issue(SYSTEM, institution_id, f"测试令牌{secrets.token_hex(2)}")


# ---------------------------------------------------------------- tenancy matrix factories

_records: dict[tuple[str, int], dict] = per_database({})


async def case_route(dep: dict, institution_id: int) -> dict:
    """A recorded case of the institution (its own admitted project), made once per module (each has its own database)."""
    key = ("case", institution_id)
    if key not in _records:
        from core.cases import service

        hooks = dep["host"].view()
        a = institution_id == dep["hospital_a"]
        users = JILIN_USERS if a else {**JILIN_USERS, "clinician": "clinician_b", "medical_affairs": "medaffairs_b"}
        if a:
            project_id = await admitted(hooks, tech_class="routine")
        else:
            project_id = await _admitted_b(hooks)
        clinician = await actor(users["clinician"])
        [result] = await service.record_cases(clinician, hooks, [case_input(
            project_id, operators=[users["clinician"]], assistants=[], qc_values={})], today=REPORTED)
        job = await service.start_import(clinician, f"P{project_id}", "探测.csv", [{"row": 2, "values": {}}])
        _records[key] = {"case_id": result.id, "job_id": job}
    return _records[key]


async def _admitted_b(hooks, title: str | None = None) -> int:
    """A routine project admitted in hospital B, with reviewers made for it (the demo gives
    B only a clinician and medical affairs)."""
    from core.accounts import service as accounts
    from core.accounts.schemas import UserInput
    from core.accounts.tables import User
    from core.tenancy.tables import Department

    b = (await User.select(User.institution).where(User.username == "clinician_b").first())["institution"]
    dept = (await User.select(User.department).where(User.username == "clinician_b").first())["department"]
    users = {"clinician": "clinician_b", "medical_affairs": "medaffairs_b"}
    for role in ("dept_head", "ethics", "expert", "hospital_head"):
        name = f"tenancy_b_{role}"  # the same reviewers the filing probe makes (one ethics member)
        if not await User.exists().where(User.username == name):
            await accounts.create_user(SYSTEM, UserInput(
                username=name, display_name=name, roles=[role], institution=b,
                department=dept if role == "dept_head" else None, password="demo-pass-2026"))
        users[role] = name
    del Department
    return await admitted(hooks, users, tech_class="routine", title=title)


async def case_id_route(dep: dict, institution_id: int) -> dict:
    return {"case_id": (await case_route(dep, institution_id))["case_id"]}


async def import_route(dep: dict, institution_id: int) -> dict:
    return {"job_id": (await case_route(dep, institution_id))["job_id"]}


async def token_route(dep: dict, institution_id: int) -> dict:
    token_id, _ = await token_for(institution_id)
    return {"token_id": token_id}


async def report_route(dep: dict, institution_id: int) -> dict:
    """A 2027 annual QC report of the institution's case-probe project (HOSP-17)."""
    key = ("report", institution_id)
    if key not in _records:
        from core.admission.tables import Project
        from core.cases.tables import CaseRecord
        from core.qc import service as qc

        case_id = (await case_route(dep, institution_id))["case_id"]
        project_id = (await CaseRecord.select(CaseRecord.project).where(CaseRecord.id == case_id).first())["project"]
        lead = (await Project.select(Project.lead).where(Project.id == project_id).first())["lead"]
        from core.accounts.tables import User

        username = (await User.select(User.username).where(User.id == lead).first())["username"]
        report_id = await qc.open_report(await actor(username), dep["host"].view(), project_id, 2027)
        _records[key] = {"report_id": report_id, "project_id": project_id}
    return _records[key]


async def summary_route(dep: dict, institution_id: int) -> dict:
    return {"project_id": (await report_route(dep, institution_id))["project_id"]}


async def receive_one(hooks, delivery_id: int, on: dt.date, receipt: str = "") -> None:
    """ONE platform's receipt of a case's delivery on ``on`` (10:00 Beijing time): the
    worker packages it (no endpoint in the tests' environment), medical affairs uploads
    it by hand and records the receipt."""
    from core.outbox import service as outbox

    await outbox.deliver_due(hooks, delivery_ids=[delivery_id])
    await outbox.confirm_manual(SYSTEM, delivery_id, receipt or f"R-{delivery_id}", hooks=hooks,
                                now=dt.datetime(on.year, on.month, on.day, 2, 0, tzinfo=dt.UTC))


async def receive(hooks, delivery_id: int, on: dt.date, receipt: str = "") -> None:
    """Every platform's receipt, on ``on``, of the case that ``delivery_id`` reports (the
    national and the provincial platform each receive it: NAT-36, JL-38) — only then is
    the case reported. ``receipt`` names the first platform's receipt."""
    from core.cases.service import report_deliveries
    from core.outbox.tables import Delivery

    case_id = (await Delivery.select(Delivery.subject_id).where(Delivery.id == delivery_id).first())["subject_id"]
    for index, d in enumerate((await report_deliveries([case_id]))[case_id]):
        if d["status"] != "accepted":
            await receive_one(hooks, d["id"], on, receipt if index == 0 else "")
