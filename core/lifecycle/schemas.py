"""Shapes of a technology's use: statuses, who restricts it, stop triggers, refusals."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from core.contract import LifecyclePolicy


class UseStatus(enum.StrEnum):
    """Where a technology stands in one institution (``TechnologyUse.status``)."""

    in_use = "in_use"
    suspended = "suspended"
    stopped = "stopped"
    cancelled = "cancelled"  # 注销备案: the licence-issuing department cancelled the filing (NAT-25)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {UseStatus.in_use: "在用", UseStatus.suspended: "暂停", UseStatus.stopped: "停止",
                 UseStatus.cancelled: "注销备案"}


class SuspensionStatus(enum.StrEnum):
    """A region's suspension of a technology (``RegionSuspension.status``): active until
    its regulator lifts it."""

    active = "active"
    lifted = "lifted"

    @property
    def label(self) -> str:
        return SUSPENSION_LABELS[self]


SUSPENSION_LABELS = {SuspensionStatus.active: "暂停中", SuspensionStatus.lifted: "已解除"}


class Level(enum.StrEnum):
    """Who restricted the use: the institution itself, the department that issued its
    licence (发证机关), or the regulator of a region (e.g. the province) for all of it."""

    institution = "institution"
    department = "department"
    region = "region"


LEVEL_LABELS = {Level.institution: "本机构", Level.department: "发证卫生健康行政部门", Level.region: "辖区卫生健康行政部门"}


class Trigger(msgspec.Struct, frozen=True):
    """A reason the institution stops a technology at once, shown with its article.

    ``ground`` is the NAT-25 case the trigger falls under, deciding what is reported:
    ``conditions``/``safety`` (NAT-25 (2)(3)) → a stop report to the licence-issuing
    department, which cancels the filing; ``efficacy`` (NAT-25 (4)) → to that department
    and the province; ``prohibited`` (NAT-25 (1)) → the catalogue already says so;
    ``""`` → the institution's own decision, reported to its department (HOSP-20)."""

    key: str
    text: str
    rule: str
    ground: str = ""


# NAT-25 (1)–(4), and HOSP-20's further triggers (seed 002, 七、中止程序: seven in all);
# NAT-22 / HOSP-19: an evaluation or a summary concluding "stop".
TRIGGERS: tuple[Trigger, ...] = (
    Trigger("prohibited", "（一）该项医疗技术被列为禁止类技术", "NAT-25", "prohibited"),
    Trigger("conditions", "（二）主要专业技术人员或关键设备、设施及其他辅助条件发生变化，不能满足相关技术临床应用管理规范要求，"
                          "或者影响临床应用效果", "NAT-25", "conditions"),
    Trigger("safety", "（三）在本机构应用过程中出现重大医疗质量、医疗安全或者伦理问题，或者发生与技术相关的严重不良后果",
            "NAT-25", "safety"),
    Trigger("efficacy", "（四）发现该项医疗技术临床应用效果不确切，或者存在重大质量、安全或者伦理缺陷", "NAT-25", "efficacy"),
    Trigger("hazard", "该项医疗技术存在医疗质量和医疗安全隐患", "HOSP-20", "safety"),
    Trigger("ethics_defect", "该项医疗技术存在伦理缺陷", "HOSP-20", "safety"),
    Trigger("other", "省级以上卫生健康行政部门规定的其他情形", "HOSP-20", ""),
    Trigger("evaluation", "医疗技术临床应用评估结论为停止临床应用", "NAT-22", ""),
    Trigger("summary", "监管期满总结报告经医务处决定停止临床应用", "HOSP-19", ""),
)
TRIGGER_BY_KEY = {t.key: t for t in TRIGGERS}
# What a person may choose on the stop form (the last two come from their own procedures).
CHOOSABLE = tuple(t for t in TRIGGERS if t.key not in ("evaluation", "summary"))

# Resumption only where the seeds allow it: a re-evaluation that finds the conditions met
# again (NAT-22), or a new filing (NAT-11, and a province rule such as the conditions_change
# one — the next first case opens it).
RESUMPTION = {"re_evaluation": "经重新评估符合技术管理要求（NAT-22）", "re_filing": "重新备案（下一例首例病例开启新的备案）"}


class Refusal(msgspec.Struct, frozen=True):
    """Why a case, a first case or a filing of a technology is refused now: the rule
    (``rule``, with the province's own rule ids in ``also``) and the Chinese message,
    which names them."""

    rule: str
    message: str
    status: str = ""
    also: tuple[str, ...] = ()


class UseState(msgspec.Struct, frozen=True):
    """A technology's state of use in one institution, as every page shows it."""

    institution_id: int
    technology_key: str
    status: str = UseStatus.in_use
    label: str = "在用"
    by: str = ""  # Level, when restricted
    by_label: str = ""
    rule: str = ""
    since: dt.date | None = None
    reason: str = ""
    document: str = ""
    suspension_id: int | None = None  # a region's suspension covering it
    until: dt.date | None = None  # the restriction ended then (a date asked about lies inside it)
    trigger: str = ""  # a stop's trigger (TRIGGERS), e.g. "prohibited"

    @property
    def in_use(self) -> bool:
        return self.status == UseStatus.in_use


class UseAbilities(msgspec.Struct, frozen=True):
    """What the actor may do on a technology's page: the institution stops, re-files or
    resumes it (medical affairs); the institution or its licence department suspends and
    lifts its own suspension."""

    stop: bool = False
    suspend: bool = False
    lift: bool = False
    refile: bool = False
    resume: bool = False


class TechnologyPage(msgspec.Struct, frozen=True):
    """Everything a technology's page in one institution shows (``service.technology_view``):
    its state now, its own restriction row (``own``, ``{}`` if none) and one decided for a
    later date (``pending``), the history with its stop reports, the filing, the refusal a
    case would get now, the periodic evaluations' adjustments, and what the actor may do."""

    institution: dict[str, Any]
    technology: dict[str, Any]
    state: UseState
    own: dict[str, Any]
    pending: dict[str, Any] | None
    events: list[dict[str, Any]]
    filing: dict[str, Any] | None
    refusal: Refusal | None
    adjustments: list[dict[str, Any]]
    version: int | None
    may: UseAbilities
    resume_basis: str
    policy: LifecyclePolicy

    def context(self) -> dict[str, Any]:
        """The page's template variables."""
        return {f: getattr(self, f) for f in self.__struct_fields__}
