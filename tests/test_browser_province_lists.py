"""In Chromium, on a busy day: the province regulator walks the province-wide lists — credit
scores (NAT-39), QC figures per institution and per department (HOSP-13), obligation counts
per institution — from the side navigation: page 2 and back, a search that finds one
institution and keeps itself across pages and sorts, the XLSX export of every row of the
search, the region's figures unchanged by the page or the search, a clear message when a
search finds nothing, and a row's link to that institution's page. A city regulator's lists
hold its city's institutions only, and another city's institution answers 404.

The data: ``tests.list_helpers.province`` (57 institutions of city 1, more than one page)."""

from __future__ import annotations

import io
import re
from urllib.parse import urlparse

import pytest
from openpyxl import load_workbook

from core import clock
from tests.list_helpers import MANY
from tests.province_browser import shot

pytestmark = pytest.mark.browser

PAGE = 50  # core.listing.PAGE_SIZE


async def _ids(page, table: str, attribute: str = "institution") -> list[int]:
    values = await page.locator(f"#{table} tbody tr[data-{attribute}]").evaluate_all(
        f"rows => rows.map(r => r.dataset.{attribute})")
    return [int(v) for v in values if v.isdigit()]


async def _count(page) -> str:
    return (await page.inner_text(".list-count")).strip()


async def _search(page, text: str) -> None:
    await page.fill("form.list-filters input[name=q]", text)
    async with page.expect_navigation():
        await page.click("form.list-filters button")


async def _click(page, selector: str) -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def _export(page) -> list[tuple]:
    """The list's 导出 Excel, downloaded as a person would, read with openpyxl."""
    async with page.expect_download() as info:
        await page.click("form.list-filters a.export")
    download = await info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(await download.path(), "rb") as f:  # the download's file has no .xlsx suffix
        return list(load_workbook(io.BytesIO(f.read())).active.iter_rows(values_only=True))


async def _opens_institution(page, table: str, institution: int, name: str, href: str) -> None:
    """The row's link leads to that institution's own page; back to the list."""
    list_url = page.url
    link = page.locator(f"#{table} tr[data-institution='{institution}'] a").first
    assert await link.get_attribute("href") == href
    await _click(page, f"#{table} tr[data-institution='{institution}'] a >> nth=0")
    assert page.url.split("?")[0].endswith(href.split("?")[0])
    assert name in await page.inner_text("h1")
    await page.go_back()
    assert page.url == list_url


@pytest.mark.rule("NAT-39")
@pytest.mark.rule("HOSP-13")
async def test_nat39_hosp13_province_regulator_walks_the_province_lists(province, deployment, page_as):
    from core.obligations import service as obligations
    from core.qc import service as qc
    from core.supervision import credit
    from tests.filing_helpers import region_actor

    hooks = deployment["host"].view()
    year = clock.today().year
    actor = await region_actor("regulator_province")
    everyone = await credit.region_scores(actor, hooks, year)
    ids, names = province["ids"], {s.institution_id: s.institution_name for s in everyone}
    page = await page_as("regulator_province")

    # --- 信誉评分 (NAT-39), from the side navigation.
    await _click(page, "nav.side >> text=信誉评分")
    assert urlparse(page.url).path.rstrip("/") == "/credit"
    summary = await page.inner_text("#credit-summary")
    assert str(len(everyone)) in summary and len(everyone) > PAGE
    assert await _count(page) == f"共 {len(everyone)} 条，当前显示第 1–{PAGE} 条"
    assert await page.locator("form.list-filters >> text=清除条件").count() == 0  # nothing set yet
    assert await page.input_value("form.list-filters select[name=year]") == str(year)
    first = await _ids(page, "credit-scores")
    assert first == [s.institution_id for s in everyone[:PAGE]]
    await shot(page, "lists-01-credit")
    # The table of one column per item scrolls in its own box: the side navigation keeps its
    # width and the page does not scroll sideways.
    assert (await page.locator("nav.side").bounding_box())["width"] == 200
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await _click(page, "nav.pager a[rel=next]")
    assert "第 2 / 2 页" in await page.inner_text("nav.pager")
    assert await _count(page) == f"共 {len(everyone)} 条，当前显示第 {PAGE + 1}–{len(everyone)} 条"
    assert await _ids(page, "credit-scores") == [s.institution_id for s in everyone[PAGE:]]
    assert await page.inner_text("#credit-summary") == summary  # the region's, not the page's
    await _click(page, "nav.pager a[rel=prev]")
    assert await _ids(page, "credit-scores") == first
    # A search finds one institution; its row opens its score.
    await _search(page, "分页测试医院042")
    assert await _ids(page, "credit-scores") == [ids[42]] and await _count(page) == "共 1 条，当前显示第 1–1 条"
    assert await page.inner_text("#credit-summary") == summary
    await _opens_institution(page, "credit-scores", ids[42], "分页测试医院042", f"/credit/{ids[42]}?year={year}")
    # A search of many pages: page 2 keeps it, a sort keeps it and starts again at page 1.
    await _search(page, "分页测试医院")
    assert await _count(page) == f"共 {MANY} 条，当前显示第 1–{PAGE} 条"
    await _click(page, "nav.pager a[rel=next]")
    assert "q=" in page.url and await page.input_value("form.list-filters input[name=q]") == "分页测试医院"
    assert set(await _ids(page, "credit-scores")) <= set(ids) and len(await _ids(page, "credit-scores")) == MANY - PAGE
    await _click(page, "#credit-scores thead >> text=医疗机构")
    assert "sort=name" in page.url and "page=" not in page.url
    assert await _ids(page, "credit-scores") == ids[:PAGE]  # 分页测试医院000, 001, … by name
    await _click(page, "#credit-scores thead >> text=医疗机构")  # again: descending
    assert await _ids(page, "credit-scores") == ids[::-1][:PAGE]
    assert await page.input_value("form.list-filters input[name=q]") == "分页测试医院"
    await _click(page, "nav.pager a[rel=next]")  # the sort stays on page 2
    assert "sort=-name" in page.url and await _ids(page, "credit-scores") == ids[::-1][PAGE:]
    # The export holds every row of the search (both pages), in the order on screen.
    sheet = await _export(page)
    assert sheet[0][:2] == ("医疗机构", "总分") and len(sheet) == 1 + MANY
    assert [r[0] for r in sheet[1:]] == [names[i] for i in ids[::-1]]
    # A search that finds nothing says so.
    await _search(page, "不存在的医院")
    assert await _count(page) == "共 0 条"
    assert (await page.inner_text("#credit-scores tbody")).strip() == "无符合条件的医疗机构"
    assert await page.inner_text("#credit-summary") == summary
    await shot(page, "lists-02-credit-empty")
    # Another year: chosen in the field, shown in the heading and kept by the pages' links.
    await _click(page, "form.list-filters >> text=清除条件")
    assert urlparse(page.url).path == "/credit/" and not urlparse(page.url).query
    assert await _count(page) == f"共 {len(everyone)} 条，当前显示第 1–{PAGE} 条"
    await page.select_option("form.list-filters select[name=year]", str(year - 1))
    await _click(page, "form.list-filters button")
    assert f"（{year - 1} 年度）" in await page.inner_text("h1")
    assert f"year={year - 1}" in await page.get_attribute("nav.pager a[rel=next]", "href")
    await _click(page, "nav.pager a[rel=next]")
    assert f"（{year - 1} 年度）" in await page.inner_text("h1")
    assert await page.input_value("form.list-filters select[name=year]") == str(year - 1)

    # --- 质量控制 (HOSP-13): the whole period, then the ranking's list from the QC page.
    figures = await qc.figures(actor, qc.Filter())
    ranking = [r["institution"] for r in figures["institutions"]]
    await _click(page, "nav.side >> text=质量控制")
    await page.select_option("select[name=period]", "all")
    await _click(page, "form.filters button")
    cases = await page.inner_text("#qc-cases")
    assert cases == str(figures["total"]["cases"])
    await _click(page, f"#qc-ranking >> text=全部 {len(ranking)} 家医疗机构的排名")
    assert "/qc/institutions?" in page.url and "period=all" in page.url
    total = await page.inner_text("#qc-list-total")
    assert f"本期病例数 {cases}，" in total
    assert await _count(page) == f"共 {len(ranking)} 条，当前显示第 1–{PAGE} 条"
    assert await page.input_value("form.list-filters select[name=period]") == "all"
    assert await _ids(page, "qc-institutions") == ranking[:PAGE]
    await shot(page, "lists-03-qc-institutions")
    await _click(page, "nav.pager a[rel=next]")
    assert await _ids(page, "qc-institutions") == ranking[PAGE:] and "period=all" in page.url
    assert await page.inner_text("#qc-list-total") == total
    await _click(page, "nav.pager a[rel=prev]")
    assert await _ids(page, "qc-institutions") == ranking[:PAGE]
    await _search(page, "分页测试医院007")
    row = page.locator(f"#qc-institutions tr[data-institution='{ids[7]}'] td")
    assert await _ids(page, "qc-institutions") == [ids[7]]
    assert await row.first.inner_text() == str(ranking.index(ids[7]) + 1)  # its rank in the region
    assert await page.inner_text("#qc-list-total") == total
    await _opens_institution(page, "qc-institutions", ids[7], "分页测试医院007", f"/institutions/{ids[7]}")
    await _search(page, "不存在的医院")
    assert (await page.inner_text("#qc-institutions tbody")).strip() == "无符合条件的医疗机构"
    assert await page.inner_text("#qc-list-total") == total
    # Departments: a search across pages, sorted by cases (most first), exported whole.
    departments = [d["department"] for d in figures["departments"]]
    await _click(page, "text=返回质量控制")
    await _click(page, f"#qc-departments >> text=全部 {len(departments)} 个科室")
    assert await _count(page) == f"共 {len(departments)} 条，当前显示第 1–{PAGE} 条"
    await _search(page, "分页测试科")
    assert await _count(page) == f"共 {MANY} 条，当前显示第 1–{PAGE} 条"
    await _click(page, "nav.pager a[rel=next]")
    assert len(await _ids(page, "qc-departments", "department")) == MANY - PAGE
    await _click(page, "#qc-departments thead >> text=病例数")  # ascending now: fewest first
    assert "sort=cases" in page.url and "q=" in page.url and "page=" not in page.url
    counts = [int(c) for c in await page.locator("#qc-departments tbody tr td:nth-child(3)").all_inner_texts()]
    assert counts == sorted(counts) and counts[0] == 1
    sheet = await _export(page)
    assert sheet[0][:2] == ("科室", "医疗机构") and len(sheet) == 1 + MANY
    assert {r[0] for r in sheet[1:]} == {f"分页测试科{n:03d}" for n in range(MANY)}
    await _search(page, "分页测试科013")
    assert await _ids(page, "qc-departments", "department") == [province["departments"][ids[13]]]

    # --- 各机构时限事项统计: from the obligations page to the whole list.
    counts = await obligations.status_counts(actor, hooks)
    by_name = [c["institution"] for c in counts]
    await _click(page, "nav.side >> text=待办时限")
    await _click(page, f"#obligation-counts a >> text=全部 {len(counts)} 家医疗机构")
    assert page.url.endswith("/obligations/institutions")
    grand = await page.inner_text("#obligation-counts-list tr.total")
    assert f"全部 {len(counts)} 家医疗机构合计" in grand
    assert await _count(page) == f"共 {len(counts)} 条，当前显示第 1–{PAGE} 条"
    assert await _ids(page, "obligation-counts-list") == by_name[:PAGE]
    await _click(page, "nav.pager a[rel=next]")
    assert await _ids(page, "obligation-counts-list") == by_name[PAGE:]
    assert await page.inner_text("#obligation-counts-list tr.total") == grand
    await _search(page, "分页测试医院")
    await _click(page, "#obligation-counts-list thead >> text=已逾期")
    await _click(page, "#obligation-counts-list thead >> text=已逾期")  # most overdue first
    assert "sort=-overdue" in page.url and "q=" in page.url
    overdue = [int(c) for c in await page.locator(
        "#obligation-counts-list tbody tr[data-institution] td[data-status=overdue]").all_inner_texts()]
    assert overdue[:PAGE] == sorted(overdue[:PAGE], reverse=True) and overdue[0] == 2
    await _click(page, "nav.pager a[rel=next]")
    assert "sort=-overdue" in page.url and "q=" in page.url
    assert len(await _ids(page, "obligation-counts-list")) == MANY - PAGE
    assert await page.inner_text("#obligation-counts-list tr.total") == grand
    sheet = await _export(page)
    assert sheet[0][0] == "医疗机构" and sheet[0][-1] == "合计" and len(sheet) == 1 + MANY
    assert [r[1] for r in sheet[1:]] == sorted((r[1] for r in sheet[1:]), reverse=True)
    await _search(page, "分页测试医院021")
    assert await _ids(page, "obligation-counts-list") == [ids[21]]
    await _opens_institution(page, "obligation-counts-list", ids[21], "分页测试医院021", f"/institutions/{ids[21]}")
    await _search(page, "不存在的医院")
    assert (await page.inner_text("#obligation-counts-list tr.empty")).strip() == "无符合条件的医疗机构"
    assert await page.inner_text("#obligation-counts-list tr.total") == grand
    await shot(page, "lists-04-obligations-empty")


@pytest.mark.rule("NAT-39")
@pytest.mark.rule("HOSP-13")
async def test_nat39_hosp13_city_regulator_lists_hold_its_city_only(province, deployment, page_as):
    from core.tenancy.tables import Institution

    year = clock.today().year
    city1 = {r["id"] for r in await Institution.select(Institution.id).where(
        (Institution.region == deployment["city1"]) & (Institution.active == True))}  # noqa: E712
    other = deployment["hospital_b"]  # of city 2
    other_name = (await Institution.select(Institution.name).where(Institution.id == other).first())["name"]
    assert set(province["ids"]) <= city1 and other not in city1
    page = await page_as("regulator_city1")

    await _click(page, "nav.side >> text=信誉评分")
    shown = await _ids(page, "credit-scores")
    await _click(page, "nav.pager a[rel=next]")
    shown += await _ids(page, "credit-scores")
    assert set(shown) == city1 and len(shown) == len(city1)
    assert f"共 {len(city1)} 条" in await _count(page)
    await _search(page, other_name)
    assert (await page.inner_text("#credit-scores tbody")).strip() == "无符合条件的医疗机构"
    sheet = await _export(page)
    assert len(sheet) == 1  # the header only
    await page.goto(f"/credit/?year={year}")
    sheet = await _export(page)
    assert len(sheet) == 1 + len(city1) and other_name not in {r[0] for r in sheet}

    await page.goto("/qc/institutions?period=all")
    ranked = await _ids(page, "qc-institutions")
    if await page.locator("nav.pager a[rel=next]").count():
        await _click(page, "nav.pager a[rel=next]")
        ranked += await _ids(page, "qc-institutions")
    assert set(province["ids"]) <= set(ranked) <= city1
    await page.goto("/obligations/institutions")
    listed = await _ids(page, "obligation-counts-list")
    await _click(page, "nav.pager a[rel=next]")
    listed += await _ids(page, "obligation-counts-list")
    assert set(province["ids"]) <= set(listed) <= city1
    assert re.search(rf"全部 {len(listed)} 家医疗机构合计", await page.inner_text("#obligation-counts-list"))

    # Another city's institution, by a link typed or kept: 404, not its page.
    for path in (f"/credit/{other}?year={year}", f"/institutions/{other}"):
        response = await page.goto(path)
        assert response.status == 404, path
        assert other_name not in await page.inner_text("main")
    await shot(page, "lists-05-city-404")
