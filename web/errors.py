"""Errors → a Chinese page, an htmx fragment, or JSON under /api."""

from __future__ import annotations

import logging
import urllib.parse

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template

from core.errors import DatabaseUnavailable, DomainError
from core.messages import t
from web.render import core_menu

log = logging.getLogger("clintech")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in ("/healthz",)


def _error_page(request: Request, status: int, message: str, problems: list | None = None) -> Response:
    if _is_api(request):
        body = {"error": message, "status": status}
        if problems:
            body["problems"] = problems
        return Response(body, status_code=status, media_type=MediaType.JSON)
    template = "errors/_message.html" if request.headers.get("hx-request") else "errors/error.html"
    # A logged-in user keeps the header and menu (the guards already loaded the actor;
    # handlers are synchronous, so no query is made here and plugin items are left out).
    actor = request.state.get("actor") if hasattr(request.state, "get") else None
    nav = core_menu(actor) if actor is not None else []
    return Template(template_name=template, context={"status": status, "message": message,
                                                       "problems": problems or [], "actor": actor, "nav": nav},
                    status_code=status)


def not_authorized(request: Request, _: Exception) -> Response:
    if _is_api(request):
        return Response({"error": "未登录或令牌无效", "status": 401}, status_code=401)
    target = "/login?" + urllib.parse.urlencode({"next": request.url.path, "expired": "1"})
    if request.headers.get("hx-request"):
        return Response("", status_code=200, headers={"HX-Redirect": target})
    return Redirect(path=target, status_code=303)


def not_found(request: Request, _: Exception) -> Response:
    return _error_page(request, 404, t("error.404"))


def permission_denied(request: Request, exc: PermissionDeniedException) -> Response:
    if "csrf" in str(exc.detail).lower():
        return _error_page(request, 403, t("error.csrf"))
    return _error_page(request, 403, t("error.403"))


def validation_error(request: Request, exc: ValidationException) -> Response:
    """400; under /api the problems name the parameter (``field``) the schema refused."""
    problems = []
    for item in exc.extra or [] if isinstance(exc.extra, list) else []:
        if isinstance(item, dict) and item.get("key"):
            field = str(item["key"]).replace("$.", "").rstrip("_")  # scope_: "scope" is reserved by Litestar
            problems.append({"message": t("error.400"), "field": field, "rule": None})
    return _error_page(request, 400, t("error.400"), problems)


def domain_error(request: Request, exc: DomainError) -> Response:
    problems = [{"message": p.message, "field": p.field, "rule": p.rule} for p in exc.problems]
    if exc.status_code == 404:
        return not_found(request, exc)
    return _error_page(request, exc.status_code, str(exc), problems)


def database_unavailable(request: Request, exc: Exception) -> Response:
    log.error("database unavailable: %s", exc)
    return _error_page(request, 503, t("error.db"))


def http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 429:
        return _error_page(request, 429, str(exc.detail))
    if exc.status_code == 413:
        from core.settings import get_settings

        limit = get_settings().max_request_bytes // (1024 * 1024)
        return _error_page(request, 413, t("error.413", limit=limit))
    if exc.status_code >= 500:
        log.exception("server error", exc_info=exc)
        return _error_page(request, exc.status_code, t("error.500"))
    if exc.status_code == 405:
        # 405 names the methods the resource does allow (RFC 9110), e.g. TRACE on the API.
        response = _error_page(request, 405, t("error.405"))
        response.headers.update({k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"})
        return response
    return _error_page(request, exc.status_code, t("error.400") if exc.status_code == 400 else str(exc.detail))


def _bad_value(exc: Exception) -> bool:
    """A value the database cannot hold (SQLite's 64-bit overflow, PostgreSQL's data
    exceptions such as "out of int32 range"): the request's fault, not an outage."""
    if isinstance(exc, OverflowError):
        return True
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is installed with piccolo[postgres]
        return False
    return isinstance(exc, asyncpg.exceptions.DataError)


def _outage(exc: Exception) -> bool:
    """Only a database that does not answer is reported (and logged) as unavailable."""
    import sqlite3

    if isinstance(exc, (OSError, ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return True  # unable to open the file, locked beyond the timeout
    try:
        import asyncpg
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, (asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.InterfaceError,
                            asyncpg.exceptions.CannotConnectNowError, asyncpg.exceptions.TooManyConnectionsError,
                            asyncpg.exceptions.InvalidCatalogNameError,
                            asyncpg.exceptions.InvalidAuthorizationSpecificationError,
                            asyncpg.exceptions.AdminShutdownError))


def server_error(request: Request, exc: Exception) -> Response:
    if _bad_value(exc):
        log.info("value out of the database's range: %s", exc)
        return _error_page(request, 400, t("error.400"))
    if _outage(exc):
        return database_unavailable(request, exc)
    log.exception("unhandled error", exc_info=exc)
    return _error_page(request, 500, t("error.500"))


HANDLERS = {
    NotAuthorizedException: not_authorized,
    NotFoundException: not_found,
    PermissionDeniedException: permission_denied,
    ValidationException: validation_error,
    DomainError: domain_error,
    DatabaseUnavailable: database_unavailable,
    HTTPException: http_error,
    Exception: server_error,
}
