"""``GET /healthz``: database, enabled plugins, calendar years known."""

from __future__ import annotations

from litestar import Request, Response, get

from core import calendar, db
from core.system import service as system


@get("/healthz", tags=["system"])
async def healthz(request: Request) -> Response:
    host = request.app.state.plugin_host
    database = await db.check()
    disabled: frozenset[str] = frozenset()
    if database["ok"]:
        disabled = await system.disabled_plugins()
    view = host.view(disabled)
    body = {
        "status": "ok" if database["ok"] else "degraded",
        "database": database,
        "plugins": {"enabled": list(view.enabled), "disabled": sorted(view.disabled)},
        "calendar": calendar.health(),
    }
    return Response(body, status_code=200 if database["ok"] else 503)
