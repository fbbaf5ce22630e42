"""医师档案与授权 pages (NAT-19, NAT-20): the institution's physicians, each physician's
technology archive (certificates, authorisations and their history, cases, incidents,
training, exams) with a printable PDF, and medical affairs' decisions on them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from core import clock
from core.accounts.roles import HOSPITAL_ROLES, REGION_ROLES
from core.accounts.schemas import Actor
from core.errors import DomainError, NotFound, Problem
from core.people import rules
from core.people import service as people
from core.plugins import HookView
from core.tenancy.service import list_institutions
from web.context import roles_required
from web.forms import form_date
from web.render import page

readers = [roles_required(*HOSPITAL_ROLES, *REGION_ROLES, "admin")]



def _dates(form: Any, names: tuple[str, ...], problems: list[Problem]) -> dict[str, dt.date | None]:
    """Typed dates; a text that is not a date is a problem on its field (an empty one is None)."""
    out: dict[str, dt.date | None] = {}
    for name in names:
        try:
            out[name] = form_date(form.get(name), name)
        except DomainError as exc:
            problems.extend(exc.problems)
            out[name] = None
    return out


class PeopleController(Controller):
    path = "/people"
    guards = readers

    @get("/")
    async def index(self, request: Request, actor: Actor) -> Response:
        if actor.institution_id is not None and actor.has(*people.READERS):
            return Redirect(f"/people/institution/{actor.institution_id}", status_code=303)
        if actor.institution_id is not None:
            return Redirect(f"/people/{actor.id}", status_code=303)  # a physician: their own archive
        return await page(request, "people/choose.html", institutions=await list_institutions(actor))

    @get("/institution/{institution_id:int}")
    async def directory(self, request: Request, actor: Actor, institution_id: int) -> Template:
        return await page(request, "people/index.html", physicians=await people.physicians(actor, institution_id),
                          institution_id=institution_id)

    async def _archive(self, request: Request, actor: Actor, user_id: int, *, errors=(), typed: dict | None = None,
                       form: str = "", saved: str = "", status: int = 200) -> Template:
        data = await people.archive(actor, user_id)
        return await page(request, "people/archive.html", status_code=status, errors=list(errors),
                          typed=typed or {}, open_form=form, saved=saved, today=clock.today(),
                          kinds=rules.CERTIFICATE_KINDS, levels=rules.LEVEL_LABELS, actions=rules.ACTIONS,
                          **data.context())

    @get("/{user_id:int}")
    async def archive(self, request: Request, actor: Actor, user_id: int, saved: str = "") -> Template:
        return await self._archive(request, actor, user_id, saved=saved)

    @get("/{user_id:int}/archive.pdf")
    async def pdf(self, request: Request, actor: Actor, user_id: int) -> Response:
        """The archive as a printable PDF (NAT-19: the basis of authorisation changes)."""
        from web.admission.pdf import render_pdf

        data = await people.archive(actor, user_id)
        pdf = await render_pdf(request, "people/archive_pdf.html", {**data.context(), "today": clock.today(),
                                                                    "levels": rules.LEVEL_LABELS})
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="physician-archive-{user_id}.pdf"'})

    @post("/{user_id:int}/certificates")
    async def add_certificate(self, request: Request, actor: Actor, user_id: int) -> Response:
        form = await request.form()
        typed = {k: str(form.get(k, "")).strip() for k in ("kind", "name", "number", "issuer", "issued_on",
                                                            "expires_on", "note")}
        problems: list[Problem] = []
        days = _dates(form, ("issued_on", "expires_on"), problems)
        try:
            if problems:
                raise DomainError(problems)
            await people.add_certificate(actor, user_id, people.CertificateInput(
                kind=typed["kind"], name=typed["name"], number=typed["number"], issuer=typed["issuer"],
                issued_on=days["issued_on"], expires_on=days["expires_on"], note=typed["note"]))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._archive(request, actor, user_id, errors=exc.problems, typed=typed,
                                       form="certificate", status=422)
        return Redirect(f"/people/{user_id}?saved=certificate#certificates", status_code=303)

    @post("/{user_id:int}/certificates/{certificate_id:int}/remove")
    async def remove_certificate(self, request: Request, actor: Actor, user_id: int, certificate_id: int) -> Response:
        form = await request.form()
        try:
            await people.remove_certificate(actor, user_id, certificate_id, str(form.get("reason", "")))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._archive(request, actor, user_id, errors=exc.problems, form="remove", status=422)
        return Redirect(f"/people/{user_id}?saved=certificate_removed#certificates", status_code=303)

    @post("/{user_id:int}/authorisations")
    async def grant(self, request: Request, actor: Actor, hooks: HookView, user_id: int) -> Response:
        """The management body's grant (NAT-20), recorded by medical affairs."""
        form = await request.form()
        typed = {k: str(form.get(k, "")).strip() for k in ("scope", "technology_key", "level", "valid_from",
                                                            "valid_until", "ability", "training", "exam",
                                                            "decision")}
        problems: list[Problem] = []
        days = _dates(form, ("valid_from", "valid_until"), problems)
        try:
            if problems:
                raise DomainError(problems)
            await people.grant(actor, user_id, people.GrantInput(
                scope=typed["scope"], technology_key=typed["technology_key"],
                level=int(typed["level"]) if typed["level"] in ("1", "2", "3", "4") else None,
                valid_from=days["valid_from"], valid_until=days["valid_until"], ability=typed["ability"],
                training=typed["training"], exam=typed["exam"], decision=typed["decision"]), hooks=hooks)
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._archive(request, actor, user_id, errors=exc.problems, typed=typed, form="grant",
                                       status=422)
        return Redirect(f"/people/{user_id}?saved=grant#authorisations", status_code=303)

    @post("/{user_id:int}/authorisations/{authorisation_id:int}")
    async def act(self, request: Request, actor: Actor, user_id: int, authorisation_id: int) -> Response:
        """Renew, suspend, reinstate or revoke (NAT-20), at the version the page read."""
        form = await request.form()
        typed = {k: str(form.get(k, "")).strip() for k in ("action", "version", "on", "valid_until", "reason",
                                                            "decision", "exam")}
        problems: list[Problem] = []
        days = _dates(form, ("on", "valid_until"), problems)
        try:
            if problems:
                raise DomainError(problems)
            await people.act(actor, user_id, authorisation_id, people.ActInput(
                action=typed["action"], version=int(typed["version"]) if typed["version"].isdigit() else 0,
                on=days["on"], valid_until=days["valid_until"], reason=typed["reason"], decision=typed["decision"],
                exam=typed["exam"]))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._archive(request, actor, user_id, errors=exc.problems, typed=typed,
                                       form=f"act-{authorisation_id}", status=exc.status_code)
        return Redirect(f"/people/{user_id}?saved={typed['action']}#authorisations", status_code=303)

    @post("/{user_id:int}/reviews")
    async def review(self, request: Request, actor: Actor, hooks: HookView, user_id: int) -> Response:
        """The receiving institution applies for the provincial QC centre's review of a physician
        moving in from another province (the province's ``authorisation.transfer_rule``)."""
        from core.training import service as training

        form = await request.form()
        typed = {k: str(form.get(k, "")).strip() for k in ("technology_key", "origin", "materials")}
        try:
            await training.submit_review(actor, hooks, user_id, training.ReviewInput(**typed))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._archive(request, actor, user_id, errors=exc.problems, typed=typed, form="review",
                                       status=422)
        return Redirect(f"/people/{user_id}?saved=review#training", status_code=303)

    @post("/{user_id:int}/applications")
    async def apply(self, request: Request, actor: Actor, hooks: HookView, user_id: int) -> Response:
        """A physician already qualified when the province's rules took effect applies to their
        own institution (the province's ``authorisation.transitional_rule``)."""
        from core.training import service as training

        if actor.id != user_id:
            raise NotFound("未找到")
        form = await request.form()
        typed = {k: str(form.get(k, "")).strip() for k in ("technology_key", "conditions")}
        try:
            await training.apply_transitional(actor, hooks, typed["technology_key"], typed["conditions"])
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._archive(request, actor, user_id, errors=exc.problems, typed=typed, form="transitional",
                                       status=422)
        return Redirect(f"/people/{user_id}?saved=application#training", status_code=303)

    @post("/{user_id:int}/applications/{review_id:int}")
    async def review_application(self, request: Request, actor: Actor, user_id: int, review_id: int) -> Response:
        """The institution's review (组织评议) of a transitional application."""
        from core.training import service as training

        form = await request.form()
        try:
            rows = [r for r in await training.reviews(actor, user_id=user_id) if r["id"] == review_id]
            if not rows:
                raise NotFound("未找到该申请")
            await training.review_transitional(actor, review_id, str(form.get("result", "")) == "pass",
                                               str(form.get("opinion", "")), form_date(form.get("on"), "on"))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._archive(request, actor, user_id, errors=exc.problems, form="transitional", status=422)
        return Redirect(f"/people/{user_id}?saved=application_review#training", status_code=303)
