"""The role dashboard every user lands on."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from core.accounts.schemas import Actor
from core.audit import service as audit
from core.dashboard import service as dashboard
from web.context import load_hooks, load_session, login_required
from web.render import page


class DashboardController(Controller):
    path = "/"
    guards = [login_required]

    @get("/")
    async def index(self, request: Request, actor: Actor) -> Template:
        read = await load_session(request)
        summary = await dashboard.summary(actor, await load_hooks(request),
                                          departments=read.departments if read is not None else None)
        return await page(request, "dashboard/index.html", summary=summary)

    @get("/activity")
    async def activity(self, request: Request, actor: Actor, page_no: int = 1) -> Template:
        """The institution's 操作记录 (the audit feed, off the dashboard)."""
        events, total = await dashboard.recent_activity(actor, max(page_no, 1))
        return await page(request, "dashboard/activity.html", events=events, total=total,
                          page_no=max(page_no, 1), page_size=audit.PAGE_SIZE)
