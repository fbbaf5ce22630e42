"""Test deployment: a fresh database (SQLite or PostgreSQL) per run, the demo data,
and clients logged in as any demo user.

``CLINTECH_TEST_DB=sqlite|postgres`` picks the database (``make test`` runs both).
A missing PostgreSQL or Chromium skips those tests with a reason, except under
``CI=true`` where it fails the run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

CI = os.environ.get("CI") == "true"
DB_KIND = os.environ.get("CLINTECH_TEST_DB", "sqlite")
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
CHROMIUM = "/usr/bin/chromium"

_state: dict = {}


def _pg_available() -> bool:
    try:
        with socket.create_connection((PG["host"], PG["port"]), timeout=1):
            return True
    except OSError:
        return False


def _psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-q", "-h", PG["host"], "-p", str(PG["port"]), "-U", PG["user"], "-d", "postgres", "-c", sql],
        check=True, capture_output=True,
    )


def pytest_configure(config: pytest.Config) -> None:
    """Point the whole process at a database of its own, before anything imports core."""
    tmp = Path(tempfile.mkdtemp(prefix="clintech-test-"))
    _state["tmp"] = tmp
    os.environ["CLINTECH_VAR"] = str(tmp / "var")
    os.environ.setdefault("CLINTECH_PLUGINS", "jilin,hospital_default")
    os.environ["CLINTECH_FAST_HASH"] = "1"
    os.environ["CLINTECH_DB_POOL"] = "0"
    os.environ["CLINTECH_SECRET"] = secrets.token_hex(16)
    # Tests talk plain http to http://testserver: no Secure cookies (tests/test_hardening.py
    # turns the setting on to check it).
    os.environ.setdefault("CLINTECH_SECURE_COOKIES", "0")
    if DB_KIND == "postgres":
        if not _pg_available():
            _state["skip_all"] = "PostgreSQL 不可用（127.0.0.1:5432），跳过 PostgreSQL 测试"
            if CI:
                raise pytest.UsageError("CI=true 但 PostgreSQL 不可用（127.0.0.1:5432）")
            os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'unused.sqlite3'}"
            return
        name = f"clintech_test_{os.getpid()}_{secrets.token_hex(3)}"
        _psql(f"CREATE DATABASE {name}")
        _state["pg_db"] = name
        os.environ["DATABASE_URL"] = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'test.sqlite3'}"
    config.addinivalue_line("markers", "pg: needs the PostgreSQL run")


def pytest_report_header(config: pytest.Config) -> str:
    return f"clintech database: {DB_KIND} ({os.environ.get('DATABASE_URL', '').split('@')[-1]})"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if reason := _state.get("skip_all"):
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))
        return
    if not Path(CHROMIUM).exists():
        if CI and any(item.get_closest_marker("browser") for item in items):
            raise pytest.UsageError(f"CI=true 但未找到 Chromium（{CHROMIUM}）")
        for item in items:
            if item.get_closest_marker("browser"):
                item.add_marker(pytest.mark.skip(reason=f"未找到 Chromium（{CHROMIUM}），跳过浏览器测试"))


def pytest_unconfigure(config: pytest.Config) -> None:
    if name := _state.get("pg_db"):
        try:
            _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except subprocess.CalledProcessError:
            pass
    if tmp := _state.get("tmp"):
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- deployment fixtures

pytest_plugins = ["tests.fixtures"]
