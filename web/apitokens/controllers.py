"""接口令牌 (admin): issue a per-institution API token for the HIS, see it once, revoke it."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from core.accounts.schemas import Actor
from core.apitokens import service as tokens
from core.errors import DomainError
from core.tenancy.service import list_institutions
from web.context import roles_required
from web.forms import form_int
from web.render import page


class ApiTokenController(Controller):
    path = "/admin/api-tokens"
    guards = [roles_required("admin")]

    async def _index(self, request: Request, actor: Actor, *, errors=(), issued: str = "", status: int = 200
                     ) -> Template:
        return await page(request, "apitokens/index.html", status_code=status, tokens=await tokens.list_tokens(actor),
                          institutions=await list_institutions(actor), errors=list(errors), issued=issued)

    @get("/")
    async def index(self, request: Request, actor: Actor) -> Template:
        return await self._index(request, actor)

    @post("/")
    async def issue(self, request: Request, actor: Actor) -> Response:
        form = await request.form()
        try:
            institution = form_int(form, "institution", label="医疗机构", default=-1)
            _, token = await tokens.issue(actor, institution, str(form.get("name", "")))
        except DomainError as exc:
            return await self._index(request, actor, errors=exc.problems, status=422)
        # The token is shown once, in this answer; only its hash is stored.
        return await self._index(request, actor, issued=token)

    @post("/{token_id:int}/revoke")
    async def revoke(self, actor: Actor, token_id: int) -> Redirect:
        await tokens.revoke(actor, token_id)
        return Redirect("/admin/api-tokens", status_code=303)
