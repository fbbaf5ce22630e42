"""A technology's use in an institution, its history, and regions' suspensions.
Only ``core.lifecycle.service`` writes them."""

from piccolo.columns import Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.lifecycle.schemas import SuspensionStatus, UseStatus
from core.tenancy.tables import Institution, Region


class TechnologyUse(Table, tablename="technology_use"):
    """One institution × technology (院内技术使用) whose use was ever restricted; no row
    means 在用 for an admitted technology. ``technology_key`` is the catalogue code, or
    "P<project id>" for a technology outside the catalogue."""

    uid = Varchar(length=80, unique=True)  # "<institution>:<technology_key>"
    institution = ForeignKey(Institution, index=True)
    technology_key = Varchar(length=40, index=True)
    technology_name = Varchar(length=200, default="")
    tech_class = Varchar(length=20, default="routine")
    project = Integer(null=True, default=None)
    status = Varchar(length=20, default=UseStatus.in_use, choices=UseStatus, index=True)
    by = Varchar(length=20, default="")  # core.lifecycle.schemas.Level
    since = Date(null=True, default=None)
    rule = Varchar(length=20, default="")
    trigger = Varchar(length=30, default="")
    reason = Text(default="")
    document = Varchar(length=200, default="")
    version = Integer(default=1)
    updated_at = Timestamptz(default=TimestamptzNow())


class UseEvent(Table, tablename="technology_use_event"):
    """One change of a technology's use in an institution: who, when, why, which rule,
    which document, and for a stop the management committee's decision."""

    institution = ForeignKey(Institution, index=True)
    technology_key = Varchar(length=40, index=True)
    technology_name = Varchar(length=200, default="")
    action = Varchar(length=30)  # stop / suspend / lift / region_suspend / region_lift / cancel / resume
    status_before = Varchar(length=20, default="")
    status_after = Varchar(length=20, default="")
    by = Varchar(length=20, default="")
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=100, default="")
    event_on = Date()
    rule = Varchar(length=20, default="")
    trigger = Varchar(length=30, default="")
    reason = Text(default="")
    document = Varchar(length=200, default="")
    committee = Varchar(length=300, default="")  # who decided (管理委员会 members or body)
    meeting_on = Date(null=True, default=None)
    suspension = Integer(null=True, default=None)  # RegionSuspension id
    delivery_id = Integer(null=True, default=None)  # the stop report in the outbox
    reported_to = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class RegionSuspension(Table, tablename="region_suspension"):
    """A regulator suspends a technology for every institution of its region (e.g. the
    province after a NAT-25 (4) report), until it lifts the suspension."""

    region = ForeignKey(Region, index=True)
    technology_key = Varchar(length=40, index=True)
    technology_name = Varchar(length=200, default="")
    status = Varchar(length=10, default=SuspensionStatus.active, choices=SuspensionStatus, index=True)
    rule = Varchar(length=20, default="")
    reason = Text(default="")
    document = Varchar(length=200, default="")
    started_on = Date()
    started_by = Varchar(length=100, default="")
    lifted_on = Date(null=True, default=None)
    lifted_by = Varchar(length=100, default="")
    lift_reason = Text(default="")
    lift_document = Varchar(length=200, default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
