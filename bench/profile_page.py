"""Profile one page in-process: where a request's time goes (pyinstrument when installed,
else cProfile), and each SQL statement's time.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/clintech_scale_1k \\
        .venv/bin/python bench/profile_page.py --user regulator_province /credit/ --requests 20

The app runs on this process's event loop (``httpx.ASGITransport``), logged in through the
real form, with the deployment's plugins (``CLINTECH_PLUGINS``, default ``jilin,hospital_default``
as ``make bench``). Not a benchmark: profiling slows every call; ``bench/scale.py`` measures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CLINTECH_PLUGINS", "jilin,hospital_default")
os.environ.setdefault("CLINTECH_SECRET", "profile-" + "0" * 56)
# A database kept by ``bench/scale.py --keep-db NAME`` has its files under /var/tmp/clintech-scale-NAME.
os.environ.setdefault("CLINTECH_VAR", f"/var/tmp/clintech-scale-{os.environ.get('DATABASE_URL', '').rsplit('/', 1)[-1]}/var")
os.environ["CLINTECH_JOBS"] = "separate"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--user", default="regulator_province", help="login name; '' for anonymous")
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--cprofile", action="store_true", help="cProfile even when pyinstrument is installed")
    parser.add_argument("--sql", action="store_true", help="print each statement of one request with its time")
    args = parser.parse_args()

    import httpx

    from bench.run import DEMO_PASSWORD, SESSION_COOKIE
    from web.asgi import app

    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                 base_url="http://127.0.0.1") as client:
        if args.user:
            await client.get("/login")
            answer = await client.post("/login", data={"username": args.user, "password": DEMO_PASSWORD, "next": "/"},
                                       headers={"x-csrftoken": client.cookies.get("csrftoken", "")})
            if SESSION_COOKIE not in client.cookies:
                raise SystemExit(f"login as {args.user} failed: HTTP {answer.status_code}")
        first = await client.get(args.path)
        print(f"{args.path}: HTTP {first.status_code}, {len(first.content)} bytes")
        if args.sql:
            await _statements(client, args.path)
        times = []
        profiler = None
        try:
            if args.cprofile:
                raise ImportError
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="enabled")
            profiler.start()
        except ImportError:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        for _ in range(args.requests):
            began = time.perf_counter()
            (await client.get(args.path)).raise_for_status()
            times.append((time.perf_counter() - began) * 1000)
        if hasattr(profiler, "disable"):
            profiler.disable()
            import pstats

            pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(40)
        else:
            profiler.stop()
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        times.sort()
        print(f"{args.requests} requests under the profiler: median {times[len(times) // 2]:.1f} ms, "
              f"max {times[-1]:.1f} ms")


async def _statements(client, path: str) -> None:
    """Each statement of one request with its time (asyncpg's connection, wrapped)."""
    import asyncpg.connection

    seen: list[tuple[float, str]] = []
    originals = {}
    for name in ("fetch", "execute", "fetchrow", "fetchval"):
        original = getattr(asyncpg.connection.Connection, name)
        originals[name] = original

        def wrap(original=original):
            async def timed(self, query, *args, **kwargs):
                began = time.perf_counter()
                try:
                    return await original(self, query, *args, **kwargs)
                finally:
                    seen.append(((time.perf_counter() - began) * 1000, " ".join(str(query).split())))
            return timed

        setattr(asyncpg.connection.Connection, name, wrap())
    try:
        began = time.perf_counter()
        await client.get(path)
        total = (time.perf_counter() - began) * 1000
    finally:
        for name, original in originals.items():
            setattr(asyncpg.connection.Connection, name, original)
    print(f"one request: {total:.1f} ms, {len(seen)} statements, {sum(t for t, _ in seen):.1f} ms in them")
    for t, sql in seen:
        print(f"  {t:8.1f} ms  {sql[:300]}")


if __name__ == "__main__":
    asyncio.run(main())
