"""``GET /healthz``, the database-down answers, and the OpenAPI schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

DEAD_DATABASE = "postgresql://postgres@127.0.0.1:1/x"


async def test_healthz_reports_database_plugins_and_calendar_years(deployment, anon):
    response = await anon.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["engine"] == ("postgresql" if os.environ["DATABASE_URL"].startswith("postgres")
                                          else "sqlite")
    assert body["plugins"] == {"enabled": ["national", "jilin", "hospital_default"], "disabled": []}
    assert 2025 in body["calendar"]["known_years"]  # chinesecalendar's data
    assert "missing_years" in body["calendar"]


async def test_healthz_reports_the_job_runners_last_heartbeat_and_its_age(deployment, anon):
    """Issue 11 point 1: a runner that stopped beating ten minutes ago shows as ten
    minutes old (``jobs.age_seconds``), with who beat and where; no heartbeat, no age."""
    import datetime as dt

    from core.system.tables import JobHeartbeat

    await JobHeartbeat.delete(force=True)
    empty = (await anon.get("/healthz")).json()["jobs"]
    assert empty["last_heartbeat"] is None and empty["age_seconds"] is None
    before = dt.datetime.now(dt.UTC)
    beat = before.replace(microsecond=0) - dt.timedelta(minutes=10)
    await JobHeartbeat.insert(JobHeartbeat(runner="worker", host="jobs-host-2", beat_at=beat, results={}))
    try:
        jobs = (await anon.get("/healthz")).json()["jobs"]
        waited = (dt.datetime.now(dt.UTC) - before).total_seconds()
        assert jobs["runner"] == "worker" and jobs["host"] == "jobs-host-2"
        assert dt.datetime.fromisoformat(jobs["last_heartbeat"]) == beat
        assert 600 <= jobs["age_seconds"] <= 600 + waited + 1
    finally:
        await JobHeartbeat.delete(force=True)


async def test_healthz_shows_a_switched_off_plugin_at_once(deployment, anon, login_as):
    admin = await login_as("admin")
    await admin.post("/admin/plugins/jilin", data={"enabled": "0"})
    body = (await anon.get("/healthz")).json()
    assert body["plugins"] == {"enabled": ["national", "hospital_default"], "disabled": ["jilin"]}


def _run_against_dead_database(script: str, tmp_path) -> dict:
    """Run ``script`` in a fresh interpreter whose DATABASE_URL points at a closed port."""
    env = os.environ | {"DATABASE_URL": DEAD_DATABASE, "CLINTECH_VAR": str(tmp_path)}
    prelude = textwrap.dedent("""
        import asyncio, json, httpx
        from web.app import create_app

        async def fetch(app, path, **kw):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.get(path, **kw)
    """)
    out = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(script)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_healthz_answers_503_json_when_the_database_does_not_answer(tmp_path):
    result = _run_against_dead_database("""
        async def main():
            r = await fetch(create_app(), "/healthz")
            print(json.dumps({"status": r.status_code, "type": r.headers["content-type"], "body": r.json()}))
        asyncio.run(main())
    """, tmp_path)
    assert result["status"] == 503 and result["type"].startswith("application/json")
    body = result["body"]
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is False and body["database"]["engine"] == "postgresql"
    assert body["plugins"]["enabled"] == ["national", "jilin", "hospital_default"]  # the configured set
    assert body["calendar"]["known_years"]


def test_pages_answer_a_chinese_503_when_the_database_does_not_answer(tmp_path):
    result = _run_against_dead_database("""
        async def main():
            app = create_app()
            page = await fetch(app, "/", cookies={"clintech_session": "some-token"})
            print(json.dumps({"status": page.status_code, "text": page.text}))
        asyncio.run(main())
    """, tmp_path)
    assert result["status"] == 503
    assert "数据库暂时无法连接" in result["text"]
    assert "Traceback" not in result["text"]


@pytest.mark.parametrize("path", ["/schema/openapi.json"])
async def test_openapi_schema_is_served_at_litestars_default_path(deployment, anon, path):
    response = await anon.get(path)
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "ClinTech Portal API"
    assert "/healthz" in schema["paths"]
