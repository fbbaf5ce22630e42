"""The annual QC report (质量控制情况年报表, HOSP-17) and the summary after the monitoring
period (总结报告, HOSP-19). Only ``core.qc.service`` writes them."""

from piccolo.columns import JSON, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
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
