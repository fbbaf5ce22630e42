"""What one Chromium navigation costs on this machine (issue 9: the browser walks are half of
``make test``'s CPU), against a trivial document measured in the same run.

1. builds a demo deployment on SQLite in a temporary directory and serves it with uvicorn
   (``bench/run.py``'s helpers, as ``make bench`` does);
2. launches the test suite's Chromium (``tests/conftest.py``: Debian's chromium-headless-shell;
   ``CLINTECH_CHROMIUM=/usr/bin/chromium`` for the full browser) through Playwright with the
   suite's arguments, logs in as ``medaffairs_a`` through the form;
3. after one untimed round, opens ``--rounds`` times each of ten portal pages; as many again,
   reading each page's text and links with locators (Playwright builds its selector engine
   in every document) and as many with ``page.evaluate`` (the page's own script world);
   then as many times a trivial document (the emblem SVG), then as many fresh contexts
   (each with the session, one page); for each it reads the CPU time of the browser's
   process tree (``/proc``, Playwright's driver included, with the children its processes
   reaped) and of this process, and the wall time;
4. prints ms of CPU and of wall time per navigation (or per context), and the ratio of a
   portal page to the trivial document.

Extra Chromium arguments after ``--`` are appended, to try a flag against the same pages:
``.venv/bin/python bench/browser_nav.py -- --in-process-gpu``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import run  # noqa: E402  (bench/run.py: servers, login, the demo deployment)

from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the suite's browser, as it launches it)

PAGES = ["/", "/admission", "/cases", "/obligations", "/catalog", "/qc", "/inbox", "/training", "/outbox",
         "/evaluations"]
TRIVIAL = "/static/emblem.svg"


def tree_cpu_seconds(root: int) -> float:
    """CPU of ``root``'s descendants (the browser, its helpers, the Playwright driver): each
    live one's utime + stime, plus cutime + cstime, the CPU of the children it has reaped
    (a context's renderer that exited is counted in its zygote's)."""
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parent[int(name)] = int(fields[1])
        ticks[int(name)] = sum(int(n) for n in fields[11:15])
    total = 0
    for pid, used in ticks.items():
        ancestor = parent.get(pid, 0)
        while ancestor not in (0, 1, root):
            ancestor = parent.get(ancestor, 0)
        if ancestor == root:
            total += used
    return total / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(label: str, times: int, step) -> dict:
    """``step()`` ``times`` times; CPU and wall per step."""
    me = os.getpid()
    children, own, start = tree_cpu_seconds(me), own_cpu_seconds(), time.perf_counter()
    for _ in range(times):
        await step()
    wall = time.perf_counter() - start
    result = {
        "label": label, "n": times,
        "browser_cpu_ms": round((tree_cpu_seconds(me) - children) / times * 1000, 1),
        "python_cpu_ms": round((own_cpu_seconds() - own) / times * 1000, 1),
        "wall_ms": round(wall / times * 1000, 1),
    }
    print(f"{label:<34} {result['browser_cpu_ms']:7.1f} ms browser CPU  {result['python_cpu_ms']:5.1f} ms Python  "
          f"{result['wall_ms']:7.1f} ms wall  (n={times})", flush=True)
    return result


async def bench(url: str, rounds: int, extra: list[str]) -> list[dict]:
    from playwright.async_api import async_playwright

    cookies = run.browser_cookies(url, "medaffairs_a")
    state = {"cookies": [{"name": k, "value": v, "domain": "127.0.0.1", "path": "/"} for k, v in cookies.items()]}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra])
        context = await browser.new_context(base_url=url, locale="zh-CN", storage_state=state)
        page = await context.new_page()
        for path in PAGES:  # untimed: the first visit fills the context's cache
            await page.goto(path)
        if not page.url.startswith(url) or "/login" in page.url:
            raise RuntimeError(f"the session did not hold: {page.url}")
        pages = iter(PAGES * rounds * 3)

        async def portal_page():
            await page.goto(next(pages))

        async def read_by_locator():  # what a test that reads the page with locators pays
            await page.goto(next(pages))
            await page.locator("body").inner_text()
            await page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")

        async def read_by_evaluate():  # the same text and links from the page's own script world
            await page.goto(next(pages))
            await page.evaluate("() => [document.body.innerText, "
                                "Array.from(document.querySelectorAll('main a[href]'), a => a.getAttribute('href'))]")

        async def trivial():
            await page.goto(TRIVIAL)

        async def fresh_context():
            other = await browser.new_context(base_url=url, locale="zh-CN", storage_state=state)
            await (await other.new_page()).goto(PAGES[0])
            await other.close()

        results = [
            await measure("portal page (10 pages)", len(PAGES) * rounds, portal_page),
            await measure("portal page + read by locators", len(PAGES) * rounds, read_by_locator),
            await measure("portal page + read by evaluate", len(PAGES) * rounds, read_by_evaluate),
            await measure("trivial document (emblem SVG)", len(PAGES) * rounds, trivial),
            await measure("fresh context + home page", rounds * 2, fresh_context),
        ]
        await browser.close()
    return results


def main() -> int:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="visits of each of the ten pages")
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if not Path(CHROMIUM).exists():
        sys.exit(f"Chromium not found at {CHROMIUM} (scripts/system_deps.sh --test installs it)")
    with tempfile.TemporaryDirectory(prefix="clintech-nav-") as tmp:
        env = run.base_env(Path(tmp)) | {"DATABASE_URL": f"sqlite:///{tmp}/nav.sqlite3", "CLINTECH_COUNT_QUERIES": "0",
                                          "CLINTECH_SECURE_COOKIES": "0"}
        run.load_demo("SQLite", env)
        with run.serve("web.asgi:app", env, "/healthz") as url:
            run.log(f"Chromium {' '.join(extra) or '(the suite arguments)'} on {url}")
            results = asyncio.run(bench(url, args.rounds, extra))
    page, trivial = results[0], results[3]
    print(f"a portal page costs {page['browser_cpu_ms'] / trivial['browser_cpu_ms']:.2f}x the browser CPU of a "
          f"trivial document")
    return 0


if __name__ == "__main__":
    sys.exit(main())
