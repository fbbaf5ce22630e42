"""The admin's plugin switches: read per request, so every worker sees a switch at once."""

from __future__ import annotations

from core.accounts.schemas import Actor
from core.audit import service as audit
from core.db import write_transaction
from core.errors import NotFound
from core.plugins import PluginHost
from core.system.tables import PluginSwitch


async def disabled_plugins() -> frozenset[str]:
    rows = await PluginSwitch.select(PluginSwitch.name).where(PluginSwitch.enabled == False)  # noqa: E712
    return frozenset(r["name"] for r in rows)


async def set_plugin_enabled(actor: Actor, host: PluginHost, name: str, enabled: bool) -> None:
    """Switch a plugin of this deployment on or off; audited, survives restarts."""
    if name not in host.deployment:
        raise NotFound("该插件不属于本部署")
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
