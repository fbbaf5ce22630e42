"""The outbox: deliveries commit with the change they report, reach the authority once,
survive outages (down, slow, 500, garbage), and keep the province's order.

A real HTTP receiver on loopback (``tests/receiver.py``) plays the authority. "Now" is
passed explicitly; the only wait is the receiver's short slow answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import random
import secrets
import zipfile

import pytest

from core.accounts.schemas import SYSTEM
from core.db import write_transaction
from core.outbox import channels, rules
from core.outbox import service as outbox
from core.outbox.tables import Delivery, DeliveryAttempt
from core.plugins import PluginHost
from tests.receiver import Receiver

# "Now" for the worker, fixed per run: a minute after the deliveries are enqueued.
# Well after every enqueue of the run (enqueue stamps the real clock), so deliveries are due at T0.
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
TIMEOUT = "0.2"  # the client's timeout; the receiver's slow answer takes 0.5 s


@pytest.fixture
def receiver(monkeypatch):
    r = Receiver(token="tok-" + secrets.token_hex(6)).start()
    for name in ("JILIN_PLATFORM", "HENAN_PLATFORM", "UNIVERSITY"):
        monkeypatch.setenv(f"CLINTECH_CHANNEL_{name}_URL", r.url)
        monkeypatch.setenv(f"CLINTECH_CHANNEL_{name}_TOKEN", r.token)
        monkeypatch.setenv(f"CLINTECH_CHANNEL_{name}_TIMEOUT", TIMEOUT)
    yield r
    r.stop()


@pytest.fixture
async def made(deployment):
    """Ids of deliveries a test made; removed afterwards so the shared database stays clean."""
    ids: list[int] = []
    yield ids
    if ids:
        await DeliveryAttempt.delete().where(DeliveryAttempt.delivery.is_in(ids))
        await Delivery.delete().where(Delivery.id.is_in(ids))


def jilin(deployment):
    return deployment["host"].view()


def henan():
    return PluginHost(("henan", "hospital_default")).view()


async def enqueue(made, hooks, institution_id, *, channel="jilin_platform", kind="case", attachments=(),
                  payload=None) -> int:
    async with write_transaction():
        delivery_id = await outbox.enqueue(
            SYSTEM, channel=channels.channel(hooks, channel), kind=kind, subject_type=f"test_{kind}",
            subject_id=random.randint(1, 10**9), institution_id=institution_id,
            payload=payload or {"technology": "G01", "first_case": "2026-02-27"}, attachments=attachments)
    made.append(delivery_id)
    return delivery_id


async def row(delivery_id: int) -> dict:
    return await Delivery.select().where(Delivery.id == delivery_id).first().output(load_json=True)


async def send(hooks, ids, now, **kw) -> int:
    return await outbox.deliver_due(hooks, now=now, delivery_ids=ids, rng=random.Random(1), **kw)


# ---------------------------------------------------------------- the authority's answer, pure


def test_answers_are_read_strictly():
    ok = rules.read_answer(200, "application/json", b'{"receipt_id": "JL-1", "status": "accepted"}')
    assert (ok.status, ok.receipt_id) == ("accepted", "JL-1")
    assert rules.read_answer(202, "application/json", b'{"receipt_id": 7, "status": "received"}').status == "sent"
    html = rules.read_answer(200, "text/html", b"<html>ok</html>")
    assert html.status == "failed" and "无法识别" in html.error and "text/html" in html.error
    assert "JSON 无法解析" in rules.read_answer(200, "application/json", b"{not json").error
    assert "缺少回执号" in rules.read_answer(200, "application/json", b'{"ok": true}').error
    assert "缺少回执号" in rules.read_answer(200, "application/json", b'["R-1"]').error
    rejected = rules.read_answer(422, "application/json", '{"message": "缺少签字"}'.encode())
    assert rejected.status == "rejected" and rejected.authority_message == "缺少签字"
    assert rules.read_answer(400, "text/plain", "材料不全".encode()).authority_message == "材料不全"
    assert "内部错误" in rules.read_answer(503, "text/plain", b"").error
    assert "令牌" in rules.read_answer(401, "application/json", b"{}").error
    assert rules.read_answer(429, "text/plain", b"").status == "failed"


def test_backoff_grows_exponentially_with_jitter_up_to_a_cap():
    rng = random.Random(7)
    delays = [rules.backoff(n, rng) for n in range(1, 30)]
    for n, delay in enumerate(delays, start=1):
        base = min(rules.BASE_DELAY * 2 ** (n - 1), rules.MAX_DELAY)
        assert base <= delay <= base * (1 + rules.JITTER)
    assert delays[1] > delays[0] and delays[-1] <= rules.MAX_DELAY * (1 + rules.JITTER)
    assert rules.after_failure(rules.MAX_ATTEMPTS - 1, T0)[0] == "failed"
    status, next_at = rules.after_failure(rules.MAX_ATTEMPTS, T0)
    assert status == "needs_attention" and next_at > T0


# ---------------------------------------------------------------- enqueue and the caller's transaction


async def test_enqueue_outside_a_write_transaction_is_refused(deployment):
    with pytest.raises(RuntimeError, match="inside"):
        await outbox.enqueue(SYSTEM, channel="jilin_platform", kind="filing", subject_type="t", subject_id=1,
                             institution_id=deployment["hospital_a"], payload={})


async def test_a_rolled_back_change_enqueues_nothing(deployment):
    subject = random.randint(1, 10**9)
    with pytest.raises(ZeroDivisionError):
        async with write_transaction():
            await outbox.enqueue(SYSTEM, channel=channels.channel(jilin(deployment), "jilin_platform"),
                                 kind="case", subject_type="rollback_probe", subject_id=subject,
                                 institution_id=deployment["hospital_a"], payload={"x": 1})
            raise ZeroDivisionError("the reported change fails after the enqueue")
    assert await outbox.delivery_status("rollback_probe", subject) == []


async def test_a_channel_refuses_a_kind_it_does_not_accept(deployment):
    async with write_transaction():
        with pytest.raises(outbox.DomainError, match="不接收"):
            await outbox.enqueue(SYSTEM, channel=channels.channel(jilin(deployment), "jilin_platform"),
                                 kind="admission", subject_type="t", subject_id=1,
                                 institution_id=deployment["hospital_a"], payload={})


@pytest.mark.rule("JL-37")
def test_hook_reporting_channels_declares_key_name_kinds_transport_and_setting(deployment):
    """JL-38 cases go to the Jilin platform (the provincial supervision platform of JL-37) —
    JL-12 filings do not, they go to the licence-issuing department; HN-2.2b / HN-3 to Henan's
    system, HOSP-11 to the university, EVAL-10 evaluations to the national commission."""
    by_key = {c.key: c for c in channels.channels(jilin(deployment))}
    assert set(by_key) == {"jilin_platform", "national_platform", "university", "national_commission"}
    assert [c.key for c in channels.channels_for(jilin(deployment), "evaluation")] == ["national_commission"]
    assert by_key["national_commission"].rules == ("EVAL-10",)
    # NAT-36: the national platform (the built-in national plugin's, always on) takes cases
    # beside the province's — JL-38 reports every case to both.
    national = by_key["national_platform"]
    assert national.plugin == "national" and set(national.kinds) == {"case"} and "NAT-36" in national.rules
    assert [c.key for c in channels.channels_for(jilin(deployment), "case")] == ["jilin_platform", "national_platform"]
    jl = by_key["jilin_platform"]
    assert jl.name == "吉林省医疗技术临床应用监管平台" and jl.transport == "http"
    assert set(jl.kinds) == {"case", "report"} and {"JL-37", "JL-38"} <= set(jl.rules)
    assert channels.channels_for(jilin(deployment), "filing") == []
    assert jl.setting == "CLINTECH_CHANNEL_JILIN_PLATFORM_URL"
    assert [c.key for c in channels.channels_for(jilin(deployment), "admission")] == ["university"]
    hn = channels.channel(henan(), "henan_platform")
    assert hn.name == "河南省医疗技术临床应用信息系统" and "HN-2.2b" in hn.rules
    assert [m.key for m in hn.materials] == ["form", "assessment", "argumentation", "lead_credentials", "other"]
    assert channels.channel(henan(), "jilin_platform") is None


# ---------------------------------------------------------------- outages: nothing lost, nothing twice


@pytest.mark.rule("JL-12")
async def test_jl_12_filing_survives_down_error_garbage_slow_and_is_delivered_once(deployment, receiver, made):
    """JL-12: a filing submitted while the platform is down, then failing in every way,
    is delivered exactly once when it recovers, with the same Idempotency-Key throughout."""
    hooks = jilin(deployment)
    delivery_id = await enqueue(made, hooks, deployment["hospital_a"])
    key = (await row(delivery_id))["idempotency_key"]
    receiver.stop()  # down: the port is closed
    now, reasons = T0, []
    for step in ("down", "error", "garbage", "slow"):
        if step != "down" and receiver._server is None:
            receiver.start()
        receiver.mode = step
        assert await send(hooks, [delivery_id], now) == 1
        current = await row(delivery_id)
        assert current["status"] == "failed", (step, current["last_error"])
        assert current["next_attempt_at"] > now, "backoff schedules the next attempt later"
        reasons.append(current["last_error"])
        assert await send(hooks, [delivery_id], now) == 0, "not due again before its time"
        now = current["next_attempt_at"]
    assert "无法连接" in reasons[0] and "内部错误" in reasons[1]
    assert "无法识别" in reasons[2] and "超时" in reasons[3]
    receiver.mode = "healthy"
    assert await send(hooks, [delivery_id], now) == 1
    done = await row(delivery_id)
    assert done["status"] == "accepted" and done["receipt_id"] == receiver.receipts[key]
    # The slow answer reached the receiver before the client gave up; the retry carried
    # the same key, so the authority processed the filing once.
    assert receiver.processed[key] == 1 and receiver.hits[key] == 4
    assert {h["Idempotency-Key"] for h in receiver.headers} == {key}
    attempts = await DeliveryAttempt.select().where(DeliveryAttempt.delivery == delivery_id).order_by(
        DeliveryAttempt.id)
    assert [a["outcome"] for a in attempts] == ["failed"] * 4 + ["accepted"]
    assert [a["number"] for a in attempts] == [1, 2, 3, 4, 5]
    assert all(a["error"] for a in attempts[:4]) and attempts[1]["http_status"] == 500
    gaps = [(attempts[i + 1]["at"] - attempts[i]["at"]) for i in range(4)]
    assert gaps == sorted(gaps), "the delays grow"


async def test_two_concurrent_workers_deliver_each_delivery_once(deployment, receiver, made):
    hooks = jilin(deployment)
    ids = [await enqueue(made, hooks, deployment["hospital_a"]) for _ in range(6)]
    counts = await asyncio.gather(send(hooks, ids, T0, worker="w1"), send(hooks, ids, T0, worker="w2"))
    assert sum(counts) == 6
    keys = [(await row(i))["idempotency_key"] for i in ids]
    assert all(receiver.hits[k] == 1 and receiver.processed[k] == 1 for k in keys)
    assert {(await row(i))["status"] for i in ids} == {"accepted"}
    assert await send(hooks, ids, T0 + dt.timedelta(days=1)) == 0, "nothing left to send"


async def test_an_expired_lease_of_a_crashed_worker_is_taken_over(deployment, receiver, made):
    hooks = jilin(deployment)
    delivery_id = await enqueue(made, hooks, deployment["hospital_a"])
    leased = await outbox._lease(T0, 10, "crashed-worker", [delivery_id])  # the worker dies after leasing
    assert [r["id"] for r in leased] == [delivery_id]
    assert await send(hooks, [delivery_id], T0 + dt.timedelta(minutes=1)) == 0, "the lease still holds"
    assert await send(hooks, [delivery_id], T0 + outbox.LEASE + dt.timedelta(seconds=1)) == 1
    assert (await row(delivery_id))["status"] == "accepted"


async def test_a_validation_rejection_is_recorded_with_the_authoritys_message_and_not_retried(
        deployment, receiver, made):
    hooks = jilin(deployment)
    delivery_id = await enqueue(made, hooks, deployment["hospital_a"])
    receiver.mode = "reject"
    await send(hooks, [delivery_id], T0)
    rejected = await row(delivery_id)
    assert rejected["status"] == "rejected" and rejected["authority_message"] == receiver.reject_message
    assert receiver.reject_message in rejected["last_error"]
    assert await send(hooks, [delivery_id], T0 + dt.timedelta(days=30)) == 0, "no blind retries"
    admin = SYSTEM
    await outbox.retry_now(admin, delivery_id, now=T0 + dt.timedelta(hours=1))
    receiver.mode = "healthy"
    assert await send(hooks, [delivery_id], T0 + dt.timedelta(hours=1)) == 1
    assert (await row(delivery_id))["status"] == "accepted"


async def test_after_max_attempts_it_needs_attention_and_is_still_retried(deployment, receiver, made):
    hooks = jilin(deployment)
    delivery_id = await enqueue(made, hooks, deployment["hospital_a"])
    receiver.mode = "error"
    now = T0
    for _ in range(rules.MAX_ATTEMPTS):
        last = now
        assert await send(hooks, [delivery_id], now) == 1
        now = (await row(delivery_id))["next_attempt_at"]
    stuck = await row(delivery_id)
    assert stuck["status"] == "needs_attention" and stuck["attempts"] == rules.MAX_ATTEMPTS
    assert stuck["next_attempt_at"] - last >= rules.backoff(rules.MAX_ATTEMPTS, random.Random(0)) / 1.3, \
        "still scheduled for another automatic attempt"
    receiver.mode = "healthy"
    assert await send(hooks, [delivery_id], now) == 1
    assert (await row(delivery_id))["status"] == "accepted"


async def test_received_for_review_is_sent_and_confirmed_by_hand(deployment, receiver, made):
    hooks = jilin(deployment)
    delivery_id = await enqueue(made, hooks, deployment["hospital_a"])
    receiver.mode = "received"
    await send(hooks, [delivery_id], T0)
    sent = await row(delivery_id)
    assert sent["status"] == "sent" and sent["receipt_id"] and sent["sent_at"] == T0
    view = await outbox.confirm_manual(SYSTEM, delivery_id, "吉卫备-2026-001", now=T0 + dt.timedelta(days=2))
    assert view.status == "accepted" and (await row(delivery_id))["receipt_id"] == "吉卫备-2026-001"


# ---------------------------------------------------------------- kinds and channels


@pytest.mark.rule("JL-38")
@pytest.mark.rule("NAT-37")
async def test_jl_38_nat_37_cases_are_reported_one_by_one(deployment, receiver, made):
    """JL-38 / NAT-37: every restricted-technology case is its own delivery to the platform."""
    hooks = jilin(deployment)
    ids = [await enqueue(made, hooks, deployment["hospital_a"], kind="case",
                         payload={"patient_key": f"P{i}", "discharge_date": "2026-02-20"}) for i in range(3)]
    assert await send(hooks, ids, T0) == 3
    bodies = [receiver.bodies[(await row(i))["idempotency_key"]] for i in ids]
    assert [b["payload"]["patient_key"] for b in bodies] == ["P0", "P1", "P2"]
    assert all(b["kind"] == "case" and "JL-38" in b["rules"] for b in bodies)


@pytest.mark.rule("HOSP-11")
async def test_hosp_11_admission_is_filed_with_the_university_system(deployment, receiver, made, tmp_path):
    """HOSP-11: an admitted project goes to the university's 临床新技术全过程管理系统,
    authenticated with the configured token, attachments in the channel's order."""
    hooks = jilin(deployment)
    files = []
    for key in ("approval", "application"):
        path = tmp_path / f"{key}.pdf"
        path.write_bytes(f"%PDF {key}".encode())
        files.append({"key": key, "filename": path.name, "path": str(path), "content_type": "application/pdf"})
    # An upload kept by core.storage is named by its hash alone (<storage>/<sha[:2]>/<sha>).
    import hashlib

    from core.settings import get_settings

    ethics = b"%PDF ethics approval " + secrets.token_bytes(8)
    sha = hashlib.sha256(ethics).hexdigest()
    (get_settings().storage_dir / sha[:2]).mkdir(parents=True, exist_ok=True)
    (get_settings().storage_dir / sha[:2] / sha).write_bytes(ethics)
    files.append({"key": "ethics", "filename": "伦理批件.pdf", "sha256": sha, "content_type": "application/pdf"})
    delivery_id = await enqueue(made, hooks, deployment["hospital_a"], channel="university", kind="admission",
                                payload={"project": "经皮冠状动脉介入治疗新术式", "grade": "二级"},
                                attachments=files)
    assert await send(hooks, [delivery_id], T0) == 1
    key = (await row(delivery_id))["idempotency_key"]
    body = receiver.bodies[key]
    assert body["kind"] == "admission" and body["institution"]["name"]
    assert [a["key"] for a in body["attachments"]] == ["application", "approval", "ethics"]
    assert body["attachments"][2]["sha256"] == sha and body["attachments"][2]["size"] == len(ethics)
    assert receiver.headers[-1]["Authorization"] == f"Bearer {receiver.token}"
    assert (await outbox.delivery_status("test_admission", (await row(delivery_id))["subject_id"]))[0].status \
        == "accepted"


async def test_a_channel_without_endpoint_falls_back_to_a_package(deployment, made, monkeypatch, tmp_path):
    monkeypatch.delenv("CLINTECH_CHANNEL_JILIN_PLATFORM_URL", raising=False)
    hooks = jilin(deployment)
    path = tmp_path / "form.pdf"
    path.write_bytes(b"%PDF form")
    delivery_id = await enqueue(made, hooks, deployment["hospital_a"],
                                attachments=[{"key": "form", "filename": "form.pdf", "path": str(path)}])
    assert await send(hooks, [delivery_id], T0) == 1
    assert (await row(delivery_id))["status"] == "package_ready"
    attempt = await DeliveryAttempt.select().where(DeliveryAttempt.delivery == delivery_id).first()
    assert "CLINTECH_CHANNEL_JILIN_PLATFORM_URL" in attempt["error"] and "人工上传" in attempt["error"]
    name, data = await outbox.package_for(SYSTEM, hooks, delivery_id)
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    assert name.endswith(".zip") and manifest["materials"][0]["key"] == "form"
    assert manifest["missing_required"] == []  # a case report carries no filing materials, so misses none
    with pytest.raises(outbox.DomainError, match="回执号"):
        await outbox.confirm_manual(SYSTEM, delivery_id, "  ")
    assert (await outbox.confirm_manual(SYSTEM, delivery_id, "JL-MANUAL-9")).status == "accepted"


@pytest.mark.rule("HN-2.2b")
async def test_hn_2_2b_henan_package_keeps_the_five_materials_in_order_with_a_manifest(
        deployment, receiver, made, tmp_path):
    """HN-2.2b: the five scans go in the notice's order — in the package (zip + manifest
    JSON) for manual upload and in the HTTP body — whatever order they were attached in."""
    hooks = henan()
    order = ["form", "assessment", "argumentation", "lead_credentials", "other"]
    shuffled = ["lead_credentials", "other", "form", "argumentation", "assessment"]
    files = []
    for key in shuffled:
        path = tmp_path / f"{key}.pdf"
        path.write_bytes(f"%PDF scan of {key}".encode())
        files.append({"key": key, "filename": f"{key}.pdf", "path": str(path), "content_type": "application/pdf"})
    delivery_id = await enqueue(made, hooks, deployment["hospital_b"], channel="henan_platform",
                                attachments=files)
    name, data = await outbox.package_for(SYSTEM, hooks, delivery_id)
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest == await outbox.manifest_for(SYSTEM, hooks, delivery_id)
    assert [m["key"] for m in manifest["materials"]] == order
    assert [m["order"] for m in manifest["materials"]] == [1, 2, 3, 4, 5]
    assert manifest["materials"][0]["title"] == "河南省限制类医疗技术临床应用备案表"
    assert manifest["channel_name"] == "河南省医疗技术临床应用信息系统" and "HN-2.2b" in manifest["rules"]
    assert manifest["missing_required"] == []
    scans = [n for n in archive.namelist() if n.startswith("materials/")]
    assert scans == [f"materials/{i:02d}_{k}_{k}.pdf" for i, k in enumerate(order, start=1)]
    assert archive.read(scans[0]) == b"%PDF scan of form"
    assert json.loads(archive.read("payload.json"))["technology"] == "G01"
    # And over HTTP, the same order.
    assert await send(hooks, [delivery_id], T0) == 1
    body = receiver.bodies[manifest["idempotency_key"]]
    assert [a["key"] for a in body["attachments"]] == order


@pytest.mark.rule("HN-3")
async def test_hn_3_henan_cases_go_one_by_one_to_the_information_system(deployment, receiver, made):
    """HN-3: 开展一例，上报一例 — each case one delivery, one receipt."""
    hooks = henan()
    ids = [await enqueue(made, hooks, deployment["hospital_b"], channel="henan_platform", kind="case",
                         payload={"patient_key": f"H{i}"}) for i in range(2)]
    assert await send(hooks, ids, T0) == 2
    receipts = {(await row(i))["receipt_id"] for i in ids}
    assert len(receipts) == 2 and "" not in receipts


async def test_a_switched_off_channel_delays_the_delivery_and_never_drops_it(deployment, receiver, made):
    hooks = jilin(deployment)
    delivery_id = await enqueue(made, hooks, deployment["hospital_a"])
    off = deployment["host"].view(frozenset({"jilin"}))
    await send(off, [delivery_id], T0)
    failed = await row(delivery_id)
    assert failed["status"] == "failed" and "未启用" in failed["last_error"]
    await send(hooks, [delivery_id], failed["next_attempt_at"])
    assert (await row(delivery_id))["status"] == "accepted"


async def test_the_worker_job_is_registered_and_sends(deployment, receiver, made):
    from core.jobs import registered

    job = registered()["core.outbox.jobs.deliver_outbox"]
    delivery_id = await enqueue(made, jilin(deployment), deployment["hospital_a"])
    # The job runs on the real clock: make the delivery due an hour ago.
    await Delivery.update({Delivery.next_attempt_at: dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)}).where(
        Delivery.id == delivery_id)
    assert await job(jilin(deployment)) >= 1
    assert (await row(delivery_id))["status"] == "accepted"
