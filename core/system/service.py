"""The admin's plugin switches (read per request, so every worker sees a switch at once)
and the job runner's heartbeat."""

from __future__ import annotations

import datetime as dt
import socket

from core.accounts.schemas import Actor
from core.audit import service as audit
from core.db import write_transaction
from core.errors import NotFound
from core.plugins import PluginHost
from core.system.tables import JobHeartbeat, PluginSwitch


async def disabled_plugins() -> frozenset[str]:
    rows = await PluginSwitch.select(PluginSwitch.name).where(PluginSwitch.enabled == False)  # noqa: E712
    return frozenset(r["name"] for r in rows)


async def set_plugin_enabled(actor: Actor, host: PluginHost, name: str, enabled: bool) -> None:
    """Switch a plugin of this deployment on or off; audited, survives restarts."""
    if name not in host.deployment:
        raise NotFound("该插件不属于本部署")
    if name in host.defaults:
        from core.errors import DomainError, Problem

        raise DomainError(Problem("内置的默认插件（国家规定）始终启用，不能停用", "enabled"))
    row = await PluginSwitch.select().where(PluginSwitch.name == name).first()
    before = row["enabled"] if row else True
    async with write_transaction():
        if row is None:
            await PluginSwitch.insert(PluginSwitch(name=name, enabled=enabled, changed_by=actor.username))
        else:
            await PluginSwitch.update(
                {PluginSwitch.enabled: enabled, PluginSwitch.changed_by: actor.username}
            ).where(PluginSwitch.name == name)
        await audit.record(actor, "plugin.switch", "plugin", None,
                           before={"name": name, "enabled": before}, after={"name": name, "enabled": enabled})


async def beat(runner: str, results: dict[str, int], *, now: dt.datetime | None = None) -> None:
    """Record that ``runner`` ("serve" or "worker") finished a round of the jobs."""
    now = now or dt.datetime.now(dt.UTC)
    values = {"host": socket.gethostname()[:120], "beat_at": now, "results": dict(results)}
    async with write_transaction():
        updated = await JobHeartbeat.update({getattr(JobHeartbeat, k): v for k, v in values.items()}).where(
            JobHeartbeat.runner == runner).returning(JobHeartbeat.id)
        if not updated:
            await JobHeartbeat.insert(JobHeartbeat(runner=runner, **values))


async def last_heartbeat() -> dict | None:
    """The newest heartbeat of any runner (``None`` when the jobs have never run)."""
    return await JobHeartbeat.select().order_by(JobHeartbeat.beat_at, ascending=False).first().output(
        load_json=True)
