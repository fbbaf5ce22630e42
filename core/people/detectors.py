"""The supervision detector that reads physicians' authorisations (registered with
``core.supervision.detectors``): cases whose operator held no valid authorisation on the
operation date (NAT-20), as recorded with each case (``case_operator_finding``)."""

from __future__ import annotations

from core.supervision.detectors import Finding, Record, Scope, _date, _grouped, _in, _raw, detector


async def _records(finding: Finding, limit: int) -> list[Record]:
    code = finding.fingerprint.split(":", 1)[1]
    rows = await _raw(f"""
        SELECT DISTINCT c.id AS id, c.external_id AS external_id, c.operated_on AS operated_on
        FROM case_operator_finding f JOIN case_record c ON c.id = f.record
        WHERE f.institution = {int(finding.institution_id)} AND NOT c.voided AND f.technology_code = {{}}
        ORDER BY c.operated_on DESC, c.id DESC LIMIT {int(limit)}""", code)
    return [Record(type="case", id=r["id"], label=f"病例 {r['external_id']}（{_date(r['operated_on'])}）",
                   href=f"/cases/{r['id']}") for r in rows]


@detector("operator_without_authorisation", "病例的术者在手术日期没有有效的医师授权（技术或手术级别）", _records)
async def operator_without_authorisation(scope: Scope) -> list[Finding]:
    """Per institution × technology: cases with an operator finding, voided cases left out."""
    rows = await _raw(f"""
        SELECT f.institution AS institution, f.technology_code AS code, MAX(c.technology_name) AS technology,
               COUNT(DISTINCT f.record) AS n, MAX(f.operated_on) AS last_on
        FROM case_operator_finding f JOIN case_record c ON c.id = f.record
        WHERE NOT c.voided {_in(scope, 'f.institution')}
        GROUP BY f.institution, f.technology_code""")
    return _grouped(rows, lambda r: f"{r['code']} {r['technology']}：{r['n']} 例病例的术者在手术日期无有效授权")
