"""The test kit for plugin authors (and the portal's own tests).

``core.testing.pytest_plugin`` is registered under pytest's ``pytest11`` entry point, so
any project that has the portal installed gets its fixtures once it names its plugins in
its pytest configuration (``clintech_plugins = "my_province"``). See docs/plugins.md.

This module holds what the fixtures are made of, importable by tests directly:
``PortalClient`` (an httpx client that sends the CSRF token like htmx does), the demo
password, ``Databases`` (the migrated demo database built once per plugin set and
copied for each test module) and ``admitted_project`` (an institution already using a
technology, for tests of transitional rules).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import sqlite3
from pathlib import Path

import httpx

DEMO_PASSWORD = "demo-pass-2026"
"""Every demo login's password (core/demo.py)."""

DEFAULT_TODAY = dt.date(2026, 5, 20)
"""The kit's fixed today unless ``clintech_today`` says otherwise: a Wednesday, a working day."""


class PortalClient(httpx.AsyncClient):
    """An httpx client for the portal that sends the CSRF token on unsafe requests
    (as htmx does, in the ``x-csrftoken`` header) unless ``csrf=False``."""

    async def request(self, method, url, *args, csrf: bool = True, **kwargs):  # type: ignore[override]
        if method.upper() not in ("GET", "HEAD", "OPTIONS") and csrf:
            if "csrftoken" not in self.cookies:
                await super().request("GET", "/login")
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("x-csrftoken", self.cookies.get("csrftoken", ""))
            kwargs["headers"] = headers
        return await super().request(method, url, *args, **kwargs)

    async def post(self, url, *, csrf: bool = True, **kwargs):  # type: ignore[override]
        return await self.request("POST", url, csrf=csrf, **kwargs)


def client_for(app, client_address: tuple[str, int] = ("127.0.0.9", 1234)) -> PortalClient:
    """An in-process client of ``app`` (no server, no network)."""
    return PortalClient(transport=httpx.ASGITransport(app=app, client=client_address), base_url="http://testserver")


async def log_in(app, username: str, password: str = DEMO_PASSWORD, *, kept: dict | None = None) -> PortalClient:
    """A client of ``app`` with a live session of ``username`` (through the login form).

    ``kept``: the cookies of earlier logins on the same database, by user and password. A
    session found there that is still live for ``username`` (one query: logged out, expired
    or deactivated ones are not) is given to the new client instead of filling the form
    again, as a browser keeps its session between pages. A login through the form is
    recorded there for the next client."""
    from core.accounts import service as accounts
    from web.context import SESSION_COOKIE

    key = (username, password)
    if kept is not None and (cookies := kept.get(key)) is not None:
        actor = await accounts.actor_for_session(cookies.get(SESSION_COOKIE))
        if actor is not None and actor.username == username.strip().lower():
            client = client_for(app)
            client.cookies.update(cookies)
            return client
        del kept[key]
    client = client_for(app)
    await client.get("/login")
    response = await client.post("/login", data={"username": username, "password": password, "next": "/"})
    if response.status_code != 303:
        await client.aclose()
        raise AssertionError(f"login as {username!r} failed: {response.status_code} {response.text[:300]}")
    if kept is not None:
        kept[key] = dict(client.cookies)
    return client


# ---------------------------------------------------------------- databases


PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


def environment(tmp: Path, *, kind: str, plugins: tuple[str, ...], today: dt.date | None,
                pg: dict | None = None) -> dict[str, str]:
    """The settings of a test process (``core.settings`` reads them once, at first use)."""
    env = {
        "CLINTECH_VAR": str(tmp / "var"),
        "CLINTECH_PLUGINS": ",".join(plugins),
        "CLINTECH_FAST_HASH": "1",
        # PostgreSQL: a pool per event loop (Databases); a live server's app starts its own.
        "CLINTECH_DB_POOL": "1",
        "CLINTECH_SECRET": secrets.token_hex(16),
        "CLINTECH_TODAY": today.isoformat() if today else "",
        # The in-process clients talk plain http to http://testserver: no Secure cookies.
        "CLINTECH_SECURE_COOKIES": os.environ.get("CLINTECH_SECURE_COOKIES", "0"),
    }
    if kind == "postgres":
        pg = pg or PG_ADMIN
        name = f"clintech_test_{os.getpid()}_{secrets.token_hex(3)}"
        env["DATABASE_URL"] = f"postgresql://{pg['user']}@{pg['host']}:{pg['port']}/{name}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'test.sqlite3'}"
    return env


async def create_postgres_database(url: str) -> None:
    """An empty database for ``url`` (before the engine first connects to it)."""
    import urllib.parse

    import asyncpg

    parsed = urllib.parse.urlparse(url)
    connection = await asyncpg.connect(host=parsed.hostname, port=parsed.port, user=parsed.username,
                                       database="postgres")
    try:
        await connection.execute(f'CREATE DATABASE "{parsed.path.lstrip("/")}"')
    finally:
        await connection.close()


def _per_loop_pools(engine) -> None:
    """Give a PostgreSQL engine one connection pool per event loop (kit only).

    Without a pool every query opens a connection (30 ms on a busy test machine against
    0.4 ms for a query on an open one); with one pool, a live server's thread (its own
    event loop) would borrow connections of the tests' loop, which asyncpg refuses. So
    ``engine.pool`` answers the pool of the running loop: the tests' and the in-process
    apps' pool (the kit starts it per module database), and each live server's own (its
    app starts and closes it in its lifespan)."""
    import asyncio

    base = type(engine)
    if getattr(base, "_per_loop_pools", False):
        return

    class PerLoopPoolEngine(base):  # type: ignore[misc, valid-type]
        _per_loop_pools = True

        @property
        def pool(self):
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return None
            return self.__dict__.setdefault("_loop_pools", {}).get(loop)

        @pool.setter
        def pool(self, value) -> None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            pools = self.__dict__.setdefault("_loop_pools", {})
            if value is None:
                pools.pop(loop, None)
            else:
                pools[loop] = value

    PerLoopPoolEngine.__name__ = PerLoopPoolEngine.__qualname__ = base.__name__
    engine.__class__ = PerLoopPoolEngine


class Databases:
    """The process's one engine, given a fresh database per test module from a template:
    the migrated schema plus the demo data of a plugin set, built once per run.

    SQLite: the template is a file copied over the working file. PostgreSQL: each module
    gets a new database made from the template (``CREATE DATABASE … TEMPLATE``) and the
    engine (no pool: a connection per query) moves to it; the previous module's database
    is dropped by a background thread meanwhile — a ``DROP DATABASE`` waits on the
    server's disk for a second or more, which no test needs to wait for. The module
    databases are unlogged for durability only: ``synchronous_commit = off`` (a crash
    could lose the last commits of a database that is thrown away anyway).
    """

    def __init__(self) -> None:
        from core.db import engine
        from core.settings import get_settings

        self.engine = engine()
        self.url = get_settings().database_url
        self.templates: dict[tuple[str, ...], str] = {}
        self.hosts: dict[tuple[str, ...], object] = {}
        self.apps: dict[tuple[str, ...], object] = {}
        self.current: tuple[str, ...] | None = None
        # Cookies of the logins on the current database copy (``log_in(kept=…)``), by user
        # and password; its sessions go with it when the next copy replaces it.
        self.logins: dict[tuple[str, str], dict] = {}
        self.postgres = self.url.startswith("postgres")
        if self.postgres:
            self.name = self.engine.config["database"]
            self.base = self.name  # the run's database; the modules' are named after it
            self.made: list[str] = [self.name]  # every database of the run, dropped at the end
            self.modules = 0
            self.pg = {k: self.engine.config[k] for k in ("host", "port", "user")}
            self._dropper = None  # a one-thread executor, made at the first module change
            self._drops: list = []
            _per_loop_pools(self.engine)
        else:
            self.path = Path(self.engine.path)

    # -- PostgreSQL administration, on the server's ``postgres`` database
    async def _admin(self, *statements: str) -> None:
        import asyncpg

        connection = await asyncpg.connect(database="postgres", **self.pg)
        try:
            for sql in statements:
                await connection.execute(sql)
        finally:
            await connection.close()

    async def _release(self) -> None:
        """Close what holds the working database open."""
        await self.close_pool()
        if not self.postgres:
            await self.engine.close_readers()
            with sqlite3.connect(self.path) as connection:  # fold the WAL into the file
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()

    def _drop_later(self, name: str) -> None:
        """Drop database ``name`` in a background thread (its own event loop and connection)."""
        import asyncio
        from concurrent.futures import ThreadPoolExecutor

        if self._dropper is None:
            self._dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clintech-dropdb")
        statement = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        self._drops.append(self._dropper.submit(lambda: asyncio.run(self._admin(statement))))

    async def start_pool(self) -> None:
        """The pool of the running loop (the tests'), on the current module database."""
        from core import db

        if self.postgres:
            await db.open_pool(min_size=1)  # the portal's own pool (its reset included)

    async def close_pool(self) -> None:
        if self.postgres and self.engine.pool is not None:
            await self.engine.close_connection_pool()

    async def _fresh(self, template: str) -> None:
        """A new database for the next module, made from ``template``; the engine moves to
        it and the one it leaves is dropped in the background."""
        await self.close_pool()
        self.modules += 1
        name = f"{self.base}_m{self.modules}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
                          f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
        self.made.append(name)
        previous, self.name = self.name, name
        self.engine.config["database"] = name
        # A command a test runs (``clintech …`` in a subprocess) reads the same database.
        os.environ["DATABASE_URL"] = self.url.rsplit("/", 1)[0] + "/" + name
        self._drop_later(previous)
        await self.start_pool()

    def _sqlite_files(self, path: Path) -> list[Path]:
        return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]

    async def _empty(self) -> None:
        if self.postgres:
            await self.close_pool()
            await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)', f'CREATE DATABASE "{self.name}"',
                              f'ALTER DATABASE "{self.name}" SET synchronous_commit TO off')
        else:
            await self.engine.close_readers()
            for f in self._sqlite_files(self.path):
                f.unlink(missing_ok=True)

    def host(self, plugins: tuple[str, ...]):
        """One PluginHost per plugin set for the whole run (its catalogue is synced once)."""
        from core.plugins import PluginHost

        if plugins not in self.hosts:
            self.hosts[plugins] = PluginHost(plugins)
        return self.hosts[plugins]

    async def build(self, plugins: tuple[str, ...]) -> str:
        """Migrate an empty database, load the demo of ``plugins`` and keep it as a template."""
        from core import db, demo
        from core.catalog import service as catalog

        host = self.host(plugins)
        await self._empty()
        await db.migrate()
        await demo.load(host.view())
        await catalog.ensure_synced(host)
        await self._release()
        n = len(self.templates)
        if self.postgres:
            template = f"{self.base}_tpl{n}"
            await self._admin(f'DROP DATABASE IF EXISTS "{template}"',
                              f'CREATE DATABASE "{template}" TEMPLATE "{self.name}"')
            await self.start_pool()
        else:
            template = str(self.path.with_name(f"{self.path.stem}.tpl{n}{self.path.suffix}"))
            shutil.copyfile(self.path, template)
        self.templates[plugins] = template
        self.current = plugins
        return template

    async def reset(self, plugins: tuple[str, ...]) -> None:
        """The working database becomes a fresh copy of the template of ``plugins``."""
        from core.dashboard import todo

        # What the process kept of institutions' dashboards belongs to the database replaced
        # (a copy starts its change counters where the template left them).
        todo.KEPT.clear()
        self.logins.clear()
        template = self.templates.get(plugins)
        if template is None:
            await self.build(plugins)
            return
        if self.postgres:
            await self._fresh(template)
        else:
            await self.engine.close_readers()
            for f in self._sqlite_files(self.path)[1:]:
                f.unlink(missing_ok=True)
            shutil.copyfile(template, self.path)
        self.current = plugins

    def app(self, plugins: tuple[str, ...]):
        """One app per plugin set for the whole run: it keeps no data of its own, so the
        modules' database copies can share it."""
        from web.app import create_app

        if plugins not in self.apps:
            self.apps[plugins] = create_app(self.host(plugins))
        return self.apps[plugins]

    async def drop(self) -> None:
        if self.postgres:
            for future in self._drops:  # the background drops first (they may still run)
                try:
                    future.result(timeout=120)
                except Exception:  # noqa: BLE001 — dropped again below
                    pass
            if self._dropper is not None:
                self._dropper.shutdown(wait=True)
            names = [*self.made, *self.templates.values()]
            await self._admin(*(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names))
        else:
            await self.engine.close_readers()


# ---------------------------------------------------------------- records a plugin's tests start from


async def admitted_project(licence_no: str, code: str, *, admitted_on: dt.date, name: str = "",
                           tech_class: str = "restricted") -> int:
    """An admitted project (准入项目) of the institution with ``licence_no`` for the
    technology ``code``, admitted on ``admitted_on``: core's record of an institution
    already using a technology, which transitional rules look for (``rules_effective``,
    ``technology_listed``). Its lead is one of the institution's physicians (a user with a
    department), in that department. Returns the project's id."""
    from core.accounts.tables import User
    from core.admission.schemas import EthicsStatus, ProjectStatus
    from core.admission.tables import Project
    from core.tenancy.tables import Institution

    institution = await Institution.select(Institution.id).where(Institution.licence_no == licence_no).first()
    if institution is None:
        raise LookupError(f"no institution with licence no. {licence_no!r} in this database")
    lead = await User.select(User.id, User.department).where(
        (User.institution == institution["id"]) & User.department.is_not_null()).order_by(User.id).first()
    if lead is None:
        raise LookupError(f"institution {licence_no!r} has no physician with a department")
    rows = await Project.insert(Project(
        institution=institution["id"], department=lead["department"], lead=lead["id"],
        title=name or f"{code}临床应用", path="temporary", technology_code=code, technology_name=name or code,
        tech_class=tech_class, status=ProjectStatus.admitted, ethics_status=EthicsStatus.approved,
        admitted_on=admitted_on,
    )).returning(Project.id)
    return rows[0]["id"]
