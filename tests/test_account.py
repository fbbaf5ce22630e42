"""Issue 11 point 13: a user changes their own password and sees and ends their own
sessions; nobody else's."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest

from core.accounts import service as accounts
from core.accounts.schemas import SYSTEM, UserInput
from core.accounts.tables import User
from core.audit.tables import AuditEvent
from tests.fixtures import PortalClient

PASSWORD = "first-pass-2026"


CREATED: list[str] = []


@pytest.fixture(autouse=True)
async def _deactivate_afterwards():
    """The users made here leave no trace in other tests' workflows (votes, notices)."""
    yield
    if CREATED:
        await User.update({User.active: False}).where(User.username.is_in(CREATED))
        CREATED.clear()


async def _user(deployment) -> str:
    username = f"own_{secrets.token_hex(3)}"
    await accounts.create_user(SYSTEM, UserInput(
        username=username, display_name="自助用户", roles=["qc_officer"], institution=deployment["hospital_b"],
        password=PASSWORD))
    CREATED.append(username)
    return username


async def _login(app, username: str, password: str) -> tuple[PortalClient, int]:
    client = PortalClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    await client.get("/login")
    response = await client.post("/login", data={"username": username, "password": password})
    return client, response.status_code


async def test_a_user_changes_their_own_password_and_other_sessions_end(deployment, app):
    username = await _user(deployment)
    laptop, _ = await _login(app, username, PASSWORD)
    phone, _ = await _login(app, username, PASSWORD)
    try:
        page = (await laptop.get("/account")).text
        assert 'href="/account"' in page and len(re.findall(r"data-session=", page)) == 2 and "当前会话" in page
        wrong = await laptop.post("/account/password", data={"current": "nope", "new": "second-pass-2026",
                                                             "confirm": "second-pass-2026"})
        assert wrong.status_code == 422 and "当前密码不正确" in wrong.text
        short = await laptop.post("/account/password", data={"current": PASSWORD, "new": "short", "confirm": "short"})
        assert short.status_code == 422 and "至少 10 位" in short.text
        mismatch = await laptop.post("/account/password", data={"current": PASSWORD, "new": "second-pass-2026",
                                                                "confirm": "second-pass-2027"})
        assert mismatch.status_code == 422 and "不一致" in mismatch.text
        done = await laptop.post("/account/password", data={"current": PASSWORD, "new": "second-pass-2026",
                                                            "confirm": "second-pass-2026"})
        assert done.status_code == 303
        assert "其他 1 个登录会话已退出" in (await laptop.get(done.headers["location"])).text
        assert (await phone.get("/account")).status_code in (302, 303, 401)  # the other session ended
        _, old = await _login(app, username, PASSWORD)
        again, new = await _login(app, username, "second-pass-2026")
        await again.aclose()
        assert (old, new) == (401, 303)
        event = await AuditEvent.select().where((AuditEvent.action == "user.password")
                                                & (AuditEvent.actor_name == username)).first()
        assert event is not None and "second-pass" not in str(event)
    finally:
        await laptop.aclose()
        await phone.aclose()


async def test_a_user_ends_one_of_their_sessions_but_not_someone_elses(deployment, app):
    username = await _user(deployment)
    laptop, _ = await _login(app, username, PASSWORD)
    phone, _ = await _login(app, username, PASSWORD)
    other_name = await _user(deployment)
    other, _ = await _login(app, other_name, PASSWORD)
    try:
        page = (await laptop.get("/account")).text
        ids = [int(i) for i in re.findall(r'data-session="(\d+)"', page)]
        current = int(re.search(r'data-session="(\d+)"><td>[^<]*</td><td>[^<]*</td>\s*<td><span class="tag">',
                                page).group(1))
        phone_id = next(i for i in ids if i != current)
        other_ids = [int(i) for i in re.findall(r'data-session="(\d+)"', (await other.get("/account")).text)]
        assert (await laptop.post(f"/account/sessions/{other_ids[0]}/end")).status_code == 404
        assert (await other.get("/account")).status_code == 200  # untouched
        assert (await laptop.post(f"/account/sessions/{phone_id}/end")).status_code == 303
        assert (await phone.get("/account")).status_code in (302, 303, 401)
        assert (await laptop.get("/account")).status_code == 200
    finally:
        for client in (laptop, phone, other):
            await client.aclose()
