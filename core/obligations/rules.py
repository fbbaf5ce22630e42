"""Deadline rules as data: their shape, their validation, and due-date arithmetic.

Pure functions (no I/O). The rules themselves come from plugins through the
``deadline_rules`` hook; their shapes (``DeadlineRule``, ``Offset``, ``Recurrence``,
``Scope``, ``RuleRef``, ``Exemption``, ``RulesInForce``) are part of the plugin contract
in ``core/contract.py`` and re-exported here. Core checks them against its vocabularies
(events, obligation kinds, units, roles) and counts with the deployment's
``WorkCalendar`` (CAL-1 … CAL-4).
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as dt
from typing import Any

import msgspec

from core.calendar import DueDate, WorkCalendar
from core.contract import DeadlineRule, Exemption, Offset, Recurrence, RuleRef, RulesInForce, Scope
from core.errors import Problem

__all__ = ["DeadlineRule", "Exemption", "Offset", "Recurrence", "RuleRef", "RulesInForce", "Scope"]

UNITS = ("working_days", "calendar_days", "weeks", "months")
DIRECTIONS = ("after", "before")
CLASSES = ("prohibited", "restricted", "routine")
ROLES = ("clinician", "dept_head", "qc_officer", "medical_affairs", "ethics", "expert", "hospital_head",
         "regulator", "qc_center")
MAX_AMOUNT = {"working_days": 250, "calendar_days": 366, "weeks": 52, "months": 60}

# The event kinds core reports to the engine, each with the ``extra`` keys a rule's
# ``when`` may test. A rule naming any other event would never fire: it is refused at load.
EVENTS: dict[str, tuple[str, ...]] = {
    "first_case": (),                  # core/filing: a restricted technology's first case
    "filing_materials_complete": (),   # core/filing: a submission with every required material
    "discharge": (),                   # core/cases: the patient's discharge
    "case_performed": (),              # core/cases: the operation day
    "enrolment_notice": (),            # training base: first enrolment notice (planned date)
    "training_start": (),              # training base: training starts (planned date)
    "exam": (),                        # training base: end of an exam
    "admission": ("ethics_pending",),  # core/admission: a project admitted
    "publicity_start": ("step",),      # core/admission: publicity (公示) starts
    # core/obligations/transitions: a plugin's rules take effect, or a technology is newly
    # listed, for each institution already using a technology in scope (a province's transitional periods).
    "rules_effective": ("filed", "rules"),
    "technology_listed": ("filed", "edition"),
    # core/evaluation: a regulator calls clinical data (EVAL-6); an evaluation's measure
    # takes effect for an institution using the technology (EVAL-9, its date of effect).
    "evaluation_data_request": (),
    "evaluation_measure": (),
}
# The obligation kinds screens, workflows and reminders know.
OBLIGATIONS = ("filing", "filing_completion", "case_report", "training_base_filing", "training_plan",
               "exam_results", "ethics_proof", "publicity", "qc_annual_report", "self_assessment",
               "physician_application", "case_follow_up", "evaluation_data", "evaluation_compliance")

# What core enforces while an obligation is overdue, when its rule says so
# (``DeadlineRule.consequence``): "no_use" — the technology may not be used (core.lifecycle
# refuses cases, first case and filing naming the rule) until the obligation is closed.
CONSEQUENCES = ("", "no_use")

# Derived statuses, in the order dashboards show them. "exempt": a plugin's exemption
# (grandfathering) covers it, with the evidence shown; "waived": waived by hand.
STATUSES = ("overdue", "due_soon", "open", "done_late", "done_on_time", "exempt", "waived")


class DeadlineRuleError(Exception):
    """A plugin supplied a rule core cannot use; nothing of that answer was loaded."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("；".join(p.message for p in problems))


def _plain(raw: Any) -> Any:
    """A plugin may answer with the contract's structs or with dicts of the same shape."""
    return msgspec.to_builtins(raw) if isinstance(raw, msgspec.Struct) else raw


def _where(plugin: str, rule_id: str, index: int) -> str:
    return f"插件 {plugin} 的时限规则 {rule_id or f'#{index + 1}'}"


def check_rule(plugin: str, raw: Any, index: int = 0) -> tuple[DeadlineRule | None, list[Problem]]:
    """Validate one raw rule (a dict from a plugin). Returns the rule or the problems,
    each naming the plugin, the rule and the field."""
    raw = _plain(raw)
    rule_id = raw.get("id", "") if isinstance(raw, dict) else ""
    where = _where(plugin, str(rule_id), index)
    if not isinstance(raw, dict):
        return None, [Problem(f"{where}：应为一个表（dict），实为 {type(raw).__name__}", "rule")]
    replaces = raw.get("replaces")
    if isinstance(replaces, (list, tuple)) and any(isinstance(r, str) for r in replaces):
        return None, [Problem(f"{where}：replaces 的每一项须写明规则编号与事项类型，如 "
                              '{id = "NAT-11", obligation = "filing"}（同一编号可有多条规则）', "replaces")]
    recurrence = raw.get("recurrence")
    if isinstance(recurrence, dict) and "direction" in recurrence:
        return None, [Problem(f"{where}：recurrence.direction 每年固定月份的时限没有“之前/之后”，不能设置方向",
                              "recurrence.direction", str(rule_id) or None)]
    try:
        rule = msgspec.convert({**raw, "plugin": plugin}, DeadlineRule)
    except msgspec.ValidationError as exc:
        return None, [Problem(f"{where}：{exc}", "rule")]
    problems: list[Problem] = []

    def bad(field: str, message: str) -> None:
        problems.append(Problem(f"{where}：{field} {message}", field, rule.id or None))

    for field in ("id", "event", "obligation", "title", "article"):
        if not getattr(rule, field).strip():
            bad(field, "不能为空")
    if rule.event and rule.event not in EVENTS:
        bad("event", f"未知事件 {rule.event!r}，该规则永远不会触发（可用：{', '.join(EVENTS)}）")
    elif rule.event:
        for key in rule.when:
            if key not in EVENTS[rule.event]:
                known = "、".join(EVENTS[rule.event]) or "无"
                bad("when", f"事件 {rule.event} 没有字段 {key!r}（可用：{known}）")
    if rule.obligation and rule.obligation not in OBLIGATIONS:
        bad("obligation", f"未知事项类型 {rule.obligation!r}（可用：{', '.join(OBLIGATIONS)}）")
    for ref in rule.replaces:
        if ref.obligation not in OBLIGATIONS:
            bad("replaces", f"未知事项类型 {ref.obligation!r}（{ref.id}）")
    if rule.role not in ROLES:
        bad("role", f"未知角色 {rule.role!r}（可用：{', '.join(ROLES)}）")
    if rule.consequence not in CONSEQUENCES:
        bad("consequence", f"未知的逾期后果 {rule.consequence!r}（可用：{', '.join(c for c in CONSEQUENCES if c)}）")
    for cls in rule.scope.classes:
        if cls not in CLASSES:
            bad("scope.classes", f"未知技术类别 {cls!r}（可用：{', '.join(CLASSES)}）")
    if (rule.offset is None) == (rule.recurrence is None):
        bad("offset", "与 recurrence 必须且只能给出其一")
    if rule.offset is not None:
        o = rule.offset
        if o.unit not in UNITS:
            bad("offset.unit", f"无法表达的时间单位 {o.unit!r}（可用：{', '.join(UNITS)}）")
        if o.direction not in DIRECTIONS:
            bad("offset.direction", f"无法表达的方向 {o.direction!r}（可用：after、before）")
        if o.amount <= 0:
            bad("offset.amount", f"必须是正整数，实为 {o.amount!r}")
        elif o.unit in MAX_AMOUNT and o.amount > MAX_AMOUNT[o.unit]:
            bad("offset.amount", f"{o.amount} 超出合理范围（{o.unit} 最多 {MAX_AMOUNT[o.unit]}）")
    if rule.recurrence is not None:
        r = rule.recurrence
        if not 1 <= r.month <= 12:
            bad("recurrence.month", f"月份必须在 1–12 之间，实为 {r.month}")
        if not r.period_months:
            bad("recurrence.period_months", "至少给出一个技术类别的监测期")
        for cls, months in r.period_months.items():
            if cls not in CLASSES:
                bad("recurrence.period_months", f"未知技术类别 {cls!r}")
            if months <= 0:
                bad("recurrence.period_months", f"{cls} 的监测期必须是正整数个月，实为 {months!r}")
    return (None if problems else rule), problems


def check_rules(answers: list[tuple[str, Any]]) -> list[DeadlineRule]:
    """Validate every plugin's answer and combine them into the deployment's rule set.

    ``answers`` is ``[(plugin name, list of raw rules), …]``. Raises
    ``DeadlineRuleError`` listing every problem when any rule is bad: a bad rule never
    half-loads. The same rule (id and obligation) supplied identically by two plugins
    counts once; supplied differently, it is an error. Rules named (id, obligation) in
    another rule's ``replaces`` are dropped (a province rule overriding a national one,
    e.g. over NAT-29); a ``replaces`` naming no rule of the deployment is an error.
    """
    problems: list[Problem] = []
    rules: dict[tuple[str, str], DeadlineRule] = {}
    for plugin, answer in answers:
        if not isinstance(answer, (list, tuple)):
            problems.append(Problem(f"插件 {plugin} 的 deadline_rules 应返回列表，实为 {type(answer).__name__}",
                                    "rule"))
            continue
        for index, raw in enumerate(answer):
            rule, found = check_rule(plugin, raw, index)
            problems += found
            if rule is None:
                continue
            seen = rules.get(rule.key)
            if seen is not None and msgspec.structs.replace(seen, plugin="") != msgspec.structs.replace(
                    rule, plugin=""):
                problems.append(Problem(
                    f"{_where(plugin, rule.id, index)}：与插件 {seen.plugin} 的同名规则（{rule.obligation}）内容不同",
                    "id", rule.id))
            rules.setdefault(rule.key, rule)
    for rule in rules.values():
        for ref in rule.replaces:
            if (ref.id, ref.obligation) not in rules:
                problems.append(Problem(
                    f"{_where(rule.plugin, rule.id, 0)}：replaces 指向的规则 {ref.id}（{ref.obligation}）"
                    "不在本部署的时限规则中", "replaces", rule.id))
    if problems:
        raise DeadlineRuleError(problems)
    replaced = {(ref.id, ref.obligation) for r in rules.values() for ref in r.replaces}
    return [r for r in rules.values() if r.key not in replaced]


# ---------------------------------------------------------------- exemptions and rules in force


def check_exemptions(answers: list[tuple[str, Any]], deployment_rules: list[DeadlineRule]) -> list[Exemption]:
    """Validate every plugin's ``deadline_exemptions`` answer against the deployment's
    rules. Raises ``DeadlineRuleError`` naming the plugin and the exemption."""
    known = {r.key for r in deployment_rules}
    problems: list[Problem] = []
    out: list[Exemption] = []
    for plugin, answer in answers:
        if not isinstance(answer, (list, tuple)):
            problems.append(Problem(f"插件 {plugin} 的 deadline_exemptions 应返回列表，实为 {type(answer).__name__}",
                                    "exemption"))
            continue
        for index, raw in enumerate(answer):
            raw = _plain(raw)
            where = f"插件 {plugin} 的豁免 #{index + 1}"
            if isinstance(raw, dict) and raw.get("rule"):
                where += f"（{raw.get('rule')}）"
            try:
                item = msgspec.convert({**raw, "plugin": plugin} if isinstance(raw, dict) else raw, Exemption)
            except msgspec.ValidationError as exc:
                problems.append(Problem(f"{where}：{exc}", "exemption"))
                continue
            found = []
            if (item.rule, item.obligation) not in known:
                found.append(f"豁免的规则 {item.rule}（{item.obligation}）不在本部署的时限规则中")
            if not item.evidence.strip():
                found.append("evidence（豁免依据）不能为空")
            if not item.codes and not item.institutions:
                found.append("codes 与 institutions 至少给出其一（否则等于删除该规则，请用 replaces）")
            problems += [Problem(f"{where}：{m}", "exemption", item.rule) for m in found]
            if not found:
                out.append(item)
    if problems:
        raise DeadlineRuleError(problems)
    return out


def exemption_for(exemptions: list[Exemption], rule: DeadlineRule, code: str, licence_no: str,
                  event_on: dt.date) -> Exemption | None:
    """The first exemption covering an obligation of ``rule``, or None."""
    return next((e for e in exemptions if e.covers(rule, code, licence_no, event_on)), None)


class ExemptionEvidence(msgspec.Struct, frozen=True):
    """What an exempt obligation shows (read model): the exempted rule, the plugin's
    evidence and source article, the plugin that declared it and its cut-off day."""

    rule: str
    evidence: str
    article: str = ""
    plugin: str = ""
    before: dt.date | None = None

    @classmethod
    def of(cls, row: dict) -> ExemptionEvidence | None:
        """The evidence stored on an obligation row; None unless it is exempt."""
        if row.get("status") != "exempt":
            return None
        return cls(rule=row.get("rule_id") or "", evidence=row.get("exempt_evidence") or "",
                   article=row.get("exempt_article") or "", plugin=row.get("exempt_plugin") or "",
                   before=row.get("exempt_before"))


def exemption_columns(exemption: Exemption | None) -> dict[str, Any]:
    """The ``Obligation`` columns (by name) that record ``exemption``'s evidence; cleared for None."""
    if exemption is None:
        return {"exempt_evidence": "", "exempt_article": "", "exempt_plugin": "", "exempt_before": None}
    return {"exempt_evidence": exemption.evidence, "exempt_article": exemption.article,
            "exempt_plugin": exemption.plugin[:60], "exempt_before": exemption.before}


def check_in_force(answers: list[tuple[str, Any]]) -> list[RulesInForce]:
    """Validate every plugin's ``rules_in_force`` answer; ``DeadlineRuleError`` on any problem."""
    problems: list[Problem] = []
    out: dict[str, RulesInForce] = {}
    for plugin, answer in answers:
        for index, raw in enumerate(answer if isinstance(answer, (list, tuple)) else [answer]):
            raw = _plain(raw)
            where = f"插件 {plugin} 的 rules_in_force #{index + 1}"
            try:
                item = msgspec.convert({**raw, "plugin": plugin} if isinstance(raw, dict) else raw, RulesInForce)
            except msgspec.ValidationError as exc:
                problems.append(Problem(f"{where}：{exc}", "rules_in_force"))
                continue
            if not item.key.strip() or not item.title.strip():
                problems.append(Problem(f"{where}：key 与 title 不能为空", "rules_in_force"))
            elif item.effective_on is None and not item.setting.strip():
                problems.append(Problem(f"{where}（{item.key}）：effective_on 与 setting 至少给出其一",
                                        "rules_in_force"))
            elif item.key in out and msgspec.structs.replace(out[item.key], plugin="") != msgspec.structs.replace(
                    item, plugin=""):
                problems.append(Problem(f"{where}：与插件 {out[item.key].plugin} 的 {item.key} 内容不同",
                                        "rules_in_force"))
            else:
                out.setdefault(item.key, item)
    if problems:
        raise DeadlineRuleError(problems)
    return list(out.values())


# ---------------------------------------------------------------- due dates


def _roll_back(cal: WorkCalendar, day: dt.date) -> DueDate:
    """The last working day on or before ``day``: a deadline *before* an event that
    lands on a rest day must be met on the working day before it."""
    return cal.working_days_before(day + dt.timedelta(days=1), 1)


def _shift_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, _stdlib_calendar.monthrange(year, month + 1)[1]))


def due_date(cal: WorkCalendar, offset: Offset, event_on: dt.date) -> DueDate:
    """The due date ``offset`` from ``event_on``.

    After the event: CAL-1 for working days (the event day is not counted), CAL-2 for
    calendar days, weeks and months (a period ending on a rest day moves to the next
    working day). Before the event: CAL-3 for working days; other units land
    on the same-numbered day before and, on a rest day, move to the working day
    before it, so the deadline is never later than the rule allows.
    """
    n = offset.amount
    if offset.direction == "after":
        if offset.unit == "working_days":
            return cal.add_working_days(event_on, n)
        if offset.unit == "calendar_days":
            return cal.add_calendar_days(event_on, n)
        if offset.unit == "weeks":
            return cal.add_weeks(event_on, n)
        return cal.add_months(event_on, n)
    if offset.unit == "working_days":
        return cal.working_days_before(event_on, n)
    if offset.unit == "calendar_days":
        return _roll_back(cal, event_on - dt.timedelta(days=n))
    if offset.unit == "weeks":
        return _roll_back(cal, event_on - dt.timedelta(weeks=n))
    return _roll_back(cal, _shift_months(event_on, -n))


def occurrences(cal: WorkCalendar, rule: DeadlineRule, event_on: dt.date,
                technology_class: str) -> list[tuple[str, DueDate]]:
    """Every (occurrence key, due date) ``rule`` creates for an event on ``event_on``.

    An offset rule creates one (occurrence ``""``). A recurrence rule (HOSP-17) creates
    one per year whose ``month`` starts inside the monitoring period
    (``event_on``, ``event_on`` + period]; each is due on that month's last day,
    moved to the next working day if it is a rest day (CAL-2).
    """
    if rule.offset is not None:
        return [("", due_date(cal, rule.offset, event_on))]
    assert rule.recurrence is not None
    months = rule.recurrence.period_months.get(technology_class)
    if not months:
        return []
    end = _shift_months(event_on, months)
    out = []
    for year in range(event_on.year, end.year + 1):
        start = dt.date(year, rule.recurrence.month, 1)
        if event_on < start <= end:
            last = _stdlib_calendar.monthrange(year, rule.recurrence.month)[1]
            out.append((str(year), cal.add_calendar_days(dt.date(year, rule.recurrence.month, last), 0)))
    return out


# ---------------------------------------------------------------- status at read time


def status_of(status: str, due_on: dt.date, done_late: bool, today: dt.date, soon_until: dt.date) -> str:
    """The status shown: overdue / due_soon / open for an open obligation (from today),
    done_on_time / done_late for a done one, exempt (a plugin's exemption), waived."""
    if status == "open":
        if today > due_on:
            return "overdue"
        if due_on <= soon_until:
            return "due_soon"
        return "open"
    if status == "done":
        return "done_late" if done_late else "done_on_time"
    if status == "exempt":
        return "exempt"
    return "waived"


def days_left(cal: WorkCalendar, today: dt.date, due_on: dt.date) -> int:
    """Working days from today to the due date; negative when overdue (working days late)."""
    if due_on >= today:
        return cal.working_days_between(today, due_on)
    return -cal.working_days_between(due_on, today)


def reminder_stage(days: int, leads: tuple[int, ...]) -> str | None:
    """The reminder stage an open obligation with ``days`` working days left is in:
    "overdue", the smallest lead it has reached (e.g. "lead-1"), or None."""
    if days < 0:
        return "overdue"
    reached = [lead for lead in leads if days <= lead]
    return f"lead-{min(reached)}" if reached else None
