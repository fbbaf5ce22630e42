"""The outbox pages: statuses, attempts and errors on screen; retry now (audited);
packages; tenancy; the admin's channel settings."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import zipfile

import pytest

from core.accounts.schemas import SYSTEM
from core.audit.tables import AuditEvent
from core.db import write_transaction
from core.outbox import channels
from core.outbox import service as outbox
from core.outbox.tables import Delivery, DeliveryAttempt
from tests.receiver import Receiver

# Well after every enqueue of the run (enqueue stamps the real clock), so deliveries are due at T0.
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)


@pytest.fixture
async def made(deployment):
    ids: list[int] = []
    yield ids
    if ids:
        await DeliveryAttempt.delete().where(DeliveryAttempt.delivery.is_in(ids))
        await Delivery.delete().where(Delivery.id.is_in(ids))


async def make(made, deployment, institution: str, *, kind="case", channel="jilin_platform") -> dict:
    hooks = deployment["host"].view()
    subject = random.randint(1, 10**9)
    async with write_transaction():
        delivery_id = await outbox.enqueue(SYSTEM, channel=channels.channel(hooks, channel), kind=kind,
                                           subject_type="web_probe", subject_id=subject,
                                           institution_id=deployment[institution], payload={"n": subject})
    made.append(delivery_id)
    return {"id": delivery_id, "subject": subject}


async def fail_once(deployment, delivery_id: int, monkeypatch) -> None:
    """One real attempt against a receiver answering 500."""
    receiver = Receiver().start()
    monkeypatch.setenv("CLINTECH_CHANNEL_JILIN_PLATFORM_URL", receiver.url)
    receiver.mode = "error"
    try:
        await outbox.deliver_due(deployment["host"].view(), now=T0, delivery_ids=[delivery_id])
    finally:
        receiver.stop()


async def test_medical_affairs_sees_status_attempts_and_errors_of_own_institution(
        deployment, login_as, made, monkeypatch):
    a = await make(made, deployment, "hospital_a")
    b = await make(made, deployment, "hospital_b")
    await fail_once(deployment, a["id"], monkeypatch)
    client = await login_as("medaffairs_a")
    page = await client.get("/outbox")
    assert page.status_code == 200 and "报送队列" in page.text
    assert f'id="delivery-{a["id"]}"' in page.text and f'id="delivery-{b["id"]}"' not in page.text
    assert "发送失败，等待重试" in page.text and "对方系统内部错误（HTTP 500）" in page.text
    assert "吉林省医疗技术临床应用监管平台" in page.text
    detail = await client.get(f"/outbox/{a['id']}")
    assert detail.status_code == 200 and "自动发送记录" in detail.text and "500" in detail.text
    assert "下次自动重试" in detail.text
    filtered = await client.get("/outbox?status=accepted", headers={"hx-request": "true", "hx-target": "outbox-table"})
    assert filtered.status_code == 200 and "<html" not in filtered.text
    assert f'id="delivery-{a["id"]}"' not in filtered.text


async def test_foreign_and_missing_deliveries_answer_404_and_change_nothing(deployment, login_as, made):
    b = await make(made, deployment, "hospital_b")
    await Delivery.update({Delivery.status: "rejected"}).where(Delivery.id == b["id"])
    client = await login_as("medaffairs_a")
    for url in (f"/outbox/{b['id']}", f"/outbox/{b['id']}/package.zip", f"/outbox/{b['id']}/manifest.json",
                f"/outbox/subject/web_probe/{b['subject']}", "/outbox/999999999"):
        response = await client.get(url)
        assert response.status_code == 404 and "未找到" in response.text, url
    response = await client.post(f"/outbox/{b['id']}/retry")
    assert response.status_code == 404
    assert (await Delivery.select(Delivery.status).where(Delivery.id == b["id"]).first())["status"] == "rejected"


async def test_other_roles_do_not_get_the_outbox(deployment, login_as, made):
    for username in ("clinician_a", "head_a"):
        client = await login_as(username)
        assert (await client.get("/outbox")).status_code == 404
        assert (await client.get("/admin/channels")).status_code == 404
    # A regulator's outbox holds only the filing department's own deliveries (its pushes to
    # the licensing office), never a hospital's.
    a = await make(made, deployment, "hospital_a")
    regulator = await login_as("regulator_city1")
    listing = await regulator.get("/outbox")
    assert listing.status_code == 200 and f'id="delivery-{a["id"]}"' not in listing.text
    assert (await regulator.get(f"/outbox/{a['id']}")).status_code == 404
    assert (await regulator.post(f"/outbox/{a['id']}/confirm", data={"receipt_id": "X"})).status_code == 404
    assert (await regulator.get("/admin/channels")).status_code == 404


async def test_retry_now_over_htmx_requeues_and_is_audited(deployment, login_as, made, monkeypatch):
    a = await make(made, deployment, "hospital_a")
    await fail_once(deployment, a["id"], monkeypatch)
    client = await login_as("medaffairs_a")
    response = await client.post(f"/outbox/{a['id']}/retry", headers={"hx-request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="delivery-{a["id"]}"') and "待发送" in response.text
    assert "已重新排队" in response.text
    row = await Delivery.select().where(Delivery.id == a["id"]).first()
    assert row["status"] == "queued"
    event = await AuditEvent.select().where((AuditEvent.action == "outbox.retry") & (AuditEvent.record_id == a["id"])
                                            ).order_by(AuditEvent.id, ascending=False).first().output(load_json=True)
    assert event["actor_name"] == "medaffairs_a" and event["before"]["status"] == "failed"
    assert event["institution_id"] == deployment["hospital_a"]
    again = await client.post(f"/outbox/{a['id']}/retry")
    assert again.status_code == 422 and "无需重试" in again.text


async def test_package_download_and_manual_receipt(deployment, login_as, made, monkeypatch):
    monkeypatch.delenv("CLINTECH_CHANNEL_JILIN_PLATFORM_URL", raising=False)
    a = await make(made, deployment, "hospital_a")
    await outbox.deliver_due(deployment["host"].view(), now=T0, delivery_ids=[a["id"]])
    client = await login_as("medaffairs_a")
    page = await client.get(f"/outbox/{a['id']}")
    assert "待人工上传" in page.text and "请下载报送包" in page.text
    package = await client.get(f"/outbox/{a['id']}/package.zip")
    assert package.status_code == 200 and package.headers["content-type"] == "application/zip"
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(package.content)).namelist()
    manifest = await client.get(f"/outbox/{a['id']}/manifest.json")
    assert json.loads(manifest.text)["channel_name"] == "吉林省医疗技术临床应用监管平台"
    empty = await client.post(f"/outbox/{a['id']}/confirm", data={"receipt_id": " "})
    assert empty.status_code == 422 and "请填写对方系统的回执号" in empty.text
    done = await client.post(f"/outbox/{a['id']}/confirm", data={"receipt_id": "吉卫-2026-08"})
    assert done.status_code == 303
    shown = await client.get(done.headers["location"])
    assert "已受理" in shown.text and "吉卫-2026-08" in shown.text
    status = await client.get(f"/outbox/subject/web_probe/{a['subject']}", headers={"hx-request": "true"})
    assert 'data-status="accepted"' in status.text


async def test_admin_sees_every_institution_and_the_channel_settings(deployment, login_as, made, monkeypatch):
    a = await make(made, deployment, "hospital_a")
    b = await make(made, deployment, "hospital_b", kind="admission", channel="university")
    monkeypatch.setenv("CLINTECH_CHANNEL_UNIVERSITY_URL", "http://127.0.0.1:9/university")
    monkeypatch.setenv("CLINTECH_CHANNEL_UNIVERSITY_TOKEN", "secret-token-1234")
    monkeypatch.delenv("CLINTECH_CHANNEL_JILIN_PLATFORM_URL", raising=False)
    client = await login_as("admin")
    page = await client.get("/outbox")
    assert f'id="delivery-{a["id"]}"' in page.text and f'id="delivery-{b["id"]}"' in page.text
    settings = await client.get("/admin/channels")
    assert settings.status_code == 200
    assert "CLINTECH_CHANNEL_JILIN_PLATFORM_URL" in settings.text and "将生成报送包供人工上传" in settings.text
    assert "http://127.0.0.1:9/university" in settings.text and "HOSP-11" in settings.text
    assert "secret-token-1234" not in settings.text and "…1234" in settings.text


def test_the_status_partial_renders_for_other_pages():
    """Other areas include outbox/_status.html with delivery_status(...)."""
    from web.templating import build_environment

    view = outbox._view({
        "id": 1, "channel": "henan_platform", "channel_name": "河南省医疗技术临床应用信息系统", "kind": "filing",
        "subject_type": "filing", "subject_id": 3, "institution_id": 1, "status": "failed", "attempts": 2,
        "next_attempt_at": T0, "receipt_id": "", "last_error": "对方系统未在 10 秒内应答（超时）",
        "authority_message": "", "created_by": "medaffairs_a", "created_at": T0, "sent_at": None,
        "accepted_at": None})
    html = build_environment([]).get_template("outbox/_status.html").render(deliveries=[view], t=outbox.t)
    assert "发送失败，等待重试" in html and "超时" in html and "下次自动重试" in html
    assert "尚未报送" in build_environment([]).get_template("outbox/_status.html").render(deliveries=[])
