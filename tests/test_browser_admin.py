"""The admin in a real Chromium: login form, the plugin switch over htmx, CSRF in the browser.

Screenshots of the dashboard and the plugin page go to ``$CLINTECH_SCREENSHOTS`` when it
is set (to look at the layout), otherwise to the test's temporary directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("CLINTECH_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _row(page, name: str):
    return page.locator(f"#plugin-{name}")


async def _nav_labels(page) -> list[str]:
    return [s.strip() for s in await page.locator("nav.side a").all_inner_texts()]


async def _switch(page, name: str, expect_state: str) -> None:
    """Click the row's switch and wait until htmx has swapped the row in place."""
    row = _row(page, name)
    if expect_state == "off":  # switching off asks first, saying what will change
        await row.locator("button").click()
        await row.locator("#confirm-off").wait_for()
    async with page.expect_response(lambda r: r.url.endswith(f"/admin/plugins/{name}")
                                    and r.request.method == "POST") as answer:
        await row.locator("button").click()
    assert (await answer.value).status == 200
    await row.locator(f"[data-state={expect_state}]").wait_for()


async def test_admin_switches_jilin_off_and_on_with_htmx(deployment, page_as, live_server, shots):
    page = await page_as("admin")
    await page.screenshot(path=str(shots / "dashboard-admin.png"), full_page=True)
    assert "吉林省备案要求" in await _nav_labels(page)

    await page.get_by_role("link", name="插件管理").click()
    await page.wait_for_url(f"{live_server}/admin/plugins")
    await page.screenshot(path=str(shots / "plugins.png"), full_page=True)
    assert await _row(page, "jilin").locator("[data-state]").get_attribute("data-state") == "on"

    # A marker on window survives an htmx swap and disappears on any full reload.
    await page.evaluate("window.__noReload = true")
    main_requests: list[str] = []
    page.on("framenavigated", lambda frame: main_requests.append(frame.url) if frame == page.main_frame else None)

    async with page.expect_request(lambda r: r.url.endswith("/admin/plugins/jilin")) as sent:
        await _switch(page, "jilin", "off")
    request = await sent.value
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    assert request.headers.get("hx-request") == "true"
    assert request.headers.get("x-csrftoken") and request.headers["x-csrftoken"] == cookies["csrftoken"]
    assert await page.evaluate("window.__noReload === true")
    assert main_requests == []
    assert "已停用" in await _row(page, "jilin").inner_text()
    await page.screenshot(path=str(shots / "plugins-jilin-off.png"), full_page=True)

    await page.goto("/admin/plugins")
    assert "吉林省备案要求" not in await _nav_labels(page)
    gone = await page.goto("/p/jilin")
    assert gone.status == 404
    assert "未找到您要访问的页面或记录" in await page.locator("main").inner_text()
    await page.screenshot(path=str(shots / "not-found.png"))

    await page.goto("/admin/plugins")
    await page.evaluate("window.__noReload = true")
    await _switch(page, "jilin", "on")
    assert await page.evaluate("window.__noReload === true")

    await page.goto("/")
    assert "吉林省备案要求" in await _nav_labels(page)
    await page.get_by_role("link", name="吉林省备案要求").click()
    await page.wait_for_url(f"{live_server}/p/jilin")
    assert "医疗机构开展限制类技术的自我评估报告" in await page.locator("main").inner_text()  # JL-12 (二)


async def test_wrong_password_in_the_browser_shows_the_message(deployment, page_as, live_server, shots):
    page = await page_as()
    await page.goto("/login")
    await page.fill("input[name=username]", "admin")
    await page.fill("input[name=password]", "not-the-password")
    await page.click("button[type=submit]")
    error = page.locator("#login-error")
    await error.wait_for()
    assert "用户名或密码错误" in await error.inner_text()
    await page.screenshot(path=str(shots / "login-error.png"))
    assert await page.input_value("input[name=username]") == "admin"
    assert page.url.startswith(f"{live_server}/login")


async def test_htmx_csrf_failure_shows_chinese_message_in_toast(deployment, page_as, shots):
    page = await page_as("admin")
    await page.goto("/admin/plugins")
    await page.evaluate("""document.body.setAttribute('hx-headers', JSON.stringify({'x-csrftoken': 'tampered'}))""")
    await _row(page, "jilin").locator("button").click()  # 停用 → the confirmation (a GET)
    await _row(page, "jilin").locator("#confirm-off").wait_for()
    async with page.expect_response(lambda r: r.url.endswith("/admin/plugins/jilin")) as answer:
        await _row(page, "jilin").locator("button").click()
    assert (await answer.value).status == 403
    toast = page.locator("#toast")
    await toast.get_by_text("页面已过期").wait_for()
    assert "请刷新页面后重试" in await toast.inner_text()
    await page.screenshot(path=str(shots / "csrf-toast.png"))
    # Nothing changed: the confirmation is still there and the plugin is still on after a reload.
    assert await _row(page, "jilin").locator("#confirm-off").count() == 1
    await page.reload()
    assert await _row(page, "jilin").locator("[data-state]").get_attribute("data-state") == "on"
