"""Pure admission rules (no I/O): each returns problems naming its RULES.md id."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from core.admission.schemas import FieldSpec, FormSpec, ProjectInfo, RoundStatus, Step
from core.errors import Problem

# Roles that may act at a step and what they may decide.
DECISIONS = ("approve", "return", "reject")


def years_between(start: dt.date | None, today: dt.date) -> int:
    """Whole years from ``start`` to ``today`` (0 when unknown)."""
    if start is None or start > today:
        return 0
    years = today.year - start.year
    if (today.month, today.day) < (start.month, start.day):
        years -= 1
    return years


def class_on(project: dict, on: dt.date | None) -> str:
    """The class a project's technology counts in on ``on`` (a case's operation date): its
    admitted class, or "restricted" from the date a provincial evaluation concluded a
    routine technology restricted (EVAL-8, ``Project.restricted_from``); cases before that
    date stay routine."""
    start = project.get("restricted_from")
    if start is not None and project.get("tech_class") == "routine" and on is not None and on >= start:
        return "restricted"
    return project.get("tech_class") or "routine"


# ---------------------------------------------------------------- form fields


def clean_rows(rows: Any, columns: tuple[tuple[str, str], ...]) -> list[dict]:
    """Rows of a table field with blank rows dropped and values trimmed."""
    out = []
    for row in rows or []:
        if not isinstance(row, dict):
            continue
        row = {k: (str(row.get(k) or "").strip()) for k, _ in columns}
        if any(row.values()):
            out.append(row)
    return out


def check_field(spec: FieldSpec, value: Any, *, registered_subjects: tuple[str, ...] = (),
                grades: tuple[str, ...] = (), for_submission: bool = True) -> list[Problem]:
    """One field of the application: required, length, format, allowed values.

    NAT-43: a subject outside the institution's registered 诊疗科目 is refused.
    HOSP-1: the grade must be one of the hospital's grades.
    """
    problems: list[Problem] = []
    rule = spec.rule or None
    if spec.kind == "table":
        rows = clean_rows(value, spec.columns)
        if for_submission and spec.required and len(rows) < max(spec.min_rows, 1):
            problems.append(Problem(f"请至少填写 {max(spec.min_rows, 1)} 行「{spec.label}」", spec.key, rule))
        return problems
    text = "" if value is None else str(value).strip()
    if not text:
        if for_submission and spec.required:
            problems.append(Problem(f"请填写「{spec.label}」", spec.key, rule))
        return problems
    if spec.kind == "date":
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            problems.append(Problem(f"「{spec.label}」须为日期（如 2026-03-01）", spec.key, rule))
    elif spec.kind == "number":
        try:
            float(text)
        except ValueError:
            problems.append(Problem(f"「{spec.label}」须为数字", spec.key, rule))
    elif spec.kind == "select" and spec.options and text not in {v for v, _ in spec.options}:
        problems.append(Problem(f"「{spec.label}」请从列表中选择", spec.key, rule))
    elif spec.kind == "subject" and registered_subjects and text not in registered_subjects:
        problems.append(Problem(
            f"「{text}」不在本机构执业许可证登记的诊疗科目内（{'、'.join(registered_subjects)}），不得开展",
            spec.key, "NAT-43"))
    elif spec.kind == "grade" and grades and text not in grades:
        problems.append(Problem(f"技术等级须为：{'、'.join(grades)}", spec.key, rule or "HOSP-1"))
    if spec.min_length and len(text) < spec.min_length and for_submission:
        problems.append(Problem(f"「{spec.label}」至少 {spec.min_length} 字，请写明具体内容", spec.key, rule))
    return problems


def check_form(spec: FormSpec, answers: dict, *, registered_subjects: tuple[str, ...] = (),
               grades: tuple[str, ...] = (), for_submission: bool = True) -> list[Problem]:
    problems: list[Problem] = []
    for field in spec.fields():
        problems += check_field(field, answers.get(field.key), registered_subjects=registered_subjects,
                                grades=grades, for_submission=for_submission)
    return problems


# ---------------------------------------------------------------- national rules (core)


def check_not_prohibited(tech_class: str) -> list[Problem]:
    """NAT-9: a prohibited technology is refused outright, always."""
    if tech_class == "prohibited":
        return [Problem("禁止类技术不得应用于临床，申请不予受理", "technology", "NAT-9")]
    return []


def check_registered_subject(project: ProjectInfo, registered_subjects: tuple[str, ...],
                             subject_field: str = "subject") -> list[Problem]:
    """NAT-43: a technology outside the institution's registered clinical departments
    (诊疗科目) may not be performed, whatever department applies."""
    subject = str(project.form.get(subject_field) or project.department_subject or "").strip()
    if subject and subject not in registered_subjects:
        return [Problem(f"「{subject}」不在本机构登记的诊疗科目内，不得开展该技术", subject_field, "NAT-43")]
    if project.department_subject and project.department_subject not in registered_subjects:
        return [Problem("申请科室的诊疗科目未登记在本机构执业许可证上", subject_field, "NAT-43")]
    return []


PRODUCT_COLUMNS_REQUIRED = ("name", "approval_no")


def check_products(rows: list[dict]) -> list[Problem]:
    """NAT-9b: every drug/device used must be approved for market; the application
    records its approval (注册证/批准文号 and 三证)."""
    problems = []
    for i, row in enumerate(rows, start=1):
        name = row.get("name") or f"第 {i} 行"
        if not row.get("approval_no"):
            problems.append(Problem(f"药品/器械「{name}」未填写注册证号或批准文号；未经批准上市的产品不得使用",
                                    "products", "NAT-9b"))
        approved = str(row.get("approved", "")).strip()
        if approved in ("否", "no", "未获批", "未上市"):
            problems.append(Problem(f"药品/器械「{name}」未经批准上市，涉及该产品的技术不得开展",
                                    "products", "NAT-9b"))
    return problems


# ---------------------------------------------------------------- procedure


def check_can_act(step: Step | None, actor_roles: tuple[str, ...], *, actor_id: int, lead_id: int,
                  actor_department: int | None, project_department: int | None) -> list[Problem]:
    """A step is acted on only by its role, never by the applicant on their own project;
    the department head only for their own department."""
    if step is None:
        return [Problem("该项目当前没有待处理的步骤")]
    if actor_id == lead_id:
        return [Problem("申请人不能审核自己的项目")]
    if step.role not in actor_roles:
        return [Problem(f"「{step.title}」不由您的角色办理")]
    if step.role == "dept_head" and actor_department != project_department:
        return [Problem("只能办理本科室的项目")]
    return []


def check_decision(decision: str, reason: str, *, reason_always: bool = False) -> list[Problem]:
    """Return and reject need a written reason; HOSP-8's formal review replies in writing either way."""
    if decision not in DECISIONS:
        return [Problem("请选择审核意见", "decision")]
    if (decision != "approve" or reason_always) and not reason.strip():
        rule = "HOSP-8" if reason_always else None
        return [Problem("请填写书面意见（理由）", "reason", rule)]
    return []


def check_considerations(considerations: dict[str, str], required: list[tuple[str, str]]) -> list[Problem]:
    """HOSP-4: the department argumentation covers each of its considerations."""
    problems = []
    for key, label in required:
        if not str(considerations.get(key) or "").strip():
            problems.append(Problem(f"请填写科室论证内容：{label}", f"c_{key}", "HOSP-4"))
    return problems


ARGUING_KINDS = ("argumentation", "panel")


def check_first_use_argued(steps: list[Step], province_rule: str = "", ethics: bool = False) -> list[Problem]:
    """NAT-21 (seed 002 第二十一条; 001 第二十二条, 004 四(一)): a technology proven elsewhere
    but new to the institution is used only after the institution's own argumentation of
    its technical and safety capability. Every admission is a first use in the institution,
    so the workflow a hospital plugin supplies must argue (a department argumentation or
    an expert panel) before the step that admits; a workflow that does not is refused."""
    admitting = next((i for i, s in enumerate(steps) if s.admits), len(steps))
    rules_named = "、".join(r for r in ("NAT-21", province_rule) if r)
    problems: list[Problem] = []
    if ethics and not any(s.kind == "ethics" for s in steps[:admitting]):
        # A province may add the ethics committee's review to the first-use argumentation
        # (its policy's ``lifecycle.first_use_ethics``, e.g. Henan: 医学伦理委员会审查).
        problems.append(Problem(f"本机构的准入流程在准予准入前没有医学伦理委员会审查：首次在本机构应用的医疗技术须经本机构"
                                f"医学伦理委员会审查，通过论证的方可开展（{rules_named}）。请联系系统管理员调整准入流程",
                                None, province_rule or "NAT-21"))
    if any(s.kind in ARGUING_KINDS for s in steps[:admitting]):
        return problems
    return problems + [Problem(f"本机构的准入流程在准予准入前没有论证步骤（科室论证或专家论证）：首次在本机构应用的医疗技术须经本机构"
                    f"技术能力和安全保障能力论证，通过论证的方可开展（{rules_named}）。请联系系统管理员调整准入流程",
                    None, "NAT-21")]


def ethics_threshold(members: int) -> int:
    """HOSP-21 (seed 002: 伦理委员会做出的决定应当得到伦理委员会三分之二委员同意): a
    decision needs two thirds of the committee's members. Recusals do not lower the bar:
    a recused member is still a member. 0 members → no decision possible."""
    return math.ceil(max(members, 0) * 2 / 3)


def ethics_outcome(members: int, approve: int, reject: int, recused: int) -> str | None:
    """``approve`` / ``reject`` once either side reaches two thirds of the members
    (HOSP-21); ``not_passed`` (未通过) once every member has voted or recused and
    neither side reached it, so the step always ends; else None (votes still owed)."""
    need = ethics_threshold(members)
    if need == 0:
        return None
    if approve >= need:
        return "approve"
    if reject >= need:
        return "reject"
    if approve + reject + recused >= members:
        return "not_passed"
    return None


def ethics_not_passed_reason(members: int, approve: int, reject: int, recused: int) -> str:
    """HOSP-21: what the lead and the committee read when neither side reached two thirds."""
    return (f"伦理审查未通过：全体委员 {members} 人均已表决或回避，同意 {approve}、不同意 {reject}、回避 {recused}，"
            f"均未达到全体委员三分之二（{ethics_threshold(members)} 票，HOSP-21）。"
            "项目负责人可修改申请后重新提交伦理审查，或撤回申请结束项目")


def check_proceed_without_ethics(votes_cast: int) -> list[Problem]:
    """HOSP-7 lets medical affairs go ahead only when the review could not be held in
    time; once the committee has voted, its decision (HOSP-21) stands."""
    if votes_cast:
        return [Problem("伦理委员会已开始表决，须待委员会作出决定，不能准予先行申报", "reason", "HOSP-21")]
    return []


def check_score(score: Any, scores: dict[str, Any], criteria: list[tuple[str, str]]) -> list[Problem]:
    """HOSP-9: each expert scores 0–100; for restricted technologies also staff
    qualification, technical plan and QC indicators."""
    problems = []
    try:
        value = int(str(score).strip())
        if not 0 <= value <= 100:
            raise ValueError
    except ValueError:
        problems.append(Problem("评分须为 0–100 的整数", "score", "HOSP-9"))
    for key, label in criteria:
        try:
            value = int(str(scores.get(key, "")).strip())
            if not 0 <= value <= 100:
                raise ValueError
        except ValueError:
            problems.append(Problem(f"请为「{label}」评分（0–100）", f"s_{key}", "HOSP-9"))
    return problems


def monitoring_months(tech_class: str) -> int:
    """HOSP-17: QC monitoring lasts 1 year for routine, 2 years for restricted technologies."""
    return 24 if tech_class == "restricted" else 12


def round_is_open(round_row: dict | None, today: dt.date) -> bool:
    """HOSP-4: the yearly round accepts applications between its dates while open."""
    return (bool(round_row) and round_row["status"] == RoundStatus.open
            and round_row["opens_on"] <= today <= round_row["closes_on"])


def default_round_dates(year: int, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """HOSP-4: the first half of the year — or, opened later in that year, from ``today``
    to the year's end, so a round opened with its default dates is open today."""
    first, last = dt.date(year, 1, 1), dt.date(year, 6, 30)
    if today is not None and today.year == year and today > last:
        return today, dt.date(year, 12, 31)
    return first, last


def round_state(round_row: dict, today: dt.date) -> str:
    """What a round is on ``today``: open (accepting), not_started, ended (its dates have
    passed while it was never closed) or closed — the page says the same as submission."""
    if round_row["status"] != RoundStatus.open:
        return "closed"
    if today < round_row["opens_on"]:
        return "not_started"
    if today > round_row["closes_on"]:
        return "ended"
    return "open"
