"""规范化培训 pages (NAT-26, NAT-29, NAT-33): an institution's training courses as a base —
registration (its enrolment notice and start feed the deadline rules), filing with the
provincial commission, the published plan, trainees, exams and the report of results —
and the database of trained physicians the provincial QC centre reads."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Template

from core import clock
from core.accounts.roles import HOSPITAL_ROLES, REGION_ROLES
from core.accounts.schemas import Actor
from core.errors import DomainError
from core.people.service import technologies
from core.plugins import HookView
from core.tenancy.service import list_institutions
from core.training import service as training
from web.context import roles_required
from web.forms import form_date
from web.render import page

readers = [roles_required("medical_affairs", "hospital_head", *REGION_ROLES, "admin")]



class TrainingController(Controller):
    path = "/training"
    guards = readers

    @get("/")
    async def index(self, request: Request, actor: Actor) -> Response:
        if actor.institution_id is not None and actor.has(*HOSPITAL_ROLES):
            return Redirect(f"/training/institution/{actor.institution_id}", status_code=303)
        return await self._choose(request, actor)

    async def _choose(self, request: Request, actor: Actor, *, errors=(), status: int = 200) -> Template:
        return await page(request, "training/choose.html", status_code=status,
                          institutions=await list_institutions(actor), trained=await training.trained(actor),
                          reviews=await training.reviews(actor), errors=list(errors), today=clock.today())

    @post("/reviews/{review_id:int}")
    async def decide(self, request: Request, actor: Actor, review_id: int) -> Response:
        """The provincial QC centre's review of a physician moving in from another province."""
        form = await request.form()
        await training.may_act_on(actor, review_id, "transfer")  # a foreign review: 404, whatever the form
        try:
            await training.decide_review(actor, review_id, str(form.get("result", "")) == "pass",
                                         str(form.get("opinion", "")), form_date(form.get("on"), "on"))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._choose(request, actor, errors=exc.problems, status=422)
        return Redirect("/training/?saved=review#reviews", status_code=303)

    async def _institution(self, request: Request, actor: Actor, institution_id: int, *, errors=(),
                           typed: dict | None = None, status: int = 200) -> Template:
        manage = training.may_manage(actor, institution_id)
        return await page(request, "training/index.html", status_code=status,
                          courses=await training.courses(actor, institution_id), institution_id=institution_id,
                          may_manage=manage, technologies=await technologies(institution_id) if manage else [],
                          trained=await training.trained(actor) if actor.institution_id == institution_id else [],
                          errors=list(errors), typed=typed or {})

    @get("/institution/{institution_id:int}")
    async def institution(self, request: Request, actor: Actor, institution_id: int) -> Template:
        return await self._institution(request, actor, institution_id)

    @post("/institution/{institution_id:int}")
    async def create(self, request: Request, actor: Actor, hooks: HookView, institution_id: int) -> Response:
        form = await request.form()
        typed = {k: str(form.get(k, "")).strip() for k in ("technology_key", "title", "places", "plan",
                                                            "enrolment_notice_on", "starts_on")}
        try:
            course_id = await training.create_course(actor, hooks, institution_id, training.CourseInput(
                technology_key=typed["technology_key"], title=typed["title"],
                places=int(typed["places"]) if typed["places"].isdigit() else 0, plan=typed["plan"],
                enrolment_notice_on=form_date(typed["enrolment_notice_on"], "enrolment_notice_on"),
                starts_on=form_date(typed["starts_on"], "starts_on")))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._institution(request, actor, institution_id, errors=exc.problems, typed=typed,
                                           status=422)
        return Redirect(f"/training/{course_id}", status_code=303)

    async def _course(self, request: Request, actor: Actor, course_id: int, *, errors=(), saved: str = "",
                      status: int = 200) -> Template:
        return await page(request, "training/course.html", status_code=status,
                          course=await training.course(actor, course_id), errors=list(errors), saved=saved,
                          results=training.RESULTS)

    @get("/{course_id:int}")
    async def show(self, request: Request, actor: Actor, course_id: int, saved: str = "") -> Template:
        return await self._course(request, actor, course_id, saved=saved)

    async def _act(self, request: Request, actor: Actor, course_id: int, action, saved: str) -> Response:
        try:
            await action()
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._course(request, actor, course_id, errors=exc.problems, status=422)
        return Redirect(f"/training/{course_id}?saved={saved}", status_code=303)

    @post("/{course_id:int}/file")
    async def file(self, request: Request, actor: Actor, hooks: HookView, course_id: int) -> Response:
        form = await request.form()
        return await self._act(request, actor, course_id, lambda: training.file_base(
            actor, hooks, course_id, form_date(form.get("on"), "on")), "file")

    @post("/{course_id:int}/publish")
    async def publish(self, request: Request, actor: Actor, hooks: HookView, course_id: int) -> Response:
        form = await request.form()
        return await self._act(request, actor, course_id, lambda: training.publish_plan(
            actor, hooks, course_id, form_date(form.get("on"), "on")), "publish")

    @post("/{course_id:int}/trainees")
    async def enrol(self, request: Request, actor: Actor, course_id: int) -> Response:
        form = await request.form()
        return await self._act(request, actor, course_id, lambda: training.enrol(
            actor, course_id, str(form.get("name", "")), str(form.get("home_institution", "")),
            str(form.get("practice_no", ""))), "enrol")

    @post("/{course_id:int}/exam")
    async def exam(self, request: Request, actor: Actor, hooks: HookView, course_id: int) -> Response:
        """Process and final exam results of every trainee (NAT-33)."""
        form = await request.form()
        results = {}
        for key in form:
            if key.startswith("process_") and key[8:].isdigit():
                trainee = int(key[8:])
                results[trainee] = (str(form.get(key, "")), str(form.get(f"final_{trainee}", "")))
        return await self._act(request, actor, course_id, lambda: training.record_exam(
            actor, hooks, course_id, form_date(form.get("held_on"), "held_on"), results), "exam")

    @post("/{course_id:int}/report")
    async def report(self, request: Request, actor: Actor, hooks: HookView, course_id: int) -> Response:
        form = await request.form()
        return await self._act(request, actor, course_id, lambda: training.report_results(
            actor, hooks, course_id, form_date(form.get("on"), "on")), "report")

    @post("/reviews/{review_id:int}/list")
    async def list_application(self, request: Request, actor: Actor, review_id: int) -> Response:
        """The licence-issuing department publicised the transitional list without objection and
        reported it to the provincial QC centre."""
        form = await request.form()
        await training.may_act_on(actor, review_id, "transitional")  # a foreign review: 404, whatever the form
        try:
            await training.list_transitional(actor, review_id, form_date(form.get("on"), "on"))
        except DomainError as exc:
            if exc.status_code == 404:
                raise
            return await self._choose(request, actor, errors=exc.problems, status=422)
        return Redirect("/training/?saved=list#reviews", status_code=303)
