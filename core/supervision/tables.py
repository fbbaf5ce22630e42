"""Risk warnings (风险预警) and their history. Only ``core.supervision.service`` writes them."""

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.supervision.rules import WarningStatus
from core.tenancy.tables import Institution


class RiskWarning(Table, tablename="risk_warning"):
    """One finding of a warning rule about one institution (NAT-41, and each plugin's
    ``warning_rules``). ``fingerprint`` names the finding across evaluations (e.g.
    "code:G03" or "case:17"); the rule id and wording are copied from the rule as it was
    when raised, so a warning keeps what it cited."""

    institution = ForeignKey(Institution, index=True)
    rule_key = Varchar(length=40, index=True)
    detector = Varchar(length=40)
    rule_id = Varchar(length=20, default="")
    title = Varchar(length=200)
    description = Text(default="")
    severity = Varchar(length=12, default="warning")
    audience = JSON(default=[])
    # The same roles as ",regulator,medical_affairs,", so the lists filter by role in SQL.
    audience_key = Varchar(length=200, default="", index=True)
    fingerprint = Varchar(length=120, index=True)
    technology_code = Varchar(length=40, default="")
    technology_name = Varchar(length=200, default="")
    detail = Text(default="")
    records = JSON(default=[])  # [{"type": "case", "id": 17, "label": "…", "href": "/cases/17"}]
    count = Integer(default=1)
    fact_on = Date(null=True, default=None)  # the latest fact behind it (a case's date …)
    raised_on = Date()
    still_detected = Boolean(default=True)
    last_checked_on = Date(null=True, default=None)
    # core.supervision.rules: the warning's life, raised → … → closed
    status = Varchar(length=12, default=WarningStatus.raised, choices=WarningStatus, index=True)
    seen_at = Timestamptz(null=True, default=None)
    answer = Text(default="")
    answered_at = Timestamptz(null=True, default=None)
    answered_by = Varchar(length=100, default="")
    escalated_at = Timestamptz(null=True, default=None)
    escalated_to = Integer(null=True, default=None)  # the region whose regulator now decides
    closed_at = Timestamptz(null=True, default=None)
    closed_by = Varchar(length=100, default="")
    close_note = Text(default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class WarningEntry(Table, tablename="risk_warning_entry"):
    """One step of a warning's history, as both sides read it: who, when, what, why."""

    warning = ForeignKey(RiskWarning, index=True)
    action = Varchar(length=20)  # raised / seen / explained / corrected / escalated / closed / cleared / recurred
    actor_name = Varchar(length=100, default="")
    note = Text(default="")
    attachments = JSON(default=[])  # attachment ids added with this step
    at = Timestamptz(default=TimestamptzNow())


class WarningRun(Table, tablename="risk_warning_run"):
    """The lease of the evaluation job, so one worker evaluates at a time (several may run)."""

    name = Varchar(length=40, unique=True)
    lease_until = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    results = JSON(default={})


class CreditAnswer(Table, tablename="credit_answer"):
    """The institution's answer to its credit score of a year (NAT-39): kept with who and
    when, read by its regulators beside the score."""

    institution = ForeignKey(Institution, index=True)
    year = Integer()
    item = Varchar(length=40, default="")  # the item answered, empty for the score as a whole
    text = Text()
    answered_by = Varchar(length=100, default="")
    at = Timestamptz(default=TimestamptzNow())
