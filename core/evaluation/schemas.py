"""Statuses of the evaluation area's records (``Evaluation.status``, ``DataRequest.status``)
and their labels, used by its tables, service and pages."""

from __future__ import annotations

import enum


class EvaluationStatus(enum.StrEnum):
    """Where an evaluation stands (``Evaluation.status``)."""

    investigating = "investigating"  # EVAL-6: literature, guidelines, consensus, clinical data
    panel = "panel"  # EVAL-7: the panel is seated and sits until a valid conclusion
    concluded = "concluded"  # EVAL-7/8: a valid conclusion and its measure

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


class DataRequestStatus(enum.StrEnum):
    """A call for clinical data (调取临床资料, EVAL-6): open until the institution answers."""

    open = "open"
    answered = "answered"

    @property
    def label(self) -> str:
        return REQUEST_STATUS_LABELS[self]


STATUS_LABELS = {EvaluationStatus.investigating: "调查研究", EvaluationStatus.panel: "专家论证",
                 EvaluationStatus.concluded: "已形成评估结论"}
REQUEST_STATUS_LABELS = {DataRequestStatus.open: "待报送", DataRequestStatus.answered: "已报送"}
