"""``clintech demo`` builds every city a province plugin names, not only the first two."""

from __future__ import annotations

import types

from core import hookimpl
from core.plugins import PluginHost
from core.tenancy.tables import Region

CITIES = [("甲市", "970100"), ("乙市", "970200"), ("丙市", "970300"), ("丁州", "972400")]


def _province(cities):
    mod = types.ModuleType("demo_province")
    mod.demo_region = hookimpl(lambda: {"province": ("示范省丙", "970000"), "cities": cities})
    return PluginHost(("demo_province",), extra={"demo_province": mod})


async def _cities() -> list[tuple[str, str]]:
    province = await Region.select(Region.id).where(Region.code == "970000").first()
    rows = await Region.select(Region.name, Region.code).where(Region.parent == province["id"]).order_by(Region.code)
    return [(r["name"], r["code"]) for r in rows]


async def test_demo_builds_every_city_the_plugin_names_and_is_idempotent(deployment):
    from core import demo

    try:
        await demo.load(_province(CITIES).view())
        await demo.load(_province(CITIES).view())
        assert await _cities() == CITIES
    finally:
        await Region.delete().where(Region.code.is_in([c for _, c in CITIES]))
        await Region.delete().where(Region.code == "970000")


async def test_a_province_with_one_city_still_builds(deployment):
    from core import demo

    try:
        logins = await demo.load(_province(CITIES[:1]).view())
        assert await _cities() == CITIES[:1] and logins
    finally:
        await Region.delete().where(Region.code == CITIES[0][1])
        await Region.delete().where(Region.code == "970000")
