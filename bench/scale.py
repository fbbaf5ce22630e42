"""``make bench`` (scale part): a generated province, case ingestion and page latency, in one run.

1. builds a fresh deployment (a temporary PostgreSQL database when a server answers on
   127.0.0.1:5432, else SQLite) with ``clintech demo --scale N --cases M`` and times it;
2. serves the portal (uvicorn, one worker, loopback) and posts batches of cases to
   ``POST /api/v1/cases`` with an institution's API token: cases/s through the API
   (validation, obligation, outbox, audit per case) …
3. … against a raw bulk insert (COPY / executemany) of the same number of rows;
4. measures p50/p99 of the regulator's dashboard (``GET /`` as ``regulator_province``)
   and of a technology's QC page (``GET /qc/technology/<code>`` as ``qccenter``);
5. prints a table and writes ``bench/results/scale-<time>.json``.

``python bench/scale.py --institutions 1000 --cases 1000000`` is the full scale run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import run  # noqa: E402  (bench/run.py: servers, login, PostgreSQL helpers)


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# ---------------------------------------------------------------- helpers run inside the deployment's env


async def _helper(kind: str, count: int) -> dict:
    import core.settings  # noqa: F401  (points piccolo at DATABASE_URL)
    from core import demo_scale
    from core.accounts.schemas import SYSTEM
    from core.admission.tables import Project
    from core.apitokens import service as tokens
    from core.cases.tables import CaseRecord

    inst = await Project.select(Project.id, Project.institution, Project.technology_code, Project.lead.username,
                                Project.admitted_on, Project.tech_class, Project.department,
                                Project.technology_name, Project.lead).where(
        (Project.title.like("%（规模）")) & (Project.tech_class == "restricted")).order_by(Project.id).first()
    if kind == "setup":
        _, token = await tokens.issue(SYSTEM, inst["institution"], "bench")
        return {"token": token, "code": f"P{inst['id']}", "technology": inst["technology_code"],
                "operator": inst["lead.username"]}
    start = (await CaseRecord.select(CaseRecord.id).order_by(CaseRecord.id, ascending=False).first())["id"] + 1
    import random

    project = dict(inst)
    rows = demo_scale.case_rows(random.Random(7), start, count, [project], until=dt.date.today(), years=1,
                                rule="JL-38", source="bench", tag="RAW")
    began = time.perf_counter()
    await demo_scale.bulk("case_record", demo_scale.CASE_COLUMNS, rows)
    return {"seconds": time.perf_counter() - began}


def helper(env: dict, kind: str, count: int = 0) -> dict:
    out = subprocess.run([run.PY, str(Path(__file__)), "--helper", kind, "--count", str(count)], cwd=run.ROOT,
                         env=env, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"helper {kind} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- measurements


def api_ingest(url: str, setup: dict, batches: int, size: int) -> dict:
    today = dt.date.today()
    headers = {"Authorization": f"Bearer {setup['token']}"}
    total = 0
    began = time.perf_counter()
    with httpx.Client(base_url=url, timeout=600) as client:
        for b in range(batches):
            cases = []
            for k in range(size):
                op = today - dt.timedelta(days=3 + (b * size + k) % 200)
                cases.append({"case_id": f"API-{b}-{k}-{secrets.token_hex(3)}", "technology_code": setup["code"],
                              "patient_key": f"PK-{b}-{k}", "admitted_on": (op - dt.timedelta(days=1)).isoformat(),
                              "operated_on": op.isoformat(), "discharged_on": (op + dt.timedelta(days=2)).isoformat(),
                              "operators": [setup["operator"]], "indication": "基准测试", "outcome": "improved",
                              "qc_values": {"并发症发生率": "否", "手术时间": "90"}, "consent": True})
                if (op + dt.timedelta(days=2)) > today:
                    cases[-1]["discharged_on"] = today.isoformat()
            answer = client.post("/api/v1/cases", json={"cases": cases}, headers=headers)
            if answer.status_code != 200:
                raise RuntimeError(f"API answered {answer.status_code}: {answer.text[:500]}")
            total += answer.json()["created"]
    seconds = time.perf_counter() - began
    return {"cases": total, "seconds": round(seconds, 2), "per_second": round(total / seconds, 1)}


def latency(url: str, path: str, username: str, must: str, requests: int) -> dict:
    cookie = run.login(url, username)
    samples = []
    with httpx.Client(base_url=url, timeout=120, cookies={run.SESSION_COOKIE: cookie}) as client:
        first = client.get(path)
        if first.status_code != 200 or must not in first.text:
            raise RuntimeError(f"{path} as {username}: HTTP {first.status_code}")
        queries = run.queries_of(client.get(path))
        for _ in range(requests):
            began = time.perf_counter()
            client.get(path).raise_for_status()
            samples.append((time.perf_counter() - began) * 1000)
    return {"p50_ms": round(pct(samples, 50), 1), "p99_ms": round(pct(samples, 99), 1), "requests": requests,
            "bytes": len(first.content), "queries": queries}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--institutions", type=int, default=int(os.environ.get("SCALE_INSTITUTIONS", 100)))
    parser.add_argument("--cases", type=int, default=int(os.environ.get("SCALE_CASES", 100_000)))
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--sqlite", action="store_true", help="use SQLite even when PostgreSQL answers")
    parser.add_argument("--helper", default="", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.helper:
        import asyncio

        print(json.dumps(asyncio.run(_helper(args.helper, args.count))))
        return 0
    with tempfile.TemporaryDirectory(prefix="clintech-scale-") as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        if run.pg_available() and not args.sqlite:
            database, engine = stack.enter_context(run.pg_database()), "postgresql"
        else:
            database, engine = f"sqlite:///{tmp / 'scale.sqlite3'}", "sqlite"
        env = run.base_env(tmp) | {"DATABASE_URL": database, "CLINTECH_DB_POOL": "1"}
        run.log(f"scale ({engine}): clintech demo --scale {args.institutions} --cases {args.cases}")
        began = time.perf_counter()
        build = subprocess.run([run.PY, "-m", "web.cli", "demo", "--scale", str(args.institutions), "--cases",
                                str(args.cases)], cwd=run.ROOT, env=env, capture_output=True, text=True, timeout=7200)
        if build.returncode != 0:
            raise RuntimeError(f"demo --scale failed:\n{build.stderr[-2000:]}")
        build_seconds = time.perf_counter() - began
        run.log(next((line for line in build.stdout.splitlines() if line.startswith("规模数据")), "built"))
        setup = helper(env, "setup")
        with run.serve("web.asgi:app", env, "/healthz") as url:
            run.log(f"API: {args.batches} batches of {args.batch_size} cases")
            api = api_ingest(url, setup, args.batches, args.batch_size)
            dashboard = latency(url, "/", "regulator_province", "工作台", args.requests)
            qc_page = latency(url, f"/qc/technology/{setup['technology']}", "qccenter", "<svg", args.requests)
        raw = helper(env, "raw", api["cases"])
        raw_rate = round(api["cases"] / raw["seconds"], 1)
        result = {"engine": engine, "institutions": args.institutions, "cases": args.cases,
                  "build_seconds": round(build_seconds, 1), "api": api,
                  "raw_insert": {"cases": api["cases"], "seconds": round(raw["seconds"], 3), "per_second": raw_rate},
                  "dashboard": dashboard, "qc_page": qc_page, "at": dt.datetime.now().isoformat(timespec="seconds")}
    print()
    print(f"Scale benchmark ({engine}, {args.institutions} institutions, {args.cases} cases; build {result['build_seconds']} s)")
    print(f"  API ingestion      {api['per_second']:>10} cases/s  ({api['cases']} cases in {api['seconds']} s)")
    print(f"  raw bulk insert    {raw_rate:>10} cases/s  (same rows)")
    print(f"  regulator /        p50 {dashboard['p50_ms']} ms   p99 {dashboard['p99_ms']} ms")
    print(f"  QC technology page p50 {qc_page['p50_ms']} ms   p99 {qc_page['p99_ms']} ms")
    run.RESULTS.mkdir(exist_ok=True)
    (run.RESULTS / f"scale-{dt.datetime.now():%Y%m%d-%H%M%S}.json").write_text(json.dumps(result, indent=2))
    write_latest(result)
    return 0


def write_latest(result: dict) -> None:
    """Add ``scale`` to ``bench/results/latest.json`` (``bench/run.py`` wrote the rest)."""
    latest = json.loads(run.LATEST.read_text()) if run.LATEST.exists() else {}
    latest["scale"] = {
        "engine": result["engine"], "institutions": result["institutions"], "cases": result["cases"],
        "api_cases_per_s": result["api"]["per_second"], "raw_cases_per_s": result["raw_insert"]["per_second"],
        "ingest_ratio": round(result["api"]["per_second"] / result["raw_insert"]["per_second"], 3),
        "regulator_p99_ms": result["dashboard"]["p99_ms"], "qc_p99_ms": result["qc_page"]["p99_ms"],
        "regulator_queries": result["dashboard"].get("queries"), "qc_queries": result["qc_page"].get("queries"),
        "when": result["at"], "loadavg": [round(x, 2) for x in os.getloadavg()]}
    run.LATEST.write_text(json.dumps(latest, indent=1))
    print(f"latest: {run.LATEST.relative_to(run.ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
