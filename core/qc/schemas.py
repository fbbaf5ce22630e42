"""Statuses of the QC area's records, used by its tables, service and labels."""

from __future__ import annotations

import enum


class ReportStatus(enum.StrEnum):
    """An annual QC report (HOSP-17): the lead submits, the department reviews, medical
    affairs approves; a reviewer may return it to draft with a reason."""

    draft = "draft"
    submitted = "submitted"
    dept_reviewed = "dept_reviewed"
    approved = "approved"

    @property
    def label(self) -> str:
        return REPORT_STATUS_LABELS[self]


class SummaryStatus(enum.StrEnum):
    """The summary after the monitoring period and medical affairs' decision (HOSP-19)."""

    draft = "draft"
    submitted = "submitted"
    decided = "decided"


REPORT_STATUS_LABELS = {ReportStatus.draft: "填写中", ReportStatus.submitted: "待科室审核",
                        ReportStatus.dept_reviewed: "待医务处审核", ReportStatus.approved: "已审核备案"}
