"""Login, logout, sessions, rate limits and CSRF."""

from __future__ import annotations

import pytest

from tests.fixtures import DEMO_PASSWORD


async def test_login_lands_on_dashboard_and_logout_ends_session(deployment, login_as):
    client = await login_as("clinician_a")
    page = await client.get("/")
    assert page.status_code == 200
    assert "工作台" in page.text and "张医生" in page.text
    cookie_header = [h for h in (await client.post("/login", data={"username": "clinician_a",
                     "password": DEMO_PASSWORD})).headers.get_list("set-cookie") if "clintech_session" in h][0]
    assert "HttpOnly" in cookie_header and "SameSite=lax" in cookie_header.replace("samesite", "SameSite")
    out = await client.post("/logout")
    assert out.status_code == 303
    again = await client.get("/")
    assert again.status_code == 303 and "/login" in again.headers["location"]


async def test_wrong_password_and_unknown_user_answer_the_same(deployment, anon):
    await anon.get("/login")
    wrong = await anon.post("/login", data={"username": "clinician_a", "password": "nope-nope-nope"})
    unknown = await anon.post("/login", data={"username": "nobody_here", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text


async def test_login_is_rate_limited_per_account(deployment, anon):
    await anon.get("/login")
    for _ in range(5):
        await anon.post("/login", data={"username": "qc_a", "password": "wrong-password"})
    blocked = await anon.post("/login", data={"username": "qc_a", "password": DEMO_PASSWORD})
    assert blocked.status_code == 429
    assert "登录失败次数过多" in blocked.text


async def test_login_is_rate_limited_per_address(deployment, anon):
    await anon.get("/login")
    for i in range(20):
        await anon.post("/login", data={"username": f"guess{i}", "password": "wrong-password"})
    blocked = await anon.post("/login", data={"username": "ethics_a", "password": DEMO_PASSWORD})
    assert blocked.status_code == 429


async def test_expired_session_redirects_to_login_with_message(deployment, anon):
    anon.cookies.set("clintech_session", "expired-or-forged")
    response = await anon.get("/")
    assert response.status_code == 303
    page = await anon.get(response.headers["location"])
    assert "登录已过期" in page.text


async def test_unsafe_request_without_csrf_token_is_refused_and_changes_nothing(deployment, login_as):
    from core.tenancy.tables import Department

    client = await login_as("medaffairs_a")
    before = await Department.count()
    response = await client.post("/departments", data={"name": "无令牌科室", "subject": "内科"}, csrf=False)
    assert response.status_code == 403
    assert "安全令牌无效" in response.text
    assert await Department.count() == before


async def test_htmx_request_carries_csrf_header(deployment, login_as):
    """The base template sets the header once; a request with it passes."""
    client = await login_as("admin")
    page = await client.get("/")
    assert 'hx-headers=\'{"x-csrftoken": "' in page.text
    response = await client.post("/admin/plugins/jilin", data={"enabled": "0"}, headers={"hx-request": "true"})
    assert response.status_code == 200
    assert 'data-state="off"' in response.text


@pytest.mark.parametrize("path", ["/", "/admin/users", "/institutions"])
async def test_pages_need_login(deployment, anon, path):
    response = await anon.get(path)
    assert response.status_code == 303


async def test_error_page_keeps_the_logged_in_users_header_and_menu(deployment, login_as):
    client = await login_as("clinician_a")
    response = await client.get("/admin/users")
    assert response.status_code == 404
    assert "未找到您要访问的页面或记录" in response.text
    assert "张医生" in response.text and 'href="/catalog"' in response.text
