"""The public lists of filed institutions as open data (NAT-40, NAT-24; a province's own
rules come with its ``disclosure_fields``): one record per completed
filing, the same rows the public pages show, as CSV and JSON at stable URLs, schema
documented in ``docs/open-data.md`` and at ``/open-data``.

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


async def records() -> list[dict[str, Any]]:
    """Every completed filing as an open-data record, by technology code then filing date."""
    from core.filing import service as filing

    return [_record(r) for r in await filing.public_all()]


async def as_json(today: dt.date | None = None) -> bytes:
    return msgspec.json.encode({
        "schema_version": SCHEMA_VERSION, "generated_on": (today or clock.today()).isoformat(),
        "fields": [msgspec.to_builtins(f) for f in FIELDS], "records": await records()})


async def as_csv() -> bytes:
    """UTF-8 with BOM (spreadsheets read Chinese), the field names as the header row."""
    rows = await records()
    return csv_bytes([[f.name for f in FIELDS], *[[r[f.name] for f in FIELDS] for r in rows]])
