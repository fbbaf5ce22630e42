"""Pure rules of a technology's use (no I/O): the effective state, the refusals every way
in gives, and the checks of stop, suspension, lift and resumption."""

from __future__ import annotations

import datetime as dt

from core.contract import LifecyclePolicy
from core.errors import Problem
from core.lifecycle.schemas import (
    LEVEL_LABELS,
    RESUMPTION,
    STATUS_LABELS,
    TRIGGER_BY_KEY,
    Level,
    Refusal,
    SuspensionStatus,
    UseState,
    UseStatus,
)

ETHICS_APPROVED = "approved"
MAX_TEXT = 2000


def technology_key(code: str | None, project_id: int | None) -> str:
    """The key a technology's use is kept under: its catalogue code, upper case, or
    "P<project id>" for a technology outside the catalogue."""
    code = (code or "").strip().upper()
    return code or f"P{project_id}"


def covers(suspension: dict, on: dt.date | None) -> bool:
    """A region's suspension applies on ``on`` (``None``: now) — from its start until lifted."""
    if on is None:
        return suspension["status"] == SuspensionStatus.active
    return suspension["started_on"] <= on and (suspension["lifted_on"] is None or on < suspension["lifted_on"])


# History rows (``UseEvent.action``) of the institution's own restrictions and their ends;
# a region's suspension keeps its own period in ``region_suspension``.
OWN_ACTIONS = ("stop", "suspend", "lift", "cancel", "withdraw", "resume", "refile")


def own_periods(events: list[dict]) -> list[dict]:
    """The past periods in which the institution's use was restricted by itself or its
    licence department, from its history rows (oldest first): each ``{"status", "by",
    "since", "until", "rule", "reason", "document"}``, ``until`` exclusive. The period
    still running is the ``TechnologyUse`` row itself and is not returned."""
    periods: list[dict] = []
    current: dict | None = None
    for e in events:
        if e["action"] not in OWN_ACTIONS:
            continue
        if current is not None:
            periods.append(current | {"until": e["event_on"]})
            current = None
        if e["status_after"] and e["status_after"] != UseStatus.in_use:
            current = {"status": e["status_after"], "by": e["by"], "since": e["event_on"], "rule": e["rule"],
                       "reason": e["reason"], "document": e["document"], "trigger": e.get("trigger", "")}
    return [p for p in periods if p["since"] < p["until"]]


def effective_state(institution_id: int, key: str, own: dict | None, suspensions: list[dict],
                    on: dt.date | None = None, past: list[dict] = ()) -> UseState:
    """The state of use on ``on`` (``None``: now). A stop or a cancelled filing outranks a
    region's suspension, which outranks the institution's or its department's own.

    ``own`` is the ``TechnologyUse`` row (or ``None``: 在用); ``suspensions`` the regions'
    suspensions of this technology covering the institution's region; ``past`` the
    institution's own restrictions that have ended (``own_periods``): a case performed
    inside one of them stays refused after the suspension is lifted or the use resumed."""
    restricted = own is not None and own["status"] != UseStatus.in_use and (
        on is None or own["since"] is None or own["since"] <= on)
    if not restricted and on is not None:
        ended = next((p for p in past if p["since"] <= on < p["until"]), None)
        if ended is not None:
            own, restricted = ended, True
    if restricted and own["status"] in (UseStatus.stopped, UseStatus.cancelled):
        return _from_own(institution_id, key, own)
    region = next((s for s in sorted(suspensions, key=lambda s: s["started_on"]) if covers(s, on)), None)
    if region is not None:
        return UseState(institution_id, key, UseStatus.suspended, STATUS_LABELS[UseStatus.suspended], Level.region,
                        region.get("region.department") or region.get("region.name") or LEVEL_LABELS[Level.region],
                        region["rule"], region["started_on"], region["reason"], region["document"], region["id"],
                        until=region["lifted_on"] if on is not None else None)
    if restricted:
        return _from_own(institution_id, key, own)
    return UseState(institution_id, key)


def _from_own(institution_id: int, key: str, own: dict) -> UseState:
    status = UseStatus(own["status"])
    return UseState(institution_id, key, status, STATUS_LABELS[status], own["by"],
                    LEVEL_LABELS.get(own["by"], ""), own["rule"], own["since"], own["reason"], own["document"],
                    until=own.get("until"), trigger=own.get("trigger") or "")


def _ids(*rules: str) -> str:
    return "、".join(r for r in dict.fromkeys(rules) if r)


def refusal(state: UseState, name: str, policy: LifecyclePolicy) -> Refusal | None:
    """Why nothing new of the technology may be recorded now, or ``None`` (在用)."""
    if state.status == UseStatus.in_use:
        return None
    since = f"自{state.since}起" if state.since else ""
    if state.until is not None:
        # A restriction that has ended still refuses what was performed inside it.
        what = "暂停临床应用" if state.status == UseStatus.suspended else (
            "停止临床应用" if state.status == UseStatus.stopped else "备案注销")
        rule = state.rule or "NAT-25"
        return Refusal(rule, f"「{name}」在{state.since}至{state.until}期间处于{what}状态（{state.by_label}，{_ids(rule)}），"
                             f"该期间开展的病例不得登记：{state.reason}", state.status)
    if state.status == UseStatus.suspended:
        # NAT-25 (4) / NAT-41: a suspension by a regulator (the province's rule named by its plugin).
        rule = state.rule or "NAT-25"
        return Refusal(rule, f"「{name}」{since}已被{state.by_label}暂停临床应用（{_ids(rule)}），暂停解除前不得开展或登记病例："
                             f"{state.reason}", state.status)
    also = (policy.stop.rule,) if policy.stop.rule and policy.stop.rule != state.rule else ()
    rule = state.rule or "NAT-25"
    if state.trigger == "prohibited":
        # NAT-25 (1) / EVAL-8 (一): listed as prohibited — never resumed (NAT-9).
        return Refusal(rule, f"「{name}」{since}已被列为禁止类技术，在本机构停止临床应用（{_ids(rule, 'NAT-9', *also)}），"
                             f"不得开展或登记病例：{state.reason}", state.status, also)
    what = "已停止临床应用" if state.status == UseStatus.stopped else "的备案已被注销"
    return Refusal(rule, f"「{name}」{since}在本机构{what}（{_ids(rule, *also)}），不得开展或登记病例；"
                         f"恢复须经重新评估或重新备案", state.status, also)


def ethics_refusal(tech_class: str, ethics_status: str, name: str, policy: LifecyclePolicy) -> Refusal | None:
    """NAT-13: no restricted technology is applied before the ethics committee's approval is
    on record — HOSP-7's deferred path admits the project but forbids clinical use. The
    province's own restatement (its plugin's ``lifecycle.ethics.rule``) is named too."""
    if tech_class != "restricted" or ethics_status == ETHICS_APPROVED:
        return None
    also = (policy.ethics.rule,) if policy.ethics.rule else ()
    deferred = "（准入时伦理审查先行申报，HOSP-7）" if ethics_status == "deferred" else ""
    return Refusal("NAT-13", f"「{name}」的伦理委员会审查批准尚未登记{deferred}，限制类技术不得应用于临床"
                             f"（{_ids('NAT-13', *also)}）", "ethics", also)


def _text(value: str, field: str, what: str) -> list[Problem]:
    value = (value or "").strip()
    if len(value) < 2:
        return [Problem(f"请填写{what}（至少2个字）", field)]
    if len(value) > MAX_TEXT:
        return [Problem(f"{what}不能超过{MAX_TEXT}字", field)]
    return []


def check_stop(*, status: str, trigger: str, reason: str, committee: str, meeting_on: dt.date | None,
               today: dt.date) -> list[Problem]:
    """NAT-25 / HOSP-20: a stop names its trigger, and the management committee's decision
    — who decided, the meeting's date, the reason (seed 002: 医院管理委员会决定是否启动中止程序)."""
    problems: list[Problem] = []
    if status in (UseStatus.stopped, UseStatus.cancelled):
        problems.append(Problem(f"该技术已{STATUS_LABELS[UseStatus(status)]}", None, "NAT-25"))
    if trigger not in TRIGGER_BY_KEY:
        problems.append(Problem("请选择停止临床应用的情形", "trigger", "NAT-25"))
    return problems + _text(reason, "reason", "停止理由") + _decision(committee, meeting_on, today, "HOSP-20")


def _decision(committee: str, meeting_on: dt.date | None, today: dt.date, rule: str) -> list[Problem]:
    """The management committee's decision: who decided, and the meeting's date."""
    problems = _text(committee, "committee", "作出决定的管理委员会（参会人员）")
    if meeting_on is None:
        problems.append(Problem("请填写管理委员会会议日期", "meeting_on", rule))
    elif meeting_on > today:
        problems.append(Problem("会议日期不能晚于今天", "meeting_on", rule))
    return problems


def check_suspend(*, status: str, reason: str) -> list[Problem]:
    problems: list[Problem] = []
    if status != UseStatus.in_use:
        problems.append(Problem(f"该技术当前为「{STATUS_LABELS[UseStatus(status)]}」，不能暂停", None))
    return problems + _text(reason, "reason", "暂停理由")


REFILE = "refile"  # the trigger of a suspension while the institution files again


def check_lift(*, status: str, by: str, level: str, reason: str, trigger: str = "", rule: str = "") -> list[Problem]:
    """Only who suspended lifts it: the institution its own, the department its own. A
    suspension while the institution files again (the province's conditions-change rule)
    ends with that filing's completion, or the institution stops — never by hand."""
    problems: list[Problem] = []
    if status != UseStatus.suspended:
        problems.append(Problem("该技术当前未被暂停", None))
    elif trigger == REFILE:
        problems.append(Problem(f"该技术因人员、设备或条件变化正在重新备案：重新备案完成后自动恢复；不能按要求重新备案的，"
                                f"应停止临床应用（{rule}）", None, rule or None))
    elif by != level:
        problems.append(Problem(f"该暂停由{LEVEL_LABELS.get(by, by)}作出，只能由其解除", None))
    return problems + _text(reason, "reason", "解除暂停的理由")


def check_resume(*, status: str, trigger: str, basis: str, reason: str, committee: str,
                 meeting_on: dt.date | None, today: dt.date) -> list[Problem]:
    """Resumption never silently: a stopped technology resumes on a re-evaluation or a
    new filing; a cancelled filing only by filing again; a technology stopped because it
    became prohibited never (NAT-25 (1), NAT-9)."""
    problems: list[Problem] = []
    if status not in (UseStatus.stopped, UseStatus.cancelled):
        problems.append(Problem("只有已停止或已注销备案的技术需要恢复", None))
    elif trigger == "prohibited":
        problems.append(Problem("该技术已被列为禁止类技术，不得恢复临床应用", None, "NAT-9"))
    if basis not in RESUMPTION:
        problems.append(Problem("请选择恢复依据：重新评估或重新备案", "basis", "NAT-22"))
    elif status == UseStatus.cancelled and basis != "re_filing":
        problems.append(Problem("备案已被注销，须重新备案方可恢复", "basis", "NAT-11"))
    return problems + _text(reason, "reason", "恢复理由") + _decision(committee, meeting_on, today, "NAT-22")


def stop_reports(tech_class: str, ground: str) -> tuple[bool, bool]:
    """NAT-25: (to the licence-issuing department, to the province). A restricted
    technology's (2)(3) go to the department (which cancels the filing), (4) to the
    department and the province; a routine one's stop is reported to the department
    (HOSP-20: 并向卫生计生部门报告)."""
    if ground == "prohibited":
        return False, False
    if tech_class == "restricted":
        return ground in ("conditions", "safety", "efficacy", ""), ground == "efficacy"
    return True, False
