"""Issue 11 point 14: usable on a phone at 390 px (the side menu folds behind a 菜单 button
that works without script, under the CSP), breadcrumbs, print styles, and the deployment's
name and emblem from settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.case_helpers import case_route

CSS = (Path(__file__).resolve().parent.parent / "web" / "static" / "app.css").read_text(encoding="utf-8")


def _media(query: str) -> str:
    """The body of the ``@media`` block whose condition contains ``query``."""
    start = CSS.index("@media", CSS.index(query) - 40)
    depth, i = 0, CSS.index("{", start)
    for j in range(i, len(CSS)):
        depth += {"{": 1, "}": -1}.get(CSS[j], 0)
        if depth == 0:
            return CSS[i:j]
    raise AssertionError(query)


async def test_the_side_menu_folds_on_a_phone_and_opens_without_script(deployment, login_as):
    page = (await (await login_as("medaffairs_a")).get("/cases")).text
    assert '<input type="checkbox" id="menu-toggle"' in page and '<label for="menu-toggle"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script (CSP)"
    phone = _media("max-width: 760px")
    assert re.search(r"nav\.side \{[^}]*display:none", phone)
    assert ".menu-toggle:checked ~ .layout nav.side { display:block; }" in phone
    assert ".menu-button { display:inline-block; }" in phone and "main table { display:block; overflow-x:auto; }" in phone
    assert page.index('id="menu-toggle"') < page.index('class="layout"')  # the sibling selector needs it first


async def test_print_styles_leave_out_menus_filters_and_buttons():
    printed = _media("print")
    for selector in ("nav.side", "nav.crumbs", "nav.pager", ".list-filters", "button", ".menu-button"):
        assert selector in printed


async def test_breadcrumbs_lead_back_through_the_menu(deployment, login_as):
    case = await case_route(deployment, deployment["hospital_a"])
    page = (await (await login_as("medaffairs_a")).get(f"/cases/{case['case_id']}")).text
    crumbs = re.search(r'<nav class="crumbs"[^>]*>(.*?)</nav>', page, flags=re.S).group(1)
    assert '<a href="/">工作台</a>' in crumbs and '<a href="/cases">病例登记</a>' in crumbs
    assert 'aria-current="page"' in crumbs
    home = (await (await login_as("medaffairs_a")).get("/")).text
    assert 'class="crumbs"' not in home


async def test_the_deployments_name_and_emblem_come_from_settings(deployment, login_as, anon, monkeypatch, tmp_path):
    default = (await anon.get("/login")).text
    assert "医疗技术临床应用管理平台" in default and re.search(r'src="/static/emblem\.svg\?v=[0-9a-f]{12}"', default)
    assert (await anon.get("/site/emblem")).status_code == 404
    emblem = tmp_path / "emblem.png"
    emblem.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    monkeypatch.setenv("CLINTECH_SITE_NAME", "长春市卫生健康委员会医疗技术管理平台")
    monkeypatch.setenv("CLINTECH_SITE_EMBLEM", str(emblem))
    page = (await (await login_as("clinician_a")).get("/")).text
    assert "长春市卫生健康委员会医疗技术管理平台" in page and 'src="/site/emblem"' in page
    served = await anon.get("/site/emblem")
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content.startswith(b"\x89PNG")


@pytest.mark.browser
async def test_browser_at_390px_the_menu_folds_and_opens_and_nothing_overflows(deployment, page_as):
    page = await page_as("medaffairs_a")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto("/cases")
    side = page.locator("nav.side")
    assert not await side.is_visible()  # folded behind the 菜单 button
    await page.locator("label.menu-button").click()
    assert await side.is_visible()
    await side.locator('a[href="/filings"]').click()
    await page.wait_for_url("**/filings")
    assert not await page.locator("nav.side").is_visible()  # folded again on the next page
    # The page itself never scrolls sideways (wide tables scroll inside their own box).
    for path in ("/", "/cases", "/filings", "/admission", "/outbox"):
        await page.goto(path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, (path, width)
    await page.set_viewport_size({"width": 1280, "height": 800})
    assert await page.locator("nav.side").is_visible()
