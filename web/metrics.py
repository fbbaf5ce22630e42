"""``X-Clintech-Queries``: how many database queries the server ran for an answer
(CLINTECH_COUNT_QUERIES=1; the benchmark reports it per page)."""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.db import count_queries

HEADER = "x-clintech-queries"
_RAW = HEADER.encode()


class QueryCountMiddleware:
    """Counts the queries of each HTTP request and sends the count as a header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with count_queries() as counted:

            async def wrapped(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*(pair for pair in message.get("headers") or () if pair[0] != _RAW),
                                          (_RAW, str(counted[0]).encode())]
                await send(message)

            await self.app(scope, receive, wrapped)
