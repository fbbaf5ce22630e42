"""Shared fixtures: the demo deployment, the app, logged-in clients, a live server and Chromium."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
import time

import pytest

from core.testing import DEMO_PASSWORD, PortalClient  # noqa: F401  (tests import them from here)

_PER_DATABASE: list = []


def per_database(cache):
    """``_made = per_database({})``: a helper's cache of records it made in the current
    module's database, emptied when the next module gets its own copy."""
    _PER_DATABASE.append(cache)
    return cache


@pytest.fixture(scope="module")
async def deployment(clintech_deployment):
    """This module's own copy of the migrated demo database; ids of the demo records."""
    from core.tenancy.tables import Department

    # The helpers' records of the previous module's database are gone with it.
    for cache in _PER_DATABASE:
        cache.clear()
    users = clintech_deployment["users"]
    a, b = clintech_deployment["institutions"]["DEMO-A-0001"], clintech_deployment["institutions"]["DEMO-B-0001"]
    departments = await Department.select().order_by(Department.id)
    return clintech_deployment | {
        "hospital_a": a,
        "hospital_b": b,
        "city1": users["regulator_city1"]["region"],
        "city2": users["regulator_city2"]["region"],
        "province": users["regulator_province"]["region"],
        "departments_a": [d["id"] for d in departments if d["institution"] == a],
        "departments_b": [d["id"] for d in departments if d["institution"] == b],
    }


@pytest.fixture(scope="module")
async def app(deployment, clintech_app):
    return clintech_app


@pytest.fixture(autouse=True)
async def _reset_shared_state(request):
    """Tests of one module share its database; undo the switches and counters a test may leave."""
    yield
    if "deployment" not in request.fixturenames:
        return
    from core.accounts.tables import LoginAttempt
    from core.system.tables import PluginSwitch

    await PluginSwitch.delete(force=True)
    await LoginAttempt.delete(force=True)


@pytest.fixture
async def anon(clintech_anon):
    return clintech_anon


@pytest.fixture
async def login_as(clintech_login):
    """``client = await login_as("clinician_a")``: a client with a live session."""
    return clintech_login


def csrf_of(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    return match.group(1) if match else ""


# ---------------------------------------------------------------- live server and browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(app):
    """Serve ``app`` with uvicorn on a free loopback port, in a thread; yields its URL."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# The live servers' apps, one per plugin host for the run: an app keeps no data of its own
# (as the kit's in-process apps, core/testing), so each module's server starts (lifespan
# and all) the same app on its own database copy instead of building it again (~0.1 s and
# its templates' compilation a module, issue 9).
_LIVE_APPS: dict[object, object] = {}  # PluginHost (hashed by identity) → its app


@pytest.fixture(scope="module")
def live_server(deployment):
    """The portal served by uvicorn on a free loopback port, in a thread."""
    from web.app import create_app

    host = deployment["host"]
    if host not in _LIVE_APPS:
        _LIVE_APPS[host] = create_app(host)
    with serve(_LIVE_APPS[host]) as url:
        yield url


@pytest.fixture(scope="session")
async def browser():
    from playwright.async_api import async_playwright

    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        yield browser
        await browser.close()


# Cookies of a login through the form, per live server (one per module and database) and
# user: the next fresh context of that user starts with them instead of filling the form
# again (a session the server no longer knows falls back to the form).
_LOGGED_IN: dict[tuple[str, str], dict] = {}


async def open_pages(browser, base_url: str, contexts: list):
    """A factory of fresh browser contexts on ``base_url``, each logged in as the user
    given and on the home page: through the login form the first time in a module, then
    with that login's session cookies in a context of its own."""

    async def make(username: str | None = None):
        state = _LOGGED_IN.get((base_url, username)) if username else None
        context = await browser.new_context(base_url=base_url, locale="zh-CN", storage_state=state)
        contexts.append(context)
        page = await context.new_page()
        if username and state is not None:
            await page.goto("/")
            if page.url == f"{base_url}/":
                return page
            await context.clear_cookies()  # the session ended (e.g. the user was disabled)
        if username:
            await page.goto("/login")
            await page.fill("input[name=username]", username)
            await page.fill("input[name=password]", DEMO_PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base_url}/")
            _LOGGED_IN[(base_url, username)] = await context.storage_state()
        return page

    return make


@pytest.fixture
async def page_as(browser, live_server):
    """``page = await page_as("admin")``: a fresh browser context logged in through the form."""
    contexts: list = []
    yield await open_pages(browser, live_server, contexts)
    for context in contexts:
        await context.close()


@pytest.fixture
def run_sync():
    return asyncio.run
