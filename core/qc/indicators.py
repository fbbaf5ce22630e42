"""The QC indicators (质控指标) of an admitted project: what a case records and what the
QC pages compare against targets (HOSP-14).

Three sources, in this order, first name wins:

1. the project's application (``form["qc_indicators"]``: name, target parameter, method)
   — set under the department head's guidance (HOSP-14);
2. the catalogue entry the project cites (national/provincial indicators, names only);
3. the ``qc_indicators`` hook: plugins add indicators (``{"name", "kind", "target", "unit"}``).

``kind`` is "rate" (是/否 per case, figures show the share of 是), "number" (figures show
the mean) or "text"; without one, ``core.cases.rules.indicator_kind`` guesses from the name.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from core.cases.rules import Indicator, indicator_kind
from core.contract import QcTechnologyInfo as TechnologyInfo
from core.errors import DomainError
from core.plugins import HookView


def _item(raw: Any, source: str) -> Indicator | None:
    if isinstance(raw, Indicator):
        return raw
    if isinstance(raw, str):
        raw = {"name": raw}
    elif not isinstance(raw, dict):
        raw = msgspec.to_builtins(raw)
    name = str(raw.get("name") or raw.get("title") or "").strip()
    if not name:
        return None
    return Indicator(name=name, kind=str(raw.get("kind") or indicator_kind(name)),
                     target=str(raw.get("target") or "").strip(), unit=str(raw.get("unit") or ""), source=source)


async def indicators_for(hooks: HookView | None, project: dict) -> list[Indicator]:
    """The indicators of ``project`` (a row of ``admission_project`` with ``form``)."""
    found: dict[str, Indicator] = {}
    for raw in (project.get("form") or {}).get("qc_indicators") or []:
        item = _item(raw, "project")
        if item:
            found.setdefault(item.name, item)
    if project.get("technology_ref"):
        from core.catalog import service as catalog

        try:
            ref = await catalog.get_cited(int(project["technology_ref"]))
            for raw in ref.qc_indicators:
                item = _item({"name": raw.name}, "catalog")
                if item:
                    found.setdefault(item.name, item)
        except (DomainError, ValueError):
            pass
    if hooks is not None:
        tech = TechnologyInfo(code=project.get("technology_code") or "", name=project.get("technology_name") or "",
                              tech_class=project.get("tech_class") or "", institution_id=project.get("institution"),
                              project_id=project.get("id"))
        for answer in await hooks.collect("qc_indicators", technology=tech):
            for qc in answer:  # core.contract.QcIndicator, converted by the hook view
                name = qc.name.strip()
                if name:
                    found.setdefault(name, Indicator(name=name, kind=qc.kind or indicator_kind(name),
                                                     target=qc.target.strip(), unit=qc.unit, source="plugin"))
    return list(found.values())


_TARGET = re.compile(r"^\s*(≤|<=|<|≥|>=|>|=)?\s*(-?\d+(?:\.\d+)?)\s*(%|％)?")


def meets(target: str, value: float | None) -> bool | None:
    """Whether a figure meets a target parameter like "≤2%", "≥95%", "<30": True/False,
    or None when the target is not a comparison (free text) or there is no figure.
    A percentage target compares with the figure in percent."""
    if value is None:
        return None
    match = _TARGET.match(target or "")
    if not match:
        return None
    op, number = match.group(1) or "≤", float(match.group(2))
    return {"≤": value <= number, "<=": value <= number, "<": value < number, "≥": value >= number,
            ">=": value >= number, ">": value > number, "=": value == number}[op]
