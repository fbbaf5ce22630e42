"""Pure rules of a case record (病例): no I/O, plain values in, ``Problem``s out.

One validation serves the page, the JSON API and the spreadsheet upload; the service
adds what needs the database (project admitted, operators of this institution,
duplicate case ids) and the plugins' ``validate_case`` answers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from typing import Any

import msgspec

from core.errors import Problem

OUTCOMES = {"cured": "治愈", "improved": "好转", "unchanged": "未愈", "worse": "恶化", "death": "死亡", "other": "其他"}
OUTCOME_BY_LABEL = {v: k for k, v in OUTCOMES.items()}
YES = {"是", "有", "1", "true", "yes", "y", "on", "True"}
NO = {"否", "无", "0", "false", "no", "n", "", "False"}


class CaseInput(msgspec.Struct, kw_only=True):
    """One case as the page, the API and the upload submit it.

    ``case_id`` is the hospital's own case id (idempotency key); ``patient_key`` a
    pseudonym the hospital maps to its patient (never a name or an ID number);
    ``operators``/``assistants`` are login names (工号) of this institution's physicians;
    ``qc_values`` maps indicator names to values.
    """

    case_id: str
    technology_code: str
    patient_key: str
    admitted_on: dt.date
    operated_on: dt.date
    discharged_on: dt.date
    operators: list[str]
    assistants: list[str] = []
    indication: str = ""
    outcome: str = ""
    complication: bool = False
    complications: str = ""
    adverse_event: bool = False
    adverse_events: str = ""
    follow_up: str = ""
    qc_values: dict[str, str] = {}
    consent: bool = False
    # The operation (ICD-9-CM-3 code) in the institution's grading catalogue (NAT-16).
    operation_code: str = ""


class Indicator(msgspec.Struct, frozen=True):
    """A QC indicator a case records a value for (HOSP-14): ``kind`` is "rate" (did it
    happen in this case: 是/否), "number" or "text"; ``target`` the project's parameter."""

    name: str
    kind: str = "rate"
    target: str = ""
    unit: str = ""
    source: str = "project"


# ---------------------------------------------------------------- privacy (NAT-45)

_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$|^\d{15}$")
_ID_INSIDE = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)|(?<!\d)1[3-9]\d{9}(?!\d)")
_CJK_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,5}$")


def patient_key_problems(key: str) -> list[Problem]:
    """NAT-45 (patient privacy): the patient key is a pseudonym. A Chinese name, a
    resident ID number or a mobile number in clear is refused."""
    key = (key or "").strip()
    if not key:
        return [Problem("请填写患者匿名编号（由医院自行保管对照关系）", "patient_key", "NAT-45")]
    if _ID_NUMBER.match(key) or _ID_INSIDE.search(key):
        return [Problem("患者匿名编号不得为身份证号或手机号等可识别信息，请使用医院内部的匿名编号", "patient_key",
                        "NAT-45")]
    if _CJK_NAME.match(key):
        return [Problem("患者匿名编号看起来是姓名，不得填写患者姓名，请使用医院内部的匿名编号", "patient_key",
                        "NAT-45")]
    if len(key) > 64:
        return [Problem("患者匿名编号不超过 64 个字符", "patient_key", "NAT-45")]
    return []


def pseudonym(secret: str, institution_id: int, key: str) -> str:
    """What is stored for the patient: an HMAC of the hospital's key, so the platform
    never holds even the hospital's own pseudonym (NAT-45)."""
    message = f"{institution_id}:{key.strip()}".encode()
    return hmac.digest(secret.encode(), message, "sha256").hex()[:32]  # one-shot C HMAC, as hmac.new(…)


# ---------------------------------------------------------------- the record itself


def case_problems(case: CaseInput, today: dt.date) -> list[Problem]:
    """Everything checkable from the values alone (NAT-37 accurate and complete;
    HOSP-18 / NAT-45 informed consent; NAT-45 privacy)."""
    problems: list[Problem] = []
    if not case.case_id.strip():
        problems.append(Problem("请填写医院病例号（本院唯一）", "case_id", "NAT-37"))
    elif len(case.case_id.strip()) > 80:
        problems.append(Problem("医院病例号不超过 80 个字符", "case_id", "NAT-37"))
    if not case.technology_code.strip():
        problems.append(Problem("请填写技术编码", "technology_code", "HOSP-3"))
    problems += patient_key_problems(case.patient_key)
    if case.operated_on < case.admitted_on:
        problems.append(Problem("手术（操作）日期不能早于入院日期", "operated_on", "NAT-37"))
    if case.discharged_on < case.operated_on:
        problems.append(Problem("出院日期不能早于手术（操作）日期", "discharged_on", "NAT-37"))
    for field in ("admitted_on", "operated_on", "discharged_on"):
        if getattr(case, field) > today:
            problems.append(Problem("日期不能晚于今天（出院后再报送）", field, "NAT-37"))
    if not [o for o in case.operators if o.strip()]:
        problems.append(Problem("请至少填写一名术者", "operators", "NAT-19"))
    if case.outcome and case.outcome not in OUTCOMES:
        problems.append(Problem(f"转归应为：{'、'.join(OUTCOMES.values())}", "outcome", "NAT-37"))
    if case.complication and not case.complications.strip():
        problems.append(Problem("有并发症时请填写并发症情况", "complications", "HOSP-15"))
    if case.adverse_event and not case.adverse_events.strip():
        problems.append(Problem("有不良事件时请填写不良事件情况", "adverse_events", "HOSP-15"))
    if not case.consent:
        problems.append(Problem("未签署知情同意书的病例不得实施新技术，也不予登记（HOSP-18）", "consent", "HOSP-18"))
    return problems


def indicator_problems(values: dict[str, str], indicators: list[Indicator]) -> list[Problem]:
    """QC values (HOSP-14, HOSP-15): only the technology's indicators, each of its kind."""
    problems: list[Problem] = []
    known = {i.name: i for i in indicators}
    for name, value in values.items():
        indicator = known.get(name)
        if indicator is None:
            problems.append(Problem(f"质控指标「{name}」不是该技术的质控指标", f"qc:{name}", "HOSP-14"))
            continue
        text = str(value).strip()
        if indicator.kind == "rate" and text not in YES | NO:
            problems.append(Problem(f"质控指标「{name}」应填写“是”或“否”", f"qc:{name}", "HOSP-14"))
        elif indicator.kind == "number" and text:
            try:
                float(text)
            except ValueError:
                problems.append(Problem(f"质控指标「{name}」应为数字", f"qc:{name}", "HOSP-14"))
    return problems


def normalise_qc(values: dict[str, str], indicators: list[Indicator]) -> dict[str, str]:
    """Stored form: rates as "1"/"0", numbers as given, text trimmed; blanks dropped."""
    out: dict[str, str] = {}
    kinds = {i.name: i.kind for i in indicators}
    for name, value in values.items():
        text = str(value).strip()
        if kinds.get(name) == "rate":
            out[name] = "1" if text in YES else "0"
        elif text:
            out[name] = text
    return out


# json.dumps(data, sort_keys=True, ensure_ascii=False) — the same text (the stored hashes
# depend on it), without building the encoder for every case.
_HASHED_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode


def content_hash(case: CaseInput) -> str:
    """The case's content, for idempotency: the same case id with the same content is
    the same case; with other content it is refused, never overwritten."""
    data = msgspec.to_builtins(case)
    data["case_id"] = data["case_id"].strip()
    if not data.get("operation_code", "").strip():
        data.pop("operation_code", None)  # cases recorded before grading keep their hash
    data["operators"] = sorted(o.strip() for o in case.operators if o.strip())
    data["assistants"] = sorted(a.strip() for a in case.assistants if a.strip())
    data["qc_values"] = {k: str(v).strip() for k, v in sorted(case.qc_values.items()) if str(v).strip()}
    return hashlib.sha256(_HASHED_JSON(data).encode()).hexdigest()


def indicator_kind(name: str) -> str:
    """A catalogue indicator without a kind: rates (…率) are recorded per case as 是/否."""
    return "rate" if name.endswith("率") else "number" if re.search(r"(时间|时长|天数|量|评分|分钟)$", name) else "text"


def prefix(problems: list[Problem], prefix_: str) -> list[Problem]:
    """The problems of one item of a batch, their field named with the item."""
    return [Problem(p.message, f"{prefix_}.{p.field}" if p.field else prefix_, p.rule) for p in problems]


def to_bool(value: Any) -> bool:
    return str(value).strip() in YES  # YES holds "True": a bool reads as itself
