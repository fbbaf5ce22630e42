"""Login and logout."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from core.accounts import service as accounts
from core.errors import DomainError
from core.messages import t
from core.settings import get_settings
from web.context import SESSION_COOKIE, load_actor
from web.render import page
from web.security import CSRF_COOKIE, bound_csrf_token, client_address


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


class LoginController(Controller):
    path = "/"

    @get("/login")
    async def login_form(self, request: Request, next: str = "/", expired: str = "", out: str = "") -> Template:
        notice = t("login.expired") if expired else (t("login.logged_out") if out else "")
        return await page(request, "accounts/login.html", next=_safe_next(next), notice=notice,
                          error="", username="", nav=[], actor=None)

    @post("/login")
    async def login(self, request: Request) -> Response:
        form = await request.form()
        username = str(form.get("username", ""))
        target = _safe_next(str(form.get("next", "/")))
        address = client_address(request.scope)
        try:
            token = await accounts.login(username, str(form.get("password", "")), address)
        except DomainError as exc:
            return await page(request, "accounts/login.html", status_code=exc.status_code, next=target,
                              notice="", error=str(exc), username=username, nav=[], actor=None)
        response = Redirect(path=target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
            max_age=get_settings().session_hours * 3600,
        )
        # The CSRF token from now on is this session's (issue 12.6): a token planted
        # before the login, or taken from another session, no longer passes.
        response.set_cookie(CSRF_COOKIE, bound_csrf_token(token, get_settings().secret), samesite="lax",
                            path="/", httponly=False)
        return response

    @post("/logout")
    async def logout(self, request: Request) -> Response:
        await load_actor(request)
        await accounts.logout(request.cookies.get(SESSION_COOKIE))
        response = Redirect(path="/login?out=1", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
