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


async def test_the_kit_runs_the_tests_on_the_portals_own_pool(deployment):
    """Issue 9: the kit's PostgreSQL pool is the portal's (``core.db.start_pool``): a
    connection given back keeps its session, without asyncpg's default reset (``RESET
    ALL`` … a round trip at every release), as in a served portal."""
    import pytest

    from core.db import engine, is_sqlite

    if is_sqlite():
        pytest.skip("PostgreSQL's pool")
    pool = engine().pool
    async with pool.acquire() as connection:
        pid = connection.get_server_pid()
        await connection.execute("SET application_name = 'kit-probe'")
    async with pool.acquire() as connection:  # asyncpg's pool hands out the last one given back
        assert connection.get_server_pid() == pid
        assert await connection.fetchval("SHOW application_name") == "kit-probe"  # no RESET ALL ran
        await connection.execute("RESET application_name")


async def test_logins_of_a_module_share_a_live_session_and_a_dead_one_logs_in_anew(deployment, login_as):
    """Issue 9: the kit's ``clintech_login`` fills the login form once per user and
    database copy; later clients get that session's cookies while it is live, as a browser
    keeps its session. A session ended (logout) is never handed out: the form again."""
    from core.accounts.tables import UserSession
    from core.testing import pytest_plugin

    first = await login_as("qc_a")
    sessions = await UserSession.count()
    second = await login_as("qc_a")
    assert second.cookies.get("clintech_session") == first.cookies.get("clintech_session")
    assert await UserSession.count() == sessions  # no form filled, no session opened
    assert "王质控" in (await second.get("/")).text
    own = await login_as("qc_a", fresh=True)  # a session of its own
    assert own.cookies.get("clintech_session") != first.cookies.get("clintech_session")
    assert await UserSession.count() == sessions + 1
    assert (await first.post("/logout")).status_code == 303
    third = await login_as("qc_a")  # the kept session is dead: through the form
    assert third.cookies.get("clintech_session") not in (first.cookies.get("clintech_session"), None)
    assert (await third.get("/", follow_redirects=False)).status_code == 200
    databases = pytest_plugin._state["databases"]
    assert databases.logins
    await databases.reset(deployment["plugins"])  # the next module's copy: its sessions are not there
    assert databases.logins == {}
