"""The institution's surgery-grading catalogue (手术分级管理目录): the use cases, the only
writer of ``grading_edition`` and ``grading_operation``.

NAT-15 (2): the institution's management body approves the catalogue and adjusts it;
NAT-16: surgery grading (levels 1–4) is one of the institution's systems; NAT-24: it is
disclosed publicly. Medical affairs (the body's day-to-day office) and the system admin
maintain it here: an XLSX/CSV import
(all rows or none, each wrong row named) or one operation added, changed or removed —
each a new edition from a date on, the earlier editions kept and readable.

A case names its operation (ICD-9-CM-3 code); ``grade_cases`` finds its level in the
edition in force on the operation date and asks the province whether the case of a
level-limited restricted technology counts as restricted (the plugins' ``restricted_scope``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from core import clock
from core.accounts.schemas import Actor
from core.audit import service as audit
from core.db import Prepared, write_transaction
from core.errors import DomainError, NotFound, Problem
from core.grading import rules
from core.grading.rules import Operation
from core.grading.tables import GradingEdition, GradingOperation
from core.tenancy.service import require_institution

EDITORS = ("medical_affairs", "admin")
MAX_BASIS = 500


class CaseGrade(msgspec.Struct):
    """What grading found for one case: its operation and level (NAT-16), the edition
    graded by, and whether it counts as restricted (with the province's rule)."""

    operation_code: str = ""
    operation_name: str = ""
    surgery_level: int | None = None
    edition_id: int | None = None
    restricted: bool = False
    scope_rule: str = ""
    scope_reason: str = ""


# ---------------------------------------------------------------- reading


async def _institution(actor: Actor, institution_id: int) -> dict:
    """The institution if the actor may read its catalogue (NotFound otherwise)."""
    return await require_institution(actor, institution_id)


def may_edit(actor: Actor, institution_id: int) -> bool:
    """Medical affairs of the institution, or the system admin."""
    return actor.is_admin or (actor.has("medical_affairs") and actor.institution_id == institution_id)


# Every batch of cases reads them: built once (``core.db.Prepared``).
_EDITIONS = Prepared(lambda institution_id: GradingEdition.select().where(
    GradingEdition.institution == institution_id).order_by(GradingEdition.effective_on, ascending=False).order_by(
    GradingEdition.number, ascending=False), 1)


def _levels_query(ids: list) -> Any:
    from core.catalog.tables import CatalogTechnology

    return CatalogTechnology.select(CatalogTechnology.id, CatalogTechnology.surgery_levels).where(
        CatalogTechnology.id.is_in(ids)).output(load_json=True)


_LEVELS = Prepared(_levels_query, 1, lists=(0,))


async def editions(institution_id: int) -> list[dict]:
    """Every edition of the institution's catalogue, the newest first."""
    return await _EDITIONS.run(institution_id)


def in_force(rows: list[dict], on: dt.date) -> dict | None:
    """The edition in force on ``on``: the latest one begun on or before that day."""
    begun = [r for r in rows if r["effective_on"] <= on]
    return max(begun, key=lambda r: (r["effective_on"], r["number"])) if begun else None


async def edition_in_force(institution_id: int, on: dt.date | None = None) -> dict | None:
    return in_force(await editions(institution_id), on or clock.today())


async def operations(edition_id: int, *, q: str = "", level: int | None = None, limit: int | None = None
                     ) -> list[dict]:
    query = GradingOperation.select(GradingOperation.code, GradingOperation.name, GradingOperation.level,
                                    GradingOperation.department).where(GradingOperation.edition == edition_id)
    if q.strip():
        text = f"%{q.strip()}%"
        query = query.where(GradingOperation.code.like(text) | GradingOperation.name.like(text))
    if level:
        query = query.where(GradingOperation.level == level)
    query = query.order_by(GradingOperation.level).order_by(GradingOperation.code)
    if limit:
        query = query.limit(limit)
    return await query


async def catalogue(actor: Actor, institution_id: int, *, edition_id: int | None = None, q: str = "",
                    level: int | None = None) -> dict:
    """What the catalogue page shows: the institution, its editions, the chosen edition
    (default: the one in force today) and its operations, counts per level."""
    institution = await _institution(actor, institution_id)
    rows = await editions(institution_id)
    today = clock.today()
    current = in_force(rows, today)
    chosen = current
    if edition_id is not None:
        chosen = next((r for r in rows if r["id"] == edition_id), None)
        if chosen is None:
            raise NotFound("未找到该版本")
    ops = await operations(chosen["id"], q=q, level=level) if chosen else []
    counts = {n: 0 for n in range(1, 5)}
    if chosen:
        for r in await operations(chosen["id"]):
            counts[r["level"]] += 1
    return {"institution": institution, "editions": rows, "current": current, "chosen": chosen,
            "operations": ops, "counts": counts, "may_edit": may_edit(actor, institution_id),
            "upcoming": [r for r in rows if r["effective_on"] > today]}


async def public_catalogue(institution_id: int) -> tuple[dict, dict | None, list[dict]]:
    """NAT-24: the catalogue in force today, for anyone (no login)."""
    from core.tenancy.tables import Institution

    institution = await Institution.select(Institution.id, Institution.name).where(
        Institution.id == institution_id).first()
    if institution is None:
        raise NotFound("未找到该医疗机构")
    current = await edition_in_force(institution_id)
    return institution, current, (await operations(current["id"]) if current else [])


# ---------------------------------------------------------------- writing


def _check_basis(effective_on: dt.date | None, basis: str, latest: dict | None) -> list[Problem]:
    problems = []
    if effective_on is None:
        problems.append(Problem("请填写生效日期", "effective_on", "NAT-16"))
    elif latest is not None and effective_on < latest["effective_on"]:
        problems.append(Problem(f"生效日期不能早于现行最新版本（第 {latest['number']} 版，{latest['effective_on']} 起）的生效日期",
                                "effective_on", "NAT-16"))
    if len(basis.strip()) < 2:
        problems.append(Problem("请填写依据（如医疗技术临床应用管理委员会审定的会议或文件，NAT-15）", "basis", "NAT-15"))
    elif len(basis) > MAX_BASIS:
        problems.append(Problem(f"依据不能超过 {MAX_BASIS} 字", "basis", "NAT-15"))
    return problems


async def _new_edition(actor: Actor, institution_id: int, ops: list[Operation], *, effective_on: dt.date,
                       source: str, note: str, basis: str, latest: dict | None) -> int:
    number = (latest["number"] if latest else 0) + 1
    rows = await GradingEdition.insert(GradingEdition(
        uid=f"{institution_id}:{number}", institution=institution_id, number=number, effective_on=effective_on,
        source=source, note=note[:2000], basis=basis.strip(), operation_count=len(ops),
        created_by=actor.display_name[:100])).returning(GradingEdition.id)
    edition_id = rows[0]["id"]
    batch = [GradingOperation(uid=f"{edition_id}#{o.code}", edition=edition_id, code=o.code, name=o.name,
                              level=o.level, department=o.department) for o in ops]
    for start in range(0, len(batch), 500):
        await GradingOperation.insert(*batch[start:start + 500])
    await audit.record(actor, f"grading.{source}", "grading_edition", edition_id, after={
        "number": number, "effective_on": effective_on, "operations": len(ops), "note": note, "basis": basis.strip()},
        institution_id=institution_id)
    return edition_id


async def _latest(institution_id: int) -> dict | None:
    rows = await editions(institution_id)
    return max(rows, key=lambda r: (r["effective_on"], r["number"])) if rows else None


async def import_catalogue(actor: Actor, institution_id: int, rows: list[tuple[int, dict]], *, filename: str,
                           effective_on: dt.date | None, basis: str) -> int:
    """A whole catalogue from an upload: every row checked, nothing imported if any row
    is wrong (each named "第 n 行"); otherwise a new edition from ``effective_on``."""
    await _institution(actor, institution_id)
    if not may_edit(actor, institution_id):
        raise NotFound("未找到")
    ops, problems = rules.rows_to_operations(rows)
    async with write_transaction():
        latest = await _latest(institution_id)
        problems = _check_basis(effective_on, basis, latest) + problems
        if problems:
            raise DomainError(problems)
        assert effective_on is not None
        return await _new_edition(actor, institution_id, ops, effective_on=effective_on, source="import",
                                  note=f"导入文件 {filename}（{len(ops)} 项）", basis=basis, latest=latest)


async def edit_operation(actor: Actor, institution_id: int, *, code: str, name: str, level: object,
                         effective_on: dt.date | None, basis: str, remove: bool = False) -> int:
    """Add, change (name, level) or remove one operation: a new edition from
    ``effective_on`` holding the latest edition's operations with that change."""
    await _institution(actor, institution_id)
    if not may_edit(actor, institution_id):
        raise NotFound("未找到")
    code = rules.clean_code(code)
    async with write_transaction():
        latest = await _latest(institution_id)
        problems = _check_basis(effective_on, basis, latest)
        current = {r["code"]: Operation(code=r["code"], name=r["name"], level=r["level"],
                                        department=r["department"])
                   for r in (await operations(latest["id"]) if latest else [])}
        if remove:
            if code not in current:
                problems.append(Problem(f"现行目录中没有手术编码「{code}」", "code", "NAT-16"))
            note = f"删除 {code} {current[code].name}" if code in current else ""
        else:
            parsed = rules.parse_level(level)
            problems += rules.operation_problems(code, name.strip(), parsed)
            before = current.get(code)
            if before is not None and before.name == name.strip() and before.level == parsed:
                problems.append(Problem("与现行目录相同，无需修改", "level", "NAT-16"))
            if not problems:
                note = (f"修改 {code} {name.strip()}：{rules.level_label(before.level)}→{rules.level_label(parsed)}"
                        if before else f"新增 {code} {name.strip()}（{rules.level_label(parsed)}）")
                current[code] = Operation(code=code, name=name.strip(), level=parsed or 0,
                                          department=before.department if before else "")
        if problems:
            raise DomainError(problems)
        if remove:
            current.pop(code)
        assert effective_on is not None
        return await _new_edition(actor, institution_id, sorted(current.values(), key=lambda o: o.code),
                                  effective_on=effective_on, source="edit", note=note, basis=basis, latest=latest)


# ---------------------------------------------------------------- cases (core.cases calls this)


async def _technology_levels(refs: list[Any]) -> dict[str, tuple[int, ...]]:
    ids = sorted({int(r) for r in refs if r is not None and str(r).isdigit()})
    if not ids:
        return {}
    rows = await _LEVELS.run(ids)
    return {str(r["id"]): tuple(r["surgery_levels"] or ()) for r in rows}


async def grade_cases(hooks: Any, institution_id: int, items: list[tuple[Any, dict | None]]
                      ) -> tuple[list[CaseGrade], list[list[Problem]]]:
    """For each (case, project) of a batch: its operation's level in the edition in force on
    the operation date (NAT-16) and whether it counts as restricted (the project's class,
    unless the province limits the technology by level: ``restricted_scope``).
    Returns one ``CaseGrade`` and one list of problems per item (field ``operation_code``)."""
    from core.admission.rules import class_on
    from core.contract import CaseTechnology

    rows = await editions(institution_id)
    wanted: dict[int, set[str]] = {}
    chosen: list[dict | None] = []
    for case, _ in items:
        code = rules.clean_code(getattr(case, "operation_code", ""))
        edition = in_force(rows, case.operated_on) if code else None
        chosen.append(edition)
        if edition is not None:
            wanted.setdefault(edition["id"], set()).add(code)
    found: dict[tuple[int, str], dict] = {}
    for edition_id, codes in wanted.items():
        for r in await GradingOperation.select(GradingOperation.code, GradingOperation.name,
                                               GradingOperation.level).where(
                (GradingOperation.edition == edition_id) & GradingOperation.code.is_in(sorted(codes))):
            found[(edition_id, r["code"])] = r
    levels = await _technology_levels([p.get("technology_ref") for _, p in items if p])
    grades, problems = [], []
    for (case, project), edition in zip(items, chosen, strict=True):
        code = rules.clean_code(getattr(case, "operation_code", ""))
        grade, own = CaseGrade(), []
        if code:
            operation = found.get((edition["id"], code)) if edition else None
            if edition is None:
                own.append(Problem(f"手术日期（{case.operated_on}）时本机构尚无生效的手术分级目录，无法确定手术级别",
                                   "operation_code", "NAT-16"))
            elif operation is None:
                own.append(Problem(f"手术编码「{code}」不在本机构手术分级目录（第 {edition['number']} 版）中",
                                   "operation_code", "NAT-16"))
            else:
                grade = CaseGrade(operation_code=code, operation_name=operation["name"],
                                  surgery_level=operation["level"], edition_id=edition["id"])
        if project is not None:
            # EVAL-8: a technology concluded restricted counts so from its date of effect.
            tech_class = class_on(project, case.operated_on)
            grade.restricted = tech_class == "restricted"
            if grade.restricted and not own:
                answer = hooks.call("restricted_scope", technology=CaseTechnology(
                    code=project["technology_code"] or "", name=project["technology_name"] or "",
                    tech_class=tech_class,
                    surgery_levels=levels.get(str(project.get("technology_ref")), ()),
                    surgery_level=grade.surgery_level, operation_code=grade.operation_code))
                if answer is not None:
                    grade.restricted, grade.scope_rule, grade.scope_reason = (
                        answer.restricted, answer.rule, answer.reason)
        grades.append(grade)
        problems.append(own)
    return grades, problems


async def choices(institution_id: int, on: dt.date | None = None) -> list[dict]:
    """The operations a case may name today (the edition in force), for the page's list."""
    edition = await edition_in_force(institution_id, on)
    return await operations(edition["id"]) if edition else []
