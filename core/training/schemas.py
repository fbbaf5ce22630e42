"""Statuses of a physician's review (``TrainingReview.status``) and their labels, which
depend on the review's kind: a transfer from another province is reviewed by the
province's QC centre; a transitional application by the institution, then listed by the
licence-issuing department."""

from __future__ import annotations

import enum


class ReviewStatus(enum.StrEnum):
    """transfer: submitted → passed / failed; transitional: submitted → reviewed / failed → listed."""

    submitted = "submitted"
    passed = "passed"  # transfer: counts as standardised training
    reviewed = "reviewed"  # transitional: the institution's review passed, the list reported
    failed = "failed"
    listed = "listed"  # transitional: publicised without objection, reported to the QC centre

    @property
    def label(self) -> str:
        return TRANSFER_LABELS.get(self) or TRANSITIONAL_LABELS[self]

    def label_for(self, kind: str) -> str:
        """The label on a review of ``kind`` (transfer / transitional)."""
        return (TRANSITIONAL_LABELS if kind == "transitional" else TRANSFER_LABELS)[self]


TRANSFER_LABELS = {ReviewStatus.submitted: "待省质控中心评议", ReviewStatus.passed: "评议合格（视同规范化培训合格）",
                   ReviewStatus.failed: "评议不合格"}
TRANSITIONAL_LABELS = {ReviewStatus.submitted: "待本机构组织评议",
                       ReviewStatus.reviewed: "本机构评议通过，名单已报卫生健康行政部门",
                       ReviewStatus.failed: "本机构评议未通过", ReviewStatus.listed: "公示无异议，已报省质控中心"}
