"""A province's whole-region lists are pages (issues 14, 15): the credit scores (NAT-39), the
QC figures per institution and per department (HOSP-13), the obligation counts per
institution — one list mechanism
(``core.listing.page_of``): page 2 shows the next rows, the XLSX export has every row of
the search, a search finds one institution, the figures above the list stay region-wide,
and a city regulator's list holds its city's institutions only."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from core import clock
from tests.list_helpers import CODE, MANY


def _rows(html: str, table: str, attribute: str) -> list[int]:
    section = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [int(x) for x in re.findall(rf'data-{attribute}="(\d+)"', section)]


def _next(html: str) -> str:
    return re.search(r'<a rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")


def _sheet(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


async def _every_page(client, url: str, table: str, attribute: str) -> list[list[int]]:
    pages, page = [], await client.get(url)
    while True:
        assert page.status_code == 200, url
        pages.append(_rows(page.text, table, attribute))
        if 'rel="next"' not in page.text:
            return pages
        page = await client.get(_next(page.text))


@pytest.mark.rule("NAT-39")
async def test_nat39_credit_scores_page_through_every_institution_and_export_them_all(province, deployment,
                                                                                        login_as):
    from core.supervision import credit
    from tests.filing_helpers import region_actor

    year = clock.today().year
    regulator = await login_as("regulator_province")
    first = await regulator.get(f"/credit/?year={year}")
    assert first.status_code == 200
    everyone = await credit.region_scores(await region_actor("regulator_province"), deployment["host"].view(), year)
    assert f"共 {len(everyone)} 条" in first.text and len(everyone) > MANY
    assert f'<div class="stat">{len(everyone)}</div>' in first.text  # the figures are the region's
    pages = await _every_page(regulator, f"/credit/?year={year}", "credit-scores", "institution")
    assert len(pages[0]) == 50 and pages[1][0] not in pages[0]
    shown = [i for page in pages for i in page]
    assert shown == [s.institution_id for s in everyone]  # lowest total first, as before, every one once
    # The list's export has every row (not one page); the breakdown export stays.
    export = await regulator.get(f"/credit/?year={year}&format=xlsx")
    sheet = _sheet(export.content)
    assert sheet[0][:2] == ("医疗机构", "总分") and len(sheet) == 1 + len(everyone)
    assert {r[0] for r in sheet[1:]} == {s.institution_name for s in everyone}
    assert (await regulator.get(f"/credit/export.xlsx?year={year}")).status_code == 200
    # A search finds one institution, on page 1.
    found = await regulator.get(f"/credit/?year={year}&q=分页测试医院042")
    assert _rows(found.text, "credit-scores", "institution") == [province["ids"][42]]
    # The year is a choice of the years there are: a value that is no such year shows this
    # year's list (not an error page), and the field says so rather than echoing it.
    for odd in ("abc", "1999", str(year + 1)):
        shown = await regulator.get(f"/credit/?year={odd}")
        assert shown.status_code == 200 and f"（{year} 年度）" in shown.text, odd
        assert f'value="{odd}" selected' not in shown.text and f"year={odd}" not in shown.text, odd
    earlier = await regulator.get(f"/credit/?year={year - 1}")
    assert f"（{year - 1} 年度）" in earlier.text and f'<option value="{year - 1}" selected>' in earlier.text
    # A city regulator's list is its city's.
    city2 = await login_as("regulator_city2")
    theirs = [i for page in await _every_page(city2, f"/credit/?year={year}", "credit-scores", "institution")
              for i in page]
    assert theirs and not set(theirs) & set(province["ids"])


@pytest.mark.rule("HOSP-13")
async def test_hosp13_qc_ranking_and_departments_are_pages_with_search_and_a_whole_export(province, login_as):
    from core.qc import service as qc
    from tests.filing_helpers import region_actor

    regulator = await login_as("regulator_province")
    index = await regulator.get("/qc/?period=all")
    assert index.status_code == 200
    figures = await qc.figures(await region_actor("regulator_province"), qc.Filter())
    assert f'<div class="stat" id="qc-cases">{figures["total"]["cases"]}</div>' in index.text  # region-wide
    assert "/qc/institutions?" in index.text and "/qc/departments?" in index.text
    ranking = [r["institution"] for r in figures["institutions"]]
    pages = await _every_page(regulator, "/qc/institutions?period=all", "qc-institutions", "institution")
    assert len(pages[0]) == 50 and [i for page in pages for i in page] == ranking  # by rank, every one once
    assert set(province["ids"]) <= set(ranking)
    export = _sheet((await regulator.get("/qc/institutions?period=all&format=xlsx")).content)
    assert export[0][:2] == ("排名", "医疗机构") and [r[0] for r in export[1:]] == list(range(1, len(ranking) + 1))
    found = await regulator.get("/qc/institutions?period=all&q=分页测试医院007")
    assert _rows(found.text, "qc-institutions", "institution") == [province["ids"][7]]
    # Departments: the same, searched by department or institution name, sorted by a measure.
    departments = [d["department"] for d in figures["departments"]]
    pages = await _every_page(regulator, "/qc/departments?period=all", "qc-departments", "department")
    assert sorted(i for page in pages for i in page) == sorted(departments) and len(pages) >= 2
    found = await regulator.get("/qc/departments?period=all&q=分页测试科013")
    assert _rows(found.text, "qc-departments", "department") == [province["departments"][province["ids"][13]]]
    by_cases = await regulator.get(f"/qc/departments?technology_code={CODE}&period=all&sort=-cases")
    counts = [int(x) for x in re.findall(r'data-department="\d+">\s*<td>[^<]*</td><td>[^<]*</td>\s*<td>(\d+)</td>',
                                         by_cases.text)]
    assert counts == sorted(counts, reverse=True) and counts[0] == 4
    export = _sheet((await regulator.get(f"/qc/departments?technology_code={CODE}&period=all&format=xlsx")).content)
    assert len(export) == 1 + MANY and export[0][:2] == ("科室", "医疗机构")
    # A city regulator ranks its city's institutions only.
    city2 = await login_as("regulator_city2")
    theirs = await city2.get("/qc/institutions?period=all")
    assert theirs.status_code == 200 and not set(_rows(theirs.text, "qc-institutions", "institution")) & set(
        province["ids"])


async def test_obligation_counts_per_institution_page_sort_search_and_export_every_one(province, deployment,
                                                                                      login_as):
    from core.obligations import service as obligations
    from tests.filing_helpers import region_actor

    counts = await obligations.status_counts(await region_actor("regulator_province"), deployment["host"].view())
    assert len(counts) > 50 and set(province["ids"]) <= {c["institution"] for c in counts}
    regulator = await login_as("regulator_province")
    # The dashboard and the obligations page: the most overdue, the total of all, the link.
    for path in ("/", "/obligations"):
        page = await regulator.get(path)
        shown = _rows(page.text, "obligation-counts", "institution")
        assert len(shown) == 20 and "/obligations/institutions" in page.text, path
        worst = sorted(counts, key=lambda c: (c["counts"]["overdue"], c["counts"]["due_soon"]), reverse=True)
        assert shown == [c["institution"] for c in worst[:20]], path
        total = sum(c["counts"]["overdue"] for c in counts)
        assert f"全部 {len(counts)} 家医疗机构合计" in page.text and f'<th>{total}</th>' in page.text, path
    pages = await _every_page(regulator, "/obligations/institutions", "obligation-counts-list", "institution")
    assert len(pages[0]) == 50 and [i for page in pages for i in page] == [c["institution"] for c in counts]
    by_overdue = await regulator.get("/obligations/institutions?sort=-overdue")
    first = _rows(by_overdue.text, "obligation-counts-list", "institution")[0]
    assert next(c for c in counts if c["institution"] == first)["counts"]["overdue"] == max(
        c["counts"]["overdue"] for c in counts)
    export = _sheet((await regulator.get("/obligations/institutions?format=xlsx")).content)
    assert export[0][0] == "医疗机构" and export[0][-1] == "合计" and len(export) == 1 + len(counts)
    found = await regulator.get("/obligations/institutions?q=分页测试医院021")
    assert _rows(found.text, "obligation-counts-list", "institution") == [province["ids"][21]]
    city2 = await login_as("regulator_city2")
    theirs = await city2.get("/obligations/institutions")
    assert theirs.status_code == 200 and not set(
        _rows(theirs.text, "obligation-counts-list", "institution")) & set(province["ids"])
