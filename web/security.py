"""HTTP-level protections (issue 12.6, 12.7): security headers on every answer, Secure
cookies outside local development, HSTS, the CSRF token bound to the session, and the
client's address and scheme read from trusted proxies only.

* ``Content-Security-Policy``: scripts only from this origin (no inline script, no
  ``eval``-built handlers: the few handlers live in ``web/static/app.js``); no framing
  (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``); forms post to this origin.
* ``Referrer-Policy: same-origin`` (record ids in URLs do not leave the portal),
  ``X-Content-Type-Options: nosniff``.
* ``Cache-Control: no-store`` on every answer to a logged-in browser (its pages carry
  personal and patient data); static files instead get ``web/assets.py``'s: a year under
  their content hash, revalidated under any other URL.
* ``CLINTECH_SECURE_COOKIES`` (on by default) marks the session and CSRF cookies
  ``Secure`` and sends ``Strict-Transport-Security`` — except for a plain-http request
  to a loopback host (``make run`` on http://127.0.0.1), local development.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings, get_settings
from web import assets

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")
SESSION_COOKIE = "clintech_session"
CSRF_COOKIE = "csrftoken"


# ---------------------------------------------------------------- client address behind proxies


def _trusted(address: str, settings: Settings) -> bool:
    if not settings.trusted_proxies or not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in settings.trusted_proxies)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def client_address(scope: Scope, settings: Settings | None = None) -> str:
    """The client's address: the socket's peer, or — only when that peer is a configured
    trusted proxy (``CLINTECH_TRUSTED_PROXIES``) — the right-most address in
    ``X-Forwarded-For`` that is not itself a trusted proxy. A header sent by anyone else
    is ignored, so a client cannot pick the address its login failures count against."""
    settings = settings or get_settings()
    peer = (scope.get("client") or ("", 0))[0] or "unknown"
    if not _trusted(peer, settings):
        return peer
    forwarded = [a.strip() for a in _header(scope, b"x-forwarded-for").split(",") if a.strip()]
    for address in reversed(forwarded):
        if not _trusted(address, settings):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return peer
    return forwarded[0] if forwarded else peer


def is_https(scope: Scope, settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    if scope.get("scheme") == "https":
        return True
    peer = (scope.get("client") or ("", 0))[0]
    return _trusted(peer, settings) and _header(scope, b"x-forwarded-proto").lower() == "https"


def local_development(scope: Scope, settings: Settings | None = None) -> bool:
    """A plain-http request to a loopback host: ``make run`` on http://127.0.0.1."""
    if is_https(scope, settings):
        return False
    host = _header(scope, b"host").lower()
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return host in LOOPBACK_HOSTS


def secure_cookies(scope: Scope, settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    return settings.secure_cookies and not local_development(scope, settings)


# ---------------------------------------------------------------- CSRF token bound to the session


def bound_csrf_token(session_token: str, secret: str) -> str:
    """The CSRF token of a session: its random half derived from the session token, its
    second half the HMAC Litestar's CSRF middleware checks. A token planted in the
    browser by someone else (a sibling subdomain's cookie) belongs to no session."""
    half = hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()
    return half + hmac.new(secret.encode(), half.encode(), hashlib.sha256).hexdigest()


def csrf_bound_to_session(cookies: dict[str, str], secret: str) -> bool:
    """For a request that carries a session cookie: its CSRF cookie is that session's
    (Litestar already checked that the form's or header's token equals the cookie)."""
    session = cookies.get(SESSION_COOKIE)
    if not session:
        return True
    return hmac.compare_digest(cookies.get(CSRF_COOKIE, ""), bound_csrf_token(session, secret))


# ---------------------------------------------------------------- headers middleware


def _has_session(scope: Scope) -> bool:
    return f"{SESSION_COOKIE}=".encode() in b";".join(
        v for k, v in scope.get("headers", ()) if k.lower() == b"cookie")


# The headers every answer carries unless its handler set its own, as raw ASGI pairs.
_FIXED = tuple((name.encode(), value.encode()) for name, value in (
    ("content-security-policy", CSP), ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"), ("x-content-type-options", "nosniff")))
_SESSION_SET = (SESSION_COOKIE + "=").encode()


def _secure_cookie(cookie: bytes) -> bytes:
    if b"secure" in [p.strip().lower() for p in cookie.split(b";")]:
        return cookie
    return cookie + b"; Secure"


class SecurityHeadersMiddleware:
    """Adds the headers above to every HTTP answer (errors and static files included).
    Works on the answer's raw header pairs (every answer of every page passes here)."""

    def __init__(self, app: ASGIApp, settings: Any = None) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.settings or get_settings()
        secure = secure_cookies(scope, settings)
        path = scope.get("path", "")
        static = assets.cache_control(path, scope.get("query_string", b"")) if path.startswith(assets.PREFIX) else None
        private = _has_session(scope) and static is None

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k.lower(), v) for k, v in message.get("headers") or ()]
                names = {k for k, _ in headers}
                headers += [pair for pair in _FIXED if pair[0] not in names]
                if private or any(k == b"set-cookie" and v.lower().startswith(_SESSION_SET) for k, v in headers):
                    headers = [(k, v) for k, v in headers if k != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                elif static is not None:  # web/assets.py: a year for the current hash, else revalidate
                    headers = [(k, v) for k, v in headers if k != b"cache-control"]
                    headers.append((b"cache-control", static))
                if secure:
                    headers = [(k, v) for k, v in headers if k != b"strict-transport-security"]
                    headers.append((b"strict-transport-security", HSTS.encode()))
                    if b"set-cookie" in names:
                        headers = ([(k, v) for k, v in headers if k != b"set-cookie"]
                                   + [(k, _secure_cookie(v)) for k, v in headers if k == b"set-cookie"])
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)
