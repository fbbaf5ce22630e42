"""Pure rules of restricted-technology filing (no I/O): completeness before submission,
lateness, the licence annotation (备注三), and what each transition needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from core.errors import Problem
from core.filing.schemas import (
    ARGUMENTATION_MATERIAL,
    STOP_GROUNDS,
    FilingFormSpec,
    FilingStatus,
    Material,
)
from core.policy import FilingPolicy

# Which transition is allowed from which status.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "edit": (FilingStatus.open, FilingStatus.returned),
    "upload": (FilingStatus.open, FilingStatus.returned),
    "submit": (FilingStatus.open, FilingStatus.returned),
    "return": (FilingStatus.submitted,),
    "complete": (FilingStatus.submitted,),
    "record_annotation": (FilingStatus.completed, FilingStatus.withdrawn, FilingStatus.cancelled),
    "request_withdrawal": (FilingStatus.submitted, FilingStatus.returned, FilingStatus.completed),
    "confirm_withdrawal": (FilingStatus.withdrawal_requested,),
    "cancel": (FilingStatus.completed,),
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
    """NAT-11: a submission after the 15th working day from the first
    case is late. It is still accepted, and marked late for the regulator."""
    return due_on is not None and submitted_on > due_on


def check_first_case(*, tech_class: str, status: str, awaiting: bool, case_date: dt.date | None,
                     admitted_on: dt.date | None, today: dt.date,
                     restricted_from: dt.date | None = None) -> list[Problem]:
    """NAT-11: a filing opens with the first case of an admitted restricted technology
    (``tech_class``: its class on the case date; EVAL-8's ``restricted_from``)."""
    problems = []
    if tech_class != "restricted" and restricted_from is not None and case_date is not None:
        problems.append(Problem(f"该技术自{restricted_from.isoformat()}起按限制类技术管理（EVAL-8），"
                                "此前开展的病例不开启备案，请填写该日期及以后的首例病例", "case_date", "EVAL-8"))
    elif tech_class != "restricted":
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
    policy: FilingPolicy,
    institution_id: int,
    lead: Mapping | None,
    physicians: list[Mapping],
    physician_users: Mapping[int, Mapping],
    ethics_status: str,
    self_assessment: str,
    form: Mapping[str, str],
) -> list[Problem]:
    """What core itself finds blocking a submission, each naming what is missing (NAT-11,
    NAT-13); the province's own checks come from its plugin (``validate_filing``).

    ``present``: material key → number of files; ``lead`` / ``physician_users``: user rows
    (``institution``, ``visiting``, ``qualifications``, ``display_name``, ``active``).
    Certificates are those the province policy names, cited with its rule.
    """
    problems: list[Problem] = []
    # The province's materials, every required one, in its order.
    for m in materials:
        if m.required and not present.get(m.key):
            problems.append(Problem(f"缺少材料：{m.title}", f"material_{m.key}", m.rule or None))
    # NAT-13: no restricted technology without the ethics committee's approval, and the
    # management body's and ethics committee's argumentation is part of the filing (NAT-11 (2)).
    if ethics_status != "approved":
        problems.append(Problem("伦理委员会尚未审查通过该技术，限制类技术不得应用于临床，不能备案", "ethics", "NAT-13"))
    if not present.get(ARGUMENTATION_MATERIAL):
        problems.append(Problem("缺少本机构医疗技术临床应用管理组织和伦理委员会的论证材料", "ethics", "NAT-13"))
    # NAT-11: the institution self-assesses against the technology's specification.
    if len((self_assessment or "").strip()) < 10:
        problems.append(Problem("请填写自我评估情况（至少10个字）", "self_assessment", "NAT-11"))
    # NAT-11 (3): the lead is a physician of this institution.
    if lead is None:
        problems.append(Problem("未确定技术负责人", "lead", "NAT-11"))
    else:
        name = lead.get("display_name", "")
        if lead.get("institution") != institution_id or not lead.get("active", True):
            problems.append(Problem(f"技术负责人{name}不是本机构在职人员", "lead", "NAT-11"))
        missing = [c for c in policy.lead_certificates if c not in (lead.get("qualifications") or ())]
        if missing:
            problems.append(Problem(f"技术负责人{name}缺少证书：{'、'.join(missing)}", "lead",
                                    policy.lead_rule or policy.rule or "NAT-11"))
    # The physicians listed: named, of this institution, with the certificates the policy names.
    for i, p in enumerate(physicians, start=1):
        name = (p.get("name") or "").strip()
        if not name:
            problems.append(Problem(f"医师名单第{i}行缺少姓名", "physicians"))
            continue
        if not policy.physician_certificates:
            continue
        user = physician_users.get(p.get("user_id") or 0)
        if user is None or user.get("institution") != institution_id:
            problems.append(Problem(f"医师{name}不是本机构登记的人员，无法核对证书", "physicians",
                                    policy.physicians_rule or None))
            continue
        missing = [c for c in policy.physician_certificates if c not in (user.get("qualifications") or ())]
        if missing:
            problems.append(Problem(f"医师{name}缺少证书：{'、'.join(missing)}", "physicians",
                                    policy.physicians_rule or None))
    for f in spec.fields:
        if f.required and not str(form.get(f.key) or "").strip():
            problems.append(Problem(f"备案表缺少「{f.label}」", f"form_{f.key}", spec.rule or None))
    return problems


def date_zh(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def annotation_text(technology_name: str, completed_on: dt.date) -> str:
    """备注三 (NAT-11: noted on the licence copy): the technology's name and the date the filing was completed."""
    return f"{technology_name}（{date_zh(completed_on)}备案）"


def annotation_after_close(technology_name: str, completed_on: dt.date | None, closed_on: dt.date,
                           how: str) -> str:
    """备注三 once a filing is withdrawn or cancelled (NAT-25): it keeps the
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
    """NAT-25: a cancellation names the stop ground."""
    if ground not in STOP_GROUNDS:
        return [Problem("请选择停止临床应用的情形（NAT-25）", "ground", "NAT-25")]
    return []


def reported_to_province(ground: str) -> bool:
    """NAT-25 (4): uncertain efficacy is reported to the provincial commission too."""
    return ground == "efficacy"


def check_completion(completed_on: dt.date | None, materials_complete_on: dt.date | None) -> list[Problem]:
    if completed_on is None:
        return [Problem("请填写完成备案日期", "completed_on")]
    if materials_complete_on is not None and completed_on < materials_complete_on:
        return [Problem("完成备案日期不能早于收到完整材料的日期", "completed_on")]
    return []
