"""Admission's side of the first case of an admitted restricted technology: which
projects wait for it, and noting that it happened (the filing area, ``core.filing``,
opens the filing — NAT-11). Part of the admission service; the only writer of
``Project.awaiting_first_case`` after admission."""

from __future__ import annotations

import datetime as dt

from core.accounts.schemas import Actor
from core.admission.schemas import ProjectStatus
from core.admission.service import _COLUMNS, MOVED_ON, _load, _now, record_entry
from core.admission.tables import Project
from core.audit import service as audit
from core.db import write_transaction
from core.errors import Conflict, DomainError, Problem


async def awaiting_first_case(actor: Actor) -> list[dict]:
    """Admitted restricted projects of the actor's institution still waiting for their
    first case (NAT-11: the filing opens with it), oldest admission first."""
    query = Project.select(*Project.all_columns(exclude=[Project.form, Project.steps]), *_COLUMNS).where(
        (Project.status == ProjectStatus.admitted) & (Project.awaiting_first_case == True)  # noqa: E712
    ).order_by(Project.admitted_on)
    if not actor.is_admin:
        query = query.where(Project.institution == (actor.institution_id or -1))
    return await query


async def record_first_case(actor: Actor, project_id: int, case_date: dt.date) -> dict:
    """Note on an admitted restricted project that its first case happened on
    ``case_date``: it no longer waits. Runs inside the caller's write transaction
    (or its own); timeline entry and audit event. Returns the project row as it was.
    ``NotFound`` outside the actor's institution; ``DomainError`` if it is not waiting."""
    row = await _load(actor, project_id)
    if row["status"] != ProjectStatus.admitted or not row["awaiting_first_case"]:
        raise DomainError(Problem("该项目不在等待首例病例的状态", "project_id", "NAT-11"))
    async with write_transaction():
        taken = await Project.update({
            Project.awaiting_first_case: False, Project.version: Project.version + 1, Project.updated_at: _now(),
        }).where((Project.id == project_id) & (Project.awaiting_first_case == True)).returning(  # noqa: E712
            Project.id)
        if not taken:
            raise Conflict(Problem(MOVED_ON, "project_id"))
        await record_entry(row, actor, None, "first_case", details={"case_date": case_date})
        await audit.record(actor, "admission.first_case", "admission_project", project_id,
                           before={"awaiting_first_case": True},
                           after={"awaiting_first_case": False, "case_date": case_date},
                           institution_id=row["institution"])
    return row


async def await_first_case_again(actor: Actor, project_id: int, *, reason: str) -> None:
    """A restricted technology whose filing was cancelled resumes by filing again (NAT-11):
    the project waits for its next first case, which opens a new filing. In the caller's
    write transaction (``core.lifecycle.service.resume``); timeline entry and audit event."""
    row = await _load(actor, project_id)
    if row["status"] != ProjectStatus.admitted:
        raise DomainError(Problem("该项目不在已准入状态，不能重新备案", "project_id", "NAT-11"))
    async with write_transaction():
        await Project.update({Project.awaiting_first_case: True, Project.version: Project.version + 1,
                              Project.updated_at: _now()}).where(Project.id == project_id)
        await record_entry(row, actor, None, "refiling", details={"reason": reason})
        await audit.record(actor, "admission.await_first_case", "admission_project", project_id,
                           before={"awaiting_first_case": row["awaiting_first_case"]},
                           after={"awaiting_first_case": True, "reason": reason}, institution_id=row["institution"])


async def restrict_from(actor: Actor, project_ids: list[int], on: dt.date, *, reason: str,
                        document: str) -> list[int]:
    """EVAL-8: a provincial evaluation concluded the technology restricted from ``on``. Each
    admitted routine project of it counts as restricted from that date (cases operated
    before it stay routine) and waits for its first case on or after it, which opens the
    filing (NAT-11). Called by the regulator's conclusion (``core.evaluation``) in its
    transaction, so no institution tenancy here: the caller chose the projects in its
    region. A project already restricted, or restricted from an earlier date, is left as
    it is. Timeline entry and audit event per project; returns the projects changed."""
    rows = await Project.select(*Project.all_columns(exclude=[Project.form, Project.steps])).where(
        Project.id.is_in(sorted(set(project_ids)) or [-1]) & (Project.status == ProjectStatus.admitted)
        & (Project.tech_class == "routine")).order_by(Project.id)
    changed = []
    async with write_transaction():
        for row in rows:
            if row["restricted_from"] is not None and row["restricted_from"] <= on:
                continue
            await Project.update({
                Project.restricted_from: on, Project.awaiting_first_case: True,
                Project.version: Project.version + 1, Project.updated_at: _now(),
            }).where(Project.id == row["id"])
            await record_entry(row, actor, None, "restricted_from", reason=reason,
                               details={"restricted_from": on, "document": document, "rule": "EVAL-8"})
            await audit.record(actor, "admission.restricted_from", "admission_project", row["id"],
                               before={"restricted_from": row["restricted_from"],
                                       "awaiting_first_case": row["awaiting_first_case"]},
                               after={"restricted_from": on, "awaiting_first_case": True, "rule": "EVAL-8",
                                      "document": document}, institution_id=row["institution"])
            changed.append(row["id"])
    return changed
