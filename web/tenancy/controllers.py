"""Institutions and departments as hospital users and regulators see them."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from core.accounts.roles import HOSPITAL_ROLES, REGION_ROLES
from core.accounts.schemas import Actor
from core.errors import DomainError
from core.tenancy import service as tenancy
from core.tenancy.schemas import DepartmentInput
from web.context import login_required, roles_required
from web.forms import parse_form
from web.render import page

DEPARTMENT_LABELS = {"name": "科室名称", "subject": "诊疗科目", "active": "启用"}


class InstitutionController(Controller):
    path = "/institutions"
    guards = [login_required]

    @get("/", guards=[roles_required(*REGION_ROLES, "admin")])
    async def index(self, request: Request, actor: Actor) -> Template:
        return await page(request, "tenancy/institutions.html", institutions=await tenancy.list_institutions(actor))

    @get("/{institution_id:int}", guards=[roles_required(*HOSPITAL_ROLES, *REGION_ROLES, "admin")])
    async def detail(self, request: Request, actor: Actor, institution_id: int) -> Template:
        institution = await tenancy.require_institution(actor, institution_id)
        departments = await tenancy.list_departments(actor, institution_id)
        from core.lifecycle import service as lifecycle

        return await page(request, "tenancy/institution.html", institution=institution, departments=departments,
                          uses=await lifecycle.institution_uses(actor, institution_id))


class DepartmentController(Controller):
    """Medical affairs keeps its own institution's departments."""

    path = "/departments"
    guards = [roles_required("medical_affairs")]

    async def _list(self, request: Request, actor: Actor, errors=(), form=None, status: int = 200) -> Template:
        institution = await tenancy.require_institution(actor, actor.institution_id or -1)
        departments = await tenancy.list_departments(actor, institution["id"])
        return await page(request, "tenancy/departments.html", status_code=status, institution=institution,
                          departments=departments, errors=list(errors), form=form or {})

    @get("/")
    async def index(self, request: Request, actor: Actor, ok: str = "") -> Template:
        return await self._list(request, actor)

    @post("/")
    async def create(self, request: Request, actor: Actor) -> Response:
        form = await request.form()
        try:
            data = parse_form(form, DepartmentInput, DEPARTMENT_LABELS)
            await tenancy.create_department(actor, actor.institution_id or -1, data)
        except DomainError as exc:
            return await self._list(request, actor, exc.problems, dict(form), status=422)
        return Redirect("/departments?ok=1", status_code=303)

    @get("/{department_id:int}")
    async def edit(self, request: Request, actor: Actor, department_id: int) -> Template:
        department = await tenancy.require_department(actor, department_id)
        institution = await tenancy.require_institution(actor, department["institution"])
        return await page(request, "tenancy/department.html", department=department, institution=institution,
                          errors=[])

    @post("/{department_id:int}")
    async def update(self, request: Request, actor: Actor, department_id: int) -> Response:
        department = await tenancy.require_department(actor, department_id)
        form = await request.form()
        try:
            await tenancy.update_department(actor, department_id, parse_form(form, DepartmentInput, DEPARTMENT_LABELS))
        except DomainError as exc:
            institution = await tenancy.require_institution(actor, department["institution"])
            return await page(request, "tenancy/department.html", status_code=422,
                              department=department | dict(form), institution=institution, errors=exc.problems)
        return Redirect("/departments?ok=1", status_code=303)
