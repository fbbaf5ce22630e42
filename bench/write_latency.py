"""Write latency under concurrent HIS clients (issue 12.10): N clients post single-case
batches to ``POST /api/v1/cases`` at once; prints p50/p95/p99/max and the refusals.

    .venv/bin/python bench/write_latency.py                      # SQLite, 50 clients
    .venv/bin/python bench/write_latency.py --clients 50 --requests 6 --cases 10
    .venv/bin/python bench/write_latency.py --postgres           # a temporary PostgreSQL database

A fresh deployment each run (temporary directory; the demo data, one admitted routine
project of hospital A, an API token), served by uvicorn in its own process on loopback
(one worker, the background jobs off so only the clients write). Every client sends
``--requests`` batches one after the other; latency is measured from send to answer.
Writes ``bench/results/write-latency-<time>.json``. Not part of the test suite (no
timing in tests).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _prepare() -> tuple[int, str]:
    """Migrate, load the demo, admit a routine project of hospital A, issue a token."""
    from core import db, demo
    from core.plugins import PluginHost
    from core.settings import get_settings
    from core.tenancy.tables import Institution
    from tests import case_helpers as ch

    await db.migrate()
    host = PluginHost(get_settings().plugins)
    await demo.load(host.view())
    project_id = await ch.admitted(host.view(), tech_class="routine")
    row = await Institution.select(Institution.id).where(Institution.licence_no == "DEMO-A-0001").first()
    _, token = await ch.token_for(row["id"])
    return project_id, token


async def _load(url: str, token: str, project_id: int, clients: int, requests: int, cases: int) -> dict:
    import httpx

    from tests.case_helpers import case

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    start = asyncio.Event()

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120,
                                     headers={"authorization": f"Bearer {token}"}) as http:
            await start.wait()
            for _ in range(requests):
                body = {"cases": [case(project_id, case_id=f"B{n}-{secrets.token_hex(6)}") for _ in range(cases)]}
                t0 = time.perf_counter()
                response = await http.post("/api/v1/cases", json=body)
                latencies.append(time.perf_counter() - t0)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    tasks = [asyncio.create_task(client(n)) for n in range(clients)]
    await asyncio.sleep(0.5)
    t0 = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    return {"requests": len(latencies), "wall_s": round(wall, 2),
            "batches_per_s": round(len(latencies) / wall, 1), "statuses": statuses,
            "p50_s": round(pct(latencies, 50), 3), "p95_s": round(pct(latencies, 95), 3),
            "p99_s": round(pct(latencies, 99), 3), "max_s": round(max(latencies), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=4, help="batches per client")
    parser.add_argument("--cases", type=int, default=1, help="cases per batch")
    parser.add_argument("--postgres", action="store_true", help="a temporary database on 127.0.0.1:5432")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="clintech-bench-"))
    env = {**os.environ, "CLINTECH_VAR": str(tmp / "var"), "CLINTECH_FAST_HASH": "1",
           "CLINTECH_SECRET": secrets.token_hex(16), "CLINTECH_JOBS": "separate", "CLINTECH_DB_POOL": "1",
           "CLINTECH_PLUGINS": os.environ.get("CLINTECH_PLUGINS", "jilin,hospital_default")}
    pg_name = None
    if args.postgres:
        pg_name = f"clintech_bench_{secrets.token_hex(3)}"
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c", f"CREATE DATABASE {pg_name}"],
                       check=True)
        env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{pg_name}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ.update(env)
    project_id, token = asyncio.run(_prepare())
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "web.asgi:app", "--host", "127.0.0.1",
                               "--port", str(port), "--log-level", "warning", "--no-proxy-headers"],
                              cwd=ROOT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        import httpx

        for _ in range(200):
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        result = asyncio.run(_load(url, token, project_id, args.clients, args.requests, args.cases))
    finally:
        server.terminate()
        server.wait(timeout=20)
        if pg_name:
            subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c",
                            f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"], check=False)
    result |= {"database": "postgresql" if args.postgres else "sqlite", "clients": args.clients,
               "batches_per_client": args.requests, "cases_per_batch": args.cases,
               "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
               "load_average": os.getloadavg()}
    print(json.dumps(result, ensure_ascii=False, indent=2))
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / f"write-latency-{dt.datetime.now():%Y%m%d-%H%M%S}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
