"""What each role's dashboard shows, gathered in a few queries."""

from __future__ import annotations

from core.accounts.schemas import Actor
from core.accounts.tables import User
from core.audit import service as audit
from core.audit.tables import AuditEvent
from core.tenancy.service import institution_scope
from core.tenancy.tables import Department, Institution, Region


async def summary(actor: Actor, hooks=None) -> dict:
    """Counts and recent activity within the actor's tenant; with ``hooks``, also the
    actor's open obligations (soonest first) and, for those who oversee several,
    the obligation counts per status per institution (one grouped query)."""
    out: dict = {"cards": [], "recent": [], "obligations": [], "obligation_counts": [], "institutions_overdue": []}
    if hooks is not None:
        from core.obligations import service as obligations

        out["obligations"] = await obligations.open_for(actor, hooks, limit=20)
        # A regulator's to-do is its own work; its institutions' overdue ones are listed apart.
        out["institutions_overdue"] = await obligations.institutions_overdue(actor, hooks, limit=20)
        if actor.is_admin or actor.region_path or actor.has(*obligations.INSTITUTION_WIDE):
            out["obligation_counts"] = await obligations.status_counts(actor, hooks)
    scope = institution_scope(actor)
    if actor.is_admin:
        out["cards"] = [
            {"label": "用户", "value": await User.count(), "href": "/admin/users"},
            {"label": "医疗机构", "value": await Institution.count(), "href": "/admin/institutions"},
            {"label": "行政区划", "value": await Region.count(), "href": "/admin/regions"},
        ]
        out["recent"] = await audit.with_names(
            await AuditEvent.select().order_by(AuditEvent.id, ascending=False).limit(10))
        return out
    if actor.institution_id is not None:
        out["cards"] = [
            {"label": "本机构科室", "value": await Department.count().where(
                (Department.institution == actor.institution_id) & (Department.active == True)),  # noqa: E712
             "href": f"/institutions/{actor.institution_id}"},
        ]
        if actor.has("medical_affairs", "hospital_head"):
            out["recent"] = await audit.with_names(await AuditEvent.select().where(
                AuditEvent.institution_id == actor.institution_id
            ).order_by(AuditEvent.id, ascending=False).limit(10))
        return out
    if scope is not None and actor.region_path:
        institutions = await Institution.select(Institution.id, Institution.name, Institution.grade,
                                                Institution.region.name).where(scope).order_by(Institution.name)
        out["cards"] = [{"label": "辖区医疗机构", "value": len(institutions), "href": "/institutions"}]
        # Case-report warnings (rule ids from the province policy): late reports, restricted cases without a filing.
        from core.cases.service import warnings

        out["case_warnings"] = await warnings(actor, hooks, limit=20)
        out["institutions"] = institutions[:20]
    return out
