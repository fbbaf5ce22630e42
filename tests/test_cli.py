"""The ``clintech`` console script, run for real in subprocesses with a database of their own."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import DB_KIND, PG, _pg_available, _psql

CLINTECH = Path(sys.executable).parent / "clintech"
DEAD_DATABASE = "postgresql://postgres@127.0.0.1:1/x"
DEMO_USERS = ("admin", "clinician_a", "depthead_a", "qc_a", "medaffairs_a", "ethics_a", "expert_a", "head_a",
              "clinician_b", "medaffairs_b", "regulator_city1", "regulator_city2", "regulator_province", "qccenter")


@pytest.fixture
def cli_env(tmp_path):
    """An environment for the CLI: its own var/ and database (SQLite file, or a fresh
    PostgreSQL database in the PostgreSQL run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLINTECH_", "DATABASE_URL"))}
    env |= {"CLINTECH_VAR": str(tmp_path / "var"), "CLINTECH_FAST_HASH": "1", "CLINTECH_PLUGINS": "jilin,hospital_default"}
    name = None
    if DB_KIND == "postgres" and _pg_available():
        name = f"clintech_cli_{os.getpid()}_{secrets.token_hex(3)}"
        _psql(f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    yield env
    if name:
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def clintech(env: dict, *args: str, input: str | None = None, **overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLINTECH), *args], env=env | overrides, input=input, capture_output=True, text=True,
                          timeout=120, start_new_session=True)  # no controlling tty: prompts read stdin


def usernames(env: dict) -> list[str]:
    out = clintech(env, "users", "list")
    assert out.returncode == 0, out.stderr
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]


def assert_one_plain_line(out: subprocess.CompletedProcess, *fragments: str) -> None:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert lines[0].startswith("错误：")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# ---------------------------------------------------------------- demo and production starts


def test_demo_twice_creates_no_duplicates_and_prints_the_logins(cli_env):
    first = clintech(cli_env, "demo")
    assert first.returncode == 0, first.stderr
    assert "demo-pass-2026" in first.stdout
    assert "评估进行中：" in first.stdout and "未能创建评估演示数据" not in first.stdout  # seed 003, issue 10
    for username in DEMO_USERS:
        assert username in first.stdout
    after_first = usernames(cli_env)
    assert sorted(after_first) == sorted(DEMO_USERS)
    # Issue 11 point 16: the table lines up in a terminal (a Chinese character is two columns).
    from wcwidth import wcswidth

    table = [line for line in first.stdout.splitlines() if line.startswith("  ") and line.split()[0] in
             (*DEMO_USERS, "用户名")]
    assert len(table) == len(DEMO_USERS) + 1
    starts = set()
    for line in table:
        name_end = line.index(line.split()[1]) + len(line.split()[1])
        roles_at = line.index(line.split()[2], name_end)
        starts.add((wcswidth(line[:line.index(line.split()[1])]), wcswidth(line[:roles_at])))
    assert len(starts) == 1, starts
    assert "临床" in first.stdout or "医师" in first.stdout  # roles in Chinese, not their keys
    second = clintech(cli_env, "demo")
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert sorted(usernames(cli_env)) == sorted(DEMO_USERS)


def test_migrate_creates_the_schema_and_no_demo_users(cli_env):
    out = clintech(cli_env, "migrate")
    assert out.returncode == 0, out.stderr
    assert "数据库已是最新结构" in out.stdout
    again = clintech(cli_env, "migrate")
    assert again.returncode == 0, again.stderr
    assert usernames(cli_env) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_a_production_portal_without_demo_users(cli_env):
    port = _free_port()
    server = subprocess.Popen([str(CLINTECH), "serve", "--port", str(port)], env=cli_env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        health = None
        while health is None:
            assert server.poll() is None, server.stderr.read()
            assert time.monotonic() < deadline, "clintech serve did not answer"
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            except httpx.TransportError:
                time.sleep(0.1)  # the server is still starting
        assert health.status_code == 200 and health.json()["database"]["ok"]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            client.get("/login")  # the CSRF cookie, so the refusal below is about the account
            login = client.post("/login", data={"username": "admin", "password": "demo-pass-2026"},
                                headers={"x-csrftoken": client.cookies.get("csrftoken", "")})
        assert login.status_code == 401, login.text  # no demo admin in a production portal
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        server.stdout.close()
        server.stderr.close()
    assert usernames(cli_env) == []


# ---------------------------------------------------------------- one plain line on bad configuration


@pytest.mark.parametrize("command", [("migrate",), ("demo",), ("plugins",), ("users", "list")])
def test_an_unknown_plugin_prints_one_plain_line_and_exits_2(cli_env, command):
    out = clintech(cli_env, *command, CLINTECH_PLUGINS="jilin,guangdong")
    assert_one_plain_line(out, "guangdong", "未安装")


@pytest.mark.parametrize("command", [("migrate",), ("demo",), ("users", "list")])
def test_an_unreachable_database_prints_one_plain_line_and_exits_2(cli_env, command):
    out = clintech(cli_env, *command, DATABASE_URL=DEAD_DATABASE)
    assert_one_plain_line(out, "数据库")


def test_serve_with_an_unreachable_database_prints_one_plain_line(cli_env):
    out = clintech(cli_env, "serve", "--port", str(_free_port()), DATABASE_URL=DEAD_DATABASE)
    assert_one_plain_line(out, "数据库")


def test_a_malformed_database_url_prints_one_plain_line(cli_env):
    out = clintech(cli_env, "migrate", DATABASE_URL="mysql://nowhere/x")
    assert_one_plain_line(out, "DATABASE_URL")


# ---------------------------------------------------------------- users


def test_users_add_creates_an_admin_with_the_password_from_stdin(cli_env):
    out = clintech(cli_env, "users", "add", "chief", "--name", "首任管理员", "--role", "admin",
                   input="first-admin-pass\nfirst-admin-pass\n")
    assert out.returncode == 0, out.stderr
    assert "已创建用户 chief" in out.stdout
    listed = clintech(cli_env, "users", "list").stdout
    [line] = [line for line in listed.splitlines() if line.startswith("chief")]
    assert "首任管理员" in line and "admin" in line and "active" in line
    assert usernames(cli_env) == ["chief"]  # no demo users came with it


def test_users_add_takes_the_password_as_an_option_and_logs_in(cli_env):
    out = clintech(cli_env, "users", "add", "chief2", "--name", "管理员二", "--role", "admin",
                   "--password", "second-admin-pass")
    assert out.returncode == 0, out.stderr
    check = subprocess.run([sys.executable, "-c", (
        "import asyncio\n"
        "from core.accounts import service\n"
        "token = asyncio.run(service.login('chief2', 'second-admin-pass', '127.0.0.1'))\n"
        "print(asyncio.run(service.actor_for_session(token)).roles)\n")],
        env=cli_env, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    assert "('admin',)" in check.stdout


def test_users_add_refuses_bad_input_in_one_line(cli_env):
    out = clintech(cli_env, "users", "add", "Bad Name", "--name", "x", "--role", "admin", "--password", "short")
    assert_one_plain_line(out, "用户名", "密码至少 10 位")
    assert usernames(cli_env) == []
    clintech(cli_env, "users", "add", "chief3", "--name", "管理员三", "--role", "admin", "--password", "third-admin-pass")
    twice = clintech(cli_env, "users", "add", "chief3", "--name", "管理员三", "--role", "admin",
                     "--password", "third-admin-pass")
    assert_one_plain_line(twice, "用户名已存在")
