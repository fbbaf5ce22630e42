"""Helpers for the filing tests: admitted restricted projects in a Jilin or a Henan
deployment, a Henan region with its own hospital and people, and a whole filing."""

from __future__ import annotations

import datetime as dt
import secrets

from core.accounts.schemas import SYSTEM, Actor
from core.accounts.tables import User
from core.plugins import HookView, PluginHost
from tests.admission_helpers import PDF, PNG, actor, admit_temporary, technology_id, valid_form  # noqa: F401

# Admission happens on ADMITTED; the first case follows on FIRST_CASE (a Monday):
# JL-12 / HN-2.2b put the filing due 15 working days later, DUE (no holiday between).
ADMITTED = dt.date(2026, 3, 2)
FIRST_CASE = dt.date(2026, 3, 9)
DUE = dt.date(2026, 3, 30)

JILIN_USERS = {"clinician": "clinician_a", "dept_head": "depthead_a", "ethics": "ethics_a",
               "medical_affairs": "medaffairs_a", "expert": "expert_a", "hospital_head": "head_a"}
HENAN_USERS = {role: f"hn_{role}" for role in JILIN_USERS} | {
    "regulator": "hn_regulator_zz", "province": "hn_regulator_province", "other_city": "hn_regulator_ly",
    "qc_center": "hn_qccenter"}
HENAN_LICENCE = "HN-DEMO-0001"


async def admitted_project(hooks: HookView, users: dict[str, str] = JILIN_USERS, *, title: str | None = None,
                           today: dt.date = ADMITTED) -> int:
    """A restricted project admitted on ``today`` through the temporary path (HOSP-12)."""
    from core.admission import service

    clinician = await actor(users["clinician"])
    data = service.NewProject(title=title or f"限制类备案测试{secrets.token_hex(3)}", path="temporary",
                              technology_id=await technology_id(hooks, "restricted", today))
    project_id = await service.create_project(clinician, hooks, data, today)
    await service.save_draft(clinician, hooks, project_id, valid_form(), today=today)
    await service.submit(clinician, hooks, project_id, today=today)
    return await admit_temporary(hooks, project_id, users, today)


async def region_actor(username: str) -> Actor:
    """Any demo user as an ``Actor`` with their region scope (regulators, QC centre)."""
    from core.tenancy.tables import Region

    row = await User.select(User.id, User.username, User.display_name, User.roles, User.institution,
                            User.department, User.region).where(User.username == username).first().output(
        load_json=True)
    region = await Region.select().where(Region.id == row["region"]).first() if row["region"] else None
    return Actor(id=row["id"], username=row["username"], display_name=row["display_name"], roles=tuple(row["roles"]),
                 institution_id=row["institution"], department_id=row["department"],
                 region_id=region["id"] if region else None, region_path=region["path"] if region else None,
                 region_name=region["name"] if region else None)


async def henan_world() -> dict:
    """A Henan deployment's province, two cities, one hospital in 郑州 and its people.

    Idempotent: created once per database (the demo's own province is Jilin's)."""
    return await province_world(PluginHost(("henan", "hospital_default")), HENAN_USERS, HENAN_LICENCE,
                                "郑州市示范医院（河南）", "河南")


async def province_world(host: PluginHost, users: dict[str, str], licence: str, hospital: str, label: str) -> dict:
    """A deployment's province (from its ``demo_region``), two cities, one hospital in the
    first city and its people (``users``: role → login). Idempotent."""
    from core import demo
    from core.accounts import person
    from core.accounts import service as accounts
    from core.accounts.schemas import UserInput
    from core.tenancy import service as tenancy
    from core.tenancy.schemas import DepartmentInput, InstitutionInput
    from core.tenancy.tables import Department, Institution, Region

    spec = host.view().call("demo_region")
    province = await demo._region(*spec.province[:2], "province", None, *spec.province[2:3])
    cities = [await demo._region(*city[:2], "city", province, *city[2:3]) for city in spec.cities[:2]]
    row = await Institution.select(Institution.id).where(Institution.licence_no == licence).first()
    if row:
        inst = row["id"]
    else:
        inst = await tenancy.create_institution(SYSTEM, InstitutionInput(
            name=hospital, licence_no=licence, grade="三级甲等", region=cities[0],
            registered_subjects=["内科", "外科"]))
    dept = await Department.select(Department.id).where(Department.institution == inst).first()
    dept_id = dept["id"] if dept else await tenancy.create_department(
        SYSTEM, inst, DepartmentInput(name="心血管内科", subject="内科"))
    tenants = {"regulator": cities[0], "other_city": cities[1], "province": province, "qc_center": province}
    for role, username in users.items():
        if await User.exists().where(User.username == username):
            continue
        region_roles = {"regulator": "regulator", "other_city": "regulator", "province": "regulator",
                        "qc_center": "qc_center"}
        if role in region_roles:
            data = UserInput(username=username, display_name=f"{label}{username[3:]}", roles=[region_roles[role]],
                             region=tenants[role], password="demo-pass-2026")
        else:
            data = UserInput(username=username, display_name=f"{label}{role}", roles=[role], institution=inst,
                             department=dept_id if role in ("clinician", "dept_head") else None,
                             password="demo-pass-2026")
        await accounts.create_user(SYSTEM, data)
        if role == "clinician":
            uid = (await User.select(User.id).where(User.username == username).first())["id"]
            await person.set_person(SYSTEM, uid, resident_since=dt.date(2015, 9, 1), visiting=False,
                                    qualifications=["医师资格证", "医师执业证", "主任医师"])
    region = await Region.select(Region.id).where(Region.id == cities[0]).first()
    return {"host": host, "institution": inst, "province": province, "city": region["id"], "other_city": cities[1]}


async def forget_filing_obligations() -> None:
    """Remove the obligations filing tests opened (the hospital's filing deadline and the
    regulator's completion clock), so other tests' dashboards see the shared demo as it was."""
    from core.cases.tables import CaseRecord
    from core.obligations.tables import Obligation, ObligationReminder

    # The first cases the filing tests enter (case ids "…FIRST-…") open case-report deadlines too.
    first_cases = [r["id"] for r in await CaseRecord.select(CaseRecord.id).where(
        CaseRecord.external_id.like("%FIRST-%"))]
    ids = [r["id"] for r in await Obligation.select(Obligation.id).where(
        Obligation.subject_type.is_in(["filing", "filing_submission"])
        | ((Obligation.subject_type == "case") & Obligation.subject_id.is_in(first_cases or [-1])))]
    if ids:
        await ObligationReminder.delete().where(ObligationReminder.obligation.is_in(ids))
        await Obligation.delete().where(Obligation.id.is_in(ids))
