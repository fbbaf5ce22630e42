"""Issue 11 point 11: lists have search, filters, sorting, pagination and XLSX export, in
one mechanism (``core.listing``); the case list is not "newest 50"; pages stay within the
viewer's tenancy and work without JavaScript (plain links and a GET form)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from core import listing
from core.accounts.roles import ROLE_LABELS
from core.cases import service as cases
from core.cases.tables import CaseRecord
from tests.admission_helpers import actor
from tests.case_helpers import admitted, case_input, release_obligations


@pytest.fixture(scope="module")
async def many(deployment):
    """60 cases of one project of hospital A, operated on 60 successive days."""
    hooks = deployment["host"].view()
    project = await admitted(hooks, tech_index=23)
    start = dt.date(2026, 3, 3)  # after the project's admission (2026-03-02)
    items = [case_input(project, case_id=f"LIST{n:03d}", admitted_on=(start + dt.timedelta(days=n - 1)).isoformat(),
                        operated_on=(start + dt.timedelta(days=n)).isoformat(),
                        discharged_on=(start + dt.timedelta(days=n + 3)).isoformat(),
                        outcome="worse" if n % 10 == 0 else "improved")
             for n in range(60)]
    await cases.record_cases(await actor("clinician_a"), hooks, items, source="page", today=dt.date(2026, 5, 10))
    yield {"project": project, "code": f"P{project}"}
    await release_obligations()


def listed(html: str) -> list[str]:
    section = html.split('id="case-list"', 1)[1]
    return re.findall(r'<a href="/cases/\d+">(LIST\d{3})</a>', section)


async def test_the_case_list_pages_through_every_case_not_the_newest_fifty(deployment, many, login_as):
    ma = await login_as("medaffairs_a")
    code = (await CaseRecord.select(CaseRecord.technology_code).where(CaseRecord.external_id == "LIST000").first()
            )["technology_code"]
    first = await ma.get(f"/cases?technology={code}&sort=operated_on")
    assert first.status_code == 200
    assert listed(first.text) == [f"LIST{n:03d}" for n in range(50)]
    assert "共 60 条" in first.text and 'rel="next"' in first.text
    nxt = re.search(r'<a rel="next" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    second = await ma.get(nxt)
    assert listed(second.text) == [f"LIST{n:03d}" for n in range(50, 60)]
    # Descending by the same key; the header link toggles it.
    desc = await ma.get(f"/cases?technology={code}&sort=-operated_on")
    assert listed(desc.text)[:2] == ["LIST059", "LIST058"]


async def test_search_and_filters_narrow_the_case_list(deployment, many, login_as):
    ma = await login_as("medaffairs_a")
    assert listed((await ma.get("/cases?q=LIST042")).text) == ["LIST042"]
    worse = listed((await ma.get("/cases?q=LIST&outcome=worse&sort=external_id")).text)
    assert worse == [f"LIST{n:03d}" for n in range(0, 60, 10)]
    ranged = listed((await ma.get("/cases?q=LIST&since=2026-03-08&until=2026-03-10&sort=operated_on")).text)
    assert ranged == ["LIST005", "LIST006", "LIST007"]
    bad = await ma.get("/cases?q=LIST&since=2026-13-01")
    assert bad.status_code == 200 and "日期格式应为 YYYY-MM-DD" in bad.text
    # An unknown sort or filter value falls back to the default, never an error.
    assert (await ma.get("/cases?sort=patient_key&outcome=nonsense&page=abc")).status_code == 200


async def test_the_case_list_exports_what_it_shows_as_xlsx(deployment, many, login_as):
    ma = await login_as("medaffairs_a")
    response = await ma.get("/cases?q=LIST&outcome=worse&sort=external_id&format=xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("医疗机构", "病例号", "技术编码")
    assert [r[1] for r in rows[1:]] == [f"LIST{n:03d}" for n in range(0, 60, 10)]
    assert {r[7] for r in rows[1:]} == {"恶化"}


@pytest.mark.rule("NAT-45")
async def test_pages_and_exports_stay_within_the_viewers_tenancy(deployment, many, login_as):
    other = await login_as("medaffairs_b")
    assert listed((await other.get("/cases?q=LIST")).text) == []
    export = await other.get("/cases?q=LIST&format=xlsx")
    assert len(list(load_workbook(io.BytesIO(export.content)).active.iter_rows())) == 1  # the header only
    city2 = await login_as("regulator_city2")
    page = await city2.get(f"/cases?q=LIST&institution={deployment['hospital_a']}")
    assert listed(page.text) == []  # hospital A is not city 2's: the choice is not even offered
    city1 = await login_as("regulator_city1")
    page = await city1.get(f"/cases?q=LIST&institution={deployment['hospital_a']}&page=2")
    assert len(listed(page.text)) == 10


def test_list_params_fall_back_and_build_links():
    spec = listing.ListSpec(table=CaseRecord, columns=(CaseRecord.id,),
                            sorts=(listing.Sort("operated_on", "手术日期", CaseRecord.operated_on),),
                            filters=(listing.Filter(key="outcome", label="转归", column=CaseRecord.outcome,
                                                    choices=(("worse", "恶化"),)),))
    params = listing.parse(spec, {"q": " x ", "sort": "-operated_on", "page": "3", "outcome": "worse", "other": "1"})
    assert (params.q, params.sort, params.page, params.values) == ("x", "-operated_on", 3, {"outcome": "worse"})
    assert params.url("/cases", page=None) == "/cases?q=x&sort=-operated_on&outcome=worse"
    page = listing.ListPage(rows=[], total=0, params=params, spec=spec)
    assert "sort=operated_on" in page.sort_url("/cases", "operated_on")
    assert listing.parse(spec, {"sort": "nope", "outcome": "better", "page": "-4"}).query() == {}


LISTS = [  # (user, page, its table's marker, the header of its first export column)
    ("medaffairs_a", "/cases", 'id="case-list"', "医疗机构"),
    ("medaffairs_a", "/admission", 'id="project-list"', "项目"),
    ("medaffairs_a", "/filings", 'id="filings"', "技术编码"),
    ("regulator_city1", "/filings/desk", 'id="desk"', "医疗机构"),
    ("medaffairs_a", "/outbox", 'id="outbox-table"', "编号"),
    ("admin", "/admin/users", 'id="user-list"', "用户名"),
    ("regulator_city1", "/warnings", 'id="warnings"', "编号"),
]


@pytest.mark.parametrize(("username", "path", "marker", "first_header"), LISTS)
async def test_every_list_searches_sorts_pages_and_exports(deployment, many, login_as, username, path, marker,
                                                           first_header):
    client = await login_as(username)
    page = await client.get(path)
    assert page.status_code == 200 and marker in page.text
    assert 'role="search"' in page.text and "导出 Excel" in page.text and 'class="sort"' in page.text
    assert (await client.get(f"{path}?q=没有这种东西&page=9")).status_code == 200
    export = await client.get(f"{path}?format=xlsx")
    assert export.status_code == 200, export.text
    header = next(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert header[0] == first_header


async def test_the_user_list_filters_and_exports(deployment, login_as):
    admin = await login_as("admin")
    page = await admin.get(f"/admin/users?institution={deployment['hospital_b']}&sort=-username")
    names = re.findall(r'<a href="/admin/users/\d+">([a-z_0-9]+)</a>', page.text)
    assert names and set(names) <= {"clinician_b", "medaffairs_b"} | {n for n in names if n.endswith("_b")}
    assert names == sorted(names, reverse=True)
    rows = list(load_workbook(io.BytesIO((await admin.get("/admin/users?q=clinician_a&format=xlsx")).content)
                              ).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["clinician_a"] and rows[1][2] == ROLE_LABELS["clinician"]


async def test_the_desk_puts_waiting_filings_first_and_filters_by_status(deployment, login_as):
    from core.filing.service import STATUS_LABELS
    from tests.test_tenancy import filing_of

    await filing_of(deployment, deployment["hospital_a"])
    city1 = await login_as("regulator_city1")
    page = await city1.get("/filings/desk?status=open")
    assert page.status_code == 200
    statuses = re.findall(r'<span class="tag">([^<]+)</span>', page.text.split('id="desk"', 1)[1].split("</table>")[0])
    assert statuses and set(statuses) == {STATUS_LABELS["open"]}


async def test_the_warning_list_shows_open_ones_by_default_and_keeps_all_across_pages(deployment, many, login_as):
    from core.supervision import service as supervision

    await supervision.evaluate(deployment["host"].view())
    city1 = await login_as("regulator_city1")
    default = await city1.get("/warnings")
    assert '<option value="open" selected>' in default.text
    everything = await city1.get("/warnings?status=all&sort=raised_on")
    assert '<option value="all" selected>' in everything.text
    for link in re.findall(r'<a class="sort" href="([^"]+)"', everything.text):
        assert "status=all" in link.replace("&amp;", "&")  # sorting keeps the chosen state
