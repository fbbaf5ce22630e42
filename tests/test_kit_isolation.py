"""Issue 9 §5: each test module gets its own database made from the template, so no test
depends on another module's leftovers. Its own module, since it gives this one a fresh copy
as the kit does between modules (what the next module starts from)."""

from __future__ import annotations

from core.tenancy.tables import Region


async def test_the_next_module_starts_from_the_template_not_from_this_modules_writes(deployment):
    from core.testing import pytest_plugin

    databases = pytest_plugin._state["databases"]
    before = await Region.count()
    await Region.insert(Region(name="隔离测试区", code="ISOLATION-1", level="city", path="/isolation/"))
    assert await Region.count() == before + 1
    await databases.reset(deployment["plugins"])  # what the kit does before the next module
    assert await Region.count() == before
    assert not await Region.exists().where(Region.code == "ISOLATION-1")
    # The demo data of the template is all there (a fresh copy, not an empty database).
    assert await Region.exists().where(Region.id == deployment["city1"])
