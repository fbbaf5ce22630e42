"""Demo data for a fresh deployment (``clintech demo``): idempotent, audited as "system".

A province and every city the province plugin's ``demo_region`` hook names (the
fallback names two), hospital A in the first city and hospital B in the second (the
first, when the plugin names one city), their departments, and one user per
role. Demo users exist only when this runs; a production start never creates them.
"""

from __future__ import annotations

import datetime as dt

from core.accounts import person
from core.accounts import service as accounts
from core.accounts.roles import ROLE_LABELS
from core.accounts.schemas import SYSTEM, UserInput
from core.accounts.tables import User
from core.contract import DemoRegion
from core.plugins import HookView
from core.tenancy import service as tenancy
from core.tenancy.schemas import DepartmentInput, InstitutionInput, RegionInput
from core.tenancy.tables import Department, Institution, Region

DEMO_PASSWORD = "demo-pass-2026"
FALLBACK_REGION = DemoRegion(province=("示范省", "990000"), cities=(("示范市一", "990100"), ("示范市二", "990200")))

HOSPITALS = {
    "A": {
        "name": "{city}示范医院（医院A）", "licence_no": "DEMO-A-0001", "grade": "三级甲等", "city": 0,
        "subjects": ["内科", "外科", "妇产科", "眼科", "医学检验科", "医学影像科"],
        "departments": [("心血管内科", "内科"), ("普通外科", "外科"), ("神经外科", "外科"),
                        ("眼科", "眼科"), ("医学检验科", "医学检验科")],
    },
    "B": {
        "name": "{city}示范医院（医院B）", "licence_no": "DEMO-B-0001", "grade": "三级乙等", "city": 1,
        "subjects": ["内科", "外科", "儿科"],
        "departments": [("心血管内科", "内科"), ("骨科", "外科"), ("儿科", "儿科")],
    },
}

# username, display name, roles, tenant ("A", "B", "city1", "city2", "province", None), department
USERS = [
    ("admin", "系统管理员", ["admin"], None, None),
    ("clinician_a", "张医生", ["clinician"], "A", "心血管内科"),
    ("depthead_a", "李主任", ["dept_head"], "A", "心血管内科"),
    ("qc_a", "王质控", ["qc_officer"], "A", "心血管内科"),
    ("medaffairs_a", "赵医务", ["medical_affairs"], "A", None),
    ("ethics_a", "钱伦理", ["ethics"], "A", None),
    ("expert_a", "孙专家", ["expert"], "A", None),
    ("head_a", "周院长", ["hospital_head"], "A", None),
    ("clinician_b", "吴医生", ["clinician"], "B", "心血管内科"),
    ("medaffairs_b", "郑医务", ["medical_affairs"], "B", None),
    ("regulator_city1", "市一医政科", ["regulator"], "city1", None),
    ("regulator_city2", "市二医政科", ["regulator"], "city2", None),
    ("regulator_province", "省医政处", ["regulator"], "province", None),
    ("qccenter", "省质控中心", ["qc_center"], "province", None),
]


# Person attributes of the demo physicians (HOSP-5): clinician_a has been a resident
# since 2019, so may lead a routine new technology.
PERSONS = {
    "clinician_a": {"resident_since": dt.date(2019, 9, 1), "visiting": False,
                    "qualifications": ["医师资格证", "医师执业证", "主治医师"]},
    "clinician_b": {"resident_since": dt.date(2018, 9, 1), "visiting": False, "qualifications": ["医师资格证"]},
}


async def _region(name: str, code: str, level: str, parent: int | None, department: str = "") -> int:
    """The region of ``code``, created if missing, with its health department's name (the
    plugin's, else "<name>卫生健康委员会"; the admin edits it later)."""
    row = await Region.select(Region.id).where(Region.code == code).first()
    if row:
        return row["id"]
    region_id = await tenancy.create_region(SYSTEM, RegionInput(name=name, code=code, level=level, parent=parent))
    await tenancy.rename_region(SYSTEM, region_id, name, department or f"{name}卫生健康委员会")
    return region_id


async def load(hooks: HookView) -> list[tuple[str, str, str]]:
    """Create whatever demo data is missing; returns (username, name, roles) of the logins."""
    spec = hooks.call("demo_region") or FALLBACK_REGION
    if not spec.cities:
        spec = DemoRegion(province=spec.province, cities=FALLBACK_REGION.cities)
    province = await _region(*spec.province[:2], "province", None, *spec.province[2:3])
    cities = [await _region(*city[:2], "city", province, *city[2:3]) for city in spec.cities]
    # Hospital B and the second city's regulator live in the second city, or the first
    # when the plugin names only one.
    second = min(1, len(cities) - 1)
    tenants: dict[str, dict] = {"province": {"region": province}, "city1": {"region": cities[0]},
                                "city2": {"region": cities[second]}}
    for key, h in HOSPITALS.items():
        row = await Institution.select(Institution.id).where(Institution.licence_no == h["licence_no"]).first()
        if row:
            inst_id = row["id"]
        else:
            inst_id = await tenancy.create_institution(SYSTEM, InstitutionInput(
                name=h["name"].format(city=spec.cities[min(h["city"], second)][0]), licence_no=h["licence_no"],
                grade=h["grade"], region=cities[min(h["city"], second)], registered_subjects=h["subjects"],
            ))
        depts = {}
        for name, subject in h["departments"]:
            d = await Department.select(Department.id).where(
                (Department.institution == inst_id) & (Department.name == name)).first()
            depts[name] = d["id"] if d else await tenancy.create_department(
                SYSTEM, inst_id, DepartmentInput(name=name, subject=subject))
        tenants[key] = {"institution": inst_id, "departments": depts}
    logins = []
    for username, display, roles, tenant, dept in USERS:
        logins.append((username, display, "、".join(ROLE_LABELS.get(r, r) for r in roles)))
        if await User.exists().where(User.username == username):
            continue
        t = tenants.get(tenant or "", {})
        await accounts.create_user(SYSTEM, UserInput(
            username=username, display_name=display, roles=roles, institution=t.get("institution"),
            department=t.get("departments", {}).get(dept) if dept else None, region=t.get("region"),
            password=DEMO_PASSWORD,
        ))
        if username in PERSONS:
            row = await User.select(User.id).where(User.username == username).first()
            await person.set_person(SYSTEM, row["id"], **PERSONS[username])
    from core.body import demo as body_demo
    from core.grading import demo as grading_demo
    from core.people import demo as people_demo

    await grading_demo.load(tenants["A"]["institution"])
    await people_demo.load()
    await body_demo.load(tenants["A"]["institution"])
    return logins


def login_table(logins: list[tuple[str, str, str]]) -> list[str]:
    """The demo logins as lines whose columns line up in a terminal, where a Chinese
    character takes two columns (measured by ``wcwidth``, not by ``len``)."""
    from wcwidth import wcswidth

    def pad(text: str, width: int) -> str:
        return text + " " * (width - max(wcswidth(text), 0))

    rows = [("用户名", "姓名", "角色"), *logins]
    widths = [max(max(wcswidth(row[i]), 0) for row in rows) + 2 for i in range(2)]
    return ["  " + pad(user, widths[0]) + pad(name, widths[1]) + roles for user, name, roles in rows]
