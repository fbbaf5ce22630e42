"""Issue 11 point 1: a case is "已报送" only with the authority's receipt; with no endpoint
it is "已生成报送包，待人工上传"; late is judged by the receipt's date, on the case page,
the case list and QC's 报送及时率; the jobs run inside ``clintech serve``."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import signal
import subprocess
import time

import httpx
import pytest

from core import clock
from core.accounts.schemas import SYSTEM
from core.cases import service as cases
from core.cases.tables import CaseRecord
from core.obligations.tables import Obligation
from core.outbox import service as outbox
from core.outbox.tables import Delivery
from core.qc import service as qc
from tests import test_cli
from tests.admission_helpers import actor
from tests.case_helpers import JL38_DUE, REPORTED, admitted, case_input, release_obligations
from tests.receiver import Receiver
from tests.test_cli import CLINTECH, _free_port, clintech

cli_env = test_cli.cli_env  # the CLI tests' fixture: a var/ and database of its own


@pytest.fixture(scope="module")
async def project(deployment):
    yield await admitted(deployment["host"].view(), tech_index=9)
    await release_obligations()


# A case goes to the provincial and the national platform (NAT-36, JL-38).
PLATFORMS = ("JILIN_PLATFORM", "NATIONAL_PLATFORM")


@pytest.fixture
def no_endpoint(monkeypatch):
    for name in PLATFORMS:
        monkeypatch.delenv(f"CLINTECH_CHANNEL_{name}_URL", raising=False)


@pytest.fixture
def receiver(monkeypatch):
    """One loopback server answering for both platforms (each delivery its own key)."""
    r = Receiver(token="tok-" + secrets.token_hex(6)).start()
    for name in PLATFORMS:
        monkeypatch.setenv(f"CLINTECH_CHANNEL_{name}_URL", r.url)
        monkeypatch.setenv(f"CLINTECH_CHANNEL_{name}_TOKEN", r.token)
    yield r
    r.stop()


def at(day: dt.date) -> dt.datetime:
    """10:00 Beijing time on ``day``, stored as UTC."""
    return dt.datetime(day.year, day.month, day.day, 2, 0, tzinfo=dt.UTC)


async def record(hooks, project_id: int) -> cases.CaseResult:
    [result] = await cases.record_cases(await actor("clinician_a"), hooks, [case_input(project_id)],
                                        source="page", today=REPORTED)
    return result


async def case_row(case_id: int) -> dict:
    return await CaseRecord.select().where(CaseRecord.id == case_id).first()


async def report_cell(client, case_id: int) -> str:
    html = (await client.get(f"/cases/{case_id}")).text
    start = html.index('data-report="')
    return html[start:html.index("</td>", start)]


@pytest.mark.rule("JL-38")
async def test_jl38_a_queued_case_is_not_reported_and_a_package_says_manual_upload(
        deployment, project, no_endpoint, login_as):
    hooks = deployment["host"].view()
    result = await record(hooks, project)
    row = await case_row(result.id)
    assert row["reported_on"] is None and row["report_late"] is False
    ob = await Obligation.select().where((Obligation.subject_type == "case") & (Obligation.subject_id == result.id)
                                         & (Obligation.kind == "case_report")).first()
    assert ob["status"] == "open"
    client = await login_as("clinician_a")
    cell = await report_cell(client, result.id)
    assert "已报送" not in cell and "待发送" in cell
    listing = (await client.get("/cases/")).text
    row = re.search(rf'<tr data-case="{result.id}">.*?</tr>', listing, flags=re.S).group(0)
    assert 'data-report="pending"' in row and "已报送" not in row
    # The worker finds no endpoint configured: a package for manual upload to each
    # platform, still not reported.
    assert await outbox.deliver_due(hooks, delivery_ids=result.delivery_ids) == 2
    assert [r["status"] for r in await Delivery.select(Delivery.status).where(
        Delivery.id.is_in(result.delivery_ids))] == ["package_ready", "package_ready"]
    cell = await report_cell(client, result.id)
    assert "已生成报送包，待人工上传" in cell and "已报送" not in cell
    assert (await case_row(result.id))["reported_on"] is None


@pytest.mark.rule("JL-38")
async def test_jl38_the_manual_receipt_reports_the_case_late_when_after_the_due_date(
        deployment, project, no_endpoint, login_as):
    hooks = deployment["host"].view()
    result = await record(hooks, project)
    provincial, national = result.delivery_ids
    await outbox.deliver_due(hooks, delivery_ids=result.delivery_ids)
    late_day = JL38_DUE + dt.timedelta(days=3)
    # The provincial platform's receipt on the due date; the national platform's 3 days later.
    await outbox.confirm_manual(SYSTEM, provincial, "吉卫-回执-9", now=at(JL38_DUE), hooks=hooks)
    assert (await case_row(result.id))["reported_on"] is None
    await outbox.confirm_manual(SYSTEM, national, "国-回执-9", now=at(late_day), hooks=hooks)
    row = await case_row(result.id)
    assert row["reported_on"] == late_day and row["report_late"] is True
    ob = await Obligation.select().where((Obligation.subject_type == "case") & (Obligation.subject_id == result.id)
                                         & (Obligation.kind == "case_report")).first()
    assert ob["status"] == "done" and ob["done_late"] is True and ob["done_on"] == late_day
    cell = await report_cell(await login_as("clinician_a"), result.id)
    assert "已报送（逾期）" in cell and "吉卫-回执-9" in cell and "国-回执-9" in cell


@pytest.mark.rule("JL-38")
async def test_jl38_the_platforms_receipt_reports_the_case_on_time(deployment, project, receiver, login_as):
    hooks = deployment["host"].view()
    today = clock.today()
    days = [(today - dt.timedelta(days=n)).isoformat() for n in (6, 5, 2)]
    [result] = await cases.record_cases(await actor("clinician_a"), hooks, [case_input(
        project, admitted_on=days[0], operated_on=days[1], discharged_on=days[2])], source="page")
    assert await outbox.deliver_due(hooks, delivery_ids=result.delivery_ids) == 2
    row = await case_row(result.id)
    assert row["reported_on"] == clock.today() and row["report_late"] is False
    assert len(receiver.receipts) == 2
    assert "已报送（按时）" in await report_cell(await login_as("clinician_a"), result.id)


@pytest.mark.rule("JL-38")
async def test_jl38_qc_timeliness_counts_receipts_not_queued_deliveries(deployment, no_endpoint):
    """Three cases past their due date: one received by both platforms on time, one by one
    platform on time and the other late, one by the provincial platform on time but still
    waiting for the national one's — 1 of 3 on time, never 100 %."""
    hooks = deployment["host"].view()
    project_id = await admitted(hooks, tech_index=10)
    try:
        results = [await record(hooks, project_id) for _ in range(3)]
        await outbox.deliver_due(hooks, delivery_ids=[i for r in results for i in r.delivery_ids])
        (p0, n0), (p1, n1), (p2, _) = (r.delivery_ids for r in results)
        for delivery_id, day in ((p0, JL38_DUE), (n0, JL38_DUE), (p1, JL38_DUE),
                                 (n1, JL38_DUE + dt.timedelta(days=1)), (p2, JL38_DUE)):
            await outbox.confirm_manual(SYSTEM, delivery_id, f"R-{delivery_id}", now=at(day), hooks=hooks)
        total = (await qc.figures(await actor("medaffairs_a"), qc.Filter(technology_code=f"P{project_id}")))["total"]
        assert (total["reports"], total["on_time"], total["timeliness"]) == (3, 1, 33.33)
    finally:
        await release_obligations()


# ---------------------------------------------------------------- the jobs run under `clintech serve`


def _health(port: int, server: subprocess.Popen, until, wait: float = 90) -> dict:
    """Poll /healthz until ``until(body)`` holds (the server starts, then beats)."""
    deadline = time.monotonic() + wait
    while True:
        assert server.poll() is None, server.stderr.read()
        assert time.monotonic() < deadline, "no such /healthz answer in time"
        try:
            body = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
            if until(body):
                return body
        except httpx.TransportError:
            pass  # still starting
        time.sleep(0.2)


def _stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)
    server.stdout.close()
    server.stderr.close()


def test_serve_runs_the_jobs_and_healthz_reports_their_heartbeat(cli_env):
    port = _free_port()
    server = subprocess.Popen([str(CLINTECH), "serve", "--port", str(port)],
                              env=cli_env | {"CLINTECH_JOBS_INTERVAL": "1"}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        body = _health(port, server, lambda b: b["jobs"]["last_heartbeat"] is not None)
        assert body["jobs"]["runs_in"] == "serve" and body["jobs"]["runner"] == "serve"
        assert isinstance(body["jobs"]["age_seconds"], int) and body["jobs"]["age_seconds"] >= 0
    finally:
        _stop(server)


def test_serve_no_jobs_leaves_them_to_the_worker(cli_env):
    port = _free_port()
    server = subprocess.Popen([str(CLINTECH), "serve", "--no-jobs", "--port", str(port)],
                              env=cli_env | {"CLINTECH_JOBS_INTERVAL": "1"}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        body = _health(port, server, lambda b: b["database"]["ok"])
        assert body["jobs"]["runs_in"] == "separate" and body["jobs"]["last_heartbeat"] is None
        out = clintech(cli_env, "worker", "--once")
        assert out.returncode == 0, out.stderr
        body = _health(port, server, lambda b: b["jobs"]["last_heartbeat"] is not None)
        assert body["jobs"]["runner"] == "worker"
    finally:
        _stop(server)
