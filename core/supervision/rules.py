"""A warning's life as pure functions (NAT-41: the regulator acts on violations it can
detect; the institution explains or corrects first).

raised → seen (an institution user of its audience opened it) → explained / corrected
(the institution's answer, with attachments) → closed or escalated by the regulator; an
escalated warning is closed by the regulator above. The regulator may close or escalate
at any open step, so a warning never waits on an institution that does not answer."""

from __future__ import annotations

import enum

from core.errors import Problem


class WarningStatus(enum.StrEnum):
    raised = "raised"
    seen = "seen"
    explained = "explained"
    corrected = "corrected"
    escalated = "escalated"
    closed = "closed"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    WarningStatus.raised: "已预警", WarningStatus.seen: "机构已查看", WarningStatus.explained: "机构已说明",
    WarningStatus.corrected: "机构已整改", WarningStatus.escalated: "已上报上级", WarningStatus.closed: "已关闭",
}
SEVERITY_LABELS = {"notice": "提示", "warning": "警告", "serious": "严重"}
ANSWERS = {"explained": "情况说明", "corrected": "已整改"}
OPEN = (WarningStatus.raised, WarningStatus.seen, WarningStatus.explained, WarningStatus.corrected,
        WarningStatus.escalated)

# action → the statuses it may start from
TRANSITIONS: dict[str, tuple[WarningStatus, ...]] = {
    "seen": (WarningStatus.raised,),
    "answer": (WarningStatus.raised, WarningStatus.seen, WarningStatus.explained, WarningStatus.corrected),
    "escalate": (WarningStatus.raised, WarningStatus.seen, WarningStatus.explained, WarningStatus.corrected),
    "close": OPEN,
}
MIN_TEXT = 5
MAX_TEXT = 4000


def check_transition(status: str, action: str) -> list[Problem]:
    if status not in TRANSITIONS.get(action, ()):
        label = STATUS_LABELS.get(status, status)  # type: ignore[call-overload]
        return [Problem(f"该预警当前状态为「{label}」，不能执行此操作", "status", "NAT-41")]
    return []


def check_text(text: str, field: str, what: str) -> list[Problem]:
    """A written answer or note: not blank, at least ``MIN_TEXT`` characters, at most ``MAX_TEXT``."""
    text = (text or "").strip()
    if len(text) < MIN_TEXT:
        return [Problem(f"请填写{what}（至少 {MIN_TEXT} 个字）", field, "NAT-41")]
    if len(text) > MAX_TEXT:
        return [Problem(f"{what}不得超过 {MAX_TEXT} 个字", field, "NAT-41")]
    return []


def check_answer(kind: str, text: str) -> list[Problem]:
    problems = [] if kind in ANSWERS else [Problem("请选择答复方式：情况说明或已整改", "kind", "NAT-41")]
    return problems + check_text(text, "answer", "情况说明或整改情况")
