"""Background jobs (reminders, outbox delivery, deadline recomputes, lapse checks).

They run inside ``clintech serve`` by default (``run_forever`` started with the app), or
in ``clintech worker`` on a multi-host deployment (``CLINTECH_JOBS=separate`` /
``clintech serve --no-jobs``); each round leaves a heartbeat that ``/healthz`` reports.

An area registers a job with ``@job`` in its ``jobs.py`` and lists that module in
``JOB_MODULES``. Each job takes the current ``HookView`` and returns how many
items it handled; it must be safe to run in several workers at once (lease rows).
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable

from core.plugins import HookView, PluginHost

Job = Callable[[HookView], Awaitable[int]]

JOB_MODULES: list[str] = [
    "core.outbox.jobs",
    "core.obligations.jobs",
    "core.admission.jobs",
    "core.supervision.jobs",
    "core.people.jobs",
]
_JOBS: dict[str, Job] = {}


def job(fn: Job) -> Job:
    _JOBS[f"{fn.__module__}.{fn.__name__}"] = fn
    return fn


def registered() -> dict[str, Job]:
    for module in JOB_MODULES:
        importlib.import_module(module)
    return dict(_JOBS)


async def run_all(hooks: HookView) -> dict[str, int]:
    """Run every registered job once; returns items handled per job."""
    return {name: await fn(hooks) for name, fn in registered().items()}


async def run_round(host: PluginHost, runner: str) -> dict[str, int]:
    """One round with the plugins as the admin has switched them now; leaves a heartbeat."""
    from core.system import service as system

    results = await run_all(host.view(await system.disabled_plugins()))
    await system.beat(runner, results)
    return results


async def run_forever(host: PluginHost, interval: int, runner: str = "serve") -> None:
    """Rounds every ``interval`` seconds until cancelled; a failed round is logged and
    the next one runs (a database that is briefly away does not stop the deliveries)."""
    log = logging.getLogger("clintech.jobs")
    while True:
        try:
            await run_round(host, runner)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("后台任务本轮失败，将在 %d 秒后重试", interval)
        await asyncio.sleep(max(interval, 1))
