"""``GET /healthz``: database, enabled plugins, calendar years known."""

from __future__ import annotations

from litestar import Request, Response, get

from core import calendar, db
from core.holidays import service as holidays
from core.system import service as system


@get("/healthz", tags=["system"])
async def healthz(request: Request) -> Response:
    host = request.app.state.plugin_host
    database = await db.check()
    disabled: frozenset[str] = frozenset()
    if database["ok"]:
        disabled = await system.disabled_plugins()
    view = host.view(disabled)
    # The deployment calendar (official + plugins + entered notices); without a
    # database, the official data and the plugins only, and it says so.
    work_calendar, calendar_warning = await holidays.deployment_calendar(host, view, offline=not database["ok"])
    calendar_status = calendar.health(work_calendar)
    if calendar_warning:
        calendar_status["warning"] = calendar_warning
    body = {
        "status": "ok" if database["ok"] else "degraded",
        "database": database,
        "plugins": {"enabled": list(view.enabled), "disabled": sorted(view.disabled)},
        "calendar": calendar_status,
    }
    return Response(body, status_code=200 if database["ok"] else 503)
