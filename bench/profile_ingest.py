"""Profile case ingestion in-process: ``POST /api/v1/cases`` batches, the Python and database
time of a batch, each statement of one batch, and a raw COPY of the same number of case rows
alternated with the batches (a same-run ratio, independent of the machine's load drift).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/clintech_scale_ingest \\
        .venv/bin/python bench/profile_ingest.py --batches 20 [--cprofile] [--sql]

The app runs on this process's event loop (``httpx.ASGITransport``) with the token that
``bench/scale.py``'s ``setup`` helper issues; the batches are those of ``api_ingest``.
Not a benchmark: ``bench/scale.py`` measures.
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
sys.path.insert(0, str(ROOT / "bench"))
_NAME = os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1]
_KEPT = Path(f"/var/tmp/clintech-scale-{_NAME}")
os.environ.setdefault("CLINTECH_PLUGINS", "jilin,hospital_default")
if (_KEPT / "secret").exists():
    os.environ.setdefault("CLINTECH_SECRET", (_KEPT / "secret").read_text().strip())
os.environ.setdefault("CLINTECH_SECRET", "profile-" + "0" * 56)
os.environ.setdefault("CLINTECH_VAR", str(_KEPT / "var"))
os.environ["CLINTECH_JOBS"] = "separate"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--cprofile", action="store_true", help="profile the batches (cProfile, cumulative)")
    parser.add_argument("--pyinstrument", action="store_true", help="profile the batches (pyinstrument, when installed)")
    parser.add_argument("--sql", action="store_true", help="print each statement of one batch with its time")
    parser.add_argument("--sql-batches", type=int, default=3, help="batches traced with --sql (the last printed)")
    args = parser.parse_args()

    import httpx
    import scale

    from web.asgi import app

    setup = await scale._helper("setup", 0)
    headers = {"Authorization": f"Bearer {setup['token']}"}
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                                 base_url="http://127.0.0.1", timeout=600) as client:
        async def post(b: int) -> float:
            body = scale.case_batch(setup, b, args.size, prefix="PROF")
            began = time.perf_counter()
            answer = await client.post("/api/v1/cases", json=body, headers=headers)
            took = time.perf_counter() - began
            if answer.status_code != 200:
                raise SystemExit(f"HTTP {answer.status_code}: {answer.text[:500]}")
            return took

        await post(-1)  # warm
        if args.sql:
            for b in range(2, 2 + args.sql_batches):
                await _statements(lambda b=b: post(-b), show=b == 1 + args.sql_batches)
        profiler = None
        if args.cprofile:
            import cProfile

            profiler = cProfile.Profile()
        sampler = None
        if args.pyinstrument:
            from pyinstrument import Profiler

            sampler = Profiler(async_mode="enabled", interval=0.0005)
        api, raw, cpu = [], [], []
        for b in range(args.batches):
            c0 = time.process_time()
            if profiler:
                profiler.enable()
            if sampler:
                sampler.start()
            api.append(await post(b))
            if profiler:
                profiler.disable()
            if sampler:
                sampler.stop()
            cpu.append(time.process_time() - c0)
            raw.append((await scale._helper("raw", args.size))["seconds"])
        if sampler:
            print(sampler.output_text(unicode=True, color=False, show_all=False))
        if profiler:
            import pstats

            pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            profiler.dump_stats("/tmp/profile_ingest.pstats")
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    print(f"{args.batches} batches of {args.size}: API median {med(api) * 1000:.1f} ms (process CPU "
          f"{med(cpu) * 1000:.1f} ms), raw COPY median {med(raw) * 1000:.1f} ms; same-run ratio of medians "
          f"{med(raw) / med(api):.3f}, of totals {sum(raw) / sum(api):.3f} (load {os.getloadavg()[0]:.2f})")


async def _statements(call, show: bool = True) -> None:
    """Each statement of one batch with its time (asyncpg's connection, wrapped)."""
    import asyncpg.connection

    seen: list[tuple[float, str]] = []
    originals = {}
    for name in ("fetch", "execute", "fetchrow", "fetchval", "executemany", "copy_records_to_table"):
        original = getattr(asyncpg.connection.Connection, name)
        originals[name] = original

        def wrap(original=original, name=name):
            async def timed(self, query, *args, **kwargs):
                began = time.perf_counter()
                try:
                    return await original(self, query, *args, **kwargs)
                finally:
                    seen.append(((time.perf_counter() - began) * 1000, f"[{name}] " + " ".join(str(query).split())))
            return timed

        setattr(asyncpg.connection.Connection, name, wrap())
    try:
        total = await call() * 1000
    finally:
        for name, original in originals.items():
            setattr(asyncpg.connection.Connection, name, original)
    print(f"one batch: {total:.1f} ms, {len(seen)} statements, {sum(t for t, _ in seen):.1f} ms in them")
    for t, sql in seen if show else []:
        print(f"  {t:8.1f} ms  {sql[:260]}")


if __name__ == "__main__":
    asyncio.run(main())
