"""Background jobs (reminders, outbox delivery, lapse checks) run by ``clintech worker``.

An area registers a job with ``@job`` in its ``jobs.py`` and lists that module in
``JOB_MODULES``. Each job takes the current ``HookView`` and returns how many
items it handled; it must be safe to run in several workers at once (lease rows).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable

from core.plugins import HookView

Job = Callable[[HookView], Awaitable[int]]

JOB_MODULES: list[str] = [
    "core.outbox.jobs",
    "core.obligations.jobs",
    "core.admission.jobs",
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
