"""Catalogue pages, XLSX export, JSON API and the admin import over HTTP (both databases)."""

from __future__ import annotations

import io
import secrets
import types

import httpx
import pytest
from openpyxl import load_workbook

from core import hookimpl
from core.catalog import files
from core.catalog.loader import load_dir
from core.catalog.tables import CatalogEdition
from core.plugins import PluginHost
from tests.fixtures import DEMO_PASSWORD, PortalClient


async def _client(app, username: str) -> PortalClient:
    client = PortalClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.9", 1234)),
                          base_url="http://testserver")
    await client.get("/login")
    response = await client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "next": "/"})
    assert response.status_code == 303, response.text
    return client


async def test_every_logged_in_user_has_the_catalogue_in_the_menu_and_sees_current_editions(deployment, login_as):
    client = await login_as("clinician_a")
    page = await client.get("/catalog")
    assert page.status_code == 200
    assert 'href="/catalog"' in page.text and "技术目录" in page.text
    assert "异基因造血干细胞移植技术" in page.text and "医用高压氧治疗技术" in page.text
    assert "肿瘤深部热疗和全身热疗技术" not in page.text  # only in the superseded 2017 edition
    assert 'id="catalog-results"' in page.text and 'delay:300ms' in page.text


async def test_anonymous_user_is_sent_to_login(deployment, anon):
    response = await anon.get("/catalog")
    assert response.status_code == 303 and "/login" in response.headers["location"]


async def test_htmx_search_swaps_only_the_results_partial(deployment, login_as):
    client = await login_as("clinician_b")
    response = await client.get("/catalog", params={"q": "ECMO"},
                                headers={"hx-request": "true", "hx-target": "catalog-results"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="catalog-results">')
    assert "<html" not in response.text
    assert "体外膜肺氧合（ECMO）技术" in response.text and "性别重置技术" not in response.text
    assert 'data-count="1"' in response.text


async def test_filters_by_class_scope_and_a_superseded_edition(deployment, login_as):
    client = await login_as("clinician_a")
    prohibited = await client.get("/catalog", params={"tech_class": "prohibited"})
    assert "代孕技术" in prohibited.text and "心血管疾病介入诊疗技术" not in prohibited.text
    provincial = await client.get("/catalog", params={"scope": "provincial"})
    assert "心血管疾病介入诊疗技术" in provincial.text and "代孕技术" not in provincial.text
    old = await client.get("/catalog", params={"edition": "national:national-restricted-2017"})
    assert "肿瘤深部热疗和全身热疗技术" in old.text and 'data-count="15"' in old.text and "已被替代" in old.text
    wrong = await client.get("/catalog", params={"tech_class": "nonsense"})
    assert wrong.status_code == 200 and "未知类别" in wrong.text


async def test_detail_page_shows_fields_qc_and_edition_history_and_404_for_unknown_ids(deployment, login_as):
    client = await login_as("qc_a")
    api = (await client.get("/api/v1/catalog", params={"q": "S1", "scope": "provincial"})).json()
    s1 = next(i for i in api["items"] if i["code"] == "S1")
    page = await client.get(f"/catalog/{s1['id']}")
    assert page.status_code == 200
    assert "心血管疾病介入诊疗技术" in page.text and "三、四级手术" in page.text
    assert "吉林省级限制类技术目录（2021版）" in page.text and 'id="qc-indicators"' in page.text
    assert 'id="edition-history"' in page.text
    assert (await client.get("/catalog/987654321")).status_code == 404
    assert (await client.get("/api/v1/catalog/987654321")).status_code == 404


async def test_xlsx_export_opens_and_has_the_filtered_rows_with_chinese_headers(deployment, login_as):
    client = await login_as("medaffairs_a")
    response = await client.get("/catalog/export.xlsx", params={"scope": "provincial", "q": "内镜"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(files.XLSX_TYPE)
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("编码", "技术名称", "类别", "范围")
    assert [r[0] for r in rows[1:]] == [f"S{i}" for i in range(5, 18) if i != 11]  # S11 关节镜 has no 内镜
    assert all("内镜" in r[1] and r[3] == "省级" and r[7] == "三、四级手术" for r in rows[1:])


async def test_api_filters_and_openapi_schema(deployment, login_as, anon):
    client = await login_as("regulator_city1")
    data = (await client.get("/api/v1/catalog", params={"tech_class": "restricted", "scope": "national"})).json()
    assert [i["code"] for i in data["items"]] == [f"G{i:02d}" for i in range(1, 13)]
    assert data["count"] == 12 and all(i["current"] for i in data["items"])
    old = (await client.get("/api/v1/catalog", params={"edition": "national:national-restricted-2017", "q": "G01"})
           ).json()
    assert [(i["code"], i["name"], i["current"]) for i in old["items"]] == [("G01", "造血干细胞移植技术", False)]
    bad = await client.get("/api/v1/catalog", params={"scope": "galactic"})
    assert bad.status_code == 400 and bad.json()["problems"][0]["field"] == "scope"  # the schema's enum
    assert (await anon.get("/api/v1/catalog")).status_code == 401
    schema = (await anon.get("/schema/openapi.json")).json()
    assert "/api/v1/catalog" in schema["paths"]
    assert "TechnologyOut" in str(schema["components"]["schemas"])


async def test_switching_jilin_off_on_the_admin_page_removes_its_catalogue_at_once(deployment, login_as):
    admin = await login_as("admin")
    user = await login_as("clinician_a")
    assert "S21" in {i["code"] for i in (await user.get("/api/v1/catalog")).json()["items"]}
    assert (await admin.post("/admin/plugins/jilin", data={"enabled": "0"})).status_code == 303
    codes = {i["code"] for i in (await user.get("/api/v1/catalog")).json()["items"]}
    assert "S21" not in codes and "G01" in codes
    await admin.post("/admin/plugins/jilin", data={"enabled": "1"})
    assert "S21" in {i["code"] for i in (await user.get("/api/v1/catalog")).json()["items"]}


async def test_admin_plugin_page_reports_a_plugin_whose_catalogue_failed(tmp_path, deployment):
    from web.app import create_app

    (tmp_path / "bad.toml").write_text('[edition]\nkey = "bad-1"\nscope = "hospital"\ntitle = "坏"\n\n'
                                       '[[technology]]\ncode = "B1"\nname = "某"\nclass = "weird"\n', encoding="utf-8")
    module = types.ModuleType("bad_catalog_plugin")

    @hookimpl
    def register_catalogs():
        return load_dir(tmp_path)

    module.register_catalogs = register_catalogs
    host = PluginHost(("jilin", "hospital_default", "badcat"), extra={"badcat": module})
    app = create_app(host)
    admin = await _client(app, "admin")
    try:
        page = await admin.get("/admin/plugins")
        assert page.status_code == 200
        assert 'id="catalog-status-badcat" data-ok="no"' in page.text
        assert "bad.toml 第 6 行" in page.text and "weird" in page.text
        assert 'id="catalog-status-jilin" data-ok="yes"' in page.text
        user = await _client(app, "clinician_a")
        assert "G01" in {i["code"] for i in (await user.get("/api/v1/catalog")).json()["items"]}
        await user.aclose()
    finally:
        await admin.aclose()


async def _after_latest_import():
    """A date after every Henan import made so far in this run (imports only move forward)."""
    import datetime as dt

    rows = await CatalogEdition.select(CatalogEdition.effective_on).where(
        CatalogEdition.key.like("henan-provincial-%"))
    return max([r["effective_on"] for r in rows if r["effective_on"]], default=dt.date(2024, 1, 1)) + dt.timedelta(days=1)


def _xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(list(files.IMPORT_HEADERS))
    for r in rows:
        wb.active.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.rule("HN-2.1")
async def test_henan_admin_imports_the_provincial_list_from_xlsx_all_or_nothing_HN_2_1(deployment):
    from core.audit.tables import AuditEvent
    from web.app import create_app

    app = create_app(PluginHost(("henan", "hospital_default")))
    admin = await _client(app, "admin")
    label = f"w{secrets.token_hex(3)}"
    try:
        form = await admin.get("/admin/catalog/import")
        assert form.status_code == 200 and "河南省限制类技术目录" in form.text and "HN-2.1" in form.text
        template = await admin.get("/admin/catalog/import/template.xlsx")
        assert load_workbook(io.BytesIO(template.content)).active["B1"].value == "技术名称"
        fields = {"slot": "henan/henan-provincial", "label": label, "effective_on": str(await _after_latest_import())}
        bad = await admin.post("/admin/catalog/import", data=fields, files={"file": ("henan.xlsx", _xlsx([
            ["H01", "甲技术", "限制类"], ["H02", "", "限制类"], ["H03", "丙技术", "未知类"]]), files.XLSX_TYPE)})
        assert bad.status_code == 422
        assert "第 3 行「技术名称」" in bad.text and "第 4 行「类别」" in bad.text
        assert f'value="{label}"' in bad.text  # what the admin typed is kept
        assert not await CatalogEdition.exists().where(CatalogEdition.key == f"henan-provincial-{label}")
        fake = await admin.post("/admin/catalog/import", data=fields,
                                files={"file": ("henan.xlsx", b"not a workbook at all", files.XLSX_TYPE)})
        assert fake.status_code == 422 and "只接受 .xlsx 或 .csv" in fake.text
        big = await admin.post("/admin/catalog/import", data=fields, files={
            "file": ("big.csv", b"a" * (files.MAX_UPLOAD_BYTES + 10), "text/csv")})
        assert big.status_code == 422 and "文件超过 2 MB" in big.text
        ok = await admin.post("/admin/catalog/import", data=fields, files={"file": ("henan.xlsx", _xlsx([
            ["H01", "甲技术", "限制类", "三、四级"], ["H02", "乙技术", ""]]), files.XLSX_TYPE)})
        assert ok.status_code == 303, ok.text
        done = await admin.get(ok.headers["location"])
        assert "已导入" in done.text and "共 2 项" in done.text
        codes = {i["code"] for i in (await admin.get("/api/v1/catalog", params={"scope": "provincial"})).json()["items"]}
        assert codes == {"H01", "H02"}
        assert await AuditEvent.exists().where((AuditEvent.action == "catalog.import")
                                               & (AuditEvent.actor_name == "admin"))
        assert (await admin.get("/admin/catalog/import/template.csv")).content.startswith(b"\xef\xbb\xbf")
    finally:
        await admin.aclose()


async def test_import_page_is_for_admins_only(deployment, login_as):
    client = await login_as("medaffairs_a")
    assert (await client.get("/admin/catalog/import")).status_code == 404
