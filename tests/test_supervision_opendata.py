"""The public lists of filed institutions as open data (NAT-40, NAT-24): the same completed
filings the public pages list, as CSV and JSON at stable URLs, with a documented schema."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from core.supervision import opendata
from tests.case_helpers import admitted, release_obligations
from tests.supervision_helpers import completed_filing

DOC = Path(__file__).resolve().parent.parent / "docs" / "open-data.md"


def test_the_documented_schema_is_the_codes():
    documented = re.findall(r"^\| `(\w+)` \| (\w+) \|", DOC.read_text(encoding="utf-8"), flags=re.M)
    assert documented == [(f.name, f.type) for f in opendata.FIELDS]


@pytest.mark.rule("NAT-40")
@pytest.mark.rule("NAT-24")
async def test_nat40_completed_filings_as_json_and_csv_for_anyone(deployment, anon):
    hooks = deployment["host"].view()
    project = await admitted(hooks, tech_index=13)
    try:
        filing_id = await completed_filing(hooks, project)
        body = await anon.get("/open-data/filings.json")
        assert body.status_code == 200 and body.headers["content-type"].startswith("application/json")
        data = json.loads(body.content)
        assert data["schema_version"] == opendata.SCHEMA_VERSION
        assert [f["name"] for f in data["fields"]] == [f.name for f in opendata.FIELDS]
        [mine] = [r for r in data["records"] if r["filing_id"] == filing_id]
        assert (mine["filed_on"], mine["use_status"], mine["use_label"]) == ("2026-03-20", "in_use", "在用")
        assert mine["case_count"] >= 1 and mine["filing_department"]
        from core.filing.tables import Filing

        public = {r["id"] for r in await Filing.select(Filing.id).where(Filing.status == "completed")}
        assert {r["filing_id"] for r in data["records"]} == public  # completed filings only
        sheet = await anon.get("/open-data/filings.csv")
        rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
        assert rows[0] == [f.name for f in opendata.FIELDS] and str(filing_id) in {r[0] for r in rows[1:]}
        page = await anon.get("/open-data")
        assert page.status_code == 200 and "filings.json" in page.text and "use_status" in page.text
        assert 'id="open-data-link"' in (await anon.get("/public/filings")).text
    finally:
        await release_obligations()
