"""The public lists as open data (NAT-40, NAT-24; a province's own rules come with its
``disclosure_fields``), the same rows the public pages show, as CSV and JSON at stable
URLs, schema documented in ``docs/open-data.md`` and at ``/open-data``:

- the departments' lists of filed institutions: one record per completed filing, all of
  them (``filings``) or one region's and below (``regions/<id>/filings``);
- the institutions' own disclosure (院务公开): one record per restricted technology of an
  institution's list (``disclosures``, or ``institutions/<id>/disclosure``), with its
  filing date and cumulative case count, and the link to its surgery-grading catalogue.

The schema is versioned: a field is added, never renamed or removed, within a version."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from core import clock
from core.exports import csv_bytes

SCHEMA_VERSION = "1"


class Field(msgspec.Struct, frozen=True):
    name: str
    type: str
    label: str
    description: str


FIELDS = (
    Field("filing_id", "integer", "备案编号", "本平台的备案记录编号，稳定不变"),
    Field("institution", "string", "医疗机构", "医疗机构名称"),
    Field("region", "string", "所在地区", "医疗机构所在行政区划"),
    Field("technology_code", "string", "技术编码", "技术目录中的编码"),
    Field("technology_name", "string", "技术名称", "限制类技术名称"),
    Field("filed_on", "date", "完成备案日期", "备案部门完成备案的日期（YYYY-MM-DD）"),
    Field("case_count", "integer", "累计开展例数", "该机构该技术累计开展的病例数（NAT-24）"),
    Field("filing_department", "string", "备案部门", "核发《医疗机构执业许可证》的卫生健康行政部门"),
    Field("use_status", "string", "使用状态代码", "in_use（在用）、suspended（暂停）、stopped（停止）、cancelled（注销备案）"),
    Field("use_label", "string", "使用状态", "使用状态的中文名称；暂停或停止时附起始日期"),
)


def _record(row: dict) -> dict[str, Any]:
    use = row["use"]
    label = use.label + (f"（{use.since.isoformat()} 起）" if use.status != "in_use" and use.since else "")
    return {"filing_id": row["id"], "institution": row["institution.name"], "region": row["institution.region.name"],
            "technology_code": row["technology_code"], "technology_name": row["technology_name"],
            "filed_on": row["filed_on"].isoformat() if row["filed_on"] else None, "case_count": row["case_count"],
            "filing_department": row["filing_department"], "use_status": str(use.status), "use_label": label}


DISCLOSURE_FIELDS = (
    Field("institution_id", "integer", "医疗机构编号", "本平台的医疗机构编号，稳定不变；院务公开页面为 /public/institutions/<编号>"),
    Field("institution", "string", "医疗机构", "医疗机构名称"),
    Field("region", "string", "所在地区", "医疗机构所在行政区划"),
    Field("technology_code", "string", "技术编码", "技术目录中的编码（目录外技术为空）"),
    Field("technology_name", "string", "技术名称", "限制类技术名称"),
    Field("status", "string", "备案状态代码", "completed（已备案）、filing（备案办理中）、admitted（已准入，尚未开展）"),
    Field("status_label", "string", "备案状态", "备案状态的中文名称"),
    Field("filed_on", "date", "完成备案时间", "备案部门完成备案的日期（YYYY-MM-DD）；未完成备案为空"),
    Field("case_count", "integer", "累计开展例数", "该机构该技术累计开展的病例数：不含已作废病例，按更正后的病例记录统计（NAT-24）"),
    Field("use_status", "string", "使用状态代码", "in_use（在用）、suspended（暂停）、stopped（停止）、cancelled（注销备案）"),
    Field("use_label", "string", "使用状态", "使用状态的中文名称；暂停或停止时附起始日期"),
    Field("grading_url", "string", "手术分级管理目录", "该机构现行手术分级管理目录的公开页面地址（相对地址）"),
)


async def records(region_id: int | None = None) -> list[dict[str, Any]]:
    """Every completed filing (of a region and below) as an open-data record, by technology
    code then filing date."""
    from core.filing import service as filing

    rows = await filing.public_all() if region_id is None else (await filing.public_by_region(region_id))[1]
    return [_record(r) for r in rows]


def _disclosure_record(row: dict) -> dict[str, Any]:
    use = row["use"]
    label = use.label + (f"（{use.since.isoformat()} 起）" if use.status != "in_use" and use.since else "")
    status = row["status"] if row["status"] in ("completed", "admitted") else "filing"
    return {"institution_id": row["institution"], "institution": row["institution.name"],
            "region": row["institution.region.name"], "technology_code": row["technology_code"],
            "technology_name": row["technology_name"], "status": status, "status_label": row["status_label"],
            "filed_on": row["filed_on"].isoformat() if row["filed_on"] else None, "case_count": row["case_count"],
            "use_status": str(use.status), "use_label": label,
            "grading_url": f"/public/grading/{row['institution']}"}


async def disclosure_records(institution_id: int | None = None) -> list[dict[str, Any]]:
    """The institutions' 院务公开 lists (one institution's, or every active one's): one
    record per restricted technology. An unknown or inactive institution is ``NotFound``."""
    from core.filing import service as filing

    if institution_id is not None:
        await filing.institution_disclosure(institution_id)  # NotFound for an unknown one
    return [_disclosure_record(r) for r in await filing.disclosures_all(
        None if institution_id is None else [institution_id])]


def json_bytes(fields: tuple[Field, ...], rows: list[dict[str, Any]], today: dt.date | None = None) -> bytes:
    return msgspec.json.encode({
        "schema_version": SCHEMA_VERSION, "generated_on": (today or clock.today()).isoformat(),
        "fields": [msgspec.to_builtins(f) for f in fields], "records": rows})


def csv_of(fields: tuple[Field, ...], rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with BOM (spreadsheets read Chinese), the field names as the header row."""
    return csv_bytes([[f.name for f in fields], *[[r[f.name] for f in fields] for r in rows]])


async def as_json(today: dt.date | None = None) -> bytes:
    return json_bytes(FIELDS, await records(), today)


async def as_csv() -> bytes:
    return csv_of(FIELDS, await records())
