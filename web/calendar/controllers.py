"""The admin's working-day calendar page: known and missing years, entering a
year's holiday notice, the entered days, and the check-a-date / add-N-days widgets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Template

from core import clock
from core.accounts.schemas import Actor
from core.calendar import MAX_COUNT, weekday_zh
from core.errors import DomainError, Problem
from core.holidays import service as holidays
from core.plugins import HookView
from web.context import roles_required
from web.render import page, partial

# A sample a real admin can follow: the State Council notice's own wording works too.
EXAMPLE = """2027-01-01~2027-01-03 元旦
2027-02-06~2027-02-14 春节
2027-02-20 调休上班
三、清明节：4月3日（周六）至5日（周一）放假，共3天。"""


def _parse_date(value: str, field: str, label: str) -> tuple[dt.date | None, list[Problem]]:
    value = (value or "").strip()
    if not value:
        return None, [Problem(f"请填写{label}", field)]
    try:
        return dt.date.fromisoformat(value), []
    except ValueError:
        return None, [Problem(f"{label}格式应为 YYYY-MM-DD，例如 2025-09-26", field)]


def check_context(cal, value: str) -> dict:
    """The check-a-date widget's context."""
    day, errors = _parse_date(value, "day", "日期")
    return {"day_value": value, "info": cal.day_info(day) if day else None, "errors": errors}


def preview_context(cal, start_value: str, n_value: str, direction: str) -> dict:
    """The add-N-working-days widget's context (CAL-1 after, CAL-3 before)."""
    start, errors = _parse_date(start_value, "start", "起算日期")
    n: int | None = None
    text = (n_value or "").strip()
    if not text:
        errors.append(Problem("请填写工作日数", "n"))
    elif not text.isdigit() or int(text) > MAX_COUNT:
        errors.append(Problem(f"工作日数应为 0 到 {MAX_COUNT} 之间的整数", "n"))
    else:
        n = int(text)
    direction = "before" if direction == "before" else "after"
    result = None
    if start and n is not None and not errors:
        try:
            result = (cal.working_days_before(start, n) if direction == "before"
                      else cal.add_working_days(start, n))
        except ValueError as exc:
            errors.append(Problem(str(exc), "start"))
    info = cal.day_info(result.date) if result else None
    return {"start_value": start_value, "n_value": n_value, "direction": direction, "result": result,
            "result_info": info, "errors": errors}


def obligation_row(item: Any) -> dict:
    """A provisional obligation from the obligation engine, as the table shows it."""
    data = msgspec.to_builtins(item) if isinstance(item, msgspec.Struct) else dict(item) if isinstance(item, dict) else {"title": str(item)}

    def first(*keys: str) -> Any:
        return next((data[k] for k in keys if data.get(k) not in (None, "")), "")

    return {
        "title": first("title", "name", "obligation", "kind"),
        "rule": first("rule_id", "rule"),
        "due": first("due_date", "due", "due_on"),
        "institution": first("institution_name", "institution"),
        "note": first("provisional_note", "note"),
    }


class CalendarAdminController(Controller):
    path = "/admin/calendar"
    guards = [roles_required("admin")]

    async def _page(self, request: Request, hooks: HookView, *, status: int = 200, errors=(),
                    form: dict | None = None, check: dict | None = None, add: dict | None = None) -> Template:
        today = clock.today()
        info = await holidays.overview(hooks, today)
        cal = info.calendar
        provisional = None if info.provisional is None else [obligation_row(o) for o in info.provisional]
        query = request.query_params
        return await page(
            request, "calendar/index.html", status_code=status, overview=info, provisional=provisional,
            weekday_zh=weekday_zh, errors=list(errors), form=form or {"year": "", "text": "", "replace": False}, example=EXAMPLE,
            check=check or check_context(cal, "") | {"errors": []},
            add=add or preview_context(cal, "", "", "after") | {"errors": []},
            saved=query.get("saved", ""), deleted=query.get("deleted", ""),
            recomputed=query.get("recomputed", ""), recompute_error=query.get("recompute_error", ""),
        )

    @get("/")
    async def index(self, request: Request, hooks: HookView, edit: int | None = None) -> Template:
        form = None
        if edit is not None:
            entered = next((y for y in await holidays.entered_years() if y.year == edit), None)
            if entered is None:
                raise NotFoundException()
            form = {"year": str(edit), "text": entered.text, "replace": True}
        return await self._page(request, hooks, form=form)

    @post("/notice")
    async def enter(self, request: Request, actor: Actor, hooks: HookView) -> Response:
        form = await request.form()
        values = {"year": str(form.get("year", "")).strip(), "text": str(form.get("text", "")),
                  "replace": form.get("replace") in ("on", "1", "true")}
        try:
            result = await holidays.enter_notice(actor, hooks, values["year"], values["text"],
                                                 replace=values["replace"])
        except DomainError as exc:
            return await self._page(request, hooks, status=422, errors=exc.problems, form=values)
        return Redirect(_after(f"saved={result.year}", result), status_code=303)

    @post("/years/{year:int}/delete")
    async def delete_year(self, actor: Actor, hooks: HookView, year: int) -> Response:
        result = await holidays.delete_notice(actor, hooks, year)
        return Redirect(_after(f"deleted={year}", result), status_code=303)

    @post("/days/{day:str}/delete")
    async def delete_day(self, actor: Actor, hooks: HookView, day: str) -> Response:
        try:
            parsed = dt.date.fromisoformat(day)
        except ValueError:
            raise NotFoundException() from None
        result = await holidays.delete_day(actor, hooks, parsed)
        return Redirect(_after(f"deleted={parsed.isoformat()}", result), status_code=303)

    @post("/recompute")
    async def recompute(self, hooks: HookView) -> Response:
        result = await holidays.recompute(hooks)
        return Redirect(_after("", result), status_code=303)

    @get("/check")
    async def check(self, request: Request, hooks: HookView, day: str = "") -> Template:
        cal = await holidays.work_calendar(hooks)
        context = check_context(cal, day)
        if request.headers.get("hx-request"):
            return partial("calendar/_check.html", check=context)
        return await self._page(request, hooks, check=context)

    @get("/preview")
    async def preview(self, request: Request, hooks: HookView, start: str = "", n: str = "",
                      direction: str = "after") -> Template:
        cal = await holidays.work_calendar(hooks)
        context = preview_context(cal, start, n, direction)
        if request.headers.get("hx-request"):
            return partial("calendar/_preview.html", add=context)
        return await self._page(request, hooks, add=context)


def _after(what: str, result: holidays.NoticeResult) -> str:
    parts = [what] if what else []
    if result.recomputed is not None:
        parts.append(f"recomputed={result.recomputed}")
    if result.recompute_error:
        parts.append("recompute_error=1")
    return "/admin/calendar" + ("?" + "&".join(parts) if parts else "")
