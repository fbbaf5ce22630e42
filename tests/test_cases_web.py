"""The three ways in (page, JSON API, spreadsheet upload) share one validation; the API
authenticates by a per-institution token (JL-38 HIS 对接) and is in the OpenAPI schema."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from core import clock
from core.accounts.schemas import SYSTEM
from core.cases.tables import CaseImport, CaseRecord
from tests.case_helpers import admitted, case, release_obligations, token_for


@pytest.fixture(scope="module")
async def project(deployment):
    yield await admitted(deployment["host"].view(), tech_index=6)
    await release_obligations()


def recent(**overrides) -> dict:
    """Dates within the last weeks, so 'today' of the API (the real one) is after them."""
    today = clock.today()
    return {"admitted_on": (today - dt.timedelta(days=12)).isoformat(),
            "operated_on": (today - dt.timedelta(days=11)).isoformat(),
            "discharged_on": (today - dt.timedelta(days=5)).isoformat()} | overrides


# ---------------------------------------------------------------- API


@pytest.mark.rule("JL-38")
async def test_jl38_his_posts_a_batch_with_its_token_idempotently(deployment, anon, project):
    _, token = await token_for(deployment["hospital_a"])
    headers = {"Authorization": f"Bearer {token}"}
    batch = {"cases": [case(project, **recent()), case(project, **recent())]}
    response = await anon.post("/api/v1/cases", json=batch, headers=headers, csrf=False)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["created"] == 2 and {r["report_rule"] for r in body["results"]} == {"JL-38"}
    again = await anon.post("/api/v1/cases", json=batch, headers=headers, csrf=False)
    assert again.json()["unchanged"] == 2 and again.json()["created"] == 0


@pytest.mark.rule("NAT-37")
@pytest.mark.rule("NAT-19")
async def test_refused_batch_names_item_field_and_rule_and_stores_nothing(deployment, anon, project):
    _, token = await token_for(deployment["hospital_a"])
    headers = {"Authorization": f"Bearer {token}"}
    first = case(project, **recent())
    await anon.post("/api/v1/cases", json={"cases": [first]}, headers=headers, csrf=False)
    good = case(project, **recent())
    bad = [good, case(project, **recent(discharged_on=(clock.today() - dt.timedelta(days=20)).isoformat())),
           case(project, **recent(), operators=["clinician_b"]),
           dict(first, outcome="death")]
    response = await anon.post("/api/v1/cases", json={"cases": bad}, headers=headers, csrf=False)
    assert response.status_code == 422
    found = {(p["field"], p["rule"]) for p in response.json()["problems"]}
    assert ("cases[1].discharged_on", "NAT-37") in found
    assert ("cases[2].operators", "NAT-19") in found
    assert ("cases[3].case_id", "NAT-37") in found
    assert not await CaseRecord.exists().where(CaseRecord.external_id == good["case_id"])


async def test_malformed_batch_answers_400_naming_the_place(deployment, anon, project):
    _, token = await token_for(deployment["hospital_a"])
    response = await anon.post("/api/v1/cases", json={"cases": [{"case_id": "x", "operated_on": "yesterday"}]},
                               headers={"Authorization": f"Bearer {token}"}, csrf=False)
    assert response.status_code == 400
    assert response.json()["problems"]


async def test_revoked_or_missing_token_answers_401_json(deployment, anon, project):
    from core.apitokens import service as tokens

    token_id, token = await token_for(deployment["hospital_a"])
    await tokens.revoke(SYSTEM, token_id)
    for headers in ({"Authorization": f"Bearer {token}"}, {}, {"Authorization": "Bearer ct_nonsense"}):
        response = await anon.post("/api/v1/cases", json={"cases": [case(project, **recent())]}, headers=headers,
                                   csrf=False)
        assert response.status_code == 401 and response.json()["status"] == 401


async def test_a_session_cookie_does_not_authenticate_the_api(login_as, project):
    client = await login_as("medaffairs_a")
    response = await client.post("/api/v1/cases", json={"cases": [case(project, **recent())]})
    assert response.status_code == 401


async def test_the_case_api_is_in_the_openapi_schema(anon):
    schema = (await anon.get("/schema/openapi.json")).json()
    assert "/api/v1/cases" in schema["paths"]
    assert "CaseIn" in str(schema["components"]["schemas"])


async def test_admin_issues_and_revokes_tokens_on_the_page(deployment, login_as):
    admin = await login_as("admin")
    page = await admin.post("/admin/api-tokens/", data={"institution": str(deployment["hospital_a"]),
                                                        "name": "HIS 测试"})
    assert page.status_code == 200 and 'id="issued-token">ct_' in page.text
    assert (await (await login_as("medaffairs_a")).get("/admin/api-tokens/")).status_code == 404


# ---------------------------------------------------------------- page


@pytest.mark.rule("HOSP-18")
async def test_page_records_a_case_and_keeps_input_on_error(deployment, login_as, project):
    client = await login_as("clinician_a")
    index = await client.get(f"/cases/?technology_code=P{project}")
    assert index.status_code == 200 and "并发症发生率" in index.text
    fields = await client.get(f"/cases/fields?technology_code=P{project}")
    assert 'name="qc:并发症发生率"' in fields.text
    form = {"technology_code": f"P{project}", "case_id": "PAGE-0001-X", "patient_key": "张三",
            **recent(), "operators": "clinician_a", "outcome": "improved", "indication": "冠心病",
            "qc:并发症发生率": "否"}
    refused = await client.post("/cases/", data=form)
    assert refused.status_code == 422
    assert "NAT-45" in refused.text and "HOSP-18" in refused.text and 'value="PAGE-0001-X"' in refused.text
    saved = await client.post("/cases/", data=form | {"patient_key": "PK-0001", "consent": "on"})
    assert saved.status_code == 303
    detail = await client.get(saved.headers["location"])
    assert "PAGE-0001-X" in detail.text and "JL-38" in detail.text


# ---------------------------------------------------------------- upload


def _csv(rows: list[list[str]], indicators=("并发症发生率",)) -> bytes:
    from core.cases.spreadsheet import COLUMNS

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([h for h, _, _ in COLUMNS] + [f"质控:{i}" for i in indicators])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _row(case_id: str, operated: str, discharged: str, consent: str = "是", patient: str = "PK-9") -> list[str]:
    today = clock.today()
    return [case_id, patient, (today - dt.timedelta(days=12)).isoformat(), operated, discharged, "clinician_a", "",
            "冠心病", "好转", "否", "", "否", "", "随访良好", consent, "否"]


async def test_upload_template_and_all_or_nothing_import_with_row_errors(deployment, login_as, project):
    client = await login_as("clinician_a")
    template = await client.get(f"/cases/template.xlsx?technology_code=P{project}")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    from openpyxl import load_workbook

    head = [c.value for c in next(load_workbook(io.BytesIO(template.content)).worksheets[0].iter_rows())]
    assert "医院病例号" in head and "质控:并发症发生率" in head
    op, dis = (clock.today() - dt.timedelta(days=11)).isoformat(), (clock.today() - dt.timedelta(days=5)).isoformat()
    bad = _csv([_row("UP-OK-1", op, dis), _row("UP-BAD-2", dis, op), _row("UP-BAD-3", op, dis, consent="否"),
                _row("UP-BAD-4", "昨天", dis)])
    response = await client.post("/cases/upload", data={"technology_code": f"P{project}"},
                                 files={"file": ("病例.csv", bad, "text/csv")})
    assert response.status_code == 303
    job_page = await client.get(response.headers["location"])
    assert "文件未导入" in job_page.text
    for text in ("第 3 行", "第 4 行", "第 5 行", "HOSP-18"):
        assert text in job_page.text
    assert not await CaseRecord.exists().where(CaseRecord.external_id == "UP-OK-1")
    good = _csv([_row("UP-OK-1", op, dis), _row("UP-OK-2", op, dis, patient="PK-10")])
    response = await client.post("/cases/upload", data={"technology_code": f"P{project}"},
                                 files={"file": ("病例.csv", good, "text/csv")})
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    partial = await client.get(f"/cases/imports/{job_id}", headers={"hx-request": "true"})
    assert "导入完成" in partial.text and 'value="100"' in partial.text
    job = await CaseImport.select().where(CaseImport.id == job_id).first()
    assert job["imported"] == 2 and job["status"] == "done"
