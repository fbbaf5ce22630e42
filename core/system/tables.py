"""Deployment-wide state: the admin's plugin switches."""

from piccolo.columns import JSON, Boolean, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class PluginSwitch(Table):
    """The admin's on/off switch for one plugin; absent means on."""

    name = Varchar(length=100, unique=True)
    enabled = Boolean(default=True)
    changed_at = Timestamptz(default=TimestamptzNow())
    changed_by = Varchar(length=60, default="")


class JobHeartbeat(Table, tablename="job_heartbeat"):
    """The background job runner's last round: one row per runner ("serve" inside the
    web server, "worker" for ``clintech worker``); ``/healthz`` reports the newest."""

    runner = Varchar(length=20, unique=True)
    host = Varchar(length=120, default="")
    beat_at = Timestamptz(default=TimestamptzNow())
    results = JSON(default={})
