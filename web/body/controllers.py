"""医疗技术临床应用管理组织 pages (NAT-15, NAT-16): the body, its members and meetings with
attendance and decisions, recorded by medical affairs; the institution's systems page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from core.accounts.roles import HOSPITAL_ROLES, REGION_ROLES
from core.accounts.schemas import Actor
from core.body import service as body
from core.errors import DomainError
from core.plugins import HookView
from core.tenancy.service import list_institutions
from web.context import roles_required
from web.forms import form_date
from web.render import page

readers = [roles_required(*HOSPITAL_ROLES, *REGION_ROLES, "admin")]
DECISION_ROWS = 3



class BodyController(Controller):
    path = "/body"
    guards = readers

    @get("/")
    async def index(self, request: Request, actor: Actor) -> Response:
        if actor.institution_id is not None:
            return Redirect(f"/body/{actor.institution_id}", status_code=303)
        return await page(request, "body/choose.html", institutions=await list_institutions(actor))

    async def _page(self, request: Request, actor: Actor, hooks: HookView, institution_id: int, *, errors=(),
                    typed: dict | None = None, form: str = "", saved: str = "", status: int = 200) -> Template:
        ctx = await body.overview(actor, hooks, institution_id)
        return await page(request, "body/index.html", status_code=status, errors=list(errors), typed=typed or {},
                          open_form=form, saved=saved, decision_rows=range(DECISION_ROWS), **ctx)

    @get("/{institution_id:int}")
    async def show(self, request: Request, actor: Actor, hooks: HookView, institution_id: int,
                   saved: str = "") -> Template:
        return await self._page(request, actor, hooks, institution_id, saved=saved)

    @get("/{institution_id:int}/systems")
    async def systems(self, request: Request, actor: Actor, hooks: HookView, institution_id: int) -> Template:
        return await page(request, "body/systems.html", **await body.systems(actor, hooks, institution_id))

    async def _act(self, request: Request, actor: Actor, hooks: HookView, institution_id: int, form_name: str,
                   typed: dict, action, saved: str) -> Response:
        try:
            await action()
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._page(request, actor, hooks, institution_id, errors=exc.problems, typed=typed,
                                    form=form_name, status=exc.status_code)
        return Redirect(f"/body/{institution_id}?saved={saved}", status_code=303)

    @post("/{institution_id:int}")
    async def save(self, request: Request, actor: Actor, hooks: HookView, institution_id: int) -> Response:
        form = await request.form()
        typed = {k: str(form.get(k, "")).strip() for k in ("version", "kind", "name", "established_on", "document")}
        return await self._act(request, actor, hooks, institution_id, "body", typed, lambda: body.save_body(
            actor, institution_id, body.BodyInput(
                version=int(typed["version"]) if typed["version"].isdigit() else 0, kind=typed["kind"],
                name=typed["name"], established_on=form_date(typed["established_on"], "established_on"), document=typed["document"])),
            "body")

    @post("/{institution_id:int}/members")
    async def add_member(self, request: Request, actor: Actor, hooks: HookView, institution_id: int) -> Response:
        form = await request.form()
        typed = {k: str(form.get(k, "")).strip() for k in ("name", "post", "title", "joined_on")}
        return await self._act(request, actor, hooks, institution_id, "member", typed, lambda: body.add_member(
            actor, institution_id, body.MemberInput(name=typed["name"], post=typed["post"], title=typed["title"],
                                                    joined_on=form_date(typed["joined_on"], "joined_on"))), "member")

    @post("/{institution_id:int}/members/{member_id:int}/leave")
    async def leave(self, request: Request, actor: Actor, hooks: HookView, institution_id: int,
                    member_id: int) -> Response:
        return await self._act(request, actor, hooks, institution_id, "member", {},
                               lambda: body.member_leaves(actor, institution_id, member_id), "member_left")

    @post("/{institution_id:int}/meetings")
    async def meeting(self, request: Request, actor: Actor, hooks: HookView, institution_id: int) -> Response:
        """A meeting with its attendance and decisions (NAT-15), audited."""
        form = await request.form()
        typed: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in ("held_on", "topic", "minutes")}
        typed["attendees"] = [int(v) for v in form.getall("attendees", []) if str(v).isdigit()]
        decisions = [(str(form.get(f"system_{i}", "")).strip(), str(form.get(f"decision_{i}", "")).strip())
                     for i in range(DECISION_ROWS)]
        typed["decisions"] = decisions

        async def record() -> None:
            await body.record_meeting(actor, institution_id, body.MeetingInput(
                held_on=form_date(typed["held_on"], "held_on"), topic=typed["topic"], attendees=typed["attendees"],
                minutes=typed["minutes"], decisions=decisions))

        return await self._act(request, actor, hooks, institution_id, "meeting", typed, record, "meeting")
