"""The regulator's pages' reads, new against old, alternated in one process on one database
(a same-run ratio on a shared, loaded machine): the summary / index reads of the funnel plot,
the CUSUM's acceptable rate and the credit score's first restricted case against the case
rows' aggregation they replaced (``from_cases=True``, which the tests prove equal).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/clintech_scale_1k \\
        .venv/bin/python bench/compare_reads.py --rounds 15
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("CLINTECH_PLUGINS", "jilin,hospital_default")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    import core.settings  # noqa: F401  (points piccolo at DATABASE_URL)
    from core.accounts.tables import User
    from core.supervision import credit, cusum, funnel
    from core.tenancy.service import visible_institution_ids
    from core.tenancy.tables import Region
    from tests.filing_helpers import region_actor

    if not await User.exists().where(User.username == "regulator_scale01"):
        raise SystemExit("not a database of clintech demo --scale (no regulator_scale01)")
    province, city = await region_actor("regulator_province"), await region_actor("regulator_scale01")
    assert await Region.exists().where(Region.id == city.region_id)
    code = (await funnel.technologies(province))[0]["code"]
    codes = [t["code"] for t in await funnel.technologies(province)]
    ids = await visible_institution_ids(province)
    today = dt.date.today()

    reads = {
        "funnel technologies (province)": lambda old: funnel.technologies(province, from_cases=old),
        "funnel complication (province)": lambda old: funnel.funnel(province, code, "complication", from_cases=old),
        "funnel mortality (province)": lambda old: funnel.funnel(province, code, "mortality", from_cases=old),
        "funnel complication (city)": lambda old: funnel.funnel(city, code, "complication", from_cases=old),
        "CUSUM acceptable rates": lambda old: cusum._rates(codes, from_cases=old),
        "credit first restricted case": lambda old: credit._restricted_since(ids, today, from_cases=old),
    }
    print(f"{len(ids)} institutions, technology {code}; {args.rounds} rounds, old and new alternated; "
          f"load {os.getloadavg()[0]:.2f}")
    print(f"{'read':<34}{'old p50':>10}{'old max':>10}{'new p50':>10}{'new max':>10}{'new/old':>9}")
    for name, read in reads.items():
        assert await read(True) == await read(False), name  # the same answer
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.rounds):
            for old in (True, False):
                began = time.perf_counter()
                await read(old)
                times[old].append((time.perf_counter() - began) * 1000)
        med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
        print(f"{name:<34}{med[True]:>10.1f}{max(times[True]):>10.1f}{med[False]:>10.1f}{max(times[False]):>10.1f}"
              f"{med[False] / med[True]:>9.3f}")
    print(f"load {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    asyncio.run(main())
