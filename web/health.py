"""``GET /healthz``: database, enabled plugins, calendar years known, the job runner's heartbeat."""

from __future__ import annotations

import datetime as dt

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
        "jobs": await _jobs(request, database["ok"]),
    }
    return Response(body, status_code=200 if database["ok"] else 503)


async def _jobs(request: Request, database_ok: bool) -> dict:
    """Where the background jobs run and their last heartbeat (any runner), with its age."""
    runs = "serve" if getattr(request.app.state, "jobs_inline", False) else "separate"
    body: dict = {"runs_in": runs, "last_heartbeat": None, "age_seconds": None, "runner": None}
    if not database_ok:
        return body
    beat = await system.last_heartbeat()
    if beat is not None:
        at = beat["beat_at"]
        if at.tzinfo is None:  # SQLite hands back naive UTC
            at = at.replace(tzinfo=dt.UTC)
        body |= {"last_heartbeat": at.isoformat(), "runner": beat["runner"], "host": beat["host"],
                 "age_seconds": max(int((dt.datetime.now(dt.UTC) - at).total_seconds()), 0)}
    return body
