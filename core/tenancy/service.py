"""Regions, institutions and departments, and the tenancy scope every query obeys."""

from __future__ import annotations

from typing import Any

from core.accounts.schemas import Actor
from core.audit import service as audit
from core.db import Prepared, write_transaction
from core.errors import DomainError, NotFound, Problem
from core.tenancy import rules
from core.tenancy.schemas import DepartmentInput, InstitutionInput, RegionInput
from core.tenancy.tables import Department, Institution, Region

# ---------------------------------------------------------------- scope


def institution_scope(actor: Actor) -> Any | None:
    """A where-clause on ``Institution`` limiting rows to the actor's tenant.

    ``None`` means no limit (the deployment admin). Hospital users see their own
    institution; regulators and the QC centre their region and everything below it.
    Anyone else sees nothing.
    """
    if actor.is_admin:
        return None
    if actor.institution_id is not None:
        return Institution.id == actor.institution_id
    if actor.region_path:
        return Institution.region.path.like(f"{actor.region_path}%")
    return Institution.id == -1


async def visible_institution_ids(actor: Actor) -> list[int] | None:
    """Ids of the institutions in the actor's scope; ``None`` for all. A hospital user's
    is its own institution (its user row's foreign key): no query."""
    clause = institution_scope(actor)
    if clause is None:
        return None
    if actor.institution_id is not None:
        return [actor.institution_id]
    return [r["id"] for r in await Institution.select(Institution.id).where(clause)]


def _institution_by_id(institution_id: Any) -> Any:
    """One institution by id with its regions' names (``require_institution``'s read)."""
    return Institution.select(*Institution.all_columns(), Institution.region.name,
                              Institution.licence_region.name).where(Institution.id == institution_id)


# Built once (``core.db.Prepared``): a batch of cases asks for its institution in its
# obligations and its filing.
_INSTITUTION_QUERY = Prepared(lambda institution_id: _institution_by_id(institution_id).first().output(
    load_json=True), 1)


async def require_institution(actor: Actor, institution_id: int) -> dict:
    """The institution if it lies in the actor's scope; otherwise ``NotFound`` —
    the same answer as for an id that does not exist. A hospital user's own institution
    (the scope is its id) is read by the prepared query by id."""
    if actor.institution_id is not None and not actor.is_admin:
        row = await _INSTITUTION_QUERY.run(institution_id) if actor.institution_id == institution_id else None
        if row is None:
            raise NotFound("未找到该医疗机构")
        return row
    query = _institution_by_id(institution_id)
    clause = institution_scope(actor)
    if clause is not None:
        query = query.where(clause)
    row = await query.first().output(load_json=True)
    if row is None:
        raise NotFound("未找到该医疗机构")
    return row


async def require_department(actor: Actor, department_id: int) -> dict:
    row = await Department.select(*Department.all_columns(), Department.institution.name).where(
        Department.id == department_id
    ).first()
    if row is None:
        raise NotFound("未找到该科室")
    await require_institution(actor, row["institution"])
    return row


async def region_in_scope(actor: Actor, region_id: int) -> dict:
    row = await Region.select().where(Region.id == region_id).first()
    if row is None or not (actor.is_admin or (actor.region_path and row["path"].startswith(actor.region_path))):
        raise NotFound("未找到该行政区划")
    return row


# ---------------------------------------------------------------- regions


async def region_tree() -> list[dict]:
    """All regions ordered so each parent precedes its children, with ``depth``."""
    rows = await Region.select().order_by(Region.path)
    for row in rows:
        row["depth"] = row["path"].count("/") - 2
    return rows


async def create_region(actor: Actor, data: RegionInput) -> int:
    parent = None
    if data.parent is not None:
        parent = await Region.select().where(Region.id == data.parent).first()
        if parent is None:
            raise DomainError(Problem("上级区划不存在", "parent"))
    problems = rules.check_region(data, parent["level"] if parent else None)
    if await Region.exists().where(Region.code == data.code.strip()):
        problems.append(Problem("区划代码已存在", "code"))
    if problems:
        raise DomainError(problems)
    async with write_transaction():
        rows = await Region.insert(
            Region(name=data.name.strip(), code=data.code.strip(), level=data.level, parent=data.parent)
        ).returning(Region.id)
        region_id = rows[0]["id"]
        path = f"{parent['path'] if parent else '/'}{region_id}/"
        await Region.update({Region.path: path}).where(Region.id == region_id)
        await audit.record(actor, "region.create", "region", region_id,
                           after={"name": data.name, "code": data.code, "level": data.level, "parent": data.parent})
    return region_id


def department_name(region: dict) -> str:
    """The health administration department of a region as pages name it (备案部门, 发证机关):
    the admin's entry, else the region's name."""
    return (region.get("department") or "").strip() or region.get("name", "")


async def rename_region(actor: Actor, region_id: int, name: str, department: str | None = None,
                        filing_materials: str | None = None) -> None:
    """Rename a region and, when given, set its department's name (备案部门/发证机关) and the
    other filing materials that department specifies (empty: none). Audited."""
    row = await Region.select().where(Region.id == region_id).first()
    if row is None:
        raise NotFound("未找到该行政区划")
    problems = []
    if not name.strip():
        problems.append(Problem("请填写区划名称", "name"))
    if department is not None and len(department.strip()) > 200:
        problems.append(Problem("卫生健康行政部门名称不能超过200字", "department"))
    if filing_materials is not None and len(filing_materials.strip()) > 2000:
        problems.append(Problem("其他备案材料的说明不能超过2000字", "filing_materials"))
    if problems:
        raise DomainError(problems)
    values = {Region.name: name.strip()}
    if department is not None:
        values[Region.department] = department.strip()
    if filing_materials is not None:
        values[Region.filing_materials] = filing_materials.strip()
    after = {"name": name.strip()} | ({"department": department.strip()} if department is not None else {}) | (
        {"filing_materials": filing_materials.strip()} if filing_materials is not None else {})
    async with write_transaction():
        await Region.update(values).where(Region.id == region_id)
        await audit.record(actor, "region.rename", "region", region_id,
                           before={k: row.get(k) for k in after}, after=after)


# ---------------------------------------------------------------- institutions


async def list_institutions(actor: Actor) -> list[dict]:
    query = Institution.select(
        *Institution.all_columns(), Institution.region.name, Institution.licence_region.name
    ).order_by(Institution.name)
    clause = institution_scope(actor)
    if clause is not None:
        query = query.where(clause)
    return await query.output(load_json=True)


async def _check_institution_refs(data: InstitutionInput) -> list[Problem]:
    problems = rules.check_institution(data)
    for field, value in (("region", data.region), ("licence_region", data.licence_region)):
        if value is not None and not await Region.exists().where(Region.id == value):
            problems.append(Problem("行政区划不存在", field))
    return problems


def _institution_values(data: InstitutionInput) -> dict:
    return {
        "name": data.name.strip(), "licence_no": data.licence_no.strip(), "grade": data.grade.strip(),
        "region": data.region, "licence_region": data.licence_region or data.region,
        "registered_subjects": [s.strip() for s in data.registered_subjects], "active": data.active,
    }


async def create_institution(actor: Actor, data: InstitutionInput) -> int:
    problems = await _check_institution_refs(data)
    if await Institution.exists().where(Institution.licence_no == data.licence_no.strip()):
        problems.append(Problem("执业许可证登记号已存在", "licence_no"))
    if problems:
        raise DomainError(problems)
    values = _institution_values(data)
    async with write_transaction():
        rows = await Institution.insert(Institution(**values)).returning(Institution.id)
        inst_id = rows[0]["id"]
        await audit.record(actor, "institution.create", "institution", inst_id, after=values,
                           institution_id=inst_id)
    return inst_id


async def update_institution(actor: Actor, institution_id: int, data: InstitutionInput) -> None:
    before = await require_institution(actor, institution_id)
    problems = await _check_institution_refs(data)
    if await Institution.exists().where(
        (Institution.licence_no == data.licence_no.strip()) & (Institution.id != institution_id)
    ):
        problems.append(Problem("执业许可证登记号已存在", "licence_no"))
    values = _institution_values(data)
    used = {r["subject"] for r in await Department.select(Department.subject).where(
        (Department.institution == institution_id) & (Department.active == True)  # noqa: E712
    )}
    missing = used - set(values["registered_subjects"])
    if missing:
        problems.append(Problem(f"仍有科室使用诊疗科目：{'、'.join(sorted(missing))}", "registered_subjects",
                                rule="NAT-43"))
    if problems:
        raise DomainError(problems)
    async with write_transaction():
        await Institution.update({getattr(Institution, k): v for k, v in values.items()}).where(
            Institution.id == institution_id
        )
        await audit.record(actor, "institution.update", "institution", institution_id,
                           before={k: before[k] for k in values}, after=values, institution_id=institution_id)


# ---------------------------------------------------------------- departments


async def list_departments(actor: Actor, institution_id: int) -> list[dict]:
    await require_institution(actor, institution_id)
    return await Department.select().where(Department.institution == institution_id).order_by(Department.name)


async def create_department(actor: Actor, institution_id: int, data: DepartmentInput) -> int:
    inst = await require_institution(actor, institution_id)
    problems = rules.check_department(data, inst["registered_subjects"])
    if problems:
        raise DomainError(problems)
    async with write_transaction():
        rows = await Department.insert(
            Department(institution=institution_id, name=data.name.strip(), subject=data.subject, active=data.active)
        ).returning(Department.id)
        dept_id = rows[0]["id"]
        await audit.record(actor, "department.create", "department", dept_id,
                           after={"name": data.name, "subject": data.subject, "active": data.active},
                           institution_id=institution_id)
    return dept_id


async def update_department(actor: Actor, department_id: int, data: DepartmentInput) -> None:
    before = await require_department(actor, department_id)
    inst = await require_institution(actor, before["institution"])
    problems = rules.check_department(data, inst["registered_subjects"])
    if problems:
        raise DomainError(problems)
    async with write_transaction():
        await Department.update(
            {Department.name: data.name.strip(), Department.subject: data.subject, Department.active: data.active}
        ).where(Department.id == department_id)
        await audit.record(
            actor, "department.update", "department", department_id,
            before={"name": before["name"], "subject": before["subject"], "active": before["active"]},
            after={"name": data.name, "subject": data.subject, "active": data.active},
            institution_id=before["institution"],
        )
