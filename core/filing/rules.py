"""Pure rules of restricted-technology filing (no I/O): completeness before submission,
lateness, the licence annotation (备注三), and what each transition needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from core.errors import Problem
from core.filing.schemas import ARGUMENTATION_MATERIAL, STOP_GROUNDS, FilingFormSpec, Material

# Which transition is allowed from which status.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "edit": ("open", "returned"),
    "upload": ("open", "returned"),
    "submit": ("open", "returned"),
    "return": ("submitted",),
    "complete": ("submitted",),
    "record_annotation": ("completed", "withdrawn", "cancelled"),
    "request_withdrawal": ("submitted", "returned", "completed"),
    "confirm_withdrawal": ("withdrawal_requested",),
    "cancel": ("completed",),
}
ACTION_LABELS = {
    "edit": "修改备案信息", "upload": "上传材料", "submit": "提交备案", "return": "退回补正",
    "complete": "完成备案", "record_annotation": "登记副本备注", "request_withdrawal": "申请撤销备案",
    "confirm_withdrawal": "确认撤销备案", "cancel": "注销备案",
}


def check_transition(status: str, action: str) -> list[Problem]:
    """The action is allowed in this status, or one problem saying why not."""
    if status in TRANSITIONS.get(action, ()):
        return []
    from core.filing.schemas import STATUS_LABELS

    return [Problem(f"备案当前状态为「{STATUS_LABELS.get(status, status)}」，不能{ACTION_LABELS.get(action, action)}",
                    "status")]


def is_late(submitted_on: dt.date, due_on: dt.date | None) -> bool:
    """NAT-11 / JL-12 / HN-2.2b: a submission after the 15th working day from the first
    case is late. It is still accepted, and marked late for the regulator."""
    return due_on is not None and submitted_on > due_on


def check_first_case(*, tech_class: str, status: str, awaiting: bool, case_date: dt.date | None,
                     admitted_on: dt.date | None, today: dt.date) -> list[Problem]:
    """NAT-11: a filing opens with the first case of an admitted restricted technology."""
    problems = []
    if tech_class != "restricted":
        problems.append(Problem("仅限制类技术需要备案（NAT-11）", "project_id", "NAT-11"))
    if status != "admitted":
        problems.append(Problem("该项目尚未准入，不能登记首例病例", "project_id", "NAT-11"))
    elif not awaiting:
        problems.append(Problem("该项目已登记首例病例", "project_id", "NAT-11"))
    if case_date is None:
        problems.append(Problem("请填写首例病例的开展日期", "case_date"))
    elif case_date > today:
        problems.append(Problem("首例病例日期不能晚于今天", "case_date"))
    elif admitted_on is not None and case_date < admitted_on:
        problems.append(Problem(f"首例病例日期不能早于准入日期（{admitted_on.isoformat()}）", "case_date"))
    return problems


def completeness(
    *,
    materials: Iterable[Material],
    present: Mapping[str, int],
    spec: FilingFormSpec,
    institution_id: int,
    lead: Mapping | None,
    physicians: list[Mapping],
    physician_users: Mapping[int, Mapping],
    ethics_status: str,
    self_assessment: str,
    basis: str,
    reference: str,
    has_specification: bool,
    form: Mapping[str, str],
) -> list[Problem]:
    """Everything that blocks a submission, each naming what is missing (NAT-11, NAT-13,
    JL-12, HN-2.2a, HN-2.2b).

    ``present``: material key → number of files; ``lead`` / ``physician_users``: user rows
    (``institution``, ``visiting``, ``qualifications``, ``display_name``, ``active``).
    """
    problems: list[Problem] = []
    # The province's materials, every required one (JL-12's six, HN-2.2b's five).
    for m in materials:
        if m.required and not present.get(m.key):
            problems.append(Problem(f"缺少材料：{m.title}", f"material_{m.key}", m.rule or None))
    # NAT-13 / JL-14: no restricted technology without the ethics committee's approval, and the
    # management body's and ethics committee's argumentation is part of the filing (NAT-11 (2)).
    if ethics_status != "approved":
        problems.append(Problem("伦理委员会尚未审查通过该技术，限制类技术不得应用于临床，不能备案", "ethics", "NAT-13"))
    if not present.get(ARGUMENTATION_MATERIAL):
        problems.append(Problem("缺少本机构医疗技术临床应用管理组织和伦理委员会的论证材料", "ethics", "NAT-13"))
    # HN-2.2a: self-assessment against the specification, or the expert consensus where none exists.
    if len((self_assessment or "").strip()) < 10:
        problems.append(Problem("请填写自我评估情况（至少10个字）", "self_assessment", "HN-2.2a"))
    if basis not in ("specification", "consensus"):
        problems.append(Problem("请选择自我评估依据", "assessment_basis", "HN-2.2a"))
    elif basis == "specification" and not has_specification and not reference.strip():
        problems.append(Problem("该技术目录未载明管理规范：请填写所依据的规范名称，或改为依据相关专业专家共识",
                                "assessment_reference", "HN-2.2a"))
    elif basis == "consensus" and not reference.strip():
        problems.append(Problem("请填写所依据的专家共识名称", "assessment_reference", "HN-2.2a"))
    # NAT-11 (3) / JL-12 (5) / HN-2.2b (4): the lead is a physician registered here as main practice.
    if lead is None:
        problems.append(Problem("未确定技术负责人", "lead", "NAT-11"))
    else:
        name = lead.get("display_name", "")
        if lead.get("institution") != institution_id or not lead.get("active", True):
            problems.append(Problem(f"技术负责人{name}不是本机构在职人员", "lead", "NAT-11"))
        elif lead.get("visiting"):
            problems.append(Problem(f"技术负责人{name}为进修医师，须为以本机构为主要执业机构的注册医师", "lead", "JL-12"))
        missing = [c for c in spec.lead_certificates if c not in (lead.get("qualifications") or ())]
        if missing:
            problems.append(Problem(f"技术负责人{name}缺少证书：{'、'.join(missing)}", "lead", spec.rule or "NAT-11"))
    # JL-12 (6): every physician who will perform it, with qualification and practice certificates.
    if not physicians:
        problems.append(Problem("请填写开展该技术的医师名单", "physicians", spec.rule or "JL-12"))
    for i, p in enumerate(physicians, start=1):
        name = (p.get("name") or "").strip()
        if not name:
            problems.append(Problem(f"医师名单第{i}行缺少姓名", "physicians"))
            continue
        user = physician_users.get(p.get("user_id") or 0)
        if user is None or user.get("institution") != institution_id:
            problems.append(Problem(f"医师{name}不是本机构登记的人员，无法核对证书", "physicians", spec.rule or None))
            continue
        missing = [c for c in spec.physician_certificates if c not in (user.get("qualifications") or ())]
        if missing:
            problems.append(Problem(f"医师{name}缺少证书：{'、'.join(missing)}", "physicians", spec.rule or None))
    for f in spec.fields:
        if f.required and not str(form.get(f.key) or "").strip():
            problems.append(Problem(f"备案表缺少「{f.label}」", f"form_{f.key}", spec.rule or None))
    return problems


def date_zh(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def annotation_text(technology_name: str, completed_on: dt.date) -> str:
    """备注三 (JL-12, HN-2.2c): the technology's name and the date the filing was completed."""
    return f"{technology_name}（{date_zh(completed_on)}备案）"


def annotation_after_close(technology_name: str, completed_on: dt.date | None, closed_on: dt.date,
                           how: str) -> str:
    """备注三 once a filing is withdrawn (HN-2.2c) or cancelled (NAT-25, JL-26): it keeps the
    filing date and says when it ended."""
    filed = f"{date_zh(completed_on)}备案，" if completed_on else ""
    return f"{technology_name}（{filed}{date_zh(closed_on)}{how}）"


def check_reason(reason: str, field: str = "reason", what: str = "理由") -> list[Problem]:
    reason = (reason or "").strip()
    if len(reason) < 2:
        return [Problem(f"请填写{what}（至少2个字）", field)]
    if len(reason) > 2000:
        return [Problem(f"{what}不能超过2000字", field)]
    return []


def check_ground(ground: str) -> list[Problem]:
    """NAT-25 / JL-26: a cancellation names the stop ground."""
    if ground not in STOP_GROUNDS:
        return [Problem("请选择停止临床应用的情形（NAT-25）", "ground", "NAT-25")]
    return []


def reported_to_province(ground: str) -> bool:
    """NAT-25 (4) / JL-26: uncertain efficacy is reported to the provincial commission too."""
    return ground == "efficacy"


def check_completion(completed_on: dt.date | None, materials_complete_on: dt.date | None) -> list[Problem]:
    if completed_on is None:
        return [Problem("请填写完成备案日期", "completed_on")]
    if materials_complete_on is not None and completed_on < materials_complete_on:
        return [Problem("完成备案日期不能早于收到完整材料的日期", "completed_on")]
    return []
