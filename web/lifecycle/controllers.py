"""院内技术使用 pages (core.lifecycle): the institution's technologies and their state of use;
one technology's state, history and actions (stop, suspend, lift, resume); the
regulator's desk (a region's suspensions, stop reports, restricted uses)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from core import clock
from core.accounts.schemas import Actor
from core.errors import DomainError, Problem
from core.lifecycle import service
from core.lifecycle.schemas import CHOOSABLE, RESUMPTION
from core.plugins import HookView
from web.context import roles_required
from web.forms import form_date, form_int
from web.render import page

READERS = (*service.HOSPITAL_READERS, *service.DESK_READERS, "admin")
NOTICES = {"keep_authorisation": "已记录复核意见：维持该医师授权", "stop": "已停止该技术的临床应用", "refile": "已暂停临床应用并开启重新备案：请在备案页上传变化后的材料并提交", "suspend": "已暂停该技术的临床应用", "lift": "已解除暂停",
           "resume": "已恢复该技术的临床应用", "region_suspend": "已在本辖区暂停该技术", "region_lift": "已解除本辖区的暂停"}




class LifecycleController(Controller):
    path = "/lifecycle"
    guards = [roles_required(*READERS)]

    @get("/")
    async def index(self, request: Request, actor: Actor) -> Response:
        if actor.institution_id is None:
            return Redirect("/lifecycle/desk", status_code=303)
        return await page(request, "lifecycle/index.html", technologies=await service.overview(actor))

    # ------------------------------------------------------------ one technology in one institution

    async def _technology(self, request: Request, actor: Actor, hooks: HookView, institution_id: int, key: str, *,
                          errors=(), typed: dict | None = None, status: int = 200, notice: str = "") -> Template:
        view = await service.technology_view(actor, hooks, institution_id, key)
        return await page(request, "lifecycle/technology.html", status_code=status, errors=list(errors),
                          typed=typed or {}, notice=NOTICES.get(notice, ""), triggers=CHOOSABLE,
                          resumption=RESUMPTION, today=clock.today(), **view.context())

    @get("/institutions/{institution_id:int}/{key:str}")
    async def technology(self, request: Request, actor: Actor, hooks: HookView, institution_id: int, key: str,
                         ok: str = "") -> Template:
        return await self._technology(request, actor, hooks, institution_id, key, notice=ok)

    @post("/institutions/{institution_id:int}/{key:str}")
    async def act(self, request: Request, actor: Actor, hooks: HookView, institution_id: int, key: str) -> Response:
        # The page must be readable first: a foreign institution or technology is 404.
        await service.technology_view(actor, hooks, institution_id, key)
        form = await request.form()
        typed = {k: str(v) for k, v in form.items() if k != "_csrf_token"}
        action = typed.get("action", "")
        try:
            version = form_int(form, "version")
            common = {"technology_key": key, "reason": typed.get("reason", ""), "document": typed.get("document", ""),
                      "version": version}
            if action == "stop":
                await service.stop(actor, hooks, trigger=typed.get("trigger", ""), committee=typed.get("committee", ""),
                                   meeting_on=form_date(typed.get("meeting_on"), "meeting_on"), **common)
            elif action == "resume":
                await service.resume(actor, hooks, basis=typed.get("basis", ""), committee=typed.get("committee", ""),
                                     meeting_on=form_date(typed.get("meeting_on"), "meeting_on"), **common)
            elif action == "refile":
                await service.refile(actor, hooks, technology_key=key, reason=typed.get("reason", ""), version=version)
            elif action == "keep_authorisation":
                from core.evaluation import periodic

                await periodic.keep_authorisation(actor, form_int(form, "review") or 0,
                                                  form_int(form, "authorisation") or 0, typed.get("note", ""))
            elif action == "suspend":
                await service.suspend(actor, hooks, institution_id=institution_id, **common)
            elif action == "lift":
                await service.lift(actor, hooks, institution_id=institution_id, **common)
            else:
                raise DomainError(Problem("请选择操作", "action"))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._technology(request, actor, hooks, institution_id, key, errors=exc.problems,
                                          typed=typed, status=exc.status_code)
        return Redirect(f"/lifecycle/institutions/{institution_id}/{key}?ok={action}", status_code=303)

    # ------------------------------------------------------------ the regulator's desk

    async def _desk(self, request: Request, actor: Actor, hooks: HookView, *, errors=(), typed: dict | None = None,
                    status: int = 200, notice: str = "") -> Template:
        return await page(request, "lifecycle/desk.html", status_code=status, errors=list(errors), typed=typed or {},
                          notice=NOTICES.get(notice, ""), today=clock.today(), **await service.desk(actor, hooks))

    @get("/desk", guards=[roles_required(*service.DESK_READERS, "admin")])
    async def desk(self, request: Request, actor: Actor, hooks: HookView, ok: str = "") -> Template:
        return await self._desk(request, actor, hooks, notice=ok)

    @post("/desk/suspensions", guards=[roles_required("regulator")])
    async def suspend_region(self, request: Request, actor: Actor, hooks: HookView) -> Response:
        form = await request.form()
        typed = {k: str(v) for k, v in form.items() if k != "_csrf_token"}
        try:
            await service.suspend_region(actor, hooks, technology_key=typed.get("technology_key", ""),
                                         reason=typed.get("reason", ""), document=typed.get("document", ""),
                                         on=form_date(typed.get("on"), "on"))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._desk(request, actor, hooks, errors=exc.problems, typed=typed, status=exc.status_code)
        return Redirect("/lifecycle/desk?ok=region_suspend", status_code=303)

    @post("/desk/suspensions/{suspension_id:int}/lift", guards=[roles_required("regulator")])
    async def lift_region(self, request: Request, actor: Actor, hooks: HookView, suspension_id: int) -> Response:
        form = await request.form()
        typed = {k: str(v) for k, v in form.items() if k != "_csrf_token"}
        try:
            await service.lift_region(actor, hooks, suspension_id, reason=typed.get("reason", ""),
                                      document=typed.get("document", ""), on=form_date(typed.get("on"), "on"),
                                      version=form_int(form, "version"))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._desk(request, actor, hooks, errors=exc.problems, typed=typed | {
                "lift": str(suspension_id)}, status=exc.status_code)
        return Redirect("/lifecycle/desk?ok=region_lift", status_code=303)
