"""Issue 15, beyond one machine: several app processes and job runners on ONE PostgreSQL
database. Real processes, a real loopback receiver, real HTTP:

* ``clintech serve --workers 2 --no-jobs`` (two uvicorn worker processes on one port) and a
  second ``clintech serve --no-jobs`` on another port — three app processes;
* two ``clintech worker`` job runners, each a round a second;
* cases posted through both app processes' API (NAT-37: each goes to the provincial and
  the national platform, JL-38): every delivery reaches the receiver exactly once (one hit,
  one processing per Idempotency-Key), and every reminder the runners send is sent once
  (one inbox message per obligation, stage and person);
* the admin switches a plugin off on one app process: the very next request to every
  app process sees it off; switched on again, likewise.

PostgreSQL only: SQLite serves one process's writers (README, "SQLite or PostgreSQL").
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core.db import is_sqlite
from core.inbox.tables import InboxMessage
from core.obligations.tables import ObligationReminder
from core.outbox.tables import Delivery
from tests.case_helpers import admitted, case, release_obligations, token_for
from tests.receiver import Receiver

CLINTECH = Path(sys.executable).parent / "clintech"
PASSWORD = "demo-pass-2026"
PLATFORMS = ("JILIN_PLATFORM", "NATIONAL_PLATFORM")

pytestmark = pytest.mark.skipif(is_sqlite(), reason="多进程部署需要 PostgreSQL（SQLite 只适合单进程）")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([str(CLINTECH), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    process.stderr.close()


def _wait_ready(port: int, process: subprocess.Popen, wait: float = 120) -> None:
    deadline = time.monotonic() + wait
    while True:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, f"port {port} did not answer in time"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _login(port: int, username: str) -> httpx.Client:
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    client.get("/login").raise_for_status()
    answer = client.post("/login", data={"username": username, "password": PASSWORD,
                                         "_csrf_token": client.cookies.get("csrftoken")})
    assert answer.status_code in (200, 302, 303) and client.cookies.get("clintech_session"), answer.text[:300]
    return client


def _plugin_state(client: httpx.Client, name: str) -> str:
    page = client.get("/admin/plugins")
    assert page.status_code == 200
    row = re.search(rf'<tr id="plugin-{name}">(.*?)</tr>', page.text, re.S)
    assert row, f"no row for plugin {name}"
    return re.search(r'data-state="(on|off)"', row.group(1)).group(1)


def _switch(client: httpx.Client, name: str, enabled: bool) -> None:
    client.get("/admin/plugins")
    answer = client.post(f"/admin/plugins/{name}", data={"enabled": "1" if enabled else "0",
                                                         "_csrf_token": client.cookies.get("csrftoken")})
    assert answer.status_code in (200, 303), answer.text[:300]


@pytest.fixture
def receiver():
    r = Receiver(token="tok-" + secrets.token_hex(6)).start()
    yield r
    r.stop()


@pytest.mark.rule("NAT-37")
async def test_two_app_processes_and_two_runners_deliver_and_remind_once_and_see_a_switch_at_once(
        deployment, receiver):
    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=53)
    _, token = await token_for(deployment["hospital_a"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINTECH_JOBS")}
    env |= {"CLINTECH_JOBS_INTERVAL": "1", "CLINTECH_SECURE_COOKIES": "0"}
    for name in PLATFORMS:
        env |= {f"CLINTECH_CHANNEL_{name}_URL": receiver.url, f"CLINTECH_CHANNEL_{name}_TOKEN": receiver.token}
    reminders_before = await ObligationReminder.count()
    ports = [_free_port(), _free_port()]
    apps = [_start(["serve", "--workers", "2", "--no-jobs", "--port", str(ports[0])], env),
            _start(["serve", "--no-jobs", "--port", str(ports[1])], env)]
    runners: list[subprocess.Popen] = []
    try:
        for port, app in zip(ports, apps, strict=True):
            _wait_ready(port, app)
        # --workers 2: two uvicorn worker processes under the first server's supervisor.
        workers = [c for c in _children(apps[0].pid)
                   if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
        assert len(workers) == 2, workers

        # Cases through both app processes at once, each batch its own.
        async def post(port: int, k: int) -> list[dict]:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
                answer = await client.post("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}, json={
                    "cases": [case(project_id, case_id=f"MP{k}-{n}-{secrets.token_hex(3)}") for n in range(3)]})
                assert answer.status_code == 200, answer.text[:500]
                return answer.json()["results"]

        results = [r for batch in await asyncio.gather(*(post(ports[k % 2], k) for k in range(4))) for r in batch]
        assert len(results) == 12 and {r["status"] for r in results} == {"created"}
        case_ids = [r["id"] for r in results]
        deliveries = await Delivery.select(Delivery.id, Delivery.idempotency_key).where(
            (Delivery.subject_type == "case") & Delivery.subject_id.is_in(case_ids))
        assert len(deliveries) == 24  # the provincial and the national platform for each case

        runners = [_start(["worker", "--interval", "1"], env) for _ in range(2)]
        deadline = time.monotonic() + 180
        while True:
            statuses = {r["status"] for r in await Delivery.select(Delivery.status).where(
                Delivery.id.is_in([d["id"] for d in deliveries]))}
            if statuses == {"accepted"}:
                break
            assert all(r.poll() is None for r in runners), [r.stderr.read() for r in runners]
            assert time.monotonic() < deadline, f"deliveries not all accepted: {statuses}"
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)  # a few more rounds of both runners: nothing is sent again
        for d in deliveries:
            key = d["idempotency_key"]
            assert receiver.hits[key] == 1 and receiver.processed[key] == 1, (key, receiver.hits[key])

        # Reminders: the runners sent some (the demo's obligations are overdue), each once.
        assert await ObligationReminder.count() > reminders_before
        sent = await InboxMessage.select(InboxMessage.user, InboxMessage.source, InboxMessage.title).where(
            InboxMessage.source.like("obligation:%"))
        seen: dict[tuple, int] = {}
        for m in sent:
            key = (m["user"], m["source"], m["title"])
            seen[key] = seen.get(key, 0) + 1
        assert seen and max(seen.values()) == 1, [k for k, n in seen.items() if n > 1][:5]

        # A plugin switch on one app process reaches every app process at its next request.
        admin, other = _login(ports[0], "admin"), _login(ports[1], "admin")
        try:
            assert _plugin_state(other, "jilin") == "on"
            _switch(admin, "jilin", False)
            assert _plugin_state(other, "jilin") == "off"
            assert {_plugin_state(admin, "jilin") for _ in range(6)} == {"off"}  # either worker of the first
            _switch(other, "jilin", True)
            assert {_plugin_state(admin, "jilin") for _ in range(6)} == {"on"}
            assert _plugin_state(other, "jilin") == "on"
        finally:
            admin.close()
            other.close()
    finally:
        for process in runners + apps:
            _stop(process)
        await release_obligations()
