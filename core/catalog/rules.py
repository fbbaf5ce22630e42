"""Pure rules of catalogues: what a valid entry is, which edition is current, what may
be cited for new work. No I/O; the loader, the import and the service combine them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from core.catalog.schemas import (
    CLASS_LABELS,
    CLASSES,
    SCOPE_LABELS,
    SCOPES,
    QCIndicator,
    StaffRequirement,
    TechnologyEntry,
)
from core.errors import Problem

FIELD_LABELS = {
    "code": "编码",
    "name": "技术名称",
    "class": "类别",
    "scope": "范围",
    "surgery_levels": "手术级别限制",
    "specification": "管理规范",
    "qc_indicators": "质控指标",
    "note": "备注",
    "key": "版本编号",
    "title": "目录名称",
    "effective": "施行日期",
    "superseded": "废止日期",
}

# Spellings an import file may use for a class (the template uses the Chinese label).
CLASS_ALIASES = {
    **{c: c for c in CLASSES},
    **{label: c for c, label in CLASS_LABELS.items()},
    "禁止": "prohibited", "限制": "restricted", "常规": "routine",
}
SCOPE_ALIASES = {**{s: s for s in SCOPES}, **{label: s for s, label in SCOPE_LABELS.items()}}
_LEVEL_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def parse_date(value: Any, field: str) -> tuple[dt.date | None, Problem | None]:
    """A date from TOML (a date) or text (``YYYY-MM-DD``); empty means none."""
    if value is None or value == "":
        return None, None
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    try:
        return dt.date.fromisoformat(str(value).strip()), None
    except ValueError:
        return None, Problem(f"「{FIELD_LABELS.get(field, field)}」不是有效日期：{value!r}（应为 YYYY-MM-DD）", field)


def parse_levels(value: Any) -> tuple[tuple[int, ...], Problem | None]:
    """Surgery levels (手术级别, 1–4) from a list or text such as ``三、四级`` or ``3,4``."""
    if value is None:
        return (), None
    items: list[Any]
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        text = str(value).replace("级", "").replace("手术", "")
        for sep in ("、", "，", ",", "/", " ", "；", ";"):
            text = text.replace(sep, "|")
        items = [p for p in text.split("|") if p.strip()]
    levels = []
    for item in items:
        level = _LEVEL_WORDS.get(str(item).strip())  # 3 and "3" alike; True is not 1
        if level not in (1, 2, 3, 4):
            return (), Problem(f"「手术级别限制」应为 1–4 级（如“三、四级”），而不是 {value!r}", "surgery_levels")
        levels.append(level)
    return tuple(sorted(set(levels))), None


def validate_entry(raw: dict, *, default_class: str = "", seen: set[str] | None = None
                   ) -> tuple[TechnologyEntry | None, list[Problem]]:
    """One technology from a data-file entry or an import row.

    Problems name the field: an empty code or name, an unknown class, a code already
    used in the same edition (``seen``), malformed surgery levels or QC indicators.
    """
    problems: list[Problem] = []
    code = str(raw.get("code") or "").strip()
    name = str(raw.get("name") or "").strip()
    if not code:
        problems.append(Problem("「编码」不能为空", "code"))
    elif seen is not None and code in seen:
        problems.append(Problem(f"编码 {code} 在同一版本中重复", "code"))
    if not name:
        problems.append(Problem("「技术名称」不能为空", "name"))
    raw_class = str(raw.get("class") or default_class or "").strip()
    tech_class = CLASS_ALIASES.get(raw_class)
    if tech_class is None:
        problems.append(Problem(
            f"未知类别 {raw_class!r}（应为 禁止类/限制类/常规类，或 prohibited/restricted/routine）"
            if raw_class else "「类别」不能为空", "class"))
    levels, problem = parse_levels(raw.get("surgery_levels"))
    if problem:
        problems.append(problem)
    indicators: list[QCIndicator] = []
    for i, item in enumerate(raw.get("qc_indicators") or (), start=1):
        if isinstance(item, str) and item.strip():
            indicators.append(QCIndicator(name=item.strip()))
        elif isinstance(item, dict) and str(item.get("name") or "").strip():
            indicators.append(QCIndicator(name=str(item["name"]).strip(), code=str(item.get("code") or ""),
                                          definition=str(item.get("definition") or "")))
        else:
            problems.append(Problem(f"第 {i} 个质控指标缺少名称", "qc_indicators"))
    lead, lead_problem = parse_lead(raw.get("lead"))
    if lead_problem:
        problems.append(lead_problem)
    unknown = set(raw) - {"code", "name", "class", "surgery_levels", "specification", "qc_indicators", "note", "lead"}
    if unknown:
        problems.append(Problem(f"未知字段：{'、'.join(sorted(unknown))}", sorted(unknown)[0]))
    if problems:
        return None, problems
    if seen is not None:
        seen.add(code)
    return TechnologyEntry(code=code, name=name, tech_class=tech_class, surgery_levels=levels,
                           specification=str(raw.get("specification") or "").strip(),
                           qc_indicators=tuple(indicators), note=str(raw.get("note") or "").strip(), lead=lead), []


def parse_lead(value: Any) -> tuple[StaffRequirement | None, Problem | None]:
    """A technology's ``lead`` table (HOSP-5: the specification's requirements of its lead):
    ``certificates``, ``titles``, ``min_years``, ``source``; None when absent or empty."""
    if value is None or value == {}:
        return None, None
    if not isinstance(value, dict):
        return None, Problem("「技术负责人资质要求」应为表（certificates、titles、min_years、source）", "lead")
    try:
        lead = msgspec.convert(value, StaffRequirement)
    except msgspec.ValidationError as exc:
        return None, Problem(f"「技术负责人资质要求」格式不正确：{exc}", "lead")
    if lead.min_years < 0 or lead.min_years > 60:
        return None, Problem("「技术负责人资质要求」的年限应为 0–60 年", "lead")
    if not (lead.certificates or lead.titles or lead.min_years):
        return None, None
    if not lead.source.strip():
        return None, Problem("「技术负责人资质要求」须注明出处（source：管理规范及条款）", "lead")
    return lead, None


def validate_scope(value: Any) -> tuple[str | None, Problem | None]:
    scope = SCOPE_ALIASES.get(str(value or "").strip())
    if scope is None:
        return None, Problem(f"未知范围 {value!r}（应为 national/provincial/hospital）", "scope")
    return scope, None


def is_current(effective_on: dt.date | None, superseded_on: dt.date | None, on: dt.date) -> bool:
    """An edition is in force on ``on`` from its effective date (none: always was) until
    the day its successor takes effect (that day belongs to the successor)."""
    return (effective_on is None or effective_on <= on) and (superseded_on is None or on < superseded_on)


def citation_problems(*, tech_class: str, current: bool, available: bool,
                      allow_prohibited: bool = False) -> list[Problem]:
    """Why a technology may not be cited by new work (an empty list when it may).

    NAT-5/NAT-9: a prohibited technology is never applied; new work cites it only
    where the caller says so (a stop event, a risk warning). A superseded edition
    serves old records only; a switched-off plugin's catalogue serves no new work.
    """
    problems = []
    if not available:
        problems.append(Problem("该技术所属目录的插件已停用或条目已撤销，不能用于新的工作", "technology"))
    if not current:
        problems.append(Problem("该技术所属目录版本已被新版本替代（或尚未施行），新的工作请选择现行版本", "technology"))
    if tech_class == "prohibited" and not allow_prohibited:
        problems.append(Problem("禁止类技术不得应用于临床，不能申请或报送", "technology", "NAT-9"))
    return problems
