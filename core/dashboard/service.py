"""What each role's dashboard shows, gathered in a few queries."""

from __future__ import annotations

from core import clock
from core.accounts.schemas import Actor
from core.accounts.tables import User
from core.audit import service as audit
from core.errors import NotFound
from core.tenancy.service import institution_scope
from core.tenancy.tables import Department, Institution, Region


async def summary(actor: Actor, hooks=None, departments: int | None = None) -> dict:
    """The actor's to-do list (``core.dashboard.todo``, with ``hooks``) and counts within
    its tenant; for those who oversee several, the obligation counts per status per
    institution (one grouped query; a hospital's come with its to-do rows). The audit feed
    has its own page (``recent_activity``). ``departments``: the institution's active
    departments when the session already read them (``SessionRead.departments``)."""
    out: dict = {"cards": [], "todo": [], "obligation_counts": []}
    if hooks is not None:
        from core.dashboard import todo
        from core.obligations import service as obligations

        # A hospital user's figures depend on the institution's rows (its change counter),
        # the user, the switches, the holiday notices and the day: kept while they stand.
        kept = None if actor.is_admin else todo.kept_key(actor.institution_id, hooks.memo, "summary", actor,
                                                         clock.today(), departments)
        if kept is not None and kept in todo.KEPT:
            return dict(todo.KEPT[kept])
        out["todo"] = await todo.for_actor(actor, hooks)
        if actor.institution_id is not None and actor.has(*obligations.INSTITUTION_WIDE):
            _, today, soon = await obligations.read_context(hooks)
            rows = await todo.institution_rows(actor.institution_id, hooks.memo, actor.roles)
            out["obligation_counts"] = todo.obligation_counts(actor, rows, today, soon)
        elif actor.is_admin or actor.region_path or actor.has(*obligations.INSTITUTION_WIDE):
            out["obligation_counts"] = await obligations.status_counts(actor, hooks)
    if actor.is_admin:
        out["cards"] = [
            {"label": "用户", "value": await User.count(), "href": "/admin/users"},
            {"label": "医疗机构", "value": await Institution.count(), "href": "/admin/institutions"},
            {"label": "行政区划", "value": await Region.count(), "href": "/admin/regions"},
        ]
        return out
    if actor.institution_id is not None:
        out["cards"] = [
            {"label": "本机构科室", "value": departments if departments is not None else await Department.count().where(
                (Department.institution == actor.institution_id) & (Department.active == True)),  # noqa: E712
             "href": f"/institutions/{actor.institution_id}"},
        ]
        if hooks is not None:
            todo.keep(kept, dict(out))
        return out
    # The tenant clause only where it is used (building it costs a hospital's page for nothing).
    scope = institution_scope(actor)
    if scope is not None and actor.region_path:
        institutions = await Institution.select(Institution.id, Institution.name, Institution.grade,
                                                Institution.region.name).where(scope).order_by(Institution.name)
        out["cards"] = [{"label": "辖区医疗机构", "value": len(institutions), "href": "/institutions"}]
        out["institutions"] = institutions[:20]
    return out


ACTIVITY_ROLES = ("medical_affairs", "hospital_head")


async def recent_activity(actor: Actor, page: int = 1) -> tuple[list[dict], int]:
    """The institution's audit feed (操作记录), newest first, one page, as sentences with
    names; for medical affairs and the hospital head (the admin reads the whole audit log)."""
    if actor.institution_id is None or not actor.has(*ACTIVITY_ROLES):
        raise NotFound("未找到该页面")
    events, total = await audit.browse(audit.AuditFilter(institution_id=actor.institution_id, page=page))
    return await audit.with_names(events), total
