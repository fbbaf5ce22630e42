"""The outbox (报送队列): deliveries to authorities and every automatic attempt.

Only ``core.outbox.service`` writes these tables.
"""

from piccolo.columns import JSON, BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.outbox.rules import DeliveryStatus


class Delivery(Table, tablename="outbox_delivery"):
    """One filing, case, report or admission to deliver through one reporting channel.

    Written in the same transaction as the change it reports (DESIGN.md §6); a worker
    leases it, sends it, and records the authority's answer.
    """

    channel = Varchar(length=60, index=True)  # the channel's key, e.g. "jilin_platform"
    channel_name = Varchar(length=200, default="")  # its Chinese name when enqueued
    kind = Varchar(length=20)  # filing / case / report / admission
    subject_type = Varchar(length=40)  # the reported record, e.g. "filing"
    subject_id = BigInt(index=True)
    institution_id = Integer(index=True)  # the tenant the delivery belongs to
    payload = JSON(default={})
    # [{key, title, filename, path, content_type, sha256, size}] — files by storage path
    attachments = JSON(default=[])
    # Sent as the Idempotency-Key header: the authority answers a repeat with its first receipt.
    idempotency_key = Varchar(length=64, unique=True)
    status = Varchar(length=20, index=True, default=DeliveryStatus.queued, choices=DeliveryStatus)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow(), index=True)
    lease_until = Timestamptz(null=True, default=None)
    leased_by = Varchar(length=80, default="")
    receipt_id = Varchar(length=120, default="")  # the authority's receipt (回执号)
    last_error = Text(default="")  # the Chinese reason of the last failure or rejection
    authority_message = Text(default="")  # what the authority said, verbatim (truncated)
    created_by = Varchar(length=60, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    accepted_at = Timestamptz(null=True, default=None)


class DeliveryAttempt(Table, tablename="outbox_attempt"):
    """One automatic attempt of the worker: when, by whom, what came back."""

    delivery = ForeignKey(Delivery, index=True)
    number = Integer()
    at = Timestamptz(default=TimestamptzNow())
    worker = Varchar(length=80, default="")
    outcome = Varchar(length=20)  # the status the attempt led to
    http_status = Integer(null=True, default=None)
    error = Text(default="")
    duration_ms = Integer(default=0)
