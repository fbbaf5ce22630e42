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

``--keep-db NAME`` keeps the built PostgreSQL database ``NAME`` (and its var directory and
secret under ``/var/tmp/clintech-scale-NAME``) and reuses it when it already holds a built
province, so page timings can be repeated without the build (about 10 minutes at
1,000 / 1,000,000); a reused database is analyzed first (this machine's PostgreSQL runs
without autovacuum). ``--pages-only`` skips the API ingestion and the raw insert (which add
cases to a kept database); ``--pages none`` measures no page (the ingestion only).
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
                "operator": inst["lead.username"], **await _page_ids()}
    start = (await CaseRecord.select(CaseRecord.id).order_by(CaseRecord.id, ascending=False).first())["id"] + 1
    import random

    project = dict(inst)
    rows = demo_scale.case_rows(random.Random(7), start, count, [project], until=dt.date.today(), years=1,
                                rule="JL-38", source="bench", tag="RAW")
    began = time.perf_counter()
    await demo_scale.bulk("case_record", demo_scale.CASE_COLUMNS, rows)
    seconds = time.perf_counter() - began
    # The rows carry their ids: move the sequence past them (not timed), or the API's next
    # batch on a kept database draws ids that are taken (duplicate key, HTTP 500).
    await demo_scale._reset_sequence("case_record")
    return {"seconds": seconds}


async def _page_ids() -> dict:
    """Ids in the measured pages' paths: the first generated city (its regulator is
    ``regulator_scale01``), an institution of it, a warning of it (the most recent)."""
    from core.supervision.tables import RiskWarning
    from core.tenancy.tables import Institution, Region

    city = await Region.select(Region.id).where(Region.name == "规模市01").first()
    if city is None:
        return {}
    institution = await Institution.select(Institution.id).where(Institution.region == city["id"]).order_by(
        Institution.id).first()
    warning = await RiskWarning.select(RiskWarning.id).where(RiskWarning.institution.region == city["id"]).order_by(
        RiskWarning.id, ascending=False).first()
    return {"city": city["id"], "institution": institution["id"], "warning": warning["id"] if warning else None}


# The regulator-facing pages: (key, path, user, text the answer must hold). ``{technology}``,
# ``{institution}``, ``{warning}`` and ``{city}`` come from the setup helper; user "" is anonymous.
PROVINCE, CITY, QC = "regulator_province", "regulator_scale01", "qccenter"
PAGES = [
    ("dashboard", "/", PROVINCE, "工作台"),
    ("dashboard_city", "/", CITY, "工作台"),
    ("qc_technology", "/qc/technology/{technology}", QC, "<svg"),
    ("qc_technology_city", "/qc/technology/{technology}", CITY, "<svg"),
    ("qc_index", "/qc/", PROVINCE, "<svg"),
    ("warnings", "/warnings/", PROVINCE, "风险预警"),
    ("warnings_city", "/warnings/", CITY, "风险预警"),
    ("warning_detail", "/warnings/{warning}", PROVINCE, "风险预警"),
    ("credit", "/credit/", PROVINCE, "信誉评分"),
    ("credit_city", "/credit/", CITY, "信誉评分"),
    ("credit_detail", "/credit/{institution}", PROVINCE, "信誉评分"),
    ("funnel", "/analytics/funnel?code={technology}", PROVINCE, "<svg"),
    ("funnel_city", "/analytics/funnel?code={technology}", CITY, "<svg"),
    ("funnel_mortality", "/analytics/funnel?code={technology}&measure=mortality", PROVINCE, "<svg"),
    ("funnel_drill", "/analytics/funnel/{technology}/institutions/{institution}", PROVINCE, "{technology}"),
    ("cusum", "/analytics/cusum/", PROVINCE, "CUSUM"),
    ("filing_desk", "/filings/desk", PROVINCE, "备案"),
    ("filing_desk_city", "/filings/desk", CITY, "备案"),
    ("consistency", "/filings/consistency", PROVINCE, "备案"),
    ("obligations", "/obligations", PROVINCE, "时限"),
    ("public_filings", "/public/filings", "", "备案"),
    ("public_region", "/public/filings/region/{city}", "", "备案"),
    ("public_institution", "/public/institutions/{institution}", "", "规模医院"),
    ("open_filings_json", "/open-data/filings.json", "", "["),
    ("open_filings_csv", "/open-data/filings.csv", "", ","),
    ("open_disclosures_json", "/open-data/disclosures.json", "", "["),
]


def helper(env: dict, kind: str, count: int = 0) -> dict:
    out = subprocess.run([run.PY, str(Path(__file__)), "--helper", kind, "--count", str(count)], cwd=run.ROOT,
                         env=env, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"helper {kind} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- measurements


def case_batch(setup: dict, b: int, size: int, prefix: str = "API") -> dict:
    """Batch ``b`` of ``size`` cases of the setup's technology, as a hospital's system posts
    them to ``POST /api/v1/cases`` (operation dates spread over 200 days)."""
    today = dt.date.today()
    cases = []
    for k in range(size):
        op = today - dt.timedelta(days=3 + (b * size + k) % 200)
        cases.append({"case_id": f"{prefix}-{b}-{k}-{secrets.token_hex(3)}", "technology_code": setup["code"],
                      "patient_key": f"PK-{b}-{k}", "admitted_on": (op - dt.timedelta(days=1)).isoformat(),
                      "operated_on": op.isoformat(), "discharged_on": min(op + dt.timedelta(days=2), today).isoformat(),
                      "operators": [setup["operator"]], "indication": "基准测试", "outcome": "improved",
                      "qc_values": {"并发症发生率": "否", "手术时间": "90"}, "consent": True})
    return {"cases": cases}


def api_ingest(url: str, setup: dict, batches: int, size: int) -> dict:
    """``batches`` timed batches of ``size`` cases, after one untimed warm-up batch (as each
    page's first request is not timed: a fresh server compiles its queries and prepares its
    statements on first use)."""
    headers = {"Authorization": f"Bearer {setup['token']}"}
    # The bodies are built and encoded before the clock starts: the server's work is timed,
    # not the load generator's (as wrk's requests are written before they are sent).
    # The bytes httpx's ``json=`` sends (``httpx._content.encode_json``).
    bodies = {b: json.dumps(case_batch(setup, b, size), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
              for b in range(-1, batches)}
    headers["Content-Type"] = "application/json"

    def post(client: httpx.Client, b: int) -> httpx.Response:
        return client.post("/api/v1/cases", content=bodies[b], headers=headers)

    def created(answer: httpx.Response) -> int:
        if answer.status_code != 200:
            raise RuntimeError(f"API answered {answer.status_code}: {answer.text[:500]}")
        return answer.json()["created"]

    answers, each = [], []
    with httpx.Client(base_url=url, timeout=600) as client:
        began = time.perf_counter()
        created(post(client, -1))
        warm_up_ms = round((time.perf_counter() - began) * 1000, 1)
        began = time.perf_counter()
        for b in range(batches):
            started = time.perf_counter()
            answers.append(post(client, b))
            each.append(round((time.perf_counter() - started) * 1000, 1))
        seconds = time.perf_counter() - began
    total = sum(created(answer) for answer in answers)
    return {"cases": total, "seconds": round(seconds, 2), "per_second": round(total / seconds, 1),
            "warm_up_ms": warm_up_ms, "batch_ms": each}


def first_jobs_round(url: str, timeout: float = 1800) -> float:
    """Wait until the server has finished the round of the background jobs it starts with
    (``clintech serve`` runs one at start-up, then one a minute): its heartbeat, runner
    "serve", is then the newest on ``/healthz`` (the ``worker --once`` round before it beat
    as "worker"). The measurements are of the portal serving, not of its start-up round;
    the later rounds fall where they fall. Returns the seconds waited."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        if httpx.get(url + "/healthz", timeout=30).json()["jobs"].get("runner") == "serve":
            seconds = round(time.perf_counter() - began, 1)
            run.log(f"the server's start-up round of the background jobs: {seconds} s (waited before measuring)")
            return seconds
        time.sleep(0.5)
    raise RuntimeError(f"the server's first round of the background jobs did not end within {timeout} s")


def latency(url: str, path: str, username: str, must: str, requests: int) -> dict:
    cookies = {run.SESSION_COOKIE: run.login(url, username)} if username else {}
    samples = []
    with httpx.Client(base_url=url, timeout=120, cookies=cookies) as client:
        first = client.get(path)
        if first.status_code != 200 or must not in first.text:
            raise RuntimeError(f"{path} as {username or 'anonymous'}: HTTP {first.status_code}")
        queries = run.queries_of(client.get(path))
        for _ in range(requests):
            began = time.perf_counter()
            client.get(path).raise_for_status()
            samples.append((time.perf_counter() - began) * 1000)
    return {"p50_ms": round(pct(samples, 50), 1), "p99_ms": round(pct(samples, 99), 1),
            "max_ms": round(max(samples), 1), "requests": requests,
            "bytes": len(first.content), "queries": queries}


def kept_database(name: str, institutions: int, cases: int) -> tuple[str, str, Path, bool]:
    """The kept PostgreSQL database ``name`` and its state directory: (url, engine, dir, already built)."""
    if not name.replace("_", "").isalnum() or not name[0].isalpha():
        raise SystemExit(f"--keep-db: {name!r} is not a plain database name")
    state = Path(f"/var/tmp/clintech-scale-{name}")
    state.mkdir(parents=True, exist_ok=True)
    if not (state / "secret").exists():
        (state / "secret").write_text(secrets.token_hex(32))
    url = f"postgresql://{run.PG['user']}@{run.PG['host']}:{run.PG['port']}/{name}"
    marker = state / "built"
    if marker.exists():
        built = json.loads(marker.read_text())
        if (built["institutions"], built["cases"]) != (institutions, cases):
            raise SystemExit(f"--keep-db {name} holds {built['institutions']} / {built['cases']}; "
                             f"drop it (DROP DATABASE {name}; rm -r {state}) or use another name")
        return url, "postgresql", state, True
    run.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # a half-built one
    run.psql(f"CREATE DATABASE {name}")
    return url, "postgresql", state, False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--institutions", type=int, default=int(os.environ.get("SCALE_INSTITUTIONS", 100)))
    parser.add_argument("--cases", type=int, default=int(os.environ.get("SCALE_CASES", 100_000)))
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--sqlite", action="store_true", help="use SQLite even when PostgreSQL answers")
    parser.add_argument("--keep-db", default="", metavar="NAME",
                        help="PostgreSQL database to keep after the run and reuse when already built")
    parser.add_argument("--jobs", choices=("inline", "separate"), default="inline",
                        help="the background jobs in the measured server (inline, as `clintech serve`) or not "
                             "(separate: CLINTECH_JOBS=separate, as a province with `clintech worker` processes)")
    parser.add_argument("--pages", default="", help="comma-separated page keys to measure (default: all)")
    parser.add_argument("--pages-only", action="store_true",
                        help="measure the pages only (no API ingestion, no raw insert)")
    parser.add_argument("--helper", default="", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.helper:
        import asyncio

        print(json.dumps(asyncio.run(_helper(args.helper, args.count))))
        return 0
    with tempfile.TemporaryDirectory(prefix="clintech-scale-") as tmp_name, contextlib.ExitStack() as stack:
        tmp = Path(tmp_name)
        reused = False
        if args.keep_db:
            if args.sqlite or not run.pg_available():
                raise SystemExit("--keep-db needs PostgreSQL on 127.0.0.1:5432")
            database, engine, tmp, reused = (*kept_database(args.keep_db, args.institutions, args.cases),)
        elif run.pg_available() and not args.sqlite:
            database, engine = stack.enter_context(run.pg_database()), "postgresql"
        else:
            database, engine = f"sqlite:///{tmp / 'scale.sqlite3'}", "sqlite"
        env = run.base_env(tmp) | {"DATABASE_URL": database, "CLINTECH_DB_POOL": "1"}
        if args.keep_db:
            env["CLINTECH_SECRET"] = (tmp / "secret").read_text().strip()
        build_seconds = None
        if reused:
            run.log(f"scale ({engine}): reusing the kept database {args.keep_db}")
            # This machine's PostgreSQL runs without autovacuum (CI's configuration): left alone,
            # a kept database's planner statistics describe it as built, not with the cases and
            # open obligations earlier runs added — the batch's NAT-25 bar check then scanned every
            # open obligation (13 ms a batch at 35,000). ANALYZE, as autovacuum would have.
            run.psql("ANALYZE", args.keep_db, timeout=3600)
        else:
            run.log(f"scale ({engine}): clintech demo --scale {args.institutions} --cases {args.cases}")
            began = time.perf_counter()
            build = subprocess.run([run.PY, "-m", "web.cli", "demo", "--scale", str(args.institutions), "--cases",
                                    str(args.cases)], cwd=run.ROOT, env=env, capture_output=True, text=True,
                                   timeout=7200)
            if build.returncode != 0:
                raise RuntimeError(f"demo --scale failed:\n{build.stderr[-2000:]}")
            build_seconds = time.perf_counter() - began
            run.log(next((line for line in build.stdout.splitlines() if line.startswith("规模数据")), "built"))
            if args.keep_db:
                (tmp / "built").write_text(json.dumps({"institutions": args.institutions, "cases": args.cases,
                                                       "build_seconds": round(build_seconds, 1),
                                                       "at": dt.datetime.now().isoformat(timespec="seconds")}))
        # One round of the background jobs before serving (the warnings are evaluated over the
        # whole province); the server runs them again inline every minute, as ``clintech serve``.
        began = time.perf_counter()
        jobs = subprocess.run([run.PY, "-m", "web.cli", "worker", "--once"], cwd=run.ROOT, env=env,
                              capture_output=True, text=True, timeout=3600)
        if jobs.returncode != 0:
            raise RuntimeError(f"clintech worker --once failed:\n{jobs.stderr[-2000:]}")
        jobs_seconds = round(time.perf_counter() - began, 1)
        run.log(f"one round of the background jobs: {jobs_seconds} s")
        if engine == "postgresql":
            # The round raised the province's warnings (6,220 at 1,000 / 1,000,000) and sent its
            # reminders: without autovacuum the planner still took risk_warning for nearly empty
            # and sorted every open warning for the regulator's to-do (20 ms; 0.6 ms after).
            # ANALYZE, as autovacuum would have.
            run.psql("ANALYZE", database.rsplit("/", 1)[-1], timeout=3600)
        setup = helper(env, "setup")
        if args.jobs == "separate":
            env["CLINTECH_JOBS"] = "separate"
        with run.serve("web.asgi:app", env, "/healthz") as url:
            first_round = first_jobs_round(url) if args.jobs == "inline" else None
            api = None
            if not args.pages_only:
                run.log(f"API: {args.batches} batches of {args.batch_size} cases")
                api = api_ingest(url, setup, args.batches, args.batch_size)
            pages = {}
            for key, path, user, must in PAGES:
                if args.pages and key not in args.pages.split(","):
                    continue
                if "{" in path and any(setup.get(k) is None for k in ("technology", "institution", "warning", "city")
                                       if "{" + k + "}" in path):
                    run.log(f"{key}: skipped (no record for {path})")
                    continue
                path, must = path.format(**setup), must.format(**setup)
                pages[key] = latency(url, path, user, must, args.requests) | {"path": path, "user": user or "anonymous"}
                run.log(f"{key:<24} {path:<52} p50 {pages[key]['p50_ms']:>7} ms  p99 {pages[key]['p99_ms']:>7} ms  "
                        f"{pages[key]['queries']} queries  (load {os.getloadavg()[0]:.2f})")
            dashboard, qc_page = pages.get("dashboard"), pages.get("qc_technology")
        raw = helper(env, "raw", api["cases"]) if api else None
        raw_rate = round(api["cases"] / raw["seconds"], 1) if api else None
        result = {"engine": engine, "institutions": args.institutions, "cases": args.cases,
                  "build_seconds": round(build_seconds, 1) if build_seconds is not None else None,
                  "reused_db": args.keep_db if reused else None, "api": api,
                  "raw_insert": {"cases": api["cases"], "seconds": round(raw["seconds"], 3), "per_second": raw_rate}
                  if api else None,
                  "dashboard": dashboard, "qc_page": qc_page, "pages": pages, "at": dt.datetime.now().isoformat(timespec="seconds"),
                  "loadavg": [round(x, 2) for x in os.getloadavg()], "requests": args.requests, "jobs_round_seconds": jobs_seconds,
                  "serve_first_round_seconds": first_round,
                  "jobs": args.jobs}
    print()
    built = f"build {result['build_seconds']} s" if not reused else f"kept database {args.keep_db}"
    print(f"Scale benchmark ({engine}, {args.institutions} institutions, {args.cases} cases; {built}; "
          f"jobs {args.jobs}, one round {jobs_seconds} s; load {result['loadavg']})")
    if api:
        print(f"  API ingestion      {api['per_second']:>10} cases/s  ({api['cases']} cases in {api['seconds']} s; "
              f"batches {sorted(api['batch_ms'])[len(api['batch_ms']) // 2]} ms median, warm-up batch "
              f"{api['warm_up_ms']} ms, not counted)")
        print(f"  raw bulk insert    {raw_rate:>10} cases/s  (same rows)")
    print(f"  {'page':<24}{'user':<20}{'p50 ms':>9}{'p99 ms':>9}{'queries':>9}{'bytes':>10}   ({args.requests} requests each)")
    for key, m in result["pages"].items():
        print(f"  {key:<24}{m['user']:<20}{m['p50_ms']:>9}{m['p99_ms']:>9}{m['queries'] or '':>9}{m['bytes']:>10}")
    run.RESULTS.mkdir(exist_ok=True)
    (run.RESULTS / f"scale-{dt.datetime.now():%Y%m%d-%H%M%S}.json").write_text(json.dumps(result, indent=2))
    write_latest(result)
    return 0


def write_latest(result: dict) -> None:
    """Add ``scale`` to ``bench/results/latest.json`` (``bench/run.py`` wrote the rest)."""
    latest = json.loads(run.LATEST.read_text()) if run.LATEST.exists() else {}
    scale = latest.get("scale", {}) if result["api"] is None else {}  # --pages-only keeps the last ingestion's
    scale |= {"engine": result["engine"], "institutions": result["institutions"], "cases": result["cases"]}
    if result["api"] is not None:
        scale |= {"api_cases_per_s": result["api"]["per_second"],
                  "raw_cases_per_s": result["raw_insert"]["per_second"],
                  "ingest_ratio": round(result["api"]["per_second"] / result["raw_insert"]["per_second"], 3)}
    if result["dashboard"]:
        scale |= {"regulator_p99_ms": result["dashboard"]["p99_ms"],
                  "regulator_queries": result["dashboard"].get("queries")}
    if result["qc_page"]:
        scale |= {"qc_p99_ms": result["qc_page"]["p99_ms"], "qc_queries": result["qc_page"].get("queries")}
    # Every measured page: p50/p99 and queries (the supervision pages: warnings, credit, funnel …).
    scale["pages"] = scale.get("pages", {}) | {
        key: {"p50_ms": m["p50_ms"], "p99_ms": m["p99_ms"], "queries": m["queries"], "requests": m["requests"],
              "user": m["user"]} for key, m in result["pages"].items()}
    for key, m in result["pages"].items():
        scale[f"{key}_p99_ms"] = m["p99_ms"]
    scale |= {"requests": result["requests"], "build_seconds": result["build_seconds"], "jobs": result["jobs"],
              "jobs_round_seconds": result["jobs_round_seconds"],
              "serve_first_round_seconds": result["serve_first_round_seconds"],
              "batch_ms": (result["api"] or {}).get("batch_ms"), "when": result["at"], "loadavg": result["loadavg"]}
    latest["scale"] = scale
    run.LATEST.write_text(json.dumps(latest, indent=1))
    print(f"latest: {run.LATEST.relative_to(run.ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
