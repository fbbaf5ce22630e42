"""The role dashboard every user lands on."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from core.accounts.schemas import Actor
from core.dashboard import service as dashboard
from web.context import load_hooks, login_required
from web.render import page


class DashboardController(Controller):
    path = "/"
    guards = [login_required]

    @get("/")
    async def index(self, request: Request, actor: Actor) -> Template:
        summary = await dashboard.summary(actor, await load_hooks(request))
        return await page(request, "dashboard/index.html", summary=summary)
