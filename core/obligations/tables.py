"""Obligations (待办/时限), the reminders sent for them, and per-user calendar feeds."""

from piccolo.columns import Boolean, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.accounts.tables import User
from core.obligations.schemas import ObligationStatus
from core.tenancy.tables import Institution


class Obligation(Table):
    """Something with a legal due date, created by a deadline rule from a domain event.

    ``status`` stores only what happened (open / done / waived, or exempt by a plugin's
    exemption, with its evidence in the ``exempt_*`` columns); "due soon" and "overdue"
    are derived from the due date and today when read.
    """

    # rule id | obligation kind | subject | event kind | occurrence: one obligation
    # per rule, subject and event, however often the event is reported.
    dedupe_key = Varchar(length=300, unique=True)
    rule_id = Varchar(length=40, index=True)
    rule_plugin = Varchar(length=60, default="")
    kind = Varchar(length=60, index=True)
    title = Varchar(length=200)
    article = Text(default="")
    # Shown on screen with the rule, e.g. a deployment setting that fixes a window.
    setting_note = Varchar(length=300, default="")
    role = Varchar(length=30, default="")
    # No index of its own: ``obligation_institution_counts`` (institution, status, due_on,
    # done_late) leads with it, and every write of a batch of cases maintains each index.
    institution = ForeignKey(Institution, index=False)
    assignee = ForeignKey(User, null=True, index=True, on_delete=OnDelete.set_null)
    subject_type = Varchar(length=40)
    subject_id = Integer(index=True)
    subject_label = Varchar(length=200, default="")
    event_kind = Varchar(length=60)
    event_on = Date()
    occurrence = Varchar(length=20, default="")
    technology_code = Varchar(length=40, default="")
    technology_class = Varchar(length=20, default="")
    due_on = Date(index=False)  # ``obligation_due_counts`` (due_on, institution, …) leads with it
    provisional = Boolean(default=False)  # CAL-4: crosses a year whose holidays are unknown
    unknown_years = Varchar(length=60, default="")
    status = Varchar(length=10, default=ObligationStatus.open, choices=ObligationStatus, index=True)
    done_on = Date(null=True, default=None)
    done_late = Boolean(default=False)
    # Waived by hand (status "waived"), or the note of a completion: why, and who.
    waived_reason = Text(default="")
    waived_by = Varchar(length=60, default="")
    # A plugin's exemption (grandfathering, status "exempt"), as the plugin declared it: the
    # evidence, the source article, the plugin, and the cut-off day when it has one.
    exempt_evidence = Text(default="")
    exempt_article = Text(default="")
    exempt_plugin = Varchar(length=60, default="")
    exempt_before = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)


class ObligationReminder(Table):
    """One reminder stage sent for an obligation (a lead time or "overdue").

    ``key`` is unique per (obligation, stage): the database itself refuses a second
    send, whatever several workers do.
    """

    key = Varchar(length=80, unique=True)
    obligation = ForeignKey(Obligation, index=True)
    stage = Varchar(length=20)
    sent_at = Timestamptz(default=TimestamptzNow())
    recipients = Integer(default=0)


class CalendarFeed(Table):
    """A user's secret iCalendar feed URL; only the token's SHA-256 is stored."""

    user = ForeignKey(User, unique=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class ObligationSummary(Table, tablename="obligation_summary"):
    """How many obligations per institution × status (× ``done_late``; × due date for open
    ones, whose state — overdue, due soon, open — depends on the day; ``due`` "" otherwise).
    Kept by database triggers on ``obligation`` in the transaction of every write (see
    ``core.qc.tables.CaseSummary``); the regulator's dashboard counts read it."""

    institution = Integer()
    status = Varchar(length=10, choices=ObligationStatus)
    done_late = Boolean(default=False)
    due = Varchar(length=10, default="")
    n = Integer(default=0)


class ObligationYearSummary(Table, tablename="obligation_year_summary"):
    """How many obligations per institution × kind × year of the due date × status
    (× ``done_late``; × due date for open ones, "" otherwise): the credit scores of a whole
    region (NAT-39) count obligations on time and late by kind over a year from these rows
    instead of the year's obligations (222,000 at 1,000 institutions). Kept by triggers on
    ``obligation`` like ``ObligationSummary``."""

    institution = Integer()
    kind = Varchar(length=60, default="")
    year = Varchar(length=4, default="")
    status = Varchar(length=10, choices=ObligationStatus)
    done_late = Boolean(default=False)
    due = Varchar(length=10, default="")
    n = Integer(default=0)
