"""The deployment admin's pages: users, institutions, regions, plugins, audit trail."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from core import calendar, clock
from core.accounts import person as person_service
from core.accounts import service as accounts
from core.accounts.roles import ROLE_LABELS
from core.accounts.schemas import Actor, PersonInput, UserInput
from core.admission.rules import years_between
from core.audit import service as audit
from core.catalog import service as catalog_service
from core.errors import DomainError, NotFound, Problem
from core.plugins import HookView
from core.system import service as system
from core.tenancy import service as tenancy
from core.tenancy.schemas import DepartmentInput, InstitutionInput, RegionInput
from web.context import roles_required
from web.forms import parse_form
from web.listing import answer
from web.render import page, partial
from web.tenancy.controllers import DEPARTMENT_LABELS

admin_only = [roles_required("admin")]

USER_LABELS = {"username": "用户名", "display_name": "姓名", "roles": "角色", "institution": "医疗机构",
               "department": "科室", "region": "行政区划", "title": "职称", "password": "密码",
               "resident_since": "住院医师起始日期", "visiting": "进修医师", "qualifications": "资质证书"}
INSTITUTION_LABELS = {"name": "机构名称", "licence_no": "执业许可证登记号", "grade": "机构等级",
                      "region": "所在区划", "licence_region": "发证机关所在区划", "registered_subjects": "诊疗科目"}
REGION_LABELS = {"name": "区划名称", "code": "区划代码", "level": "层级", "parent": "上级区划"}


def _subjects(form) -> list[str]:
    """Registered subjects are typed one per line (or separated by 、/,)."""
    raw = str(form.get("registered_subjects_text", ""))
    for sep in ("、", ",", "，"):
        raw = raw.replace(sep, "\n")
    return [s.strip() for s in raw.splitlines() if s.strip()]


def _qualifications(form) -> list[str]:
    """Qualifications (certificates) are typed one per line (or separated by 、/,)."""
    return _subjects({"registered_subjects_text": form.get("qualifications_text", "")})


def _parse_user(values, form) -> tuple[UserInput, PersonInput]:
    """The account fields and the person attributes (HOSP-5); every malformed field is reported."""
    problems, parsed = [], []
    person_form = _Form(dict(form), form, {"qualifications": _qualifications(form)})
    for struct, source in ((UserInput, values), (PersonInput, person_form)):
        try:
            parsed.append(parse_form(source, struct, USER_LABELS))
        except DomainError as exc:
            problems += exc.problems
    if problems:
        raise DomainError(problems)
    return parsed[0], parsed[1]


def _years(resident_since) -> int | None:
    """Whole years as resident today, as HOSP-5 counts them (None when not set or malformed)."""
    try:
        start = resident_since if isinstance(resident_since, dt.date) else dt.date.fromisoformat(str(resident_since))
    except ValueError:
        return None
    return years_between(start, clock.today())


def _shown(base: dict, form) -> dict:
    """What the form showed again after an error: everything as typed."""
    return base | dict(form) | {"roles": form.getall("roles", []), "visiting": form.get("visiting") == "on"}


class AdminUserController(Controller):
    path = "/admin/users"
    guards = admin_only

    async def _form(self, request: Request, user: dict, errors=(), status: int = 200) -> Template:
        return await page(
            request, "admin/user_form.html", status_code=status, user=user, errors=list(errors),
            role_labels=ROLE_LABELS, institutions=await tenancy.list_institutions(request.state.actor),
            regions=await tenancy.region_tree(), years_as_resident=_years(user.get("resident_since")),
        )

    @get("/")
    async def index(self, request: Request) -> Response:
        """Users: search, filter, sort, pages; ``?format=xlsx`` exports them (issue 11 point 11)."""
        result = await answer(request, await accounts.user_list_spec(), None, "users")  # the admin sees all
        if isinstance(result, Response):
            return result
        return await page(request, "admin/users.html", users=result)

    @get("/new")
    async def new(self, request: Request) -> Template:
        return await self._form(request, {"roles": [], "active": True})

    @get("/login-throttles")
    async def throttles(self, request: Request, cleared: str = "") -> Template:
        """Accounts and addresses with failed logins: how many, and how long they wait."""
        return await page(request, "admin/throttles.html", rows=await accounts.throttled(), cleared=cleared,
                          window=int(accounts.LOGIN_WINDOW.total_seconds() // 60), throttles=accounts.THROTTLES)

    @post("/login-throttles/clear")
    async def clear_throttle(self, request: Request, actor: Actor) -> Response:
        form = await request.form()
        key = str(form.get("key", ""))[:200]
        await accounts.clear_throttle(actor, key)
        return Redirect("/admin/users/login-throttles?cleared=1", status_code=303)

    @post("/new")
    async def create(self, request: Request, actor: Actor) -> Response:
        form = await request.form()
        try:
            user_id = await accounts.create_user(actor, *_parse_user(form, form))
        except DomainError as exc:
            return await self._form(request, _shown({}, form), exc.problems, 422)
        return Redirect(f"/admin/users/{user_id}?ok=1", status_code=303)

    @get("/{user_id:int}")
    async def edit(self, request: Request, user_id: int) -> Template:
        user = msgspec.to_builtins(await accounts.get_user(user_id))
        person = await person_service.get_person(user_id)
        return await self._form(request, user | person | {"qualifications_text": "\n".join(person["qualifications"])})

    @post("/{user_id:int}")
    async def update(self, request: Request, actor: Actor, user_id: int) -> Response:
        existing = await accounts.get_user(user_id)
        form = await request.form()
        values = dict(form) | {"username": existing.username}
        try:
            await accounts.update_user(actor, user_id, *_parse_user(_Form(values, form), form))
        except DomainError as exc:
            return await self._form(request, _shown(msgspec.to_builtins(existing), form), exc.problems, 422)
        return Redirect(f"/admin/users/{user_id}?ok=1", status_code=303)


class _Form(dict):
    """A dict with multidict's ``getall`` — for forms with values overridden."""

    def __init__(self, values: dict, original, lists: dict | None = None):
        super().__init__(values)
        self._original = original
        self._lists = lists or {}

    def getall(self, key, default=None):
        if key in self._lists:
            return self._lists[key]
        return self._original.getall(key, default)


class AdminInstitutionController(Controller):
    path = "/admin/institutions"
    guards = admin_only

    async def _form(self, request: Request, institution: dict, errors=(), status: int = 200, departments=None) -> Template:
        return await page(request, "admin/institution_form.html", status_code=status, institution=institution,
                          errors=list(errors), regions=await tenancy.region_tree(), departments=departments,
                          dept_errors=[], dept_form={})

    @get("/")
    async def index(self, request: Request, actor: Actor) -> Template:
        return await page(request, "admin/institutions.html", institutions=await tenancy.list_institutions(actor))

    @get("/new")
    async def new(self, request: Request) -> Template:
        return await self._form(request, {"registered_subjects": [], "active": True})

    def _parse(self, form) -> InstitutionInput:
        values = dict(form) | {"registered_subjects": _subjects(form)}
        return parse_form(values, InstitutionInput, INSTITUTION_LABELS)

    @post("/new")
    async def create(self, request: Request, actor: Actor) -> Response:
        form = await request.form()
        try:
            inst_id = await tenancy.create_institution(actor, self._parse(form))
        except DomainError as exc:
            return await self._form(request, dict(form) | {"registered_subjects": _subjects(form)}, exc.problems, 422)
        return Redirect(f"/admin/institutions/{inst_id}?ok=1", status_code=303)

    @get("/{institution_id:int}")
    async def edit(self, request: Request, actor: Actor, institution_id: int) -> Template:
        institution = await tenancy.require_institution(actor, institution_id)
        return await self._form(request, institution, departments=await tenancy.list_departments(actor, institution_id))

    @post("/{institution_id:int}")
    async def update(self, request: Request, actor: Actor, institution_id: int) -> Response:
        existing = await tenancy.require_institution(actor, institution_id)
        form = await request.form()
        try:
            await tenancy.update_institution(actor, institution_id, self._parse(form))
        except DomainError as exc:
            shown = existing | dict(form) | {"registered_subjects": _subjects(form)}
            return await self._form(request, shown, exc.problems, 422,
                                    departments=await tenancy.list_departments(actor, institution_id))
        return Redirect(f"/admin/institutions/{institution_id}?ok=1", status_code=303)

    @post("/{institution_id:int}/departments")
    async def add_department(self, request: Request, actor: Actor, institution_id: int) -> Response:
        institution = await tenancy.require_institution(actor, institution_id)
        form = await request.form()
        try:
            await tenancy.create_department(actor, institution_id, parse_form(form, DepartmentInput, DEPARTMENT_LABELS))
        except DomainError as exc:
            template = await self._form(request, institution, status=422,
                                        departments=await tenancy.list_departments(actor, institution_id))
            template.context["dept_errors"] = exc.problems
            template.context["dept_form"] = dict(form)  # keep what the admin typed
            return template
        return Redirect(f"/admin/institutions/{institution_id}?ok=1", status_code=303)


class AdminRegionController(Controller):
    path = "/admin/regions"
    guards = admin_only

    async def _page(self, request: Request, errors=(), status: int = 200, form=None) -> Template:
        return await page(request, "admin/regions.html", status_code=status, regions=await tenancy.region_tree(),
                          errors=list(errors), form=form or {})

    @get("/")
    async def index(self, request: Request) -> Template:
        return await self._page(request)

    @post("/")
    async def create(self, request: Request, actor: Actor) -> Response:
        form = await request.form()
        try:
            await tenancy.create_region(actor, parse_form(form, RegionInput, REGION_LABELS))
        except DomainError as exc:
            return await self._page(request, exc.problems, 422, dict(form))
        return Redirect("/admin/regions?ok=1", status_code=303)

    @post("/{region_id:int}")
    async def rename(self, request: Request, actor: Actor, region_id: int) -> Response:
        form = await request.form()
        try:
            await tenancy.rename_region(
                actor, region_id, str(form.get("name", "")),
                str(form.get("department")) if "department" in form else None,
                str(form.get("filing_materials")) if "filing_materials" in form else None)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._page(request, exc.problems, 422)
        return Redirect("/admin/regions?ok=1", status_code=303)


class AdminPluginController(Controller):
    path = "/admin/plugins"
    guards = admin_only

    @get("/")
    async def index(self, request: Request, hooks: HookView) -> Template:
        host = request.app.state.plugin_host
        catalog_report = await catalog_service.ensure_synced(host)
        from core.obligations import service as obligations
        from core.obligations import transitions

        return await page(request, "admin/plugins.html", plugins=host.plugins(), hooks=hooks,
                          catalog_report=catalog_report,
                          calendar=calendar.health(), in_force=transitions.in_force_status(hooks),
                          exemptions=obligations.exemptions_of(hooks))

    def _plugin(self, request: Request, name: str):
        host = request.app.state.plugin_host
        plugin = next((p for p in host.plugins() if p.name == name and p.in_deployment), None)
        if plugin is None:
            raise NotFound("该插件不属于本部署")
        return plugin

    @get("/{name:str}/off")
    async def confirm_off(self, request: Request, name: str) -> Template:
        """Before switching a plugin off: what will change (htmx swaps the row; a full page
        without JavaScript)."""
        from core.admission.tables import Project
        from core.cases.tables import CaseRecord
        from core.filing.tables import Filing
        from core.messages import hook_labels

        plugin = self._plugin(request, name)
        counts = {"filings": await Filing.count(), "cases": await CaseRecord.count(), "projects": await Project.count()}
        context = {"plugin": plugin, "provides": hook_labels(plugin.hooks), "counts": counts}
        if request.headers.get("hx-request"):
            return partial("admin/_plugin_confirm.html", **context)
        return await page(request, "admin/plugin_confirm.html", **context)

    @get("/{name:str}/row")
    async def row(self, request: Request, hooks: HookView, name: str) -> Template:
        """htmx: the plugin's row again (the confirmation cancelled)."""
        return partial("admin/_plugin_row.html", plugin=self._plugin(request, name), hooks=hooks)

    @post("/{name:str}")
    async def switch(self, request: Request, actor: Actor, name: str) -> Template:
        host = request.app.state.plugin_host
        form = await request.form()
        await system.set_plugin_enabled(actor, host, name, form.get("enabled") == "1")
        hooks = host.view(await system.disabled_plugins())
        request.state.hooks = hooks
        plugin = next(p for p in host.plugins() if p.name == name)
        if request.headers.get("hx-request"):
            return partial("admin/_plugin_row.html", plugin=plugin, hooks=hooks)
        return Redirect("/admin/plugins", status_code=303)


class AdminAuditController(Controller):
    path = "/admin/audit"
    guards = admin_only

    @get("/")
    async def index(self, request: Request, actor_name: str = "", action: str = "", record_type: str = "",
                    since: str = "", until: str = "", page_no: int = 1) -> Template:
        errors: list[Problem] = []
        dates: dict[str, dt.date | None] = {}
        for key, value in (("since", since), ("until", until)):
            try:
                dates[key] = dt.date.fromisoformat(value) if value else None
            except ValueError:
                dates[key] = None
                errors.append(Problem("日期格式应为 YYYY-MM-DD", key))
        filters = audit.AuditFilter(actor=actor_name, action=action, record_type=record_type,
                                    since=dates["since"], until=dates["until"], page=page_no)
        events, total = await audit.browse(filters)
        events = await audit.with_names(events)
        context = dict(events=events, total=total, filters=filters, errors=errors, page_size=audit.PAGE_SIZE,
                       query={"actor_name": actor_name, "action": action, "record_type": record_type,
                              "since": since, "until": until})
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "audit-table":
            return partial("admin/_audit_table.html", **context)
        return await page(request, "admin/audit.html", actions=await audit.actions(), **context)
