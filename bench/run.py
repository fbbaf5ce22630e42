"""``make bench``: the logged-in dashboard against a plain Litestar + Jinja page, in one run.

What it does, self-contained (nothing outside a temporary directory is touched):

1. serves ``bench/baseline_app.py`` with uvicorn (one worker, loopback, free port);
2. builds a demo deployment on SQLite in a temporary directory (``python -m web.cli demo``),
   serves the portal the same way, logs in through the real login form as
   ``medaffairs_a`` and measures ``GET /`` (the dashboard) with the cookies a browser then
   holds (the session and its CSRF token);
3. does the same on PostgreSQL (a temporary database, dropped afterwards) when a server
   answers on 127.0.0.1:5432;
4. prints requests/s and p50/p99 latency for each and the ratio to the baseline, and
   writes the figures to ``bench/results/`` (gitignored).

The load comes from Debian's ``wrk`` (warm-up, then a bounded run; latency percentiles
through ``bench/report.lua``), or, where wrk is missing, from a bounded asyncio/httpx
loader in this file (slower itself, so its figures are lower; the table says which was used).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PY = sys.executable
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
DEMO_PASSWORD = "demo-pass-2026"
SESSION_COOKIE = "clintech_session"
CSRF_COOKIE = "csrftoken"


def log(message: str) -> None:
    print(f"· {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- servers


@contextlib.contextmanager
def serve(app: str, env: dict[str, str], ready_path: str) -> Iterator[str]:
    """``uvicorn <app>`` with one worker on a free loopback port; yields the base URL."""
    port = free_port()
    cmd = [PY, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
           "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{app} exited with {proc.returncode} before answering")
            try:
                if httpx.get(url + ready_path, timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{app} did not answer on {url} within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def login(url: str, username: str) -> str:
    """Log in through the real form (CSRF included); return the session cookie value."""
    return browser_cookies(url, username)[SESSION_COOKIE]


def browser_cookies(url: str, username: str) -> dict[str, str]:
    """Log in through the real form (CSRF included); return the cookies a browser then
    holds: the session and the CSRF token bound to it."""
    with httpx.Client(base_url=url, timeout=10) as client:
        client.get("/login").raise_for_status()
        answer = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "next": "/"},
                             headers={"x-csrftoken": client.cookies.get("csrftoken", "")})
        if answer.status_code != 303 or SESSION_COOKIE not in client.cookies:
            raise RuntimeError(f"login as {username} failed: HTTP {answer.status_code}")
        return {name: client.cookies[name] for name in (SESSION_COOKIE, CSRF_COOKIE)}


def check_page(url: str, headers: dict[str, str], must_contain: str) -> int:
    """The measured page answers 200 with its content (not a redirect to the login form)."""
    return len(fetch_page(url, headers, must_contain).content)


def fetch_page(url: str, headers: dict[str, str], must_contain: str) -> httpx.Response:
    answer = httpx.get(url, headers=headers, timeout=10, follow_redirects=False)
    if answer.status_code != 200 or must_contain not in answer.text:
        raise RuntimeError(f"{url} answered HTTP {answer.status_code} without {must_contain!r}")
    return answer


def queries_of(answer: httpx.Response) -> int | None:
    """The queries the server ran for ``answer`` (CLINTECH_COUNT_QUERIES=1 sets the header)."""
    value = answer.headers.get("x-clintech-queries")
    return int(value) if value is not None else None


# ---------------------------------------------------------------- load generators


def run_wrk(url: str, headers: dict[str, str], seconds: int, threads: int, connections: int) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
           "-s", str(BENCH / "report.lua")]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    duration = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "rps": raw["requests"] / duration,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": sum(raw["errors"].values()),
        "seconds": duration,
    }


async def _python_load(url: str, headers: dict[str, str], seconds: float, connections: int) -> dict:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=10) as client:
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                start = time.perf_counter()
                try:
                    answer = await client.get(url)
                    ok = answer.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - start)
                errors += not ok

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000 if latencies else 0.0

    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50_ms": pct(50), "p90_ms": pct(90),
            "p99_ms": pct(99), "max_ms": latencies[-1] * 1000 if latencies else 0.0, "errors": errors,
            "seconds": elapsed}


def run_python(url: str, headers: dict[str, str], seconds: int, threads: int, connections: int) -> dict:
    return asyncio.run(_python_load(url, headers, seconds, connections))


def measure(loader, url: str, headers: dict[str, str], args) -> dict:
    loader(url, headers, args.warmup, args.threads, args.connections)  # warm-up, discarded
    return loader(url, headers, args.duration, args.threads, args.connections)


# ---------------------------------------------------------------- deployments


def base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLINTECH_", "DATABASE_URL", "PICCOLO_"))}
    env.update({
        "CLINTECH_VAR": str(tmp / "var"),
        "CLINTECH_PLUGINS": "jilin,hospital_default",
        "CLINTECH_SECRET": secrets.token_hex(32),
        "PYTHONPATH": str(ROOT),
        "CLINTECH_COUNT_QUERIES": "1",  # each answer says how many queries it ran
    })
    return env


def pg_available() -> bool:
    if not shutil.which("psql"):
        return False
    try:
        with socket.create_connection((PG["host"], PG["port"]), timeout=1):
            return True
    except OSError:
        return False


def psql(sql: str, database: str = "postgres", timeout: int = 60) -> None:
    subprocess.run(["psql", "-q", "-h", PG["host"], "-p", str(PG["port"]), "-U", PG["user"], "-d", database,
                    "-c", sql], check=True, capture_output=True, timeout=timeout)


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    name = f"clintech_bench_{os.getpid()}_{secrets.token_hex(3)}"
    psql(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def load_demo(label: str, env: dict[str, str]) -> None:
    """``clintech demo`` into the deployment ``env`` names."""
    log(f"{label}: loading the demo deployment")
    demo = subprocess.run([PY, "-m", "web.cli", "demo"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    if demo.returncode != 0:
        raise RuntimeError(f"clintech demo failed ({label}):\n{demo.stderr[-2000:]}")


def bench_portal(label: str, database_url: str, tmp: Path, loader, args) -> dict:
    env = base_env(tmp) | {"DATABASE_URL": database_url}
    load_demo(label, env)
    # The queries are counted on one request of a server that counts them
    # (CLINTECH_COUNT_QUERIES=1); the throughput is measured on one that does not, as
    # deployed and as the baseline (counting costs every request a little).
    with serve("web.asgi:app", env, "/healthz") as url:
        headers = _browser_headers(url, args.user)
        fetch_page(url + "/", headers, "工作台")
        # The queries of a request once the process has read what it keeps (the work calendar).
        queries = queries_of(fetch_page(url + "/", headers, "工作台"))
    with serve("web.asgi:app", env | {"CLINTECH_COUNT_QUERIES": "0"}, "/healthz") as url:
        headers = _browser_headers(url, args.user)
        size = len(fetch_page(url + "/", headers, "工作台").content)
        log(f"{label}: measuring GET / as {args.user} ({size} bytes, {queries} queries counted on a separate "
            f"server; this one does not count) on {url}")
        result = measure(loader, url + "/", headers, args)
        check_page(url + "/", headers, "工作台")  # the session held for the whole run
    return result | {"bytes": size, "queries": queries}


def _browser_headers(url: str, username: str) -> dict[str, str]:
    """Both cookies a logged-in browser sends: without its CSRF cookie every answer would
    mint a new token and set it, which a browser's second page never does."""
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in browser_cookies(url, username).items())}


def bench_baseline(tmp: Path, loader, args) -> dict:
    with serve("bench.baseline_app:app", base_env(tmp), "/") as url:
        size = check_page(url + "/", {}, "工作台")
        log(f"baseline: measuring GET / ({size} bytes) on {url}")
        return measure(loader, url + "/", {}, args) | {"bytes": size}


# ---------------------------------------------------------------- report


def table(rows: list[dict], baseline: dict) -> str:
    head = f"{'page':<34}{'database':<12}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}   vs baseline"
    lines = [head, "-" * len(head)]
    for row in rows:
        r = row["result"]
        if row is rows[0]:
            versus = "1.00"
        else:
            share = r["rps"] / baseline["rps"]
            versus = f"{share:.2f} of its req/s ({1 / share:.1f}× slower), p50 ×{r['p50_ms'] / baseline['p50_ms']:.1f}"
        lines.append(f"{row['page']:<34}{row['database']:<12}{r['rps']:>10,.0f}{r['p50_ms']:>9.2f}"
                     f"{r['p99_ms']:>9.2f}{r['errors']:>8}   {versus}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per page (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per page (default 3)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--user", default="medaffairs_a", help="demo user whose dashboard is measured")
    parser.add_argument("--loader", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL measurement")
    args = parser.parse_args()

    use_wrk = args.loader == "wrk" or (args.loader == "auto" and shutil.which("wrk"))
    if args.loader == "wrk" and not shutil.which("wrk"):
        print("wrk 未安装：scripts/system_deps.sh --bench（root）或 apt-get install wrk", file=sys.stderr)
        return 2
    loader, loader_name = (run_wrk, "wrk") if use_wrk else (run_python, "python-httpx")
    if not use_wrk:
        log("wrk not found: using the built-in asyncio/httpx loader (it is slower than the servers it measures)")
    load = f"{loader_name} -t{args.threads} -c{args.connections} -d{args.duration}s (warm-up {args.warmup}s)"
    log(f"load: {load}; server: uvicorn, 1 worker, 127.0.0.1")

    try:
        rows, baseline = run_all(args, loader)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    report(rows, baseline, load)
    return 0


def run_all(args, loader) -> tuple[list[dict], dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="clintech-bench-") as tmpdir:
        tmp = Path(tmpdir)
        baseline = bench_baseline(tmp, loader, args)
        rows.append({"page": "baseline (Litestar + Jinja)", "database": "—", "result": baseline})
        sqlite_url = f"sqlite:///{tmp / 'var' / 'bench.sqlite3'}"
        rows.append({"page": f"dashboard as {args.user}", "database": "SQLite",
                     "result": bench_portal("SQLite", sqlite_url, tmp, loader, args)})
        if args.no_postgres:
            log("PostgreSQL: skipped (--no-postgres)")
        elif not pg_available():
            log("PostgreSQL: not answering on 127.0.0.1:5432, skipped")
        else:
            with pg_database() as pg_url:
                rows.append({"page": f"dashboard as {args.user}", "database": "PostgreSQL",
                             "result": bench_portal("PostgreSQL", pg_url, tmp / "pg", loader, args)})
    return rows, baseline


def report(rows: list[dict], baseline: dict, load: str) -> None:
    text = table(rows, baseline)
    print()
    print(text)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    meta = {"when": dt.datetime.now().isoformat(timespec="seconds"), "commit": commit, "load": load,
            "cpus": os.cpu_count(), "loadavg": os.getloadavg(), "python": platform.python_version(),
            "machine": platform.platform()}
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(meta | {"rows": rows}, ensure_ascii=False, indent=2))
    (RESULTS / f"bench-{stamp}.txt").write_text(f"{meta}\n\n{text}\n")
    write_latest(rows, baseline)
    print(f"\n{load}; {os.cpu_count()} CPUs, server and load generator on the same machine"
          f" (load average now {os.getloadavg()[0]:.1f}: other work on the machine lowers every figure).")
    print(f"results: {(RESULTS / f'bench-{stamp}.txt').relative_to(ROOT)}")


LATEST = RESULTS / "latest.json"


def write_latest(rows: list[dict], baseline: dict) -> None:
    """``bench/results/latest.json``: the dashboard figures (``bench/scale.py`` adds ``scale``)."""
    dashboard = {}
    for row in rows[1:]:
        r = row["result"]
        dashboard[row["database"].lower().replace("postgresql", "postgres")] = {
            "rps": round(r["rps"], 1), "p99_ms": round(r["p99_ms"], 1),
            "ratio": round(r["rps"] / baseline["rps"], 3), "queries": r.get("queries")}
    LATEST.write_text(json.dumps({"baseline_rps": round(baseline["rps"], 1), "dashboard": dashboard,
                                  "when": dt.datetime.now().isoformat(timespec="seconds"),
                                  "loadavg": [round(x, 2) for x in os.getloadavg()]}, indent=1))
    print(f"latest: {LATEST.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
