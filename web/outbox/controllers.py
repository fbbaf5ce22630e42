"""The outbox pages: deliveries with status, attempts and errors; retry now; packages;
and the admin's view of the channels' endpoint settings."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from core.accounts.schemas import Actor
from core.errors import DomainError
from core.messages import t
from core.outbox import channels as outbox_channels
from core.outbox import service as outbox
from core.plugins import HookView
from web.context import roles_required
from web.listing import answer
from web.render import page, partial


def _is_htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request"))


class OutboxController(Controller):
    """Medical affairs sees its institution's deliveries; the admin sees all."""

    path = "/outbox"
    guards = [roles_required(*outbox.MANAGERS)]

    @get("/")
    async def index(self, request: Request, actor: Actor, hooks: HookView) -> Response:
        """The deliveries: search, filters, sort, pages; ``?format=xlsx`` exports them."""
        channels = outbox_channels.channels(hooks)
        deliveries = await answer(request, *await outbox.delivery_list(actor, [(c.key, c.name) for c in channels]),
                                  "deliveries")
        if isinstance(deliveries, Response):
            return deliveries
        if _is_htmx(request) and request.headers.get("hx-target") == "outbox-table":
            return partial("outbox/_table.html", deliveries=deliveries, now=outbox.now_utc())
        return await page(request, "outbox/index.html", counts=await outbox.counts(actor), statuses=outbox.STATUSES,
                          deliveries=deliveries, now=outbox.now_utc())

    async def _detail(self, request: Request, actor: Actor, delivery_id: int, errors=(), form=None,
                      status: int = 200, notice: str = "") -> Template:
        delivery, attempts = await outbox.get_delivery(actor, delivery_id)
        return await page(request, "outbox/detail.html", status_code=status, delivery=delivery, attempts=attempts,
                          errors=list(errors), form=form or {}, notice=notice, now=outbox.now_utc())

    @get("/{delivery_id:int}")
    async def detail(self, request: Request, actor: Actor, delivery_id: int, ok: str = "") -> Template:
        notice = {"retry": t("outbox.retried"), "confirm": t("outbox.confirmed")}.get(ok, "")
        return await self._detail(request, actor, delivery_id, notice=notice)

    @post("/{delivery_id:int}/retry")
    async def retry(self, request: Request, actor: Actor, delivery_id: int) -> Response:
        """Retry now: back in the queue for the worker's next run (audited)."""
        try:
            delivery = await outbox.retry_now(actor, delivery_id)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            if _is_htmx(request):
                current, _ = await outbox.get_delivery(actor, delivery_id)
                return partial("outbox/_row.html", d=current, errors=exc.problems, now=outbox.now_utc())
            return await self._detail(request, actor, delivery_id, exc.problems, status=422)
        if _is_htmx(request):
            delivery.institution_name = (await outbox.get_delivery(actor, delivery_id))[0].institution_name
            return partial("outbox/_row.html", d=delivery, notice=t("outbox.retried"), now=outbox.now_utc())
        return Redirect(f"/outbox/{delivery_id}?ok=retry", status_code=303)

    @post("/{delivery_id:int}/confirm")
    async def confirm(self, request: Request, actor: Actor, hooks: HookView, delivery_id: int) -> Response:
        """Record the authority's receipt of a package uploaded by hand (audited)."""
        form = await request.form()
        try:
            await outbox.confirm_manual(actor, delivery_id, str(form.get("receipt_id", "")), hooks=hooks)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._detail(request, actor, delivery_id, exc.problems, dict(form), 422)
        return Redirect(f"/outbox/{delivery_id}?ok=confirm", status_code=303)

    @get("/{delivery_id:int}/package.zip")
    async def package(self, actor: Actor, hooks: HookView, delivery_id: int) -> Response:
        """The package for manual upload: manifest.json, payload.json, materials in order."""
        name, data = await outbox.package_for(actor, hooks, delivery_id)
        return Response(data, media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @get("/{delivery_id:int}/manifest.json")
    async def manifest(self, actor: Actor, hooks: HookView, delivery_id: int) -> Response:
        return Response(await outbox.manifest_for(actor, hooks, delivery_id), media_type="application/json")

    @get("/subject/{subject_type:str}/{subject_id:int}")
    async def subject(self, actor: Actor, subject_type: str, subject_id: int) -> Template:
        """The delivery-status partial of one record, for htmx refreshes on its page."""
        deliveries = await outbox.visible_status(actor, subject_type, subject_id)
        return partial("outbox/_status.html", deliveries=deliveries, manage=True)


class AdminChannelController(Controller):
    """The deployment's reporting channels and their endpoint settings (from the environment)."""

    path = "/admin/channels"
    guards = [roles_required("admin")]

    @get("/")
    async def index(self, request: Request, hooks: HookView) -> Template:
        rows = [{"channel": c, "endpoint": outbox_channels.endpoint(c), "package": outbox_channels.uses_package(c)}
                for c in outbox_channels.channels(hooks)]
        return await page(request, "outbox/channels.html", rows=rows, kind_labels=outbox_channels.KIND_LABELS)

