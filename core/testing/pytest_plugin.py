"""pytest plugin of the portal (registered by ``clintech_testkit``, the ``pytest11: clintech``
entry point, once pytest has read the project's conftest): a plugin's own tests get
a migrated database with the demo data of the plugins they choose, clients logged in as
any demo user, and a fixed today — without the portal's own ``tests/`` package.

Turn it on in the project's pytest configuration::

    [tool.pytest.ini_options]
    clintech_plugins = "my_province,hospital_default"   # the deployment under test
    clintech_today = "2026-05-20"                        # optional; "real" for the real date
    asyncio_mode = "auto"
    asyncio_default_fixture_loop_scope = "session"
    asyncio_default_test_loop_scope = "session"

``CLINTECH_TEST_DB=postgres`` (or ``clintech_db = "postgres"``) runs on the PostgreSQL
server at 127.0.0.1:5432 instead of a SQLite file. A module may choose other plugins with
``pytestmark = pytest.mark.clintech_plugins("other", "hospital_default")``.

Fixtures (all async, on the session's event loop):

``clintech_deployment`` (module)
    This module's own copy of the demo database; a dict with ``host`` (the PluginHost),
    ``plugins``, ``users`` (username -> id, institution, region), ``institutions``
    (licence no. -> id), ``regions`` (code -> id).
``clintech_app`` (module)
    The Litestar app of that deployment.
``clintech_login``
    ``client = await clintech_login("clinician_a")``: an in-process client with a session.
``clintech_anon``
    An in-process client without a session.
``clintech_today``
    The fixed today (``datetime.date``); ``core.clock.today()`` answers it everywhere.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from core import testing

try:
    import pytest_asyncio
except ImportError:  # the kit needs pytest-asyncio (clintech-portal[test]); without it, stay off
    pytest_asyncio = None

_state: dict = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    # The same settings as clintech_testkit declares (for a venv whose entry point still
    # names this module; declaring them twice is harmless).
    parser.addini("clintech_plugins", "ClinTech test kit: the plugins of the deployment under test "
                  "(comma-separated); setting it turns the kit on", default="")
    parser.addini("clintech_today", "ClinTech test kit: the fixed today (ISO date, or 'real')",
                  default=testing.DEFAULT_TODAY.isoformat())
    parser.addini("clintech_db", "ClinTech test kit: sqlite or postgres (CLINTECH_TEST_DB wins)", default="sqlite")


def _plugins(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.replace("\n", ",").split(",") if p.strip())


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clintech_plugins(*names): the plugins of this module's deployment")
    plugins = _plugins(config.getini("clintech_plugins"))
    if not plugins:
        return  # not a ClinTech test run: stay out of the way
    if pytest_asyncio is None:
        raise pytest.UsageError("ClinTech 测试工具需要 pytest-asyncio：pip install 'clintech-portal[test]'")
    # Litestar 2's notices about its 3.0 API are the portal's business, not the plugin's.
    for line in ("ignore::DeprecationWarning:litestar.*", "ignore:.*declared using deprecated inferred style.*",
                 "ignore:.*Inferred dependency field.*", "ignore:.*Reserved kwarg.*"):
        config.addinivalue_line("filterwarnings", line)
    raw_today = config.getini("clintech_today").strip()
    today = None if raw_today in ("", "real") else dt.date.fromisoformat(raw_today)
    kind = os.environ.get("CLINTECH_TEST_DB") or config.getini("clintech_db") or "sqlite"
    tmp = Path(tempfile.mkdtemp(prefix="clintech-test-"))
    if kind == "postgres" and not _pg_available():
        if os.environ.get("CI") == "true":
            raise pytest.UsageError("CI=true 但 PostgreSQL 不可用（127.0.0.1:5432）")
        _state["skip_all"] = "PostgreSQL 不可用（127.0.0.1:5432），跳过 PostgreSQL 测试"
        kind = "sqlite"
    # Before anything reads core.settings (it reads the environment once).
    os.environ.update(testing.environment(tmp, kind=kind, plugins=plugins, today=today))
    # Under pytest-xdist (``-n N``) the controlling process runs no test: only its workers
    # (each its own process, settings and databases) need a database.
    if kind == "postgres" and not _xdist_controller(config):
        import asyncio

        asyncio.run(testing.create_postgres_database(os.environ["DATABASE_URL"]))
    _state.update(tmp=tmp, plugins=plugins, today=today, kind=kind)


def _xdist_controller(config: pytest.Config) -> bool:
    """True in pytest-xdist's controlling process of a distributed run (``-n N``, N > 0)."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def _pg_available() -> bool:
    import socket

    try:
        with socket.create_connection((testing.PG_ADMIN["host"], testing.PG_ADMIN["port"]), timeout=1):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if reason := _state.get("skip_all"):
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_report_header(config: pytest.Config) -> str | None:
    if "plugins" not in _state:
        return None
    where = os.environ["DATABASE_URL"].split("@")[-1]
    today = _state["today"].isoformat() if _state["today"] else "real"
    return f"clintech: {_state['kind']} ({where}), plugins {','.join(_state['plugins'])}, today {today}"


def pytest_unconfigure(config: pytest.Config) -> None:
    if databases := _state.pop("databases", None):
        import asyncio

        try:
            asyncio.run(databases.drop())
        except Exception:  # the server went away: nothing left to drop
            pass
    if tmp := _state.pop("tmp", None):
        shutil.rmtree(tmp, ignore_errors=True)


def _require_kit() -> None:
    if "plugins" not in _state:
        raise pytest.UsageError('ClinTech 测试工具未启用：在 pytest 配置中设置 clintech_plugins = "插件名,…"')


@pytest.fixture(scope="session")
def clintech_today() -> dt.date:
    """The fixed today of the run (the real date when ``clintech_today = "real"``)."""
    _require_kit()
    from core import clock

    return clock.today()


def _fixture(**kwargs):
    """An async fixture on the session's event loop (whatever the project's asyncio_mode)."""
    if pytest_asyncio is None:
        return pytest.fixture(**kwargs)
    return pytest_asyncio.fixture(loop_scope="session", **kwargs)


@_fixture(scope="session")
async def _clintech_databases():
    """The run's databases; the tests' connection pool closes on the session's loop at the end."""
    _require_kit()
    databases = _state.get("databases")
    if databases is None:
        databases = _state["databases"] = testing.Databases()
    yield databases
    await databases.close_pool()


@_fixture(scope="module")
async def clintech_deployment(request: pytest.FixtureRequest, _clintech_databases) -> dict:
    """This module's own copy of the migrated demo database of its plugins."""
    _require_kit()
    from core.accounts.tables import User
    from core.tenancy.tables import Institution, Region

    marker = request.node.get_closest_marker("clintech_plugins")
    plugins = tuple(marker.args) if marker else _state["plugins"]
    databases = _clintech_databases
    await databases.reset(plugins)
    users = {u["username"]: u for u in await User.select(User.id, User.username, User.institution, User.region)}
    return {
        "host": databases.host(plugins),
        "plugins": plugins,
        "users": users,
        "institutions": {i["licence_no"]: i["id"] for i in await Institution.select(Institution.id,
                                                                                     Institution.licence_no)},
        "regions": {r["code"]: r["id"] for r in await Region.select(Region.id, Region.code)},
    }


@_fixture(scope="module")
async def clintech_app(clintech_deployment):
    return _state["databases"].app(clintech_deployment["plugins"])


@_fixture()
async def clintech_anon(clintech_app):
    async with testing.client_for(clintech_app) as client:
        yield client


@_fixture()
async def clintech_login(clintech_app):
    """``client = await clintech_login("clinician_a")``: a client with a live session.

    The module's tests share each user's session, as a browser keeps it between pages: the
    first login goes through the form, later ones get its cookies while it is live (after
    a logout, an expiry or a deactivation the form is filled again). ``fresh=True``: a new
    session of its own (e.g. to have two sessions of one user)."""
    clients: list = []

    async def make(username: str, password: str = testing.DEMO_PASSWORD, *,
                   fresh: bool = False) -> testing.PortalClient:
        kept = None if fresh else _state["databases"].logins
        client = await testing.log_in(clintech_app, username, password, kept=kept)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
