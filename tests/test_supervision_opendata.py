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
    """The two tables of docs/open-data.md: the filed institutions, then the disclosures."""
    documented = re.findall(r"^\| `(\w+)` \| (\w+) \|", DOC.read_text(encoding="utf-8"), flags=re.M)
    assert documented == [(f.name, f.type) for f in (*opendata.FIELDS, *opendata.DISCLOSURE_FIELDS)]


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
        from core.cases import counts

        assert mine["case_count"] == await counts.cumulative_cases(deployment["hospital_a"], mine["technology_code"])
        assert mine["filing_department"]
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


@pytest.mark.rule("NAT-24")
@pytest.mark.rule("NAT-40")
@pytest.mark.rule("JL-25")
@pytest.mark.rule("JL-41")
async def test_institutions_disclosure_and_a_regions_list_as_open_data(deployment, anon):
    """The institution's 院务公开 list (a completed filing, an admitted technology not yet
    performed) and a department's list (one region and below) at stable URLs; the records
    are what the public pages show; unknown ids are 404."""
    from core.cases import counts
    from core.filing import service as filing

    hooks = deployment["host"].view()
    a = deployment["hospital_a"]
    filed = await admitted(hooks, tech_index=21)
    waiting = await admitted(hooks, tech_index=22)
    try:
        filing_id = await completed_filing(hooks, filed)
        body = await anon.get(f"/open-data/institutions/{a}/disclosure.json")
        assert body.status_code == 200 and body.headers["content-type"].startswith("application/json")
        data = json.loads(body.content)
        assert [f["name"] for f in data["fields"]] == [f.name for f in opendata.DISCLOSURE_FIELDS]
        _, shown = await filing.institution_disclosure(a)
        assert [(r["technology_code"], r["case_count"], r["status_label"]) for r in data["records"]] == [
            (r["technology_code"], r["case_count"], r["status_label"]) for r in shown]
        from core.filing.tables import Filing

        code = (await Filing.select(Filing.technology_code).where(Filing.id == filing_id).first())["technology_code"]
        [mine] = [r for r in data["records"] if r["technology_code"] == code and r["status"] == "completed"]
        assert (mine["filed_on"], mine["institution_id"], mine["grading_url"]) == ("2026-03-20", a, f"/public/grading/{a}")
        assert mine["case_count"] == await counts.cumulative_cases(a, code)
        from core.admission.tables import Project

        other = (await Project.select(Project.technology_code).where(Project.id == waiting).first())["technology_code"]
        assert [(r["status"], r["filed_on"], r["case_count"]) for r in data["records"]
                if r["technology_code"] == other] == [("admitted", None, 0)]
        everyone = await anon.get("/open-data/disclosures.csv")
        rows = list(csv.reader(io.StringIO(everyone.content.decode("utf-8-sig"))))
        assert rows[0] == [f.name for f in opendata.DISCLOSURE_FIELDS]
        assert {(r[0], r[3]) for r in rows[1:]} >= {(str(a), code), (str(a), other)}
        city1 = json.loads((await anon.get(f"/open-data/regions/{deployment['city1']}/filings.json")).content)
        assert filing_id in {r["filing_id"] for r in city1["records"]}
        city2 = await anon.get(f"/open-data/regions/{deployment['city2']}/filings.csv")
        assert str(filing_id) not in {r[0] for r in csv.reader(io.StringIO(city2.content.decode("utf-8-sig")))}
        assert (await anon.get("/open-data/regions/999999/filings.json")).status_code == 404
        assert (await anon.get("/open-data/institutions/999999/disclosure.csv")).status_code == 404
        index = (await anon.get("/public/filings")).text  # the index leads to every 院务公开 page
        assert re.search(rf'id="institutions".*?href="/public/institutions/{a}"', index, re.S)
        page = (await anon.get(f"/public/institutions/{a}")).text
        assert f'href="/open-data/institutions/{a}/disclosure.csv"' in page
        assert f'href="/open-data/regions/{deployment["city1"]}/filings.csv"' in (
            await anon.get(f"/public/filings/region/{deployment['city1']}")).text
    finally:
        await release_obligations()
