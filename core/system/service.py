"""The admin's plugin switches (read per request, so every worker sees a switch at once)
and the job runner's heartbeat."""

from __future__ import annotations

import datetime as dt
import socket

import msgspec

from core.accounts.schemas import Actor
from core.audit import service as audit
from core.db import write_transaction
from core.errors import NotFound
from core.plugins import PluginHost
from core.system.tables import JobHeartbeat, PluginSwitch


async def disabled_plugins() -> frozenset[str]:
    rows = await PluginSwitch.select(PluginSwitch.name).where(PluginSwitch.enabled == False)  # noqa: E712
    return frozenset(r["name"] for r in rows)


# ---------------------------------------------------------------- deployment state, read with the session


class DeploymentState(msgspec.Struct, frozen=True):
    """What every request needs about the deployment, read in the same query as the
    session (``state_columns``): the switched-off plugins (so a switch reaches every
    worker at its next request) and a signature of the admin's holiday notices (the work
    calendar built from them is kept in the process until the signature changes)."""

    disabled: frozenset[str]
    calendar_key: str


def _state_sql() -> dict[str, str]:
    """The deployment state as scalar sub-queries, by alias."""
    from core.db import is_sqlite
    from core.holidays.tables import HolidayOverride

    names = "group_concat(name, ',')" if is_sqlite() else "string_agg(name, ',')"
    return {
        "state_disabled": f"(SELECT {names} FROM {PluginSwitch._meta.tablename} WHERE NOT enabled)",
        # Notices are replaced by delete + insert, never updated: the count, the last id or
        # the last entry time changes (SQLite may reuse the ids of deleted rows).
        "state_calendar": f"(SELECT COUNT(*) || ':' || COALESCE(MAX(id), 0) || ':' || "
                          f"COALESCE(CAST(MAX(entered_at) AS VARCHAR(40)), '') FROM {HolidayOverride._meta.tablename})",
    }


def state_columns() -> list:
    """The deployment state as columns to add to another SELECT (the session's)."""
    from piccolo.querystring import QueryString

    return [QueryString(sql).as_alias(alias) for alias, sql in _state_sql().items()]


def state_from(row: dict) -> DeploymentState:
    names = row.get("state_disabled") or ""
    return DeploymentState(disabled=frozenset(n for n in names.split(",") if n),
                           calendar_key=str(row.get("state_calendar") or ""))


async def deployment_state() -> DeploymentState:
    """The deployment state alone (a request without a session): one query."""
    sql = "SELECT " + ", ".join(f"{q} AS {alias}" for alias, q in _state_sql().items())
    return state_from((await PluginSwitch.raw(sql))[0])


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
