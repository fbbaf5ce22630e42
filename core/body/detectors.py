"""The supervision detector for NAT-41 (1): an institution without a technology-management
body (or, of grade 2 and above, with only a working group or designated staff)."""

from __future__ import annotations

from core.body import rules
from core.supervision.detectors import Finding, Record, Scope, detector


async def _records(finding: Finding, limit: int) -> list[Record]:
    return [Record(type="institution", id=finding.institution_id, label="本机构医疗技术临床应用管理组织",
                   href=f"/body/{finding.institution_id}")]


@detector("no_management_body", "未设立医疗技术临床应用管理专门组织（二级以上医院须设委员会）", _records)
async def no_management_body(scope: Scope) -> list[Finding]:
    from core.body.tables import Body
    from core.tenancy.tables import Institution

    query = Institution.select(Institution.id, Institution.grade).where(Institution.active == True)  # noqa: E712
    if scope.institution_ids is not None:
        query = query.where(Institution.id.is_in(list(scope.institution_ids) or [-1]))
    institutions = await query
    bodies = {b["institution"]: b["kind"] for b in await Body.select(Body.institution, Body.kind).where(
        Body.institution.is_in([i["id"] for i in institutions] or [-1]))}
    found = []
    for i in institutions:
        kind = bodies.get(i["id"])
        if kind is None:
            detail = "未设立医疗技术临床应用管理专门组织，也未指定专（兼）职人员"
        elif rules.grade_two_or_above(i["grade"]) and kind != "committee":
            detail = f"{i['grade']}医院仅设{rules.KINDS[kind]}，应设立管理委员会"
        else:
            continue
        found.append(Finding(institution_id=i["id"], fingerprint="body", detail=detail, fact_on=scope.today))
    return found


async def _rules_records(finding: Finding, limit: int) -> list[Record]:
    return [Record(type="institution", id=finding.institution_id, label="本机构管理制度（管理组织的决定）",
                   href=f"/body/{finding.institution_id}/systems")]


@detector("no_management_rules", "未建立医疗技术临床应用管理相关规章制度（管理组织无“制定管理制度”的决定记录）",
          _rules_records)
async def no_management_rules(scope: Scope) -> list[Finding]:
    """NAT-41 (2): the institution's management rules are a decision of its body on the
    duty ``rules`` (制定本机构医疗技术临床应用管理制度, NAT-15), recorded with the meeting
    that made it; an active institution with no such decision on record is a finding (one
    without a body at all has none either)."""
    from core.body.tables import BodyDecision
    from core.tenancy.tables import Institution

    query = Institution.select(Institution.id).where(Institution.active == True)  # noqa: E712
    if scope.institution_ids is not None:
        query = query.where(Institution.id.is_in(list(scope.institution_ids) or [-1]))
    ids = [i["id"] for i in await query]
    decided = {r["institution"] for r in await BodyDecision.select(BodyDecision.institution).where(
        (BodyDecision.system == "rules") & BodyDecision.institution.is_in(ids or [-1])).distinct()}
    return [Finding(institution_id=i, fingerprint="rules", fact_on=scope.today,
                    detail="管理组织尚无制定本机构医疗技术临床应用管理制度的决定记录")
            for i in ids if i not in decided]
