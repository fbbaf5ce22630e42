"""The annual QC report (质量控制情况年报表, HOSP-17) and the summary after the monitoring
period (总结报告, HOSP-19). Only ``core.qc.service`` writes them."""

from piccolo.columns import (
    JSON,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.admission.tables import Project
from core.qc.schemas import ReportStatus, SummaryStatus
from core.tenancy.tables import Institution


class QcAnnualReport(Table):
    """One project's 《临床新技术质量控制情况年报表》 for one year."""

    institution = ForeignKey(Institution, index=True)
    project = ForeignKey(Project, index=True)
    year = Integer()
    # draft → submitted (lead) → dept_reviewed (department) → approved (medical affairs);
    # a reviewer may return it to draft with a reason.
    status = Varchar(length=20, default=ReportStatus.draft, choices=ReportStatus, index=True)
    prefill = JSON(default={})  # figures from the year's cases, frozen when submitted
    answers = JSON(default={})  # what the lead completes
    return_reason = Text(default="")
    submitted_on = Date(null=True, default=None)
    dept_reviewed_by = Varchar(length=60, default="")
    dept_comment = Text(default="")
    approved_by = Varchar(length=60, default="")
    approved_on = Date(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())


class QcSummary(Table):
    """The department's summary after the monitoring period and medical affairs'
    decision whether the technology becomes routine (HOSP-19)."""

    institution = ForeignKey(Institution, index=True)
    project = ForeignKey(Project, index=True, unique=True)
    status = Varchar(length=20, default=SummaryStatus.draft, choices=SummaryStatus)
    prefill = JSON(default={})
    answers = JSON(default={})
    decision = Varchar(length=20, default="")  # routine / extend / stop
    decision_reason = Text(default="")
    decided_by = Varchar(length=60, default="")
    decided_on = Date(null=True, default=None)
    catalog_entry = Varchar(length=80, default="")
    created_at = Timestamptz(default=TimestamptzNow())


# ---------------------------------------------------------------- summary tables (issue 15)
#
# Kept by database triggers on ``case_record`` (migration "case and obligation summary
# tables"), in the transaction of every write of a case — a batch insert, a correction, a
# void, a follow-up, a platform's receipt, the scale demo's bulk COPY — so no writer can
# forget them. The QC pages and the regulator's figures read them (``core.qc.summary``);
# ``tests/test_summaries.py`` proves they equal the raw aggregation. Nobody writes them in
# Python. Voided cases count nowhere (NAT-37).


class CaseSummary(Table, tablename="case_summary"):
    """Cases per institution × project × department × technology × month of operation.

    ``due`` is "" on a group's main row. The reports a case counts towards depend on the
    day (NAT-37: due once received or once its due date has passed), so a case with a
    reporting rule not yet received everywhere also counts in ``pending`` of the row whose
    ``due`` is its report's due date (ISO): a page adds the pending rows due before today."""

    institution = Integer(null=True)  # NULL as on the case rows (a case of no project)
    project = Integer(null=True)
    department = Integer(null=True)
    technology_code = Varchar(length=40, default="")
    technology_name = Varchar(length=200, default="")
    month = Varchar(length=7)  # YYYY-MM of operated_on
    due = Varchar(length=10, default="")
    cases = Integer(default=0)
    complications = Integer(default=0)
    adverse_events = Integer(default=0)
    reported = Integer(default=0)  # with a rule, received by every platform
    on_time = Integer(default=0)  # … by its due date
    pending = Integer(default=0)  # with a rule, not yet received everywhere (rows with ``due``)


class CaseIndicatorSummary(Table, tablename="case_indicator_summary"):
    """The QC indicator values (``case_record.qc_values``) per institution × project ×
    department × technology × month × indicator: how many cases recorded it, how many
    "1" (rates), the numeric sum and count (numbers' means)."""

    institution = Integer(null=True)  # NULL as on the case rows (a case of no project)
    project = Integer(null=True)
    department = Integer(null=True)
    technology_code = Varchar(length=40, default="")
    month = Varchar(length=7)
    name = Varchar(length=200)
    recorded = Integer(default=0)
    ones = Integer(default=0)
    number_sum = DoublePrecision(default=0.0)
    number_count = Integer(default=0)
