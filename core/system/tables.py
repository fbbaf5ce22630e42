"""Deployment-wide state: the admin's plugin switches."""

from piccolo.columns import Boolean, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class PluginSwitch(Table):
    """The admin's on/off switch for one plugin; absent means on."""

    name = Varchar(length=100, unique=True)
    enabled = Boolean(default=True)
    changed_at = Timestamptz(default=TimestamptzNow())
    changed_by = Varchar(length=60, default="")
