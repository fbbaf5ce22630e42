"""我的账号: change one's own password, see and end one's own sessions."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from core.accounts import own
from core.accounts.schemas import Actor
from core.errors import DomainError
from web.context import SESSION_COOKIE
from web.render import page


class AccountController(Controller):
    path = "/account"

    async def _page(self, request: Request, actor: Actor, *, errors=(), ok: str = "", status: int = 200) -> Template:
        return await page(request, "accounts/account.html", status_code=status, errors=list(errors), ok=ok,
                          sessions=await own.sessions(actor, request.cookies.get(SESSION_COOKIE)))

    @get("/")
    async def index(self, request: Request, actor: Actor, ok: str = "") -> Template:
        return await self._page(request, actor, ok=ok)

    @post("/password")
    async def password(self, request: Request, actor: Actor) -> Response:
        form = await request.form()
        try:
            ended = await own.change_password(actor, str(form.get("current", "")), str(form.get("new", "")),
                                              str(form.get("confirm", "")), request.cookies.get(SESSION_COOKIE))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._page(request, actor, errors=exc.problems, status=422)
        return Redirect(f"/account?ok=password-{ended}", status_code=303)

    @post("/sessions/{session_id:int}/end")
    async def end(self, request: Request, actor: Actor, session_id: int) -> Response:
        await own.end_session(actor, session_id)
        return Redirect("/account?ok=session", status_code=303)
