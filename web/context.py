"""Per-request context: the actor (from the session cookie) and the plugin view.

Both are loaded lazily and cached on ``request.state``, so public pages and static
files cost no query.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException

from core.accounts import service as accounts
from core.accounts.schemas import Actor
from core.plugins import HookView, PluginHost
from core.system import service as system

SESSION_COOKIE = "clintech_session"


async def load_actor(connection: ASGIConnection) -> Actor | None:
    """The session's actor; the same query reads the deployment state and the unread
    count (``load_session``)."""
    state = connection.state
    if "actor" not in state:
        state.actor, state.session_read = await accounts.session_with_state(connection.cookies.get(SESSION_COOKIE))
    return state.actor


async def load_session(connection: ASGIConnection) -> accounts.SessionRead | None:
    """What the session query read besides the actor (``None`` without a session)."""
    await load_actor(connection)
    return connection.state.get("session_read")


async def load_hooks(connection: ASGIConnection) -> HookView:
    """The plugin view as switched now: from the session query when there is a session,
    else from one query of its own."""
    state = connection.state
    if "hooks" not in state:
        host: PluginHost = connection.app.state.plugin_host
        read = await load_session(connection) if SESSION_COOKIE in connection.cookies else None
        deployment = read.deployment if read is not None else await system.deployment_state()
        state.hooks = host.view(deployment.disabled)
        state.hooks.memo["calendar_key"] = deployment.calendar_key
        actor = state.get("actor")
        if read is not None and actor is not None and actor.institution_id is not None:
            # The institution's change counter, read with the session (``core.dashboard``).
            state.hooks.memo["work_version"] = (actor.institution_id, read.work_version, deployment.disabled)
    return state.hooks


# ---------------------------------------------------------------- guards


async def login_required(connection: ASGIConnection, _: Any) -> None:
    if await load_actor(connection) is None:
        raise NotAuthorizedException("login required")


async def login_or_token(connection: ASGIConnection, _: Any) -> None:
    """Guard for read-only API routes: a login session, or an institution's API bearer
    token (hospital systems call the catalogue with the token they post cases with)."""
    if await load_actor(connection) is not None:
        return
    header = connection.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if token:
        from core.apitokens import service as tokens

        actor = await tokens.authenticate(token)
        if actor is not None:
            connection.state.actor = actor
            return
    raise NotAuthorizedException("login or token required")


def roles_required(*roles: str):
    """Guard: the actor holds one of ``roles``. Anyone else gets 404, as for a foreign id."""

    async def guard(connection: ASGIConnection, _: Any) -> None:
        actor = await load_actor(connection)
        if actor is None:
            raise NotAuthorizedException("login required")
        if not actor.has(*roles):
            raise NotFoundException()

    return guard


def plugin_enabled(name: str):
    """Guard for routes a plugin adds: they answer 404 while it is switched off."""

    async def guard(connection: ASGIConnection, _: Any) -> None:
        if not (await load_hooks(connection)).is_enabled(name):
            raise NotFoundException()

    return guard


# ---------------------------------------------------------------- dependencies


async def provide_actor(request: Any) -> Actor:
    actor = await load_actor(request)
    if actor is None:
        raise NotAuthorizedException("login required")
    return actor


async def provide_hooks(request: Any) -> HookView:
    return await load_hooks(request)


async def provide_layout(request: Any) -> dict:
    """The layout context (actor, navigation) for templates rendered by plugin routes."""
    from web.render import navigation

    return {
        "actor": await load_actor(request),
        "nav": await navigation(request),
        "current_path": request.url.path,
        "htmx": bool(request.headers.get("hx-request")),
    }
