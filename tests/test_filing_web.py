"""限制类技术备案 over HTTP: pages, role checks, tenancy answers, the printable form, the
regulator's desk, public anonymous pages — in a Jilin deployment (the tests' default)
and in a Henan deployment (an app built on ``PluginHost(("henan", "hospital_default"))``)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import httpx
import pytest

from core import clock
from core.filing.tables import Filing
from core.outbox.tables import Delivery
from tests.filing_helpers import FIRST_CASE, HENAN_USERS, PDF, admitted_project, henan_world
from tests.fixtures import DEMO_PASSWORD, PortalClient


@pytest.fixture(scope="module", autouse=True)
async def _forget_obligations(deployment):
    """Filing tests open obligations due in 2026; other tests' dashboards must not see them."""
    yield
    from tests.filing_helpers import forget_filing_obligations

    await forget_filing_obligations()



def pdf_text(data: bytes) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext 不可用")
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


async def fill_and_upload(client, filing_id: int, keys: list[str], *, phone: str = "0431-88888888") -> None:
    page = await client.get(f"/filings/{filing_id}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    users = re.findall(r'<select name="phys_user">.*?</select>', page.text, re.S)[0]
    lead = re.search(r'<option value="(\d+)" selected>', users).group(1)
    r = await client.post(f"/filings/{filing_id}/details", data={
        "version": version, "assessment_basis": "specification", "assessment_reference": "相关技术临床应用管理规范",
        "self_assessment": "对照管理规范逐项自评，人员、设备、设施、质控均符合要求。", "form_phone": phone,
        "phys_user": [lead], "phys_sex": ["男"], "phys_scope": ["内科"], "phys_title": ["主治医师"]})
    assert r.status_code == 303, r.text
    for key in keys:
        r = await client.post(f"/filings/{filing_id}/materials", data={"material": key},
                              files={"file": (f"{key}.pdf", PDF + key.encode() + b"-web", "application/pdf")})
        assert r.status_code == 303, r.text


async def record_first_case(client, project_id: int, operator: str) -> int:
    """登记首例 is entering the first case on the case page: a case record (and its report)
    that opens the filing. Returns the case id."""
    r = await client.post("/cases", data={
        "technology_code": f"P{project_id}", "case_id": f"ZY-FIRST-{project_id}", "patient_key": f"PK-{project_id}",
        "admitted_on": (FIRST_CASE - dt.timedelta(days=1)).isoformat(), "operated_on": FIRST_CASE.isoformat(),
        "discharged_on": (FIRST_CASE + dt.timedelta(days=5)).isoformat(), "operators": [operator],
        "indication": "首例适应症", "outcome": "improved", "follow_up": "术后随访无异常", "consent": "on",
        "qc:并发症发生率": "否"})
    assert r.status_code == 303, r.text
    return int(r.headers["location"].split("/")[2].split("?")[0])


async def open_over_http(client, hooks, users=None) -> int:
    project_id = await admitted_project(hooks, users) if users else await admitted_project(hooks)
    await record_first_case(client, project_id, (users or {}).get("clinician", "clinician_a"))
    return (await Filing.select(Filing.id).where(Filing.project == project_id).first())["id"]


# ---------------------------------------------------------------- Jilin


@pytest.mark.rule("JL-12")
async def test_jl12_hospital_files_over_http_and_the_regulator_completes(deployment, login_as, anon):
    hooks = deployment["host"].view()
    ma = await login_as("medaffairs_a")
    index = await ma.get("/filings")
    assert index.status_code == 200 and "登记首例" in index.text
    filing_id = await open_over_http(ma, hooks)
    page = await ma.get(f"/filings/{filing_id}")
    assert "JL-12" in page.text and "2026-03-30" in page.text
    titles = [m.group(1) for m in re.finditer(r'data-material="(\w+)"', page.text)]
    assert titles == ["form", "self_assessment", "first_case", "argumentation", "lead_credentials", "physicians"]
    assert 'id="missing"' in page.text and "缺少材料：医疗机构开展限制类医疗技术临床应用备案表（见附件3）" in page.text
    assert "HN-" not in page.text and "河南" not in page.text
    # Wrong type: a clear message next to the field, nothing stored.
    r = await ma.post(f"/filings/{filing_id}/materials", data={"material": "form"},
                      files={"file": ("form.pdf", b"GIF89a not a pdf", "application/pdf")})
    assert r.status_code == 422 and "仅支持 PDF、JPG、PNG" in r.text
    # The printable annex 3, filled in from the records.
    pdf = await ma.get(f"/filings/{filing_id}/form.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = pdf_text(pdf.content)
    assert "医疗技术临床应用备案表" in text and "医院A" in text and "法定代表人" in text
    await fill_and_upload(ma, filing_id, ["form", "self_assessment", "first_case", "argumentation",
                                          "lead_credentials", "physicians"])
    page = await ma.get(f"/filings/{filing_id}")
    assert 'id="complete-check"' in page.text
    r = await ma.post(f"/filings/{filing_id}/submit", data={})
    assert r.status_code == 303
    page = await ma.get(f"/filings/{filing_id}")
    # JL-12: filed with the licence-issuing department (its desk), not sent to the platform.
    assert 'data-status="submitted"' in page.text and "吉林省医疗技术临床应用监管平台" not in page.text
    assert 'id="late"' in page.text  # submitted today, long after 2026-03-30: late, still accepted
    # A replaced scan after submission is refused.
    r = await ma.post(f"/filings/{filing_id}/materials", data={"material": "form"},
                      files={"file": ("again.pdf", PDF + b"again", "application/pdf")})
    assert r.status_code == 422 and "不能替换" in r.text
    # The desk: city 1 acts; city 2 does not see it; the province reads but may not act.
    city1, city2 = await login_as("regulator_city1"), await login_as("regulator_city2")
    province = await login_as("regulator_province")
    desk = await city1.get("/filings/desk")
    assert f'data-filing="{filing_id}"' in desk.text and "逾期提交" in desk.text
    assert (await city2.get(f"/filings/{filing_id}")).status_code == 404
    assert (await city2.post(f"/filings/{filing_id}/complete", data={})).status_code == 404
    assert (await province.get(f"/filings/{filing_id}")).status_code == 200
    assert (await province.post(f"/filings/{filing_id}/complete", data={})).status_code == 403
    r = await city1.post(f"/filings/{filing_id}/return", data={"reason": ""})
    assert r.status_code == 422 and "请填写退回理由" in r.text
    r = await city1.post(f"/filings/{filing_id}/return", data={"reason": "备案表缺少公章"})
    assert r.status_code == 303
    page = await ma.get(f"/filings/{filing_id}")
    assert "备案表缺少公章" in page.text and 'data-status="returned"' in page.text
    r = await ma.post(f"/filings/{filing_id}/materials", data={"material": "form"},
                      files={"file": ("stamped.pdf", PDF + b"stamped", "application/pdf")})
    assert r.status_code == 303
    assert (await ma.post(f"/filings/{filing_id}/submit", data={})).status_code == 303
    r = await city1.post(f"/filings/{filing_id}/complete", data={"completed_on": clock.today().isoformat()})
    assert r.status_code == 303
    page = await city1.get(f"/filings/{filing_id}")
    row = await Filing.select().where(Filing.id == filing_id).first()
    assert row["annotation_recorded"] in page.text and "已逐级上报" in page.text
    for client in (province, await login_as("qccenter")):
        assert f'data-filing="{filing_id}"' in (await client.get("/filings/desk")).text
    # The public, anonymous list and the institution's disclosure.
    listed = await anon.get(f"/public/filings/region/{deployment['city1']}")
    assert listed.status_code == 200 and row["technology_name"] in listed.text and "备案部门" in listed.text
    assert row["technology_name"] in (await anon.get(f"/public/filings/technology/{row['technology_code']}")).text
    disclosure = await anon.get(f"/public/institutions/{deployment['hospital_a']}")
    assert disclosure.status_code == 200 and row["technology_name"] in disclosure.text
    assert (await anon.get("/public/filings")).status_code == 200
    assert (await anon.get("/public/filings/technology/NOPE")).status_code == 404


async def test_role_checks_and_navigation(deployment, login_as):
    clinician = await login_as("clinician_a")
    assert (await clinician.get("/filings")).status_code == 404
    assert (await clinician.get("/filings/desk")).status_code == 404
    ma = await login_as("medaffairs_a")
    assert (await ma.get("/filings/desk")).status_code == 404
    assert "/filings" in (await ma.get("/")).text
    regulator = await login_as("regulator_city1")
    r = await regulator.get("/filings")
    assert r.status_code == 303 and r.headers["location"] == "/filings/desk"
    consistency = await regulator.get("/filings/consistency")
    # Jilin's rules give this check no id of their own; Henan's HN-4.3 is not shown here.
    assert consistency.status_code == 200 and "备案与副本备注一致性核查" in consistency.text
    assert "HN-4.3" not in consistency.text


# ---------------------------------------------------------------- Henan


@pytest.fixture(scope="module")
async def henan_app(deployment):
    from web.app import create_app

    world = await henan_world()
    from core.catalog import service as catalog

    await catalog.ensure_synced(world["host"])
    world["app"] = create_app(world["host"])
    return world


@pytest.fixture
async def henan_login(henan_app):
    clients = []

    async def make(username: str) -> PortalClient:
        client = PortalClient(transport=httpx.ASGITransport(app=henan_app["app"], client=("127.0.0.7", 1)),
                              base_url="http://testserver")
        clients.append(client)
        await client.get("/login")
        r = await client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 303, r.text
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.mark.rule("HN-2.2b")
@pytest.mark.rule("HN-2.2c")
@pytest.mark.rule("HN-2.3")
async def test_hn22b_hn22c_henan_deployment_files_pushes_and_publishes(henan_app, henan_login):
    hooks = henan_app["host"].view()
    ma = await henan_login(HENAN_USERS["medical_affairs"])
    filing_id = await open_over_http(ma, hooks, HENAN_USERS)
    page = await ma.get(f"/filings/{filing_id}")
    assert "HN-2.2b" in page.text and "河南省限制类医疗技术临床应用备案表" in page.text
    keys = [m.group(1) for m in re.finditer(r'data-material="(\w+)"', page.text)]
    # (5) 当地卫生健康行政部门规定的其他材料: 郑州's department specifies none, so it is not asked.
    assert keys == ["form", "assessment", "argumentation", "lead_credentials"]
    assert "吉林" not in page.text
    text = pdf_text((await ma.get(f"/filings/{filing_id}/form.pdf")).content)
    assert "河南省限制类医疗技术临床应用备案表" in text and "郑州市示范医院" in text
    await fill_and_upload(ma, filing_id, ["form", "assessment", "argumentation", "lead_credentials"],
                          phone="0371-85961175")
    assert (await ma.post(f"/filings/{filing_id}/submit", data={})).status_code == 303
    page = await ma.get(f"/filings/{filing_id}")
    assert "河南省医疗技术临床应用信息系统" in page.text
    other = await henan_login(HENAN_USERS["other_city"])
    assert (await other.post(f"/filings/{filing_id}/complete", data={})).status_code == 404
    regulator = await henan_login(HENAN_USERS["regulator"])
    assert (await regulator.post(f"/filings/{filing_id}/complete", data={})).status_code == 303
    page = await regulator.get(f"/filings/{filing_id}")
    assert "审批办" in page.text and 'id="annotation-recorded">未备注' in page.text
    assert "已逐级上报" not in page.text and "JL-" not in page.text and "吉林" not in page.text
    # HN-2.2c: the push is the filing department's, on its desk; the hospital never sees it.
    push = await Delivery.select().where((Delivery.subject_type == "licence_annotation")
                                         & (Delivery.subject_id == filing_id)).first()
    assert push["channel"] == "henan_platform" and push["kind"] == "report"
    desk = await regulator.get("/filings/desk")
    assert 'id="pushes"' in desk.text and f'id="delivery-{push["id"]}"' in desk.text and "HN-2.2c" in desk.text
    assert (await regulator.get(f"/outbox/{push['id']}")).status_code == 200
    assert (await ma.get(f"/outbox/{push['id']}")).status_code == 404
    assert f'id="delivery-{push["id"]}"' not in (await ma.get("/outbox")).text
    consistency = await regulator.get("/filings/consistency")
    assert f'data-filing="{filing_id}"' in consistency.text and "副本未备注" in consistency.text
    row = await Filing.select().where(Filing.id == filing_id).first()
    r = await regulator.post(f"/filings/{filing_id}/annotation", data={"annotation": row["annotation_expected"]})
    assert r.status_code == 303
    consistency = await regulator.get("/filings/consistency")
    assert f'<tr data-filing="{filing_id}"><td>郑州' not in consistency.text
    anon = PortalClient(transport=httpx.ASGITransport(app=henan_app["app"]), base_url="http://testserver")
    async with anon:
        listed = await anon.get(f"/public/filings/region/{henan_app['province']}")
        assert row["technology_name"] in listed.text and "所在地" in listed.text and "郑州" in listed.text
