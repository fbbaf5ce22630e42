"""The audit trail: append-only, written in the transaction of the change it records."""

from piccolo.columns import JSON, BigInt, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AuditEvent(Table):
    at = Timestamptz(default=TimestamptzNow(), index=True)
    actor_id = Integer(null=True)
    actor_name = Varchar(length=60)
    action = Varchar(length=60, index=True)
    record_type = Varchar(length=60, index=True)
    record_id = BigInt(null=True)
    # The tenant the record belongs to, so regulators can read their region's trail.
    institution_id = Integer(null=True, index=True)
    before = JSON(null=True)
    after = JSON(null=True)
