"""Obligations (待办/时限): list, detail, waive, the iCalendar feed; and the inbox."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from core import listing
from core.accounts.schemas import Actor
from core.errors import DomainError, NotFound
from core.inbox import service as inbox
from core.messages import t
from core.obligations import ical
from core.obligations import service as obligations
from core.plugins import HookView
from web.context import login_required
from web.listing import answer_rows
from web.render import page, partial
from web.templating import COUNT_STATES


def _counts_list() -> listing.ListSpec:
    """The per-institution obligation counts (``obligations.status_counts``) as a list:
    by name as before, or by any state's count."""
    states = tuple(listing.Sort(s, t(f"obligation.status.{s}"), lambda c, s=s: c["counts"][s]) for s in COUNT_STATES)
    return listing.ListSpec(
        table=None, columns=(), title="各机构时限事项统计", search=(lambda c: c["name"],),
        search_hint="医疗机构名称", sorts=(listing.Sort("name", "医疗机构", lambda c: c["name"]), *states,
                                           listing.Sort("total", "合计", lambda c: c["total"])),
        default_sort="name",
        export=(listing.field("医疗机构", "name"),
                *(listing.ExportColumn(t(f"obligation.status.{s}"), lambda c, s=s: c["counts"][s])
                  for s in COUNT_STATES), listing.field("合计", "total")))


def _is_htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request"))


class ObligationController(Controller):
    path = "/obligations"
    guards = [login_required]

    @get("/")
    async def index(self, request: Request, actor: Actor, hooks: HookView) -> Template:
        return await page(
            request, "obligations/index.html",
            obligations=await obligations.open_for(actor, hooks),
            institutions_overdue=await obligations.institutions_overdue(actor, hooks),
            counts=await obligations.status_counts(actor, hooks),
            provisional=await obligations.provisional_obligations(actor),
            exempt=await obligations.exempt_for(actor, hooks),
        )

    @get("/institutions")
    async def institutions(self, request: Request, actor: Actor, hooks: HookView) -> Response:
        """各机构时限事项统计 as a list of its own: a province's thousand institutions, paged,
        searched, sorted by any state, exported whole (the dashboard and the obligations page
        show the institutions with the most overdue)."""
        counts = await obligations.status_counts(actor, hooks)
        found = answer_rows(request, _counts_list(), counts, "obligation-counts")
        if isinstance(found, Response):
            return found
        return await page(request, "obligations/institutions.html", counts=found, every=counts)

    @get("/panel")
    async def panel(self, actor: Actor, hooks: HookView) -> Template:
        """The open-obligations panel alone, for an htmx refresh of the dashboard."""
        return partial("obligations/_panel.html", obligations=await obligations.open_for(actor, hooks))

    @get("/{obligation_id:int}")
    async def detail(self, request: Request, actor: Actor, hooks: HookView, obligation_id: int) -> Template:
        return await page(request, "obligations/detail.html",
                          o=await obligations.get(actor, hooks, obligation_id), errors=[], form={})

    @post("/{obligation_id:int}/waive")
    async def waive(self, request: Request, actor: Actor, hooks: HookView, obligation_id: int) -> Response:
        form = await request.form()
        return await _act(request, actor, hooks, obligation_id, form, "obligations/_waive_form.html",
                          obligations.waive(actor, obligation_id, form.get("reason", "")))

    @post("/{obligation_id:int}/complete")
    async def complete(self, request: Request, actor: Actor, hooks: HookView, obligation_id: int) -> Response:
        """Mark done an obligation no workflow closes (a transitional self-assessment, physicians' applications)."""
        form = await request.form()
        return await _act(request, actor, hooks, obligation_id, form, "obligations/_complete_form.html",
                          obligations.complete(actor, obligation_id, form.get("note", "")))

    @get("/feed")
    async def feed_page(self, request: Request, actor: Actor) -> Template:
        return await page(request, "obligations/feed.html", exists=await ical.feed_exists(actor), url=None)

    @post("/feed")
    async def feed_create(self, request: Request, actor: Actor) -> Template:
        token = await ical.create_feed(actor)
        url = f"{str(request.base_url).rstrip('/')}/ical/{token}.ics"
        return await page(request, "obligations/feed.html", exists=True, url=url)

    @post("/feed/revoke")
    async def feed_revoke(self, actor: Actor) -> Redirect:
        await ical.revoke_feed(actor)
        return Redirect("/obligations/feed", status_code=303)


@get("/ical/{filename:str}")
async def ical_feed(request: Request, filename: str) -> Response:
    """The secret per-user feed: no login, the token is the credential."""
    from web.context import load_hooks

    if not filename.endswith(".ics"):
        raise NotFound("未找到该日历订阅")
    body = await ical.feed(await load_hooks(request), filename[: -len(".ics")])
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300"})


class InboxController(Controller):
    path = "/inbox"
    guards = [login_required]

    async def _page(self, request: Request, actor: Actor, errors=(), form=None, status: int = 200) -> Template:
        return await page(request, "inbox/index.html", status_code=status, messages=await inbox.messages(actor),
                          email=await inbox.address_of(actor.id), errors=list(errors), form=form or {})

    @get("/")
    async def index(self, request: Request, actor: Actor) -> Template:
        return await self._page(request, actor)

    @post("/{message_id:int}/read")
    async def read(self, request: Request, actor: Actor, message_id: int) -> Response:
        await inbox.mark_read(actor, message_id)
        if _is_htmx(request):
            message = [m for m in await inbox.messages(actor) if m["id"] == message_id][0]
            return partial("inbox/_message.html", m=message, unread=await inbox.unread_count(actor.id))
        return Redirect("/inbox", status_code=303)

    @post("/read-all")
    async def read_all(self, actor: Actor) -> Redirect:
        await inbox.mark_all_read(actor)
        return Redirect("/inbox", status_code=303)

    @post("/email")
    async def email(self, request: Request, actor: Actor) -> Response:
        form = await request.form()
        try:
            await inbox.set_address(actor, form.get("email", ""))
        except DomainError as exc:
            return await self._page(request, actor, exc.problems, dict(form), status=422)
        return Redirect("/inbox?saved=1", status_code=303)


async def _act(request: Request, actor: Actor, hooks: HookView, obligation_id: int, form,
               form_partial: str, change) -> Response:
    """Run one change of an obligation; on refusal show its form again with the message."""
    try:
        await change
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        o = await obligations.get(actor, hooks, obligation_id)
        if _is_htmx(request):
            # htmx 2 does not swap 4xx answers: answer 200 with the form and its message.
            return partial(form_partial, o=o, errors=exc.problems, form=dict(form))
        return await page(request, "obligations/detail.html", status_code=exc.status_code, o=o,
                          errors=exc.problems, form=dict(form))
    if _is_htmx(request):
        return Response("", status_code=200, headers={"HX-Redirect": f"/obligations/{obligation_id}"})
    return Redirect(f"/obligations/{obligation_id}", status_code=303)
