"""Every limit of core/outbox/rules.py (how an authority's answer is read, when to retry).

Pure: no database, no network. Exercised by ``make mutation`` (scripts/mutation.py).
"""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest

from core.outbox import rules
from core.outbox.rules import Outcome

MIN = dt.timedelta(minutes=1)


class Top(random.Random):
    """The jitter at its top (+25 %)."""

    def uniform(self, a, b):
        assert (a, b) == (0, rules.JITTER)
        return b


class Bottom(random.Random):
    def uniform(self, a, b):
        return a


@pytest.mark.parametrize("attempt, minutes", [(0, 1), (1, 1), (2, 2), (3, 4), (9, 256), (10, 360), (40, 360)])
def test_backoff_doubles_from_one_minute_capped_at_six_hours(attempt, minutes):
    assert rules.backoff(attempt, Bottom()) == minutes * MIN
    assert rules.backoff(attempt, Top()) == minutes * MIN * 1.25


def test_backoff_jitter_stays_within_a_quarter():
    rng = random.Random(7)
    expected = 4 * MIN * (1 + random.Random(7).uniform(0, 0.25))
    assert rules.backoff(3, rng) == expected
    assert 4 * MIN <= rules.backoff(3) <= 5 * MIN


def test_after_failure_needs_attention_from_the_eighth_attempt():
    now = dt.datetime(2026, 3, 1, 12, 0)
    assert rules.MAX_ATTEMPTS == 8
    assert rules.after_failure(7, now, Bottom()) == ("failed", now + 64 * MIN)
    assert rules.after_failure(8, now, Bottom()) == ("needs_attention", now + 128 * MIN)
    assert rules.after_failure(9, now, Bottom()) == ("needs_attention", now + 256 * MIN)
    status, at = rules.after_failure(1, now)
    assert status == "failed" and now + MIN <= at <= now + MIN * 1.25


def _json(status, data, ctype="application/json; charset=utf-8"):
    return rules.read_answer(status, ctype, json.dumps(data, ensure_ascii=False).encode())


@pytest.mark.parametrize("status", [200, 201, 299])
def test_2xx_with_receipt_is_accepted(status):
    assert _json(status, {"receipt_id": "R1"}) == Outcome("accepted", receipt_id="R1", http_status=status)


@pytest.mark.parametrize("status", [199, 300])
def test_just_outside_2xx_is_a_failure(status):
    outcome = _json(status, {"receipt_id": "R1"})
    assert outcome.status == "failed"
    assert outcome.error == f"对方系统返回了意外的状态（HTTP {status}）"


def test_2xx_states():
    assert _json(200, {"receipt_id": 7, "status": "ACCEPTED"}) == Outcome("accepted", "7", http_status=200)
    for state in ("received", "pending", "processing", "Received"):
        assert _json(202, {"receipt_id": "R", "status": state}) == Outcome("sent", "R", http_status=202)
    for state in ("rejected", "refused"):
        assert _json(200, {"receipt_id": "R", "status": state, "message": "材料不全"}) == Outcome(
            "rejected", "R", "对方系统退回：材料不全", 200, "材料不全")


def test_2xx_refusal_without_a_message_keeps_the_body():
    body = json.dumps({"receipt_id": "R", "status": "refused"}).encode()
    assert rules.read_answer(200, "application/json", body) == Outcome(
        "rejected", "R", f"对方系统退回：{body.decode()}", 200, body.decode())


def test_2xx_without_a_usable_receipt():
    body = json.dumps({"status": "accepted"}).encode()
    missing = Outcome("failed", error="对方系统的应答格式不正确：缺少回执号（receipt_id）", http_status=200,
                      authority_message=body.decode())
    assert rules.read_answer(200, "application/json", body) == missing
    for receipt in ("  ", None, ["R"]):
        assert _json(200, {"receipt_id": receipt}).error == missing.error
    assert _json(200, ["R"]).error == missing.error


def test_2xx_that_is_not_json():
    assert rules.read_answer(200, "text/html; charset=utf-8", b" <html>ok</html> ") == Outcome(
        "failed", error="对方系统返回了无法识别的应答：非 JSON 内容（text/html）", http_status=200,
        authority_message="<html>ok</html>")
    assert rules.read_answer(200, "", b"x").error == "对方系统返回了无法识别的应答：非 JSON 内容（无类型）"
    assert rules.read_answer(200, "APPLICATION/JSON", b"{bad").error == "对方系统返回了无法识别的应答：JSON 无法解析"
    assert rules.read_answer(200, "application/json", b"\xff\xfe").error == "对方系统返回了无法识别的应答：JSON 无法解析"
    assert rules.read_answer(200, "application/json", b"\xff").authority_message == "\ufffd"


@pytest.mark.parametrize("status", [400, 409, 422])
def test_refusals_are_rejected_with_the_authoritys_message(status):
    assert _json(status, {"message": "缺少材料"}) == Outcome(
        "rejected", error=f"对方系统退回（HTTP {status}）：缺少材料", http_status=status, authority_message="缺少材料")


def test_authority_message_keys_and_shapes():
    for key in ("message", "msg", "error", "errors", "detail"):
        assert _json(400, {key: "错"}).authority_message == "错"
    assert _json(422, {"errors": [{"field": "名称"}]}).authority_message == '[{"field": "名称"}]'
    assert _json(422, {"message": "", "detail": "细节"}).authority_message == "细节"
    assert _json(400, {"other": 1}).authority_message == '{"other": 1}'
    assert rules.read_answer(409, "text/plain", b"") == Outcome(
        "rejected", error="对方系统退回（HTTP 409）：HTTP 409", http_status=409, authority_message="HTTP 409")
    long = {"errors": ["长" * 600]}
    assert len(_json(422, long).authority_message) == 500


def test_message_limit_500_characters():
    assert rules.read_answer(500, "text/plain", ("字" * 501).encode()).authority_message == "字" * 500
    assert rules.read_answer(500, "text/plain", ("字" * 500).encode()).authority_message == "字" * 500


@pytest.mark.parametrize("status, reason", [
    (401, "对方系统拒绝了认证，请检查令牌配置"), (403, "对方系统拒绝访问，请检查令牌配置"), (404, "接收地址不存在，请检查地址配置"),
    (408, "对方系统等待请求超时"), (429, "对方系统限流，稍后重试"), (418, "对方系统返回了意外的状态（HTTP 418）"),
    (499, "对方系统返回了意外的状态（HTTP 499）"), (500, "对方系统内部错误（HTTP 500）"), (503, "对方系统内部错误（HTTP 503）"),
])
def test_failures_are_retried_with_a_chinese_reason(status, reason):
    assert rules.read_answer(status, "text/plain", b" busy ") == Outcome(
        "failed", error=reason, http_status=status, authority_message="busy")


def test_timeout_and_unreachable():
    assert rules.timeout_outcome(10.0) == Outcome("failed", error="对方系统未在 10 秒内应答（超时）")
    assert rules.timeout_outcome(2.5).error == "对方系统未在 2.5 秒内应答（超时）"
    assert rules.unreachable_outcome("x" * 300) == Outcome("failed", error="无法连接对方系统：" + "x" * 200)
