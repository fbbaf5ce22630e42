"""Rendering pages: the common context (actor, navigation) is awaited before Jinja runs."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from core.accounts.roles import HOSPITAL_ROLES, REGION_ROLES
from core.accounts.schemas import Actor
from core.messages import t
from web.context import load_actor, load_hooks, load_session


def core_menu(actor: Actor) -> list[dict]:
    """The navigation every deployment has, from the actor's roles."""
    items = [{"label": t("nav.dashboard"), "href": "/"}, {"label": t("nav.catalog"), "href": "/catalog"}]
    if actor.has(*HOSPITAL_ROLES) and actor.institution_id:
        items.append({"label": t("nav.institution"), "href": f"/institutions/{actor.institution_id}"})
    if actor.has("medical_affairs"):
        items.append({"label": t("nav.departments"), "href": "/departments"})
    if actor.has(*HOSPITAL_ROLES) and actor.institution_id:
        # 新技术准入: the work list's count is filled in by ``navigation``.
        items.append({"label": t("nav.admission"), "href": "/admission", "key": "admission"})
        items.append({"label": t("nav.admission_publicity"), "href": "/admission/publicity"})
    if actor.has("medical_affairs", "hospital_head") and actor.institution_id:
        items.append({"label": t("nav.filings"), "href": "/filings"})
        items.append({"label": t("nav.activity"), "href": "/activity"})
        items.append({"label": t("nav.lifecycle"), "href": "/lifecycle"})
    # 病例: those who record or read cases (ethics and experts do not); regulators and
    # the QC centre read their region's cases, pseudonymous (issue 11 points 8 and 9).
    if actor.has("clinician", "dept_head", "qc_officer", "medical_affairs", "hospital_head") and actor.institution_id:
        items.append({"label": t("nav.cases"), "href": "/cases"})
    elif actor.has(*REGION_ROLES) and actor.region_path:
        items.append({"label": t("nav.cases_region"), "href": "/cases"})
    if actor.has(*HOSPITAL_ROLES, *REGION_ROLES):
        items.append({"label": t("nav.qc"), "href": "/qc"})
        items.append({"label": t("nav.grading"), "href": "/grading"})
    if actor.has("medical_affairs", "hospital_head", *REGION_ROLES) or actor.is_admin:
        items.append({"label": t("nav.people"), "href": "/people"})
        items.append({"label": t("nav.body"), "href": "/body"})
        items.append({"label": t("nav.training"), "href": "/training"})
    elif actor.has("clinician", "dept_head") and actor.institution_id:
        items.append({"label": t("nav.my_archive"), "href": f"/people/{actor.id}"})
    if actor.has("medical_affairs", "admin"):
        items.append({"label": t("nav.outbox"), "href": "/outbox"})
    # 风险预警: the roles a warning rule may name as its audience (NAT-41).
    if actor.has("regulator", "qc_center", "medical_affairs", "hospital_head", "dept_head", "qc_officer", "admin"):
        items.append({"label": t("nav.warnings"), "href": "/warnings"})
    if actor.has("regulator", "qc_center", "medical_affairs", "hospital_head", "admin"):
        items.append({"label": t("nav.credit"), "href": "/credit"})
    if actor.has("regulator", "qc_center", "admin"):
        items.append({"label": t("nav.funnel"), "href": "/analytics/funnel"})
    if actor.has("regulator", "qc_center", "medical_affairs", "qc_officer", "dept_head", "hospital_head", "admin"):
        items.append({"label": t("nav.cusum"), "href": "/analytics/cusum"})
    if actor.has("regulator", "qc_center"):
        items.append({"label": t("nav.filing_desk"), "href": "/filings/desk"})
        items.append({"label": t("nav.filing_consistency"), "href": "/filings/consistency"})
        items.append({"label": t("nav.lifecycle_desk"), "href": "/lifecycle/desk"})
    # 技术评估 (seed 003): the region's evaluations; an institution's data requests (EVAL-6).
    if actor.has("regulator", "qc_center") and actor.region_path:
        items.append({"label": t("nav.evaluations"), "href": "/evaluations"})
    elif actor.has("medical_affairs", "hospital_head") and actor.institution_id:
        items.append({"label": t("nav.evaluation_requests"), "href": "/evaluations"})
        items.append({"label": t("nav.periodic_evaluation"), "href": "/evaluations/periodic"})
    if actor.has(*REGION_ROLES):
        items.append({"label": t("nav.institutions"), "href": "/institutions"})
    if actor.is_admin:
        items += [
            {"label": t("nav.admin.users"), "href": "/admin/users"},
            {"label": t("nav.admin.institutions"), "href": "/admin/institutions"},
            {"label": t("nav.admin.regions"), "href": "/admin/regions"},
            {"label": t("nav.admin.plugins"), "href": "/admin/plugins"},
            {"label": t("nav.admin.catalog_import"), "href": "/admin/catalog/import"},
            {"label": t("nav.admin.audit"), "href": "/admin/audit"},
            {"label": t("nav.admin.channels"), "href": "/admin/channels"},
            {"label": t("nav.admin.api_tokens"), "href": "/admin/api-tokens"},
            {"label": t("nav.admin.calendar"), "href": "/admin/calendar"},
        ]
    return items


def htmx_partial(request: Request) -> bool:
    """An htmx request that swaps part of a page: it needs no navigation. A history
    restore or a boosted link swaps the whole page and gets it."""
    headers = request.headers
    return bool(headers.get("hx-request")) and not headers.get("hx-history-restore-request") and not (
        headers.get("hx-boosted"))


async def _unread(request: Request, actor: Actor) -> int:
    """The inbox badge: read with the session (``web.context.load_session``)."""
    read = await load_session(request)
    if read is not None:
        return read.unread
    from core.inbox.service import unread_count

    return await unread_count(actor.id)


async def _admission_count(actor: Actor, hooks) -> int:
    """The 新技术准入 badge, from the institution's open work the to-do list reads too
    (one query per request, shared through the request's hook view)."""
    from core.admission.service import INBOX_ROLES
    from core.dashboard import todo

    if actor.institution_id is None or not actor.has(*INBOX_ROLES):
        return 0
    rows = await todo.institution_rows(actor.institution_id, hooks.memo, actor.roles)
    return len(todo.admission_items(actor, rows, hooks.memo))


async def navigation(request: Request) -> list[dict]:
    actor = await load_actor(request)
    if actor is None:
        return []
    hooks = await load_hooks(request)
    items = core_menu(actor)
    items.insert(1, {"label": t("nav.obligations"), "href": "/obligations"})
    items.insert(2, {"label": t("nav.inbox"), "href": "/inbox", "count": await _unread(request, actor)})
    for item in items:
        if item.get("key") == "admission":
            item["count"] = await _admission_count(actor, hooks)
    for answer in await hooks.collect("menu_items", user=actor):
        items.extend(answer)
    return items


class _Policy:
    """The deployment's policy (``core.policy.policy``) for templates, worked out when a
    template first reads it (``province.filing.rule``): most pages cite none of it, and
    merging the plugins' answers at every request cost the dashboard more than a query."""

    __slots__ = ("_hooks", "_value")

    def __init__(self, hooks) -> None:
        self._hooks = hooks
        self._value = None

    def __getattr__(self, name: str) -> Any:
        if self._value is None:
            from core.policy import policy

            self._value = policy(self._hooks)
        return getattr(self._value, name)


async def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    """A full page or, for an htmx request, the same template (partials check ``htmx``);
    an htmx partial gets no navigation (it swaps part of a page that has one)."""
    context.setdefault("actor", await load_actor(request))
    if "nav" not in context:
        context["nav"] = [] if htmx_partial(request) else await navigation(request)
    context.setdefault("current_path", request.url.path)
    if context["actor"] is not None:
        # The rules the pages cite, from the deployment's plugins (never written in core).
        context.setdefault("province", _Policy(await load_hooks(request)))
    context["htmx"] = bool(request.headers.get("hx-request"))
    # The media type Litestar would guess from the name (mimetypes, at every answer).
    return Template(template_name=template, context=context, status_code=status_code,
                    media_type="text/html" if template.endswith(".html") else None)


def partial(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=template, context=context, status_code=status_code)
