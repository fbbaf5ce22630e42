"""The technology catalogue (issue 3) in a real Chromium: search as you type over htmx,
the class filter, a technology's edition history, and the XLSX export."""

from __future__ import annotations

import io

import pytest

pytestmark = pytest.mark.browser


async def _results_swapped(page, action) -> None:
    """Run ``action`` and wait until htmx has swapped ``#catalog-results`` for the answer."""
    async with page.expect_response(lambda r: "/catalog" in r.url and r.request.headers.get("hx-request") == "true"
                                    and r.request.headers.get("hx-target") == "catalog-results") as answer:
        await action()
    assert (await answer.value).status == 200
    await page.wait_for_function("() => !document.querySelector('#catalog-results.htmx-swapping, "
                                 "#catalog-results.htmx-settling')")


async def _codes(page) -> list[str]:
    return await page.locator("#catalog-table tbody tr[data-code]").evaluate_all(
        "rows => rows.map(r => r.dataset.code)")


async def test_clinician_searches_filters_and_opens_the_edition_history(deployment, page_as, live_server):
    page = await page_as("clinician_a")
    await page.get_by_role("link", name="技术目录").first.click()
    await page.wait_for_url(f"{live_server}/catalog")
    assert await page.locator("h1").inner_text() == "技术目录"
    assert len(await _codes(page)) > 10

    # A marker on window survives an htmx swap and disappears on any full reload.
    await page.evaluate("window.__noReload = true")
    await _results_swapped(page, lambda: page.locator("#catalog-q").press_sequentially("造血"))
    g01 = page.locator("#catalog-table tbody tr[data-code=G01]")
    await g01.first.wait_for()
    assert set(await _codes(page)) == {"G01"}
    row_text = await g01.first.inner_text()
    assert "异基因造血干细胞移植技术" in row_text and "2022" in row_text and "限制类" in row_text
    assert await page.evaluate("window.__noReload === true")
    assert "q=" in page.url  # hx-push-url keeps the view linkable

    # Clear the search, then filter by class: only prohibited technologies remain.
    await _results_swapped(page, lambda: page.locator("#catalog-q").fill(""))
    await _results_swapped(page, lambda: page.select_option("select[name=tech_class]", "prohibited"))
    classes = await page.locator("#catalog-table tbody tr[data-code] td:nth-child(3)").all_inner_texts()
    assert classes and {c.strip() for c in classes} == {"禁止类"}
    assert await page.evaluate("window.__noReload === true")

    # Back to restricted, search G01 and open its detail page: the edition history lists 2017 and 2022.
    await _results_swapped(page, lambda: page.select_option("select[name=tech_class]", "restricted"))
    await _results_swapped(page, lambda: page.locator("#catalog-q").fill("造血"))
    await g01.first.locator("a").click()
    await page.wait_for_url(f"{live_server}/catalog/*")
    assert "G01" in await page.locator("h1").inner_text()
    history = page.locator("#edition-history tbody tr")
    assert await history.count() >= 2
    history_text = " ".join(await history.all_inner_texts())
    assert "2017" in history_text and "2022" in history_text and "造血干细胞移植技术" in history_text
    assert "本条" in await page.locator("#edition-history tr[aria-current=true]").inner_text()
    # The superseded edition's entry is a link to its own page, marked as superseded there.
    await page.locator("#edition-history a", has_text="2017").first.click()
    await page.wait_for_url(f"{live_server}/catalog/*")
    assert await page.locator(".alert.info").count() == 1


async def test_the_export_link_answers_a_real_xlsx_of_the_current_view(deployment, page_as, live_server):
    from openpyxl import load_workbook

    page = await page_as("clinician_a")
    await page.goto("/catalog")
    await _results_swapped(page, lambda: page.locator("#catalog-q").press_sequentially("造血"))
    href = await page.locator("#catalog-export").get_attribute("href")
    assert href.startswith("/catalog/export.xlsx") and "q=" in href
    response = await page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment" in response.headers["content-disposition"]
    body = await response.body()
    assert body[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "G01" in cells and any("造血" in c for c in cells)
