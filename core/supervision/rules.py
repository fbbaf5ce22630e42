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


# NAT-41: the national measure's eight violations, and which detectors find each on the
# portal's records (a province's rules name the same detectors with their own ids). Three
# cannot be judged from records alone; the table says why, on /warnings/rules.
NAT41_ITEMS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("（一）", "未建立医疗技术临床应用管理专门组织或者未指定专（兼）职人员负责具体管理工作", ("no_management_body",), ""),
    ("（二）", "未建立医疗技术临床应用管理相关规章制度", ("no_management_rules",), ""),
    ("（三）", "医疗技术临床应用管理混乱，存在医疗质量和医疗安全隐患", ("learning_curve",),
     "“管理混乱”是监督检查中的综合判断，无法由数据直接认定；学习曲线报警及其他各项预警是判断的依据"),
    ("（四）", "未按照要求向卫生行政部门进行医疗技术临床应用备案", ("unfiled_cases", "filing_annotation"), ""),
    ("（五）", "未按照要求报告或者报告不实信息", ("late_report", "unreported_cases"),
     "未按时报告可由数据检出；“报告不实信息”须核对病历等原始资料，平台只能检出备案与副本备注不一致等可比对之处"),
    ("（六）", "未按照要求向国家和省级医疗技术临床应用信息化管理平台报送相关信息", ("unreported_cases",),
     ""),
    ("（七）", "未将相关信息纳入院务公开范围向社会公开", ("disclosure_incomplete",),
     "限制类技术目录、备案时间和累计例数由本平台代为公开；机构须自行提供的是手术分级管理目录"),
    ("（八）", "未按要求保障医务人员接受医疗技术临床应用规范化培训权益", ("untrained_operators",),
     "平台能看到的是开展限制类技术的医师有无培训记录；机构是否阻碍医务人员参加培训须调查核实"),
)
