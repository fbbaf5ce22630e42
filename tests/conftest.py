"""The portal's own tests run on the test kit (core/testing, the ``pytest11`` plugin):
``clintech_plugins`` in pyproject.toml turns it on; each test module gets its own copy of
the migrated demo database (built once per run).

``CLINTECH_TEST_DB=sqlite|postgres`` picks the database (``make test`` runs both).
A missing PostgreSQL or Chromium skips those tests with a reason, except under
``CI=true`` where it fails the run.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

CI = os.environ.get("CI") == "true"
# Debian's chromium-headless-shell (built from Debian's chromium source, same version): the
# headless build Playwright itself drives by default. Against the full browser in headless
# mode it costs ~0.6x the CPU per navigation and ~0.3x per fresh context (bench/browser_nav.py),
# and the browser tests of a half ran in 122 s instead of 217-232 s (issue 9).
# CLINTECH_CHROMIUM=/usr/bin/chromium runs them in the full browser (e.g. to watch it headed).
CHROMIUM = os.environ.get("CLINTECH_CHROMIUM", "/usr/bin/chromium-headless-shell")
# The arguments the browser fixture launches it with (bench/browser_nav.py measures with the same).
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync")
DB_KIND = os.environ.get("CLINTECH_TEST_DB", "sqlite")
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


def _pg_available() -> bool:
    try:
        with socket.create_connection((PG["host"], PG["port"]), timeout=1):
            return True
    except OSError:
        return False


def _psql(sql: str) -> None:
    """For tests that need a database of their own beside the module's (e.g. a CLI run)."""
    subprocess.run(
        ["psql", "-q", "-h", PG["host"], "-p", str(PG["port"]), "-U", PG["user"], "-d", "postgres", "-c", sql],
        check=True, capture_output=True,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pg: needs the PostgreSQL run")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not Path(CHROMIUM).exists():
        if CI and any(item.get_closest_marker("browser") for item in items):
            raise pytest.UsageError(f"CI=true 但未找到 Chromium（{CHROMIUM}）")
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(pytest.mark.skip(reason=f"未找到 Chromium（{CHROMIUM}），跳过浏览器测试"))


# ---------------------------------------------------------------- deployment fixtures

def _kit_installed() -> bool:
    """The kit comes in through pytest's pytest11 entry point (``clintech_testkit``); a venv
    installed before it existed (pip install -e . not re-run) loads it from here instead."""
    from importlib.metadata import entry_points

    return any(ep.name == "clintech" for ep in entry_points(group="pytest11"))


pytest_plugins = ([] if _kit_installed() else ["clintech_testkit"]) + ["tests.fixtures", "tests.list_helpers"]
