"""The web hooks of the contract test plugin: a menu item and a route with an id."""

from __future__ import annotations

from litestar import get

from core import hookimpl

CLINTECH_API = "2"


@hookimpl
def menu_items(user):
    if "admin" not in user.roles:
        return []
    return [{"label": "契约测试", "href": "/p/contract/1"}]


@get("/p/contract/{thing_id:int}", name="contract:thing")
async def thing(thing_id: int) -> dict:
    return {"thing": thing_id}


@hookimpl
def register_routes():
    return [thing]
